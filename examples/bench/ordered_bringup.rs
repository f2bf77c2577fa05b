//! Scenario: ordered bring-up — 50 `sleep 600` units in a dependency chain
//! of depth 5: 5 levels of 10, unit i of level k depends on unit i of level
//! k-1 alone (condition started), so 10 chains of 5 start side by side.
//! stevedore (the library: supervisor start, then all 50 added at once; the
//! dependents wait and start as soon as their dependency runs; timed until
//! every unit's `running` event) against `docker-compose up -d` of the same
//! graph (`depends_on` in list form, which compose 1.29 reads as started;
//! timed until the command returns and `docker ps` shows all 50 running).
//! Runs interleave; every container is removed between runs.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use stevedore::{Condition, ShutdownMode, Supervisor, UnitSpec, UnitState};

use crate::report::Row;
use crate::util::{IMAGE, docker, have, remove_prefixed};

const LEVELS: usize = 5;
const WIDTH: usize = 10;
const UNITS: usize = LEVELS * WIDTH;
/// Every container of the scenario starts with it: stevedore's are
/// `benchorder--…`, compose's `benchorder_…_1`.
const PREFIX: &str = "benchorder";
const NAMESPACE: &str = "benchorder";
const PROJECT: &str = "benchorder";
/// Longest wait for the 50 before a run is given up.
const PATIENCE: Duration = Duration::from_secs(180);

/// Unit i of level k (both from 1 and 0): `l<k>-u<i>`.
fn unit(level: usize, index: usize) -> String {
    format!("l{level}-u{index:02}")
}

fn cleanup() {
    remove_prefixed(PREFIX);
}

async fn stevedore_run() -> Option<Duration> {
    let started = Instant::now();
    let supervisor = Supervisor::builder()
        .namespace(NAMESPACE)
        .start()
        .await
        .expect("supervisor");
    let mut events = supervisor.events().await;
    let specs = (1..=LEVELS).flat_map(|level| {
        (0..WIDTH).map(move |index| {
            let spec = UnitSpec::new(unit(level, index), IMAGE)
                .command(["sleep", "600"])
                .stop_timeout(Duration::from_secs(1));
            if level == 1 {
                spec
            } else {
                spec.depends_on(unit(level - 1, index), Condition::Started)
            }
        })
    });
    let adds = specs.map(|spec| supervisor.add(spec));
    let all_running = async {
        let mut running = std::collections::HashSet::new();
        while running.len() < UNITS {
            let Some(event) = events.next().await else {
                break;
            };
            if event.state == UnitState::Running {
                running.insert(event.unit);
            }
        }
        running.len() == UNITS
    };
    let (results, all) = futures::join!(
        futures::future::join_all(adds),
        tokio::time::timeout(PATIENCE, all_running)
    );
    let elapsed = started.elapsed();
    for result in results {
        result.expect("unit added");
    }
    supervisor.shutdown(ShutdownMode::Leave).await;
    match all {
        Ok(true) => Some(elapsed),
        _ => {
            eprintln!("bench: stevedore did not bring all {UNITS} units up");
            None
        }
    }
}

fn compose_file() -> String {
    let mut file = String::from("version: \"2\"\nservices:\n");
    for level in 1..=LEVELS {
        for index in 0..WIDTH {
            file.push_str(&format!(
                "  {}:\n    image: {IMAGE}\n    command: [\"sleep\", \"600\"]\n    network_mode: bridge\n    stop_grace_period: 1s\n",
                unit(level, index)
            ));
            if level > 1 {
                file.push_str(&format!(
                    "    depends_on:\n      - {}\n",
                    unit(level - 1, index)
                ));
            }
        }
    }
    file
}

fn running_count() -> usize {
    docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("name=^{PROJECT}_"),
        "--filter",
        "status=running",
    ])
    .lines()
    .count()
}

fn compose_run(dir: &std::path::Path) -> Option<Duration> {
    let started = Instant::now();
    let status = Command::new("docker-compose")
        .args(["-p", PROJECT, "up", "-d"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("docker-compose runs");
    let mut elapsed = started.elapsed();
    if !status.success() {
        eprintln!("bench: docker-compose up failed ({status})");
        return None;
    }
    while running_count() < UNITS {
        if started.elapsed() > PATIENCE {
            eprintln!("bench: compose's containers did not all run");
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
        elapsed = started.elapsed();
    }
    Some(elapsed)
}

pub async fn run(runs: usize, rows: &mut Vec<Row>) {
    let scenario = "ordered bring-up: 50 units, 10 chains of depth 5 (started)";
    let mut ours = Row::new(scenario, "stevedore (library, 50 added at once)", "ms");
    let mut compose = Row::new(scenario, "docker-compose up -d (depends_on)", "ms");
    let with_compose = have("docker-compose");
    let dir = std::env::temp_dir().join("stevedore-bench-ordered");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docker-compose.yml"), compose_file()).unwrap();
    cleanup();
    for round in 0..runs.max(1) {
        for offset in 0..2 {
            match (round + offset) % 2 {
                0 => {
                    if let Some(elapsed) = stevedore_run().await {
                        ours.push_duration(elapsed);
                    }
                }
                _ if with_compose => {
                    if let Some(elapsed) = compose_run(&dir) {
                        compose.push_duration(elapsed);
                    }
                }
                _ => continue,
            }
            cleanup();
        }
    }
    ours.note = "supervisor start included; each level waits for its dependency's running; target: faster than compose".into();
    compose.note = if with_compose {
        "until it returns and docker ps shows all 50 running".into()
    } else {
        "docker-compose not found: apt-get install docker-compose (1.29) to compare".into()
    };
    rows.push(ours);
    rows.push(compose);
}
