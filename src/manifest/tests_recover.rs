//! Tests of what used to stop the reading: files that cannot be read, duplicate keys and numbers too large for TOML; and of port ranges and sizes in manifests.

use std::path::PathBuf;

use super::{LoadError, parse_manifest, read_manifest};

const HEAD: &str = "namespace = \"t\"\n";

/// A manifest with one unit `web` whose lines from line 6 on are `body`.
fn unit(body: &str) -> String {
    format!("{HEAD}\n[[unit]]\nname = \"web\"\nimage = \"busybox\"\n{body}\n")
}

/// Every problem of `text`, one line each.
fn problems(text: &str) -> Vec<String> {
    match parse_manifest(text, "units.toml") {
        Ok(_) => Vec::new(),
        Err(error) => error.lines(),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stevedore-recover-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_missing_file_is_an_io_error_not_a_problem_at_a_made_up_position() {
    let error = read_manifest("/nonexistent/stevedore/units.toml".as_ref()).unwrap_err();
    assert!(matches!(error, LoadError::Io { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "cannot read /nonexistent/stevedore/units.toml: No such file or directory"
    );
}

#[test]
fn a_directory_is_an_io_error() {
    let dir = scratch("dir");
    let error = read_manifest(&dir).unwrap_err();
    let shown = error.to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(error, LoadError::Io { .. }), "{error:?}");
    assert_eq!(
        shown,
        format!("cannot read {}: Is a directory", dir.display())
    );
}

#[test]
fn bytes_that_are_not_utf8_are_an_io_error_saying_where_the_text_stops() {
    let dir = scratch("utf8");
    let path = dir.join("units.toml");
    std::fs::write(&path, b"namespace = \"t\"\n# caf\xe9\n").unwrap();
    let error = read_manifest(&path).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(error, LoadError::Io { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "cannot read {}: it is not UTF-8 text (byte 0xe9 at line 2, column 6)",
            path.display()
        )
    );
}

#[test]
fn a_manifest_with_problems_read_from_a_file_is_invalid_not_io() {
    let dir = scratch("invalid");
    let path = dir.join("units.toml");
    std::fs::write(&path, "namespace = \"bad ns\"\n").unwrap();
    let error = read_manifest(&path).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    let LoadError::Invalid(error) = error else {
        panic!("{error:?}")
    };
    assert_eq!(error.problems.len(), 1);
}

#[test]
fn a_duplicate_key_does_not_hide_the_other_problems() {
    let text = unit("image = \"again\"\nmemory = \"64q\"\nswappiness = 101");
    assert_eq!(
        problems(&text),
        [
            "units.toml:6:1: unit \"web\": image: duplicate key `image`: it is already defined above in the same table; keep one of them",
            "units.toml:7:10: unit \"web\": memory: unknown unit \"q\" in size \"64q\" (use b, k, m, g, t or p, powers of 1024)",
            "units.toml:8:14: unit \"web\": swappiness: 101 is outside 0-100",
        ]
    );
}

#[test]
fn a_number_too_large_for_toml_does_not_hide_the_other_problems() {
    let text = unit(
        "cpu_shares = 99999999999999999999\nswappiness = -99999999999999999999\nmemory = \"1m\"\nbackoff = { factor = 1e999 }",
    );
    assert_eq!(
        problems(&text),
        [
            "units.toml:6:14: unit \"web\": cpu_shares: 99999999999999999999 is too large for a TOML integer (at most 9223372036854775807)",
            "units.toml:7:14: unit \"web\": swappiness: -99999999999999999999 is too small for a TOML integer (at least -9223372036854775808)",
            "units.toml:8:10: unit \"web\": memory: 1048576 bytes is below Docker's minimum of 6 MiB",
            "units.toml:9:22: unit \"web\": backoff.factor: 1e999 is too large for a TOML float",
        ]
    );
}

#[test]
fn positions_after_a_repair_are_those_of_the_file_as_written() {
    // The stand-ins are not as long as what they replace; what follows on
    // the same line is still placed where it is written.
    let text = unit("env = { A = 99999999999999999999, B = [1], A = \"x\" }");
    assert_eq!(
        problems(&text),
        [
            "units.toml:6:13: unit \"web\": env.A: 99999999999999999999 is too large for a TOML integer (at most 9223372036854775807)",
            "units.toml:6:39: unit \"web\": env.B: must be a string, number or boolean, not an array",
            "units.toml:6:44: unit \"web\": env.A: duplicate key `A`: it is already defined above in the same table; keep one of them",
        ]
    );
}

#[test]
fn duplicates_are_reported_with_their_unit_and_field_wherever_they_are() {
    let text = format!(
        "{HEAD}[defaults]\nrestart = \"no\"\n[defaults]\nstop_signal = \"SIGNOPE\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\nlabels = {{ team = \"x\", \"team\" = \"y\" }}\ndepends_on = {{ b = \"started\", b = \"healthy\" }}\nbackoff.max = \"1s\"\nbackoff.max = \"2s\"\n[[unit]]\nname = \"b\"\nimage = \"i\"\nmemory = \"2m\"\n"
    );
    assert_eq!(
        problems(&text),
        [
            "units.toml:4:2: defaults: duplicate key `defaults`: it is already defined above in the same table; keep one of them",
            "units.toml:9:24: unit \"a\": labels.team: duplicate key `team`: it is already defined above in the same table; keep one of them",
            "units.toml:10:31: unit \"a\": depends_on.b: duplicate key `b`: it is already defined above in the same table; keep one of them",
            "units.toml:12:9: unit \"a\": backoff.max: duplicate key `max`: it is already defined above in the same table; keep one of them",
            "units.toml:16:10: unit \"b\": memory: 2097152 bytes is below Docker's minimum of 6 MiB",
        ]
    );
}

#[test]
fn broken_syntax_still_stops_the_reading_and_is_the_one_problem() {
    // TOML syntax is checked before keys are: a duplicate ahead of broken
    // syntax is not known yet.
    let text = unit("image = \"again\"\nports = [\"80\"");
    assert_eq!(
        problems(&text),
        ["units.toml:7:14: unclosed array, expected `]`"]
    );
}

#[test]
fn an_error_that_cannot_be_read_past_is_reported_beside_the_ones_before_it() {
    let text = unit("cpu_shares = 99999999999999999999\nstarted = 1979-13-45");
    let found = problems(&text);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("units.toml:6:14: 99999999999999999999 is too large"),
        "{found:?}"
    );
    assert!(found[1].starts_with("units.toml:7:11: "), "{found:?}");
}

#[test]
fn a_dotted_key_over_a_value_is_reported_and_the_rest_still_read() {
    let text = unit("env = \"x\"\nenv.A = \"1\"\nswappiness = 101");
    let found = problems(&text);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[1].starts_with(
            "units.toml:7:1: unit \"web\": env: `env`: cannot extend value of type string"
        ),
        "{found:?}"
    );
    assert!(
        found[2].contains("swappiness: 101 is outside 0-100"),
        "{found:?}"
    );
}

#[test]
fn many_duplicate_keys_are_read_past_up_to_a_bound_without_panicking() {
    let body: String = (0..200).map(|_| "name = \"web\"\n").collect();
    let found = problems(&unit(&body));
    assert!(!found.is_empty());
    assert!(
        found.len() <= super::recover::MAX_REPAIRS + 1,
        "{}",
        found.len()
    );
    assert!(
        found
            .iter()
            .all(|problem| problem.contains("duplicate key")),
        "{found:?}"
    );
}

#[test]
fn a_port_range_publishes_one_port_per_port_of_it() {
    let text = unit("ports = [\"127.0.0.1:8000-8002:9000-9002/udp\", \"7000-7001\"]");
    let manifest = parse_manifest(&text, "units.toml").unwrap();
    let ports: Vec<String> = manifest.units[0]
        .ports
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        ports,
        [
            "127.0.0.1:8000:9000/udp",
            "127.0.0.1:8001:9001/udp",
            "127.0.0.1:8002:9002/udp",
            "7000",
            "7001",
        ]
    );
}

#[test]
fn port_ranges_are_checked_as_written_and_against_each_other() {
    assert_eq!(
        problems(&unit("ports = [\"8000-8010:80\"]")),
        [
            "units.toml:6:10: unit \"web\": ports[0]: port \"8000-8010:80\" maps 11 host ports (8000-8010) to 1 container port (80); Docker maps a range port for port, so both sides must have the same length"
        ]
    );
    assert_eq!(
        problems(&unit("ports = [\"8000-8002:80-82\", \"8002:90\"]")),
        ["units.toml:6:29: unit \"web\": ports[1]: host port 8002/tcp is published twice"]
    );
    let two = format!(
        "{HEAD}[[unit]]\nname = \"a\"\nimage = \"i\"\nports = [\"9000-9005:9000-9005\"]\n[[unit]]\nname = \"b\"\nimage = \"i\"\nports = [\"9005:1\"]\n"
    );
    assert_eq!(
        problems(&two),
        [
            "units.toml:9:10: unit \"b\": ports[0]: host port 9005/tcp is already published by unit \"a\" (\"9000-9005:9000-9005\", line 5)"
        ]
    );
}

#[test]
fn sizes_and_durations_people_type_are_read() {
    let text = unit(
        "memory = \"1.5g\"\nstop_timeout = \"1m\"\nbackoff = { initial = \"500us\", max = \"1h30m\", reset_after = \"1.5s\" }\nhealthcheck = { test = \"true\", interval = \"0.5m\" }",
    );
    let manifest = parse_manifest(&text, "units.toml").unwrap();
    let spec = &manifest.units[0];
    assert_eq!(spec.memory, Some(3 << 29));
    assert_eq!(spec.backoff.initial.as_micros(), 500);
    assert_eq!(spec.backoff.max.as_secs(), 5400);
    assert_eq!(spec.backoff.reset_after.as_millis(), 1500);
    let interval = spec.healthcheck.as_ref().and_then(|check| check.interval);
    assert_eq!(interval.map(|d| d.as_secs()), Some(30));
    assert_eq!(
        parse_manifest(&unit("memory = \"512mb\""), "units.toml")
            .unwrap()
            .units[0]
            .memory,
        Some(512 << 20)
    );
}

#[test]
fn a_memory_size_past_what_the_engine_takes_is_refused_at_its_value() {
    assert_eq!(
        problems(&unit("memory = \"9000000000g\"")),
        [
            "units.toml:6:10: unit \"web\": memory: 9663676416000000000 bytes is more than the engine takes (at most 9223372036854775807 bytes, 8 EiB)"
        ]
    );
}
