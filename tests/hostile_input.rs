//! Hostile input: arbitrary manifests and Docker strings never panic, and
//! every rejection is a clear error with a location.

use std::time::Duration;

use proptest::prelude::*;
use stevedore::engine::mapping::create_body;
use stevedore::labels::CarriedState;
use stevedore::manifest::parse_manifest;
use stevedore::spec::text::{
    format_duration, parse_duration, parse_port, parse_ports, parse_size, parse_volume,
};
use stevedore::spec::validate;
use stevedore::{RestartPolicy, UnitSpec};

/// TOML-shaped text: manifest keys, values and punctuation in any order.
fn tomlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("namespace = \"ns\"\n".to_string()),
        Just("[[unit]]\n".to_string()),
        Just("[defaults]\n".to_string()),
        Just("name = \"web\"\n".to_string()),
        Just("image = \"busybox\"\n".to_string()),
        Just("ports = [\"80:80\", \"8080\"]\n".to_string()),
        Just("memory = \"64m\"\n".to_string()),
        Just("memory = \"1.5g\"\n".to_string()),
        Just("ports = [\"8000-8002:9000-9002/udp\"]\n".to_string()),
        Just("stop_timeout = \"1.5s\"\n".to_string()),
        Just("cpu_shares = 99999999999999999999\n".to_string()),
        Just("factor = 1e999\n".to_string()),
        Just("restart = \"on-failure:3\"\n".to_string()),
        Just("backoff = { initial = \"1s\", factor = 2.0 }\n".to_string()),
        Just("env = { A = 1 }\n".to_string()),
        Just("= [ { } ] \" , . \n".to_string()),
        "[a-z_]{1,8} = [0-9a-z\"\\[\\]{}:./ -]{0,12}\n",
        any::<String>(),
    ];
    prop::collection::vec(token, 0..12).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics_the_manifest_parser(text in any::<String>()) {
        let _ = parse_manifest(&text, "fuzz.toml");
    }

    #[test]
    fn every_rejection_of_tomlish_text_has_a_location_and_a_message(text in tomlish()) {
        if let Err(error) = parse_manifest(&text, "fuzz.toml") {
            prop_assert!(!error.problems.is_empty());
            let lines = text.lines().count().max(1);
            for problem in &error.problems {
                prop_assert!(problem.line >= 1 && problem.line <= lines + 1, "{problem}");
                prop_assert!(problem.column >= 1, "{problem}");
                prop_assert!(!problem.message.trim().is_empty(), "{problem}");
                prop_assert!(problem.to_string().starts_with("fuzz.toml:"), "{problem}");
            }
        }
    }

    #[test]
    fn docker_strings_never_panic_their_parsers(text in any::<String>()) {
        let _ = parse_port(&text);
        let _ = parse_ports(&text);
        let _ = parse_volume(&text);
        let _ = parse_size(&text);
        let _ = parse_duration(&text);
        let _ = text.parse::<RestartPolicy>();
    }

    #[test]
    fn every_duration_prints_as_text_that_parses_back_to_it(
        secs in any::<u64>(),
        nanos in 0u32..1_000_000_000,
    ) {
        let duration = Duration::new(secs, nanos);
        prop_assert_eq!(parse_duration(&format_duration(duration)), Ok(duration));
    }

    #[test]
    fn a_fractional_size_is_its_exact_byte_count_rounded_down(
        whole in 0u64..1_000_000,
        fraction in "[0-9]{1,20}",
        power in 0u32..4,
    ) {
        let unit = ["b", "k", "m", "g"][power as usize];
        let bytes = parse_size(&format!("{whole}.{fraction}{unit}")).unwrap();
        // Exactly: (whole + 0.fraction) × 1024^power, rounded down.
        let factor = 1u128 << (10 * power);
        let scale = 10u128.pow(fraction.len() as u32);
        let digits: u128 = fraction.parse().unwrap();
        let expected = u128::from(whole) * factor + digits * factor / scale;
        prop_assert_eq!(u128::from(bytes), expected);
    }

    #[test]
    fn a_port_range_is_one_mapping_per_port_in_order(
        start in 1u16..60_000,
        length in 0u16..64,
        shift in 0u16..1000,
    ) {
        let end = start + length;
        let text = format!("{}-{}:{start}-{end}/udp", start + shift, end + shift);
        let ports = parse_ports(&text).unwrap();
        prop_assert_eq!(ports.len(), usize::from(length) + 1);
        for (offset, port) in ports.iter().enumerate() {
            prop_assert_eq!(port.internal, start + offset as u16);
            prop_assert_eq!(port.external, start + shift + offset as u16);
        }
    }

    #[test]
    fn arbitrary_specs_validate_without_panicking(
        name in any::<String>(),
        image in any::<String>(),
        memory in any::<u64>(),
        shares in any::<u64>(),
        swappiness in any::<i64>(),
        ports in prop::collection::vec((any::<u16>(), any::<u16>()), 0..4),
        signal in any::<String>(),
    ) {
        let mut spec = UnitSpec::new(name, image)
            .memory(memory)
            .cpu_shares(shares)
            .swappiness(swappiness)
            .stop_signal(signal);
        for (internal, external) in ports {
            spec = spec.port(stevedore::PortMapping::tcp(internal, external));
        }
        if let Err(problems) = validate(&spec) {
            prop_assert!(problems.iter().all(|p| !p.field.is_empty() && !p.message.is_empty()));
        }
    }
}

#[test]
fn numbers_past_what_the_engine_takes_reach_it_saturated_never_negative() {
    // Validation refuses these; the builder can still make them, and the
    // create request must not wrap them into negative numbers.
    let spec = UnitSpec::new("w", "i")
        .memory(9_000_000_000 << 30)
        .cpu_shares(u64::MAX)
        .stop_timeout(Duration::from_secs(u64::MAX));
    assert!(validate(&spec).is_err());
    let body = create_body("ns", &spec, "hash", &CarriedState::default());
    let host = body.host_config.unwrap();
    assert_eq!(host.memory, Some(i64::MAX));
    assert_eq!(host.cpu_shares, Some(i64::MAX));
    assert_eq!(body.stop_timeout, Some(i64::MAX));
}
