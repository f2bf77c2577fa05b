//! `stevedore up` and `validate` on bad manifests: exit 2, the file, line and
//! column in the message, every problem reported, and nothing created.

mod common;

use common::cli::{manifest, run};
use common::docker;

const HEAD: &str = "namespace = \"t-bad\"\n";

fn unit(body: &str) -> String {
    format!("{HEAD}\n[[unit]]\nname = \"web\"\nimage = \"stevedore-test:latest\"\n{body}\n")
}

/// (case name, manifest text, text the message must contain)
fn cases() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "unclosed string",
            format!("{HEAD}[[unit]]\nname = \"web\n"),
            ":3:",
        ),
        (
            "bad table header",
            format!("{HEAD}[[unit]\nname = \"web\"\n"),
            ":2:",
        ),
        (
            "duplicate key",
            unit("image = \"again\""),
            ":6:1: unit \"web\": image: duplicate key `image`",
        ),
        (
            "integer too large for TOML",
            unit("cpu_shares = 99999999999999999999"),
            ":6:14: unit \"web\": cpu_shares: 99999999999999999999 is too large for a TOML integer",
        ),
        (
            "unknown top-level key",
            format!("{HEAD}namespce = \"x\"\n"),
            "namespce",
        ),
        ("unknown unit key", unit("memroy = \"64m\""), "did you mean"),
        (
            "unknown defaults key",
            format!("{HEAD}[defaults]\nrestrat = \"no\"\n"),
            "restrat",
        ),
        (
            "unknown backoff key",
            unit("backoff = { intial = \"1s\" }"),
            "intial",
        ),
        (
            "command not an array",
            unit("command = \"sleep 5\""),
            "command",
        ),
        ("command of numbers", unit("command = [1, 2]"), "command"),
        ("empty command", unit("command = []"), "command"),
        ("env not a table", unit("env = [\"A=1\"]"), "env"),
        ("ports not an array", unit("ports = \"80:80\""), "ports"),
        ("bad port text", unit("ports = [\"http\"]"), "ports[0]"),
        (
            "port out of range",
            unit("ports = [\"70000:80\"]"),
            "ports[0]",
        ),
        ("bad protocol", unit("ports = [\"80:80/sctp\"]"), "ports[0]"),
        (
            "duplicate host ports",
            unit("ports = [\"8080:80\", \"8080:81\"]"),
            "ports[1]",
        ),
        (
            "host port of another unit",
            format!(
                "{HEAD}[[unit]]\nname = \"a\"\nimage = \"i\"\nports = [\"18998:80\"]\n[[unit]]\nname = \"b\"\nimage = \"i\"\nports = [\"18998:81\"]\n"
            ),
            ":9:10: unit \"b\": ports[0]: host port 18998/tcp is already published by unit \"a\"",
        ),
        (
            "relative volume",
            unit("volumes = [\"data:/data\"]"),
            "volumes[0]",
        ),
        (
            "bad volume mode",
            unit("volumes = [\"/a:/b:rx\"]"),
            "volumes[0]",
        ),
        ("bad size unit", unit("memory = \"64q\""), "memory"),
        ("negative size", unit("memory = -1"), "memory"),
        ("memory below 6 MiB", unit("memory = \"1m\""), "memory"),
        (
            "memory past what the engine takes",
            unit("memory = \"9000000000g\""),
            ":6:10: unit \"web\": memory: 9663676416000000000 bytes is more than the engine takes",
        ),
        (
            "port ranges of different lengths",
            unit("ports = [\"8000-8010:80\"]"),
            "ports[0]: port \"8000-8010:80\" maps 11 host ports (8000-8010) to 1 container port (80)",
        ),
        (
            "a port range overlapping another port",
            unit("ports = [\"8000-8002:80-82\", \"8002:90\"]"),
            ":6:29: unit \"web\": ports[1]: host port 8002/tcp is published twice",
        ),
        ("cpu shares negative", unit("cpu_shares = -5"), "cpu_shares"),
        (
            "cpu shares as text",
            unit("cpu_shares = \"lots\""),
            "cpu_shares",
        ),
        (
            "swappiness over 100",
            unit("swappiness = 101"),
            "swappiness",
        ),
        (
            "duration without unit",
            unit("stop_timeout = \"10\""),
            "stop_timeout: \"10\" has a number without a unit; add one: \"10s\"",
        ),
        (
            "duration in days",
            unit("stop_timeout = \"2d\""),
            "stop_timeout: \"2d\": days are not a unit of Docker's durations; write hours: \"48h\"",
        ),
        (
            "fractional stop timeout",
            unit("stop_timeout = \"1.5s\""),
            "stop_timeout: must be whole seconds, at least 1s (Docker counts the grace period in whole seconds), not 1500ms",
        ),
        (
            "sub-second stop timeout",
            unit("stop_timeout = \"500ms\""),
            "stop_timeout: must be whole seconds, at least 1s",
        ),
        (
            "backoff too long to compute",
            unit("backoff = { initial = \"5124095576030431h\" }"),
            "backoff.initial: ",
        ),
        (
            "bad restart word",
            unit("restart = \"sometimes\""),
            "restart",
        ),
        (
            "bad on-failure count",
            unit("restart = \"on-failure:x\""),
            "restart",
        ),
        (
            "bad stop signal",
            unit("stop_signal = \"SIGNOPE\""),
            "stop_signal",
        ),
        (
            "reserved label",
            unit("labels = { \"io.stevedore.unit\" = \"x\" }"),
            "labels",
        ),
        (
            "invalid unit name",
            format!("{HEAD}[[unit]]\nname = \"-web\"\nimage = \"i\"\n"),
            "name",
        ),
        (
            "unit name with a slash",
            format!("{HEAD}[[unit]]\nname = \"a/b\"\nimage = \"i\"\n"),
            "name",
        ),
        (
            "invalid namespace",
            "namespace = \"bad ns\"\n".to_string(),
            "namespace",
        ),
        (
            "missing namespace",
            "[[unit]]\nname = \"a\"\nimage = \"i\"\n".to_string(),
            "namespace",
        ),
        (
            "missing image",
            format!("{HEAD}[[unit]]\nname = \"a\"\n"),
            "image",
        ),
        (
            "missing name",
            format!("{HEAD}[[unit]]\nimage = \"i\"\n"),
            "name",
        ),
        (
            "duplicate unit names",
            format!(
                "{HEAD}[[unit]]\nname = \"a\"\nimage = \"i\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\n"
            ),
            "a",
        ),
        (
            "unit as a plain table",
            format!("{HEAD}[unit]\nname = \"a\"\nimage = \"i\"\n"),
            "unit",
        ),
        (
            "bad backoff factor",
            unit("backoff = { factor = 0.5 }"),
            "backoff.factor",
        ),
        (
            "bad intensity window",
            unit("intensity = { within = \"0s\" }"),
            "intensity.within",
        ),
        (
            "unknown healthcheck key",
            unit("healthcheck = { intreval = \"5s\" }"),
            "healthcheck.intreval: unknown key; did you mean `interval`?",
        ),
        (
            "bad on_unhealthy word",
            unit("on_unhealthy = \"reboot\""),
            "on_unhealthy: \"reboot\" is not \"restart\" or \"ignore\"",
        ),
        (
            "dependency cycle",
            format!(
                "{HEAD}[[unit]]\nname = \"a\"\nimage = \"i\"\ndepends_on = [\"b\"]\n[[unit]]\nname = \"b\"\nimage = \"i\"\ndepends_on = {{ a = \"healthy\" }}\n"
            ),
            ":5:15: unit \"a\": depends_on.b: dependency cycle a -> b -> a",
        ),
    ]
}

#[test]
fn every_bad_manifest_exits_2_naming_the_file_line_and_column() {
    let cases = cases();
    assert!(cases.len() >= 30);
    for (index, (name, text, expected)) in cases.iter().enumerate() {
        let path = manifest(&format!("bad-{index}"), text);
        let shown = path.display().to_string();
        for command in ["validate", "up"] {
            let output = run(&[command, "-f", &shown]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{name} ({command}): {stderr}"
            );
            let location = format!("{shown}:");
            assert!(
                stderr.contains(&location),
                "{name} ({command}) names no location: {stderr}"
            );
            let has_line_and_column = stderr
                .lines()
                .filter_map(|line| line.split_once(&location))
                .any(|(_, rest)| {
                    let mut numbers = rest.split(':');
                    numbers.next().is_some_and(|n| n.parse::<usize>().is_ok())
                        && numbers.next().is_some_and(|n| n.parse::<usize>().is_ok())
                });
            assert!(
                has_line_and_column,
                "{name} ({command}) has no line:column: {stderr}"
            );
            assert!(
                stderr.contains(expected),
                "{name} ({command}) does not mention {expected:?}: {stderr}"
            );
        }
    }
    // `up` refused before touching the engine: nothing of the namespace exists.
    if common::engine_available() {
        assert_eq!(
            docker(&[
                "ps",
                "-aq",
                "--filter",
                "label=io.stevedore.namespace=t-bad"
            ]),
            ""
        );
    }
}

#[test]
fn all_problems_of_a_manifest_are_reported_at_once() {
    let text = unit("memory = \"64q\"\nswappiness = 101\nrestart = \"sometimes\"");
    let path = manifest("three-problems", &text);
    let output = run(&["validate", "-f", &path.display().to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    for field in ["memory", "swappiness", "restart"] {
        assert!(stderr.contains(field), "{field} missing from {stderr}");
    }
    assert!(stderr.contains("3 problems"), "{stderr}");
}

#[test]
fn a_duplicate_key_and_a_number_too_large_do_not_hide_the_other_problems() {
    let text = unit(
        "image = \"again\"\ncpu_shares = 99999999999999999999\nswappiness = 101\nmemory = \"64q\"",
    );
    let path = manifest("recovered", &text);
    let shown = path.display().to_string();
    let output = run(&["validate", "-f", &shown]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for expected in [
        ":6:1: unit \"web\": image: duplicate key `image`",
        ":7:14: unit \"web\": cpu_shares: 99999999999999999999 is too large",
        ":8:14: unit \"web\": swappiness: 101 is outside 0-100",
        ":9:10: unit \"web\": memory: unknown unit \"q\"",
        "4 problems",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected} missing from {stderr}"
        );
    }
}

#[test]
fn sizes_durations_and_port_ranges_as_people_type_them_are_valid() {
    let text = unit(
        "memory = \"1.5g\"\nports = [\"127.0.0.1:18000-18002:8000-8002/udp\", \"9000-9001\"]\nbackoff = { initial = \"500us\", max = \"1h30m\", reset_after = \"1.5s\" }\nhealthcheck = { test = \"true\", interval = \"0.5m\" }",
    );
    let path = manifest("typed", &text);
    let output = run(&["validate", "-f", &path.display().to_string()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = unit("memory = \"512mb\"\nstop_timeout = \"1m\"");
    let path = manifest("typed-mb", &text);
    let output = run(&["validate", "-f", &path.display().to_string()]);
    assert_eq!(output.status.code(), Some(0));
}

/// (file, what the system says of it), for a missing file, a directory
/// and bytes that are not UTF-8.
fn unreadable() -> Vec<(String, String)> {
    let missing = std::env::temp_dir().join(format!(
        "stevedore-cli-{}-missing/units.toml",
        std::process::id()
    ));
    // Several tests call this at once: the file is replaced whole (a
    // rename), never seen half-written or empty.
    let directory =
        std::env::temp_dir().join(format!("stevedore-cli-{}-not-utf8", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let not_utf8 = directory.join("units.toml");
    let staged = directory.join(format!("staged-{:?}", std::thread::current().id()));
    std::fs::write(&staged, b"namespace = \"t\"\n# caf\xe9\n").unwrap();
    std::fs::rename(&staged, &not_utf8).unwrap();
    vec![
        (
            missing.display().to_string(),
            "No such file or directory".into(),
        ),
        (directory.display().to_string(), "Is a directory".into()),
        (
            not_utf8.display().to_string(),
            "it is not UTF-8 text (byte 0xe9 at line 2, column 6)".into(),
        ),
    ]
}

#[test]
fn a_file_that_cannot_be_read_exits_2_with_the_systems_words() {
    for (file, said) in unreadable() {
        let output = run(&["validate", "-f", &file]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{file}: {stderr}");
        let expected = format!("cannot read {file}: {said}");
        assert!(stderr.contains(&expected), "{expected:?} not in {stderr}");
        assert!(!stderr.contains("os error"), "{stderr}");
    }
}

#[test]
fn a_file_that_cannot_be_read_is_one_line_not_a_made_up_problem() {
    for (file, said) in unreadable() {
        for command in ["validate", "up"] {
            let output = run(&[command, "-f", &file]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{file}: {stderr}");
            let message = format!("cannot read {file}: {said}");
            if command == "up" {
                // up's stderr is a log: its time, its level, the message.
                let (time, rest) = stderr.split_once(' ').unwrap();
                assert!(common::cli::is_rfc3339(time), "{stderr}");
                assert_eq!(rest, format!("ERROR {message}\n"));
            } else {
                assert_eq!(stderr, format!("stevedore: {message}\n"));
            }
        }
    }
}

#[test]
fn the_demo_manifest_is_valid() {
    let output = run(&[
        "validate",
        "-f",
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo.toml"),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("3 unit(s)"));
}

#[test]
fn help_is_there_for_every_command() {
    for command in ["up", "ps", "down", "validate"] {
        let output = run(&[command, "--help"]);
        assert_eq!(output.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: stevedore"));
    }
    assert_eq!(
        run(&["frobnicate"]).status.code(),
        Some(2),
        "bad usage exits 2"
    );
}
