//! What `stevedore up` prints on stderr, as a process: every line JSON with
//! `--log-format json`, a timestamp on every text line, colour only on a
//! terminal without NO_COLOR, and the STEVEDORE_LOG / RUST_LOG filter.

mod common;

use common::cli::{Up, is_rfc3339, manifest, on_a_terminal, run_env};
use common::{Cleanup, IMAGE, docker, engine};
use serde_json::Value;

/// No filter in the environment: the library's warnings are printed.
const DEFAULT_FILTER: &[(&str, &str)] = &[("STEVEDORE_LOG", ""), ("RUST_LOG", "")];

fn unit(name: &str) -> String {
    format!(
        "[[unit]]\nname = \"{name}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"1s\"\n"
    )
}

/// Parses every line as one JSON object with `time`, `level` and `message`.
fn json_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line}\nall lines:\n{lines:#?}"));
            let time = value["time"].as_str().unwrap_or_default();
            assert!(is_rfc3339(time), "time is not RFC 3339: {line}");
            let level = value["level"].as_str().unwrap_or_default();
            assert!(
                ["debug", "info", "warn", "error"].contains(&level),
                "bad level: {line}"
            );
            assert!(value["message"].is_string(), "no message: {line}");
            value
        })
        .collect()
}

fn with_message<'a>(lines: &'a [Value], part: &str) -> &'a Value {
    lines
        .iter()
        .find(|line| line["message"].as_str().unwrap_or_default().contains(part))
        .unwrap_or_else(|| panic!("no line says {part:?}: {lines:#?}"))
}

/// A container labelled with the namespace but no spec: adoption leaves it
/// alone, and the library warns about it.
fn stranger(namespace: &str, cleanup: &mut Cleanup) -> String {
    let name = format!("{namespace}-stranger");
    cleanup.also(&name);
    let label = format!("io.stevedore.namespace={namespace}");
    docker(&[
        "run", "-d", "--name", &name, "--label", &label, IMAGE, "sleep", "600",
    ]);
    name
}

#[actix::test]
async fn every_line_up_prints_with_log_format_json_is_one_json_object() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-cli-logs-json";
    let mut cleanup = Cleanup::new(namespace);
    let head = format!("namespace = \"{namespace}\"\n");
    let file = manifest("logs-json", &format!("{head}{}{}", unit("a"), unit("b")));
    // A first `up` dies with its lease held: the next takes the lease over.
    let mut first = Up::start(&file, &[]);
    first.wait_running(&["a", "b"]);
    first.signal("KILL");
    let _ = first.wait_exit();
    let stranger = stranger(namespace, &mut cleanup);

    // Only `a` declared now: `b` is an orphan.
    std::fs::write(&file, format!("{head}{}", unit("a"))).unwrap();
    let mut up = Up::start_env(&file, &["--log-format", "json"], DEFAULT_FILTER);
    up.wait_for(&["orphan b"]);
    // A bad manifest on reload, then a good one.
    std::fs::write(&file, format!("{head}[[unit]]\nname = \"x\"\n")).unwrap();
    up.signal("HUP");
    up.wait_for(&["reload refused"]);
    std::fs::write(&file, format!("{head}{}", unit("a"))).unwrap();
    up.signal("HUP");
    up.wait_for(&["reloading"]);
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);

    let lines = json_lines(&up.seen);
    let took = with_message(&lines, "took over the lease");
    assert_eq!(took["level"], "warn");
    assert_eq!(took["namespace"], namespace);
    assert_eq!(with_message(&lines, "adopted a")["unit"], "a");
    let alone = with_message(&lines, &format!("left {stranger} alone"));
    assert_eq!(alone["level"], "warn");
    assert_eq!(alone["container"], stranger.as_str());
    // The library's own warning (tracing) is JSON too.
    let warning = with_message(&lines, "containers left alone at adoption");
    assert_eq!(warning["level"], "warn");
    assert!(warning["skipped"].as_str().unwrap().contains(&stranger));
    let orphan = with_message(&lines, "orphan b");
    assert_eq!(
        (&orphan["level"], &orphan["unit"]),
        (&"warn".into(), &"b".into())
    );
    let refused = with_message(&lines, "reload refused");
    assert_eq!(refused["level"], "error");
    let problems = refused["problems"].as_array().expect("problems listed");
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("image")),
        "{refused}"
    );
    with_message(&lines, "reloading");
    with_message(&lines, "shutting down");
    // Unit events carry a level and a message besides their own keys.
    let running = lines
        .iter()
        .find(|line| line["unit"] == "a" && line["state"] == "running")
        .expect("a running event");
    assert_eq!(running["level"], "info");
    assert_eq!(running["namespace"], namespace);
}

#[actix::test]
async fn a_manifest_invalid_for_this_engine_is_one_json_error_line_with_its_problems() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-cli-logs-engine";
    let _cleanup = Cleanup::new(namespace);
    let text = format!(
        "namespace = \"{namespace}\"\n{}{}depends_on = {{ db = \"healthy\" }}\n",
        unit("db"),
        unit("web")
    );
    let file = manifest("logs-engine", &text);
    let mut up = Up::start(&file, &["--log-format", "json"]);
    assert_eq!(up.wait_exit(), 2, "{:#?}", up.seen);
    let lines = json_lines(&up.seen);
    let error = with_message(&lines, "invalid for this engine");
    assert_eq!(error["level"], "error");
    let problems = error["problems"].as_array().expect("problems listed");
    assert_eq!(problems.len(), 1, "{error}");
    assert!(
        problems[0]
            .as_str()
            .unwrap()
            .contains("declares no health check"),
        "{error}"
    );
}

#[actix::test]
async fn every_text_line_of_up_starts_with_an_rfc3339_time_and_has_no_colour_in_a_pipe() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-cli-logs-text";
    let mut cleanup = Cleanup::new(namespace);
    let stranger = stranger(namespace, &mut cleanup);
    let file = manifest(
        "logs-text",
        &format!("namespace = \"{namespace}\"\n{}", unit("a")),
    );
    let mut up = Up::start_env(&file, &[], DEFAULT_FILTER);
    up.wait_running(&["a"]);
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
    for line in &up.seen {
        let first = line.split_whitespace().next().unwrap_or_default();
        assert!(is_rfc3339(first), "no timestamp: {line:?}");
        assert!(!line.contains('\u{1b}'), "colour in a pipe: {line:?}");
    }
    let has = |parts: &[&str]| {
        up.seen
            .iter()
            .any(|line| parts.iter().all(|part| line.contains(part)))
    };
    assert!(
        has(&["WARN", &format!("left {stranger} alone")]),
        "{:#?}",
        up.seen
    );
    assert!(
        has(&["WARN", "containers left alone at adoption"]),
        "{:#?}",
        up.seen
    );
    assert!(has(&["INFO", "shutting down"]), "{:#?}", up.seen);
}

/// A manifest that is valid without an engine.
fn valid_manifest(name: &str) -> String {
    let text = format!("namespace = \"t-cli-logs-nowhere\"\n{}", unit("a"));
    manifest(name, &text).display().to_string()
}

#[test]
fn up_colours_its_levels_on_a_terminal_and_never_with_no_color_or_in_a_pipe() {
    let file = valid_manifest("colour");
    // Nothing listens on port 1: `up` fails at once with an ERROR line.
    let command = format!(
        "{} -H tcp://127.0.0.1:1 up -f {file}",
        common::cli::binary()
    );
    let Some(coloured) = on_a_terminal(&command, &[("NO_COLOR", "")]) else {
        return;
    };
    assert!(coloured.contains("cannot reach"), "{coloured:?}");
    assert!(
        coloured.contains("\u{1b}["),
        "no colour on a terminal: {coloured:?}"
    );
    let plain = on_a_terminal(&command, &[("NO_COLOR", "1")]).unwrap();
    assert!(plain.contains("cannot reach"), "{plain:?}");
    assert!(
        !plain.contains('\u{1b}'),
        "colour despite NO_COLOR: {plain:?}"
    );
    let piped = run_env(
        &["-H", "tcp://127.0.0.1:1", "up", "-f", &file],
        &[("NO_COLOR", "")],
    );
    let piped = String::from_utf8_lossy(&piped.stderr);
    assert!(piped.contains("cannot reach"), "{piped:?}");
    assert!(!piped.contains('\u{1b}'), "colour in a pipe: {piped:?}");
}

#[test]
fn a_bad_log_filter_is_exit_2_naming_the_variable_and_the_filter() {
    let file = valid_manifest("bad-filter");
    for (variable, other) in [("STEVEDORE_LOG", "RUST_LOG"), ("RUST_LOG", "STEVEDORE_LOG")] {
        let env = [(variable, "stevedore=loud"), (other, "")];
        let output = run_env(&["validate", "-f", &file], &env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{variable}: {stderr}");
        assert!(stderr.contains(variable), "{stderr}");
        assert!(stderr.contains("stevedore=loud"), "{stderr}");
    }
}

#[actix::test]
async fn rust_log_takes_env_filter_directives_and_stevedore_log_wins_over_it() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-cli-logs-filter";
    let _cleanup = Cleanup::new(namespace);
    let file = manifest(
        "logs-filter",
        &format!("namespace = \"{namespace}\"\n{}", unit("a")),
    );
    // The unit bus logs every event at debug under stevedore::unit.
    let directives = "stevedore::unit=debug,bollard=warn";
    let mut up = Up::start_env(
        &file,
        &[],
        &[("RUST_LOG", directives), ("STEVEDORE_LOG", "")],
    );
    up.wait_for(&["DEBUG", "unit event"]);
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);

    let mut up = Up::start_env(
        &file,
        &[],
        &[("RUST_LOG", directives), ("STEVEDORE_LOG", "warn")],
    );
    up.wait_running(&["a"]);
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
    assert!(
        !up.seen.iter().any(|line| line.contains("unit event")),
        "STEVEDORE_LOG=warn shows no debug: {:#?}",
        up.seen
    );
}
