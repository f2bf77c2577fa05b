//! Parsing and printing of the strings people already type to `docker run`.
//!
//! Ports (`"127.0.0.1:18080:8080/udp"`), volumes (`"/srv:/data:ro"`), memory
//! sizes (`"64m"`), durations (`"100ms"`, `"1m30s"`) and restart policies
//! (`"on-failure:3"`) all go through here, so the manifest, the builder and
//! `stevedore ps` speak one vocabulary.

use std::time::Duration;

use super::{PortMapping, Protocol, VolumeMount};

/// Parses a docker-style port publication: `[[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]`.
///
/// A missing host port means "any free port" (`0`), as with `docker run -p 8080`.
pub fn parse_port(text: &str) -> Result<PortMapping, String> {
    let (body, protocol) = match text.rsplit_once('/') {
        Some((body, "tcp")) => (body, Protocol::Tcp),
        Some((body, "udp")) => (body, Protocol::Udp),
        Some((_, other)) => {
            return Err(format!(
                "unknown protocol {other:?} in port {text:?} (expected tcp or udp)"
            ));
        }
        None => (text, Protocol::Tcp),
    };
    // An IPv6 host address is written in brackets: "[::1]:8080:80".
    let (host_ip, rest) = if let Some(stripped) = body.strip_prefix('[') {
        let (ip, rest) = stripped
            .split_once("]:")
            .ok_or_else(|| format!("unclosed '[' in port {text:?}"))?;
        (Some(ip.to_string()), rest)
    } else {
        let parts: Vec<&str> = body.split(':').collect();
        match parts.len() {
            1 | 2 => (None, body),
            3 => (Some(parts[0].to_string()), &body[parts[0].len() + 1..]),
            _ => {
                return Err(format!(
                    "port {text:?} is not [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]"
                ));
            }
        }
    };
    let (external, internal) = match rest.split_once(':') {
        Some((host, container)) => (parse_port_number(host, text, true)?, container),
        None => (0, rest),
    };
    let internal = parse_port_number(internal, text, false)?;
    Ok(PortMapping {
        internal,
        external,
        protocol,
        host_ip: host_ip.filter(|ip| !ip.is_empty()),
    })
}

fn parse_port_number(text: &str, whole: &str, host_side: bool) -> Result<u16, String> {
    if host_side && text.is_empty() {
        return Ok(0);
    }
    text.parse::<u16>()
        .map_err(|_| format!("{text:?} in port {whole:?} is not a port number (0-65535)"))
}

/// Prints a port mapping in the form [`parse_port`] reads.
pub fn format_port(port: &PortMapping) -> String {
    let proto = match port.protocol {
        Protocol::Tcp => "",
        Protocol::Udp => "/udp",
    };
    match (&port.host_ip, port.external) {
        (Some(ip), external) if ip.contains(':') => {
            format!("[{ip}]:{external}:{}{proto}", port.internal)
        }
        (Some(ip), external) => format!("{ip}:{external}:{}{proto}", port.internal),
        (None, 0) => format!("{}{proto}", port.internal),
        (None, external) => format!("{external}:{}{proto}", port.internal),
    }
}

/// Parses a bind mount: `HOST_PATH:CONTAINER_PATH[:ro|:rw]`.
pub fn parse_volume(text: &str) -> Result<VolumeMount, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (host, container, read_only) = match parts.as_slice() {
        [host, container] => (*host, *container, false),
        [host, container, "ro"] => (*host, *container, true),
        [host, container, "rw"] => (*host, *container, false),
        [_, _, mode] => {
            return Err(format!(
                "unknown mode {mode:?} in volume {text:?} (expected ro or rw)"
            ));
        }
        _ => {
            return Err(format!(
                "volume {text:?} is not HOST_PATH:CONTAINER_PATH[:ro|rw]"
            ));
        }
    };
    Ok(VolumeMount {
        host: host.into(),
        container: container.into(),
        read_only,
    })
}

/// Prints a volume in the form [`parse_volume`] reads (and Docker's `Binds` take).
pub fn format_volume(volume: &VolumeMount) -> String {
    let mode = if volume.read_only { ":ro" } else { "" };
    format!(
        "{}:{}{mode}",
        volume.host.display(),
        volume.container.display()
    )
}

/// Parses a memory size as `docker run -m` does: a number with an optional
/// unit `b`, `k`, `m`, `g` (powers of 1024, case-insensitive, optional trailing `b`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as \"64m\" or \"1g\""))?;
    let factor: u64 = match unit {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in size {text:?} (use b, k, m, g)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

/// Parses a duration: one or more `<number><unit>` parts with units `ms`,
/// `s`, `m`, `h` (`"100ms"`, `"10s"`, `"1m30s"`). A bare `"0"` is zero.
/// A total past what a [`Duration`] holds is an error, never a panic or a
/// silently shortened value; how long each setting may be is validation's call.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration such as \"100ms\", \"10s\" or \"1m30s\"");
    let too_long = || format!("{text:?} is too long a duration");
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits_end = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits_end == 0 {
            return Err(bad());
        }
        // Only digits: the one way this fails is a number past u64.
        let number: u64 = rest[..digits_end].parse().map_err(|_| too_long())?;
        let after = &rest[digits_end..];
        let unit_end = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let secs_per_unit = match &after[..unit_end] {
            "ms" => None,
            "s" => Some(1),
            "m" => Some(60),
            "h" => Some(3600),
            _ => return Err(bad()),
        };
        let part = match secs_per_unit {
            None => Some(Duration::from_millis(number)),
            Some(factor) => number.checked_mul(factor).map(Duration::from_secs),
        };
        total = part
            .and_then(|part| total.checked_add(part))
            .ok_or_else(too_long)?;
        rest = &after[unit_end..];
    }
    Ok(total)
}

/// Prints a duration in the form [`parse_duration`] reads, exactly.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        "0s".to_string()
    } else if !millis.is_multiple_of(1000) {
        format!("{millis}ms")
    } else {
        format!("{}s", millis / 1000)
    }
}

/// Serde adapters so that durations read and write as `"10s"`.
pub mod duration_serde {
    use super::{format_duration, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Writes a duration as text.
    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_duration(*value))
    }

    /// Reads a duration from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// Serde adapters so that optional durations read and write as `"10s"`.
pub mod opt_duration_serde {
    use super::{format_duration, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Writes a duration as text.
    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_str(&format_duration(*duration)),
            None => serializer.serialize_none(),
        }
    }

    /// Reads a duration from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|text| parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Serde adapter for an optional memory size written as `"64m"` or a byte count.
pub mod size_serde {
    use super::parse_size;
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum SizeText {
        Bytes(u64),
        Text(String),
    }

    /// Writes the size as a byte count.
    pub fn serialize<S: Serializer>(value: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_u64(*bytes),
            None => serializer.serialize_none(),
        }
    }

    /// Reads `"64m"`, `"1g"` or a plain byte count.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u64>, D::Error> {
        match Option::<SizeText>::deserialize(deserializer)? {
            None => Ok(None),
            Some(SizeText::Bytes(bytes)) => Ok(Some(bytes)),
            Some(SizeText::Text(text)) => parse_size(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for bad in ["", "10", "s", "10 s", "1.5s", "-1s", "10d"] {
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
            "18446744073709551616ms",
            "99999999999999999999s",
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
}
