//! `stevedore up` with 10 units while the Docker daemon goes away and comes
//! back the three ways it does in real life: a graceful stop (SIGTERM, as
//! `systemctl restart docker`), a SIGKILL with the containers' shims left
//! alive, and a SIGKILL of containerd too. Each time every unit must run
//! again, once, with `up` alive and a later `docker stop` still honoured.
//! This kills the machine's dockerd, so it runs only in CI or with
//! STEVEDORE_CHAOS=1, alone in its own test binary.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::cli::{Up, manifest};
use common::{Cleanup, EngineBack, IMAGE, docker, engine};

const NAMESPACE: &str = "t-chaos-engine";
const UNITS: usize = 10;

/// Waits (bounded) until no process named `name` is left: a process's end
/// has no event to await from here.
fn wait_gone(name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Command::new("pgrep")
        .args(["-x", name])
        .output()
        .unwrap()
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "{name} did not end");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn kill(signal: &str, name: &str) {
    let status = Command::new("pkill")
        .args([signal, "-x", name])
        .status()
        .unwrap();
    assert!(status.success(), "{name} was running");
}

fn names() -> Vec<String> {
    (0..UNITS).map(|n| format!("u{n:02}")).collect()
}

/// Every unit's container, one each, running.
fn assert_all_running_once() {
    let listed = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=io.stevedore.namespace={NAMESPACE}"),
        "--format",
        "{{.Names}} {{.State}}",
    ]);
    let mut rows: Vec<&str> = listed.lines().collect();
    rows.sort();
    let expected: Vec<String> = names()
        .iter()
        .map(|name| format!("{NAMESPACE}--{name} running"))
        .collect();
    assert_eq!(rows, expected, "one running container per unit");
}

/// One round: the engine goes away as `stop_engine` makes it, stays away
/// for `away`, comes back; every unit runs again.
fn round(up: &mut Up, what: &str, stop_engine: impl Fn(), away: Duration) {
    up.mark();
    let back = EngineBack;
    stop_engine();
    wait_gone("dockerd");
    std::thread::sleep(away); // the scenario: the engine is away this long
    let relaunched = Instant::now();
    drop(back);
    let names = names();
    let units: Vec<&str> = names.iter().map(String::as_str).collect();
    up.wait_running(&units);
    println!(
        "{what}: all {UNITS} units running {:.1} s after the engine was launched",
        relaunched.elapsed().as_secs_f64()
    );
    assert!(up.child.try_wait().unwrap().is_none(), "up is alive");
    assert_all_running_once();
    let events: Vec<&str> = up
        .since_mark()
        .iter()
        .filter(|line| line.starts_with("20")) // unit event lines start with their time
        .map(String::as_str)
        .collect();
    for line in &events {
        let state = line.split_whitespace().nth(2).unwrap_or_default();
        assert!(
            !["failed", "stopped", "exited", "backing-off"].contains(&state),
            "{what}: no unit failed, was taken as stopped by hand or restarted by its policy: {line}\n{}",
            events.join("\n")
        );
        assert!(
            !line.contains("(restarts:"),
            "{what}: the outage counted a restart: {line}"
        );
    }
}

#[actix::test]
async fn every_unit_comes_back_after_each_kind_of_engine_restart() {
    if std::env::var_os("CI").is_none() && std::env::var_os("STEVEDORE_CHAOS").is_none() {
        eprintln!("SKIPPED: restarts dockerd; set STEVEDORE_CHAOS=1 to run it outside CI");
        return;
    }
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new(NAMESPACE);
    let mut text = format!("namespace = \"{NAMESPACE}\"\n");
    for name in names() {
        text += &format!(
            "[[unit]]\nname = \"{name}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nrestart = \"always\"\nstop_timeout = \"1s\"\n"
        );
    }
    let file = manifest("chaos-engine", &text);
    let mut up = Up::start(&file, &[]);
    let names = names();
    let units: Vec<&str> = names.iter().map(String::as_str).collect();
    up.wait_running(&units);

    round(
        &mut up,
        "dockerd SIGTERM, away 30 s",
        || kill("-TERM", "dockerd"),
        Duration::from_secs(30),
    );
    round(
        &mut up,
        "dockerd SIGKILL (shims alive), away 3 s",
        || kill("-KILL", "dockerd"),
        Duration::from_secs(3),
    );
    round(
        &mut up,
        "dockerd and containerd SIGKILL",
        || {
            kill("-KILL", "dockerd");
            let _ = Command::new("pkill")
                .args(["-KILL", "-x", "containerd"])
                .status();
        },
        Duration::from_secs(3),
    );

    // A person's `docker stop` is still a stop by hand afterwards.
    up.mark();
    docker(&["stop", "-t", "1", &format!("{NAMESPACE}--u00")]);
    up.wait_for(&[" u00 ", "stopped outside stevedore"]);
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
    let state = docker(&[
        "inspect",
        "-f",
        "{{.State.Status}}",
        &format!("{NAMESPACE}--u00"),
    ]);
    assert_eq!(state.trim(), "exited", "the stopped unit stayed stopped");
}
