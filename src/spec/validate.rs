//! Validation of a unit spec: a pure function that reports every problem at once.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::text::format_duration;
use super::{PortMapping, Protocol, UnitSpec};
use crate::labels::RESERVED_PREFIX;

/// Docker refuses memory limits below 6 MiB.
pub const MIN_MEMORY_BYTES: u64 = 6 << 20;
/// The largest memory limit the engine takes: its limit is a signed 64-bit
/// byte count (8 EiB less one byte).
pub const MAX_MEMORY_BYTES: u64 = i64::MAX as u64;
/// Longest unit name accepted; the container name adds the namespace to it.
pub const MAX_NAME_LEN: usize = 128;
/// Longest grace period accepted for a stop; the shortest is 1 s, and it is
/// whole seconds, as Docker's `StopTimeout` is.
pub const MAX_STOP_TIMEOUT: Duration = Duration::from_secs(3600);

/// One thing wrong with a spec: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecProblem {
    /// Field path, such as `ports[1]` or `backoff.factor`.
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Whether `name` is a name Docker accepts for a container (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Checks a spec; returns every problem found, in field order.
pub fn validate(spec: &UnitSpec) -> Result<(), Vec<SpecProblem>> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| {
        problems.push(SpecProblem {
            field: field.to_string(),
            message,
        })
    };

    if !is_valid_name(&spec.name) {
        problem(
            "name",
            format!(
                "{:?} is not a valid name: it must start with a letter or digit and contain only letters, digits, '_', '.' and '-'",
                spec.name
            ),
        );
    } else if spec.name.len() > MAX_NAME_LEN {
        problem("name", format!("is longer than {MAX_NAME_LEN} characters"));
    }
    if spec.image.trim().is_empty() || spec.image.chars().any(char::is_whitespace) {
        problem(
            "image",
            format!("{:?} is not an image reference", spec.image),
        );
    }
    if let Some(command) = &spec.command
        && command.is_empty()
    {
        problem(
            "command",
            "is empty; leave it out to run the image's command".into(),
        );
    }
    for key in spec.env.keys() {
        if key.is_empty() || key.contains('=') || key.contains('\0') {
            problem(
                &format!("env.{key}"),
                format!("{key:?} is not a variable name"),
            );
        }
    }

    let mut host_ports: HashMap<(u16, Protocol), Vec<&PortMapping>> = HashMap::new();
    for (index, port) in spec.ports.iter().enumerate() {
        let field = format!("ports[{index}]");
        if port.internal == 0 {
            problem(&field, "container port 0 is not a port (1-65535)".into());
        }
        if let Some(ip) = &port.host_ip
            && ip.parse::<IpAddr>().is_err()
        {
            problem(&field, format!("host address {ip:?} is not an IP address"));
        }
        if port.external == 0 {
            continue;
        }
        let same_number = host_ports
            .entry((port.external, port.protocol))
            .or_default();
        if same_number
            .iter()
            .any(|other| host_ports_overlap(other, port))
        {
            problem(
                &field,
                format!(
                    "host port {}/{} is published twice",
                    port.external, port.protocol
                ),
            );
        }
        same_number.push(port);
    }

    for found in super::project::check_mounts_and_networks(spec) {
        problem(&found.field, found.message);
    }
    for found in super::options::check(&spec.options, !spec.networks.is_empty()) {
        problem(&found.field, found.message);
    }

    if let Some(memory) = spec.memory {
        if memory < MIN_MEMORY_BYTES {
            problem(
                "memory",
                format!("{memory} bytes is below Docker's minimum of 6 MiB"),
            );
        } else if memory > MAX_MEMORY_BYTES {
            problem(
                "memory",
                format!(
                    "{memory} bytes is more than the engine takes (at most {MAX_MEMORY_BYTES} bytes, 8 EiB)"
                ),
            );
        }
    }
    if let Some(shares) = spec.cpu_shares
        && !(2..=262_144).contains(&shares)
    {
        problem("cpu_shares", format!("{shares} is outside 2-262144"));
    }
    if let Some(swappiness) = spec.swappiness
        && !(0..=100).contains(&swappiness)
    {
        problem("swappiness", format!("{swappiness} is outside 0-100"));
    }
    for key in spec.labels.keys() {
        if key.starts_with(RESERVED_PREFIX) {
            problem(
                &format!("labels.{key}"),
                format!("keys under {RESERVED_PREFIX} are reserved for stevedore"),
            );
        } else if key.is_empty() {
            problem("labels", "a label key is empty".into());
        }
    }
    for (field, message) in spec.backoff.problems() {
        problem(&format!("backoff.{field}"), message);
    }
    for (field, message) in spec.intensity.problems() {
        problem(&format!("intensity.{field}"), message);
    }
    if spec.stop_timeout < Duration::from_secs(1) || spec.stop_timeout.subsec_nanos() != 0 {
        problem(
            "stop_timeout",
            format!(
                "must be whole seconds, at least 1s (Docker counts the grace period in whole seconds), not {}",
                format_duration(spec.stop_timeout)
            ),
        );
    } else if spec.stop_timeout > MAX_STOP_TIMEOUT {
        problem("stop_timeout", "is longer than one hour".into());
    }
    if !is_signal(&spec.stop_signal) {
        problem(
            "stop_signal",
            format!(
                "{:?} is not a signal such as SIGTERM, SIGINT or 15",
                spec.stop_signal
            ),
        );
    }

    if let Some(check) = &spec.healthcheck {
        for (field, message) in check.problems() {
            problem(&format!("healthcheck.{field}"), message);
        }
    }
    for name in spec.depends_on.keys() {
        let field = format!("depends_on.{name}");
        if *name == spec.name {
            problem(&field, "a unit cannot depend on itself".into());
        } else if !is_valid_name(name) {
            problem(&field, format!("{name:?} is not a unit name"));
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Whether `a` and `b` claim the same host port: one protocol, one port
/// number (0, which lets the engine pick a free one, claims none) and
/// addresses that overlap. No address, `0.0.0.0` and `::` bind every address
/// and overlap any other; two specific addresses overlap when they are the
/// same address, however written (`::1` and `0:0::1`, `::ffff:127.0.0.1` and
/// `127.0.0.1`). Within a unit and across a manifest's units alike.
pub fn host_ports_overlap(a: &PortMapping, b: &PortMapping) -> bool {
    a.external != 0
        && a.external == b.external
        && a.protocol == b.protocol
        && match (bound_address(a), bound_address(b)) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// The one address `port` binds, `None` when it binds every address. An
/// address that does not parse (refused on its own) is compared as written.
fn bound_address(port: &PortMapping) -> Option<Result<IpAddr, &str>> {
    let text = port.host_ip.as_deref()?;
    match text.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(ip) if ip.is_unspecified() => None,
        Ok(ip) => Some(Ok(ip)),
        Err(_) => Some(Err(text)),
    }
}

fn is_signal(text: &str) -> bool {
    const NAMES: &[&str] = &[
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    if let Ok(number) = text.parse::<u8>() {
        return (1..=64).contains(&number);
    }
    let name = text.strip_prefix("SIG").unwrap_or(text);
    NAMES.contains(&name) || name.starts_with("RTMIN") || name.starts_with("RTMAX")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Backoff, IntensityLimit};
    use crate::spec::VolumeMount;

    fn fields(spec: &UnitSpec) -> Vec<String> {
        validate(spec)
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn a_plain_spec_is_valid() {
        assert_eq!(validate(&UnitSpec::new("web-1.a_b", "busybox")), Ok(()));
    }

    #[test]
    fn names_follow_dockers_container_name_rule() {
        for bad in ["", "-web", ".web", "we b", "web/1", "wéb", "_x"] {
            assert_eq!(fields(&UnitSpec::new(bad, "busybox")), ["name"], "{bad:?}");
        }
        assert_eq!(fields(&UnitSpec::new("a".repeat(129), "busybox")), ["name"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let spec = UnitSpec::new("bad name", "")
            .memory(1 << 20)
            .swappiness(101)
            .cpu_shares(1)
            .volume("./rel:/data".parse().unwrap())
            .stop_signal("SIGNOPE");
        assert_eq!(
            fields(&spec),
            [
                "name",
                "image",
                "volumes[0]",
                "memory",
                "cpu_shares",
                "swappiness",
                "stop_signal"
            ]
        );
    }

    #[test]
    fn duplicate_host_ports_are_refused_but_distinct_addresses_are_not() {
        let dup = UnitSpec::new("w", "i")
            .port("8080:80".parse().unwrap())
            .port("127.0.0.1:8080:81".parse().unwrap());
        assert_eq!(fields(&dup), ["ports[1]"]);
        let fine = UnitSpec::new("w", "i")
            .port("127.0.0.1:8080:80".parse().unwrap())
            .port("127.0.0.2:8080:81".parse().unwrap())
            .port("8080:80/udp".parse().unwrap())
            .port("80".parse().unwrap())
            .port("81".parse().unwrap());
        assert_eq!(validate(&fine), Ok(()));
    }

    #[test]
    fn an_unspecified_address_overlaps_a_specific_one_on_the_same_port() {
        for (first, second) in [
            ("0.0.0.0:8080:80", "127.0.0.1:8080:81"),
            ("127.0.0.1:8080:80", "0.0.0.0:8080:81"),
            ("[::]:8080:80", "127.0.0.1:8080:81"),
            ("8080:80", "[::]:8080:81"),
            ("0.0.0.0:8080:80", "[::]:8080:81"),
            ("[::1]:8080:80", "[0:0::1]:8080:81"),
        ] {
            let spec = UnitSpec::new("w", "i")
                .port(first.parse().unwrap())
                .port(second.parse().unwrap());
            assert_eq!(fields(&spec), ["ports[1]"], "{first} {second}");
        }
    }

    #[test]
    fn host_ports_overlap_on_a_shared_address_or_a_wildcard_only() {
        #[rustfmt::skip]
        let table = [
            ("8080:80", "8080:81", true),
            ("8080:80", "127.0.0.1:8080:80", true),
            ("0.0.0.0:8080:80", "127.0.0.1:8080:80", true),
            ("[::]:8080:80", "127.0.0.1:8080:80", true),
            ("[::]:8080:80", "[::1]:8080:80", true),
            ("0.0.0.0:8080:80", "[::]:8080:80", true),
            ("[::ffff:0.0.0.0]:8080:80", "127.0.0.1:8080:80", true),
            ("127.0.0.1:8080:80", "127.0.0.1:8080:81", true),
            ("[::1]:8080:80", "[0:0::1]:8080:80", true),
            ("[::ffff:127.0.0.1]:8080:80", "127.0.0.1:8080:80", true),
            ("127.0.0.1:8080:80", "127.0.0.2:8080:80", false),
            ("127.0.0.1:8080:80", "[::1]:8080:80", false),
            ("8080:80", "8080:80/udp", false),
            ("8080:80", "8081:80", false),
            ("80", "80", false),
            ("80", "0.0.0.0::80", false),
        ];
        for (a, b, overlap) in table {
            let (a, b): (PortMapping, PortMapping) = (a.parse().unwrap(), b.parse().unwrap());
            assert_eq!(host_ports_overlap(&a, &b), overlap, "{a:?} {b:?}");
            assert_eq!(host_ports_overlap(&b, &a), overlap, "{b:?} {a:?}");
        }
    }

    #[test]
    fn container_port_zero_and_bad_host_addresses_are_refused() {
        let spec = UnitSpec::new("w", "i")
            .port(PortMapping::tcp(0, 80))
            .port("nothost:81:80".parse().unwrap());
        assert_eq!(fields(&spec), ["ports[0]", "ports[1]"]);
    }

    #[test]
    fn volume_paths_must_be_absolute_on_both_sides() {
        let spec = UnitSpec::new("w", "i").volume(VolumeMount {
            source: "/ok".into(),
            container: "data".into(),
            read_only: false,
        });
        assert_eq!(fields(&spec), ["volumes[0]"]);
    }

    #[test]
    fn memory_at_dockers_minimum_is_accepted() {
        assert_eq!(
            validate(&UnitSpec::new("w", "i").memory(MIN_MEMORY_BYTES)),
            Ok(())
        );
        assert_eq!(
            fields(&UnitSpec::new("w", "i").memory(MIN_MEMORY_BYTES - 1)),
            ["memory"]
        );
    }

    #[test]
    fn memory_past_what_the_engine_takes_is_refused() {
        assert_eq!(
            validate(&UnitSpec::new("w", "i").memory(MAX_MEMORY_BYTES)),
            Ok(())
        );
        for bytes in [MAX_MEMORY_BYTES + 1, u64::MAX] {
            let problems = validate(&UnitSpec::new("w", "i").memory(bytes)).unwrap_err();
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].field, "memory");
            assert!(problems[0].message.contains("at most"), "{}", problems[0]);
        }
        // "9000000000g" reads (it fits in u64), and validation refuses it.
        let bytes = crate::spec::text::parse_size("9000000000g").unwrap();
        assert_eq!(fields(&UnitSpec::new("w", "i").memory(bytes)), ["memory"]);
    }

    #[test]
    fn reserved_labels_are_refused() {
        let spec = UnitSpec::new("w", "i").label("io.stevedore.unit", "x");
        assert_eq!(fields(&spec), ["labels.io.stevedore.unit"]);
    }

    #[test]
    fn insane_durations_are_refused() {
        let spec = UnitSpec::new("w", "i")
            .backoff(Backoff {
                initial: Duration::from_secs(2),
                max: Duration::from_secs(1),
                factor: 0.5,
                ..Backoff::default()
            })
            .intensity(IntensityLimit {
                max_restarts: 3,
                within: Duration::ZERO,
            })
            .stop_timeout(Duration::from_secs(7200));
        assert_eq!(
            fields(&spec),
            [
                "backoff.factor",
                "backoff.max",
                "intensity.within",
                "stop_timeout"
            ]
        );
    }

    fn stop_timeout_problems(timeout: Duration) -> Vec<SpecProblem> {
        validate(&UnitSpec::new("w", "i").stop_timeout(timeout))
            .err()
            .unwrap_or_default()
    }

    #[test]
    fn a_sub_second_stop_timeout_is_refused() {
        for millis in [0, 1, 500, 999] {
            let problems = stop_timeout_problems(Duration::from_millis(millis));
            assert_eq!(problems.len(), 1, "{millis} ms");
            assert_eq!(problems[0].field, "stop_timeout");
            assert!(
                problems[0].message.contains("whole seconds"),
                "{}",
                problems[0]
            );
        }
    }

    #[test]
    fn a_fractional_stop_timeout_is_refused() {
        let problems = stop_timeout_problems(Duration::from_millis(1500));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("1500ms"), "{}", problems[0]);
    }

    #[test]
    fn a_stop_timeout_of_whole_seconds_up_to_an_hour_is_accepted() {
        for secs in [1, 10, 3600] {
            assert_eq!(
                stop_timeout_problems(Duration::from_secs(secs)),
                [],
                "{secs} s"
            );
        }
    }

    #[test]
    fn signals_are_accepted_by_name_or_number() {
        for good in ["SIGTERM", "TERM", "SIGINT", "9", "SIGRTMIN+3"] {
            assert!(is_signal(good), "{good}");
        }
        for bad in ["", "0", "SIGFOO", "99"] {
            assert!(!is_signal(bad), "{bad}");
        }
    }
}
