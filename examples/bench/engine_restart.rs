//! Scenario: 50 (`--units N`) running units, dockerd stopped with SIGTERM (as `systemctl
//! restart docker` does) and launched again; the time from launching it
//! until all 50 run. `stevedore up` starts them the moment the engine
//! answers; the engine's own `--restart always` restores its containers
//! before its API answers, so only a launch-to-running figure compares them.
//! This restarts the machine's dockerd (with `scripts/engine-up.sh`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::ListContainersOptions;

use crate::bringup::{end_up, stevedore_binary};
use crate::report::Row;
use crate::util::{IMAGE, docker, remove_prefixed};

const NAMESPACE: &str = "bench-er";
const ENGINE_PREFIX: &str = "benchengine-";

/// How long the engine may take to bring everything back before the run
/// counts as failed.
const GIVE_UP: Duration = Duration::from_secs(180);

fn engine_up_script() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/engine-up.sh")
}

/// Stops dockerd with SIGTERM and waits until it is gone (it stops its
/// containers first).
fn stop_engine() {
    let _ = Command::new("pkill")
        .args(["-TERM", "-x", "dockerd"])
        .status();
    let deadline = Instant::now() + GIVE_UP;
    while Command::new("pgrep")
        .args(["-x", "dockerd"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "dockerd did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Running containers whose name starts with `prefix`, or `None` while the
/// engine does not answer.
async fn running(client: &Docker, prefix: &str) -> Option<usize> {
    let filters = HashMap::from([("name".to_string(), vec![format!("^/?{prefix}")])]);
    let options = ListContainersOptions {
        all: false,
        filters: Some(filters),
        ..Default::default()
    };
    client
        .list_containers(Some(options))
        .await
        .ok()
        .map(|listed| listed.len())
}

/// Launches dockerd and measures, from the launch: when its API first
/// answered, and when all of `prefix`'s containers ran (a list every 50 ms:
/// the engine's own restore emits nothing that outlives its restart).
async fn relaunch_and_time(prefix: &str, units: usize) -> (Duration, Duration) {
    // Made while the socket exists (bollard checks it); each request
    // connects again, so it reaches the relaunched engine.
    let client = Docker::connect_with_local_defaults().expect("a client");
    stop_engine();
    let launched = Instant::now();
    let mut script = Command::new("bash")
        .arg(engine_up_script())
        .stderr(Stdio::null())
        .spawn()
        .expect("engine-up.sh runs");
    let mut answered = None;
    loop {
        assert!(
            launched.elapsed() < GIVE_UP,
            "{prefix}: units never all ran"
        );
        if let Some(count) = running(&client, prefix).await {
            answered.get_or_insert(launched.elapsed());
            if count == units {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all_running = launched.elapsed();
    let _ = script.wait();
    (answered.unwrap_or(all_running), all_running)
}

/// `stevedore up` with `units` `always` units, all running.
fn stevedore_up(units: usize) -> Child {
    let mut manifest = format!("namespace = \"{NAMESPACE}\"\n");
    for n in 0..units {
        manifest.push_str(&format!(
            "[[unit]]\nname = \"u{n:02}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nrestart = \"always\"\nstop_timeout = \"1s\"\n"
        ));
    }
    let file = std::env::temp_dir().join("stevedore-bench-engine-restart.toml");
    std::fs::write(&file, manifest).unwrap();
    let mut child = Command::new(stevedore_binary())
        .args(["up", "-f"])
        .arg(&file)
        .stderr(Stdio::piped())
        .spawn()
        .expect("stevedore up starts (cargo build --release first)");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = stderr.lines().map_while(Result::ok);
    let mut up = 0;
    for line in lines.by_ref() {
        if line.contains(" running") {
            up += 1;
            if up == units {
                break;
            }
        }
    }
    // Keep reading, so that `up` never blocks on a full pipe; count the
    // restarts it reports for the outage (there must be none).
    std::thread::spawn(move || {
        for line in lines {
            if line.contains("(restarts:") {
                eprintln!("bench: engine-restart: a restart was counted: {line}");
            }
        }
    });
    child
}

fn engine_containers(units: usize) {
    for n in 0..units {
        docker(&[
            "run",
            "-d",
            "--restart",
            "always",
            "--stop-timeout",
            "1",
            "--name",
            &format!("{ENGINE_PREFIX}{n:02}"),
            IMAGE,
            "sleep",
            "600",
        ]);
    }
}

fn cleanup() {
    for prefix in [
        &format!("{NAMESPACE}--")[..],
        &format!("{NAMESPACE}---")[..],
        ENGINE_PREFIX,
    ] {
        remove_prefixed(prefix);
    }
}

pub async fn run(units: usize, runs: usize, rows: &mut Vec<Row>) {
    let scenario = format!("engine restart: dockerd SIGTERM, launched again → all {units} running");
    let scenario = scenario.as_str();
    let mut ours = Row::new(scenario, "stevedore up, restart = \"always\"", "ms");
    let mut engine = Row::new(scenario, "docker --restart always (its own restore)", "ms");
    let (mut our_api, mut engine_api) = (Vec::new(), Vec::new());
    cleanup();
    for round in 0..runs.max(1) {
        for turn in 0..2 {
            if (round + turn) % 2 == 0 {
                let up = stevedore_up(units);
                let (api, all) = relaunch_and_time(&format!("{NAMESPACE}--"), units).await;
                ours.push_duration(all);
                our_api.push(api);
                end_up(up);
            } else {
                engine_containers(units);
                let (api, all) = relaunch_and_time(ENGINE_PREFIX, units).await;
                engine.push_duration(all);
                engine_api.push(api);
            }
            cleanup();
        }
    }
    let median_secs = |mut d: Vec<Duration>| {
        d.sort();
        d.get(d.len() / 2).map_or(f64::NAN, Duration::as_secs_f64)
    };
    ours.note = format!(
        "API answered {:.1} s after launch; starts every unit the moment it answers; target ≤ 1.10× the engine's own",
        median_secs(our_api)
    );
    engine.note = format!(
        "API answered {:.1} s after launch (it restores its containers first)",
        median_secs(engine_api)
    );
    rows.push(ours);
    rows.push(engine);
}
