//! Scenario 1: bring 50 `sleep` units up until all run — `stevedore up`,
//! raw bollard with 16 calls in flight, docker compose, a `docker run` loop;
//! and the CPU time the whole machine spent on each, which shows the engine's
//! own cost per container as the floor under every contender.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::CreateContainerOptions;
use futures::StreamExt;

use crate::report::Row;
use crate::util::{IMAGE, docker, have, machine_cpu_seconds, process_cpu_seconds, remove_prefixed};

const UNITS: usize = 50;

pub fn stevedore_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("own path");
    exe.parent()
        .and_then(|p| p.parent())
        .expect("target dir")
        .join("stevedore")
}

fn cleanup() {
    for prefix in [
        "bench-up--",
        "bench-up---",
        "benchraw-",
        "benchcompose_",
        "benchrun-",
    ] {
        remove_prefixed(prefix);
    }
}

/// The time until all 50 run and the CPU time `stevedore up` itself used;
/// the process is left running (see [`end_up`]), so that its shutdown is not
/// counted, as the other contenders have none.
fn stevedore_up() -> (Duration, f64, Child) {
    let mut manifest = String::from("namespace = \"bench-up\"\n");
    for n in 0..UNITS {
        manifest.push_str(&format!(
            "[[unit]]\nname = \"u{n:02}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"1s\"\n"
        ));
    }
    let file = std::env::temp_dir().join("stevedore-bench-up.toml");
    std::fs::write(&file, manifest).unwrap();
    let started = Instant::now();
    let mut child = Command::new(stevedore_binary())
        .args(["up", "-f"])
        .arg(&file)
        .stderr(Stdio::piped())
        .spawn()
        .expect("stevedore up starts (cargo build --release first)");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut running = 0;
    for line in stderr.lines().map_while(Result::ok) {
        if line.contains(" running") {
            running += 1;
            if running == UNITS {
                break;
            }
        }
    }
    let elapsed = started.elapsed();
    let own_cpu = process_cpu_seconds(&child.id().to_string());
    (elapsed, own_cpu, child)
}

/// Ends a `stevedore up` the way a user would, and waits for it.
pub fn end_up(mut up: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &up.id().to_string()])
        .status();
    let _ = up.wait();
}

async fn raw_bollard() -> Duration {
    let docker = bollard::Docker::connect_with_local_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    let started = Instant::now();
    futures::stream::iter(0..UNITS)
        .map(|n| {
            let docker = docker.clone();
            async move {
                let name = format!("benchraw-{n:02}");
                let body = ContainerCreateBody {
                    image: Some(IMAGE.into()),
                    cmd: Some(vec!["sleep".into(), "600".into()]),
                    ..Default::default()
                };
                let options = CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                };
                docker.create_container(Some(options), body).await.unwrap();
                docker.start_container(&name, None).await.unwrap();
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    started.elapsed()
}

fn compose() -> Duration {
    let mut file = String::from("version: \"2\"\nservices:\n");
    for n in 0..UNITS {
        file.push_str(&format!("  s{n:02}:\n    image: {IMAGE}\n    command: [\"sleep\", \"600\"]\n    network_mode: bridge\n"));
    }
    let dir = std::env::temp_dir().join("stevedore-bench-compose");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docker-compose.yml"), file).unwrap();
    let started = Instant::now();
    let status = Command::new("docker-compose")
        .args(["-p", "benchcompose", "up", "-d"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("docker-compose runs");
    assert!(status.success());
    started.elapsed()
}

fn run_loop() -> Duration {
    let started = Instant::now();
    for n in 0..UNITS {
        docker(&[
            "run",
            "-d",
            "--name",
            &format!("benchrun-{n:02}"),
            IMAGE,
            "sleep",
            "600",
        ]);
    }
    started.elapsed()
}

pub async fn run(runs: usize, rows: &mut Vec<Row>) {
    let scenario = "bring-up: 50 units running";
    let mut contenders = vec![
        Row::new(scenario, "stevedore up", "ms"),
        Row::new(scenario, "raw bollard, 16 in flight", "ms"),
        Row::new(scenario, "docker run -d loop", "ms"),
    ];
    let with_compose = have("docker-compose");
    if with_compose {
        contenders.push(Row::new(scenario, "docker-compose up -d", "ms"));
    } else {
        eprintln!(
            "bench: docker-compose not found; install it with `apt-get install docker-compose` to compare"
        );
    }
    let cpu_scenario = "bring-up: CPU time of the whole machine";
    let mut machine_cpu: Vec<Row> = contenders
        .iter()
        .map(|row| Row::new(cpu_scenario, &row.contender, "s"))
        .collect();
    let mut own_cpu = Row::new(cpu_scenario, "stevedore up: its own process", "s");
    cleanup();
    for round in 0..runs {
        for offset in 0..contenders.len() {
            let index = (round + offset) % contenders.len();
            let cpu_before = machine_cpu_seconds();
            let mut still_up = None;
            let elapsed = match index {
                0 => {
                    let (elapsed, own, up) = stevedore_up();
                    own_cpu.samples.push(own);
                    still_up = Some(up);
                    elapsed
                }
                1 => raw_bollard().await,
                2 => run_loop(),
                _ => compose(),
            };
            machine_cpu[index]
                .samples
                .push(machine_cpu_seconds() - cpu_before);
            if let Some(up) = still_up {
                end_up(up);
            }
            contenders[index].push_duration(elapsed);
            cleanup();
        }
    }
    contenders[0].note =
        "process start, lease, adoption list, 50 × create+start; target ≤ 1.10× raw bollard".into();
    if with_compose {
        contenders[3].note = "target: stevedore ≥ 1.8× faster".into();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    machine_cpu[0].note = format!(
        "busy CPU of all {cores} cores, engine included; ÷ {cores} = the shortest bring-up this work allows"
    );
    own_cpu.note = "the supervisor's share of the line above".into();
    rows.extend(contenders);
    rows.extend(machine_cpu);
    rows.push(own_cpu);
}
