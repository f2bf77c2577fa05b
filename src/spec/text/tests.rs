//! Tests of the docker strings: ports and ranges, volumes, sizes, durations.

use std::time::Duration;

use super::*;
use crate::spec::{PortMapping, Protocol};

#[test]
fn port_with_host_ip_and_protocol_is_read_like_docker_run() {
    let port = parse_port("127.0.0.1:18080:8080/udp").unwrap();
    assert_eq!(port.internal, 8080);
    assert_eq!(port.external, 18080);
    assert_eq!(port.protocol, Protocol::Udp);
    assert_eq!(port.host_ip.as_deref(), Some("127.0.0.1"));
}

#[test]
fn bare_container_port_publishes_on_any_free_host_port() {
    let port = parse_port("8080").unwrap();
    assert_eq!((port.internal, port.external), (8080, 0));
    assert_eq!(port.protocol, Protocol::Tcp);
}

#[test]
fn ipv6_host_ip_is_read_inside_brackets() {
    let port = parse_port("[::1]:9000:90").unwrap();
    assert_eq!(port.host_ip.as_deref(), Some("::1"));
    assert_eq!(format_port(&port), "[::1]:9000:90");
}

#[test]
fn ports_round_trip_through_their_text() {
    for text in [
        "8080",
        "9000:9000/udp",
        "127.0.0.1:18080:8080",
        "0.0.0.0:1:2/udp",
    ] {
        assert_eq!(format_port(&parse_port(text).unwrap()), text);
    }
}

#[test]
fn bad_ports_are_refused_with_the_offending_text() {
    for text in ["", "http", "70000:80", "80:80/sctp", "1:2:3:4", "a:80"] {
        let err = parse_port(text).unwrap_err();
        assert!(err.contains('"'), "{text}: {err}");
    }
}

#[test]
fn volumes_read_mode_suffixes() {
    let ro = parse_volume("/srv/data:/data:ro").unwrap();
    assert!(ro.read_only);
    assert!(!parse_volume("/a:/b").unwrap().read_only);
    assert!(!parse_volume("/a:/b:rw").unwrap().read_only);
    assert!(parse_volume("/a:/b:xx").is_err());
    assert!(parse_volume("/a").is_err());
    assert_eq!(format_volume(&ro), "/srv/data:/data:ro");
}

#[test]
fn sizes_use_binary_units_like_docker() {
    assert_eq!(parse_size("64m").unwrap(), 64 << 20);
    assert_eq!(parse_size("1g").unwrap(), 1 << 30);
    assert_eq!(parse_size("512K").unwrap(), 512 << 10);
    assert_eq!(parse_size("100").unwrap(), 100);
    assert_eq!(parse_size("6MB").unwrap(), 6 << 20);
    assert!(parse_size("lots").is_err());
    assert!(parse_size("12q").is_err());
    assert!(parse_size("99999999999999t").is_err());
}

#[test]
fn durations_accept_compound_forms() {
    assert_eq!(parse_duration("100ms").unwrap(), Duration::from_millis(100));
    assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
    assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
    assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
    assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    for bad in ["", "10", "s", "10 s", "1.5.5s", ".s", "-1s", "10d", "1m30"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

#[test]
fn durations_round_trip_through_their_text() {
    for millis in [0u64, 1, 100, 1000, 1500, 60_000] {
        let d = Duration::from_millis(millis);
        assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
    }
}

#[test]
fn a_duration_too_long_to_hold_is_refused_not_saturated() {
    for huge in [
        "5124095576030432h",
        "307445734561825861m",
        "18446744073709551615s1s",
        "18446744073709551616000ms",
        "99999999999999999999s",
        "340282366920938463463374607431768211456ns",
    ] {
        let err = parse_duration(huge).unwrap_err();
        assert!(err.contains("too long"), "{huge}: {err}");
    }
    // The longest that fits is read; validation, not parsing, refuses it.
    assert_eq!(
        parse_duration("5124095576030431h").unwrap(),
        Duration::from_secs(5_124_095_576_030_431 * 3600)
    );
}

#[test]
fn a_container_port_range_publishes_each_port_on_a_free_host_port() {
    let ports = parse_ports("8000-8002").unwrap();
    let pairs: Vec<(u16, u16)> = ports.iter().map(|p| (p.internal, p.external)).collect();
    assert_eq!(pairs, [(8000, 0), (8001, 0), (8002, 0)]);
    assert!(ports.iter().all(|p| p.protocol == Protocol::Tcp));
}

#[test]
fn host_and_container_ranges_map_port_for_port_with_address_and_protocol() {
    let ports = parse_ports("127.0.0.1:9000-9002:8000-8002/udp").unwrap();
    let pairs: Vec<(u16, u16)> = ports.iter().map(|p| (p.internal, p.external)).collect();
    assert_eq!(pairs, [(8000, 9000), (8001, 9001), (8002, 9002)]);
    assert!(ports.iter().all(|p| p.protocol == Protocol::Udp));
    assert!(
        ports
            .iter()
            .all(|p| p.host_ip.as_deref() == Some("127.0.0.1"))
    );
    let texts: Vec<String> = parse_ports("[::1]:8000-8001:8000-8001")
        .unwrap()
        .iter()
        .map(format_port)
        .collect();
    assert_eq!(texts, ["[::1]:8000:8000", "[::1]:8001:8001"]);
    let any_host = parse_ports("127.0.0.1::8000-8001").unwrap();
    assert!(any_host.iter().all(|p| p.external == 0));
}

#[test]
fn ranges_of_different_lengths_are_refused_as_docker_refuses_them() {
    for text in [
        "8000-8010:8000-8005",
        "8000-8010:80",
        "80:8000-8010",
        "0:8000-8001",
    ] {
        let err = parse_ports(text).unwrap_err();
        assert!(err.contains("same length"), "{text}: {err}");
    }
    let err = parse_ports("8010-8000").unwrap_err();
    assert!(err.contains("ends before it starts"), "{err}");
    for text in ["8000-", "-8000", "8000-9000-9001", "8000-70000"] {
        assert!(parse_ports(text).is_err(), "{text}");
    }
}

#[test]
fn a_single_port_parses_the_same_as_a_range_of_one() {
    assert_eq!(
        parse_port("8080-8080").unwrap(),
        parse_port("8080").unwrap()
    );
    assert_eq!(parse_ports("1:2").unwrap(), [PortMapping::tcp(2, 1)]);
    let err = parse_port("8000-8001").unwrap_err();
    assert!(err.contains("range of 2 ports"), "{err}");
}

#[test]
fn sizes_take_fractions_and_composes_units() {
    assert_eq!(parse_size("1.5g").unwrap(), 3 << 29);
    assert_eq!(parse_size("512mb").unwrap(), 512 << 20);
    assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
    assert_eq!(parse_size("2gi").unwrap(), 2 << 30);
    assert_eq!(parse_size("1 GB").unwrap(), 1 << 30);
    assert_eq!(parse_size("0.5k").unwrap(), 512);
    assert_eq!(parse_size("1p").unwrap(), 1 << 50);
    // Rounded down to a whole byte: 0.3 × 1024 = 307.2.
    assert_eq!(parse_size("0.3k").unwrap(), 307);
    assert_eq!(parse_size("1.5").unwrap(), 1);
    for bad in [
        "1.", ".5g", "1.5.5g", "1..5g", "1,5g", "g", "1  g", "1gg", "-1g",
    ] {
        assert!(parse_size(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_size_fraction_is_exact_however_many_digits_it_has() {
    // 1/1024^5 has 50 decimal places: exactly one byte, not 0.
    let one_byte_in_pib = "0.00000000000000088817841970012523233890533447265625p";
    assert_eq!(parse_size(one_byte_in_pib).unwrap(), 1);
    let just_below = "0.00000000000000088817841970012523233890533447265624999999p";
    assert_eq!(parse_size(just_below).unwrap(), 0);
    let long = format!("1.{}k", "9".repeat(10_000));
    assert_eq!(parse_size(&long).unwrap(), 2047);
}

#[test]
fn a_size_past_u64_is_refused_as_too_large() {
    assert_eq!(
        parse_size("16383.999p").unwrap(),
        (16383 << 50) + 1_124_774_006_935_781
    );
    for huge in ["16384p", "18446744073709551616", "99999999999999t"] {
        let err = parse_size(huge).unwrap_err();
        assert!(err.contains("too large"), "{huge}: {err}");
    }
}

#[test]
fn durations_take_fractions_and_go_units() {
    assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
    assert_eq!(parse_duration("0.5m").unwrap(), Duration::from_secs(30));
    assert_eq!(parse_duration(".5s").unwrap(), Duration::from_millis(500));
    assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
    assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
    assert_eq!(parse_duration("500us").unwrap(), Duration::from_micros(500));
    assert_eq!(
        parse_duration("500\u{b5}s").unwrap(),
        Duration::from_micros(500)
    );
    assert_eq!(
        parse_duration("500\u{3bc}s").unwrap(),
        Duration::from_micros(500)
    );
    assert_eq!(parse_duration("250ns").unwrap(), Duration::from_nanos(250));
    assert_eq!(
        parse_duration("1s500ms").unwrap(),
        Duration::from_millis(1500)
    );
    // A fraction of a nanosecond is dropped: 0.333…3 h is just under 1200 s.
    assert_eq!(
        parse_duration("0.3333333333333333333333h").unwrap(),
        Duration::from_nanos(1_199_999_999_999)
    );
    assert_eq!(parse_duration("0.1ns").unwrap(), Duration::ZERO);
}

#[test]
fn a_duration_without_a_unit_says_which_unit_to_add() {
    let err = parse_duration("10").unwrap_err();
    assert!(err.contains("add one: \"10s\""), "{err}");
    let err = parse_duration("1m30").unwrap_err();
    assert!(err.contains("\"1m30s\""), "{err}");
}

#[test]
fn a_unit_go_does_not_know_is_refused_with_the_one_to_write() {
    for (text, hint) in [
        ("10S", "\"10s\""),
        ("1M", "\"1m\" is minutes"),
        ("2d", "\"48h\""),
        ("5min", "\"5m\""),
        ("3secs", "\"3s\""),
        ("10 s", "\"10s\""),
        ("10x", "use ns, us, ms, s, m or h"),
    ] {
        let err = parse_duration(text).unwrap_err();
        assert!(err.contains(hint), "{text}: {err}");
    }
    assert!(parse_duration("-1s").unwrap_err().contains("negative"));
}

#[test]
fn sub_millisecond_durations_print_exactly_what_parses_back() {
    for nanos in [
        1u64,
        999,
        1_000,
        1_500,
        500_000,
        1_000_001,
        1_500_000_000,
        60_000_000_000,
        u64::MAX,
    ] {
        let d = Duration::from_nanos(nanos);
        let text = format_duration(d);
        assert_eq!(parse_duration(&text).unwrap(), d, "{text}");
    }
    assert_eq!(format_duration(Duration::from_micros(500)), "500us");
    assert_eq!(
        format_duration(Duration::from_nanos(1_000_001)),
        "1000001ns"
    );
    assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    let longest = Duration::new(u64::MAX, 999_999_999);
    assert_eq!(parse_duration(&format_duration(longest)).unwrap(), longest);
}
