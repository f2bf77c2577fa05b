//! `stevedore ps` as a process: the host ports the engine assigned (IPv6 in
//! brackets), columns as wide as their contents, `-q`, and `--format`.

mod common;

use common::cli::{Up, manifest, ps_when, run};
use common::{Cleanup, IMAGE, docker, engine};

fn unit(name: &str, extra: &str) -> String {
    format!(
        "[[unit]]\nname = \"{name}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"1s\"\n{extra}\n"
    )
}

fn stdout_of(args: &[&str]) -> String {
    let output = run(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The host port `docker port` shows for `port` of `container` at `ip`.
fn assigned(container: &str, port: &str, ip: &str) -> String {
    docker(&["port", container, port])
        .lines()
        .find_map(|line| line.strip_prefix(ip)?.strip_prefix(':').map(str::to_string))
        .unwrap_or_else(|| panic!("docker port {container} {port} shows no {ip}"))
}

#[actix::test]
async fn ps_shows_the_host_ports_the_engine_assigned_with_ipv6_in_brackets() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-cli-ps-ports";
    let _cleanup = Cleanup::new(namespace);
    let text = format!(
        "namespace = \"{namespace}\"\n{}",
        unit("web", "ports = [\"8081\", \"[::1]::80\"]")
    );
    let file = manifest("ps-ports", &text);
    let mut up = Up::start(&file, &[]);
    up.wait_running(&["web"]);
    let container = format!("{namespace}--web");
    let any = assigned(&container, "8081/tcp", "0.0.0.0");
    let loopback = assigned(&container, "80/tcp", "[::1]");

    let table = stdout_of(&["ps", "-n", namespace]);
    assert!(
        table.contains(&format!("0.0.0.0:{any}->8081/tcp")),
        "{table}"
    );
    assert!(
        table.contains(&format!("[::1]:{loopback}->80/tcp")),
        "{table}"
    );
    assert!(!table.contains(":0->"), "no unassigned port 0: {table}");

    // --json: the declared mapping, with the port the engine assigned.
    let rows = ps_when(namespace, |rows| rows.len() == 1);
    let ports = rows[0]["ports"].as_array().unwrap();
    let external = |internal: u64| {
        ports
            .iter()
            .find(|p| p["internal"] == internal)
            .map(|p| p["external"].to_string())
            .unwrap()
    };
    assert_eq!(external(8081), any);
    assert_eq!(external(80), loopback);
    assert_eq!(ports.len(), 2, "one entry per declared mapping: {ports:?}");
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
}

#[actix::test]
async fn ps_columns_are_as_wide_as_their_contents_and_q_and_format_print_what_was_asked() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-cli-ps-columns";
    let _cleanup = Cleanup::new(namespace);
    let long = "a-unit-whose-name-is-longer-than-twenty";
    let text = format!(
        "namespace = \"{namespace}\"\n{}{}",
        unit(long, ""),
        unit("b", "")
    );
    let file = manifest("ps-columns", &text);
    let mut up = Up::start(&file, &[]);
    up.wait_running(&[long, "b"]);

    let table = stdout_of(&["ps", "-n", namespace]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    // Each column starts where its header starts, on every row.
    let header = lines[0];
    let starts = |line: &str| -> Vec<usize> {
        let bytes = line.as_bytes();
        (0..bytes.len())
            .filter(|&i| bytes[i] != b' ' && (i == 0 || line[..i].ends_with("  ")))
            .collect()
    };
    let columns = starts(header);
    assert_eq!(columns.len(), 7, "{table}");
    for line in &lines[1..] {
        // Every cell but the empty PORTS.
        assert_eq!(starts(line), columns[..6], "{table}");
    }
    // No column is wider than it needs: NAME is as wide as the longest name
    // plus the gap before CONTAINER ID.
    assert_eq!(header.find("CONTAINER ID"), Some(long.len() + 3), "{table}");
    assert!(lines.iter().all(|line| !line.ends_with(' ')), "{table}");

    let names = stdout_of(&["ps", "-n", namespace, "-q"]);
    assert_eq!(names, format!("{long}\nb\n"), "sorted by name");

    let formatted = stdout_of(&[
        "ps",
        "-n",
        namespace,
        "--format",
        "{{.name}}\\t{{.status}} {{.restart_count}}",
    ]);
    assert_eq!(formatted, format!("{long}\trunning 0\nb\trunning 0\n"));
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
}

#[test]
fn ps_format_with_an_unknown_key_is_exit_2_listing_the_keys() {
    // Checked before the engine: nothing listens on port 1.
    let output = run(&[
        "-H",
        "tcp://127.0.0.1:1",
        "ps",
        "-n",
        "x",
        "--format",
        "{{.name}} {{.nope}}",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
    for key in ["name", "status", "ports", "phase", "health"] {
        assert!(stderr.contains(key), "{key} not listed: {stderr}");
    }
}

#[test]
fn ps_takes_one_of_json_q_and_format() {
    for args in [
        ["--json", "-q"],
        ["--json", "--format={{.name}}"],
        ["-q", "--format={{.name}}"],
    ] {
        let mut full = vec!["ps", "-n", "x"];
        full.extend(args);
        let output = run(&full);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be used with"));
    }
}
