//! Scenario: compose — one 20-service compose file (4 `depends_on` chains of
//! depth 5, one of them behind a health check; one declared network all
//! services join; one named volume 8 of them mount) brought up by
//! `stevedore up -d --wait` and by `docker-compose up -d`, each timed until
//! its command returns with all 20 running, then torn down by each one's
//! `down -v` (containers, network and volume), timed until it returns.
//! Both read the same file with the same `-p`; runs interleave, each from a
//! clean engine, and what a run leaves is checked, then removed.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::bringup::stevedore_binary;
use crate::report::Row;
use crate::util::{IMAGE, docker, have, remove_prefixed};

const CHAINS: usize = 4;
const DEPTH: usize = 5;
const SERVICES: usize = CHAINS * DEPTH;
/// Both contenders' project: stevedore names containers `benchproject--…`
/// (and its records `benchproject---…`), compose `benchproject_…_1`; the
/// network and the volume are `benchproject_backplane` and `_shared` for both.
const PROJECT: &str = "benchproject";
/// Passed to `up -d --wait-timeout`: a run that takes longer has failed.
const WAIT_SECONDS: &str = "120";

/// Service `c<chain>-l<level>`, chain and level from 0 and 1.
fn service(chain: usize, level: usize) -> String {
    format!("c{chain}-l{level}")
}

/// The compose file both read: no `version:` and no top-level `name:`, so
/// that compose 1.29 takes it as the compose spec too. The command exits on
/// TERM (busybox sleep as PID 1 would not), so both `down`s stop the same
/// way and the 1 s grace period only bounds it.
fn compose_file() -> String {
    let mut file = String::from("services:\n");
    for chain in 0..CHAINS {
        for level in 1..=DEPTH {
            file.push_str(&format!(
                "  {}:\n    image: {IMAGE}\n    command: [\"sh\", \"-c\", \"trap exit TERM; sleep 3600 & wait\"]\n    stop_grace_period: 1s\n    networks: [backplane]\n",
                service(chain, level)
            ));
            // The heads and the tails share the volume.
            if level == 1 || level == DEPTH {
                file.push_str("    volumes: [\"shared:/data\"]\n");
            }
            // Chain 0's second level waits for its head to be healthy.
            let gated = chain == 0 && level == 2;
            if chain == 0 && level == 1 {
                file.push_str("    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 1s\n      timeout: 1s\n      retries: 3\n");
            }
            if level > 1 {
                let condition = if gated {
                    "service_healthy"
                } else {
                    "service_started"
                };
                file.push_str(&format!(
                    "    depends_on:\n      {}:\n        condition: {condition}\n",
                    service(chain, level - 1)
                ));
            }
        }
    }
    file.push_str("networks:\n  backplane: {}\nvolumes:\n  shared: {}\n");
    file
}

/// Names of the project's networks or volumes (`kind` is `network` or
/// `volume`); the CLI's name filter matches anywhere, so the prefix is
/// checked here.
fn resources(kind: &str) -> Vec<String> {
    docker(&[kind, "ls", "--format", "{{.Name}}"])
        .lines()
        .filter(|name| name.starts_with(&format!("{PROJECT}_")))
        .map(str::to_string)
        .collect()
}

fn containers(running_only: bool) -> usize {
    let mut args = vec!["ps", "-q", "--filter"];
    let name = format!("name=^{PROJECT}");
    args.push(&name);
    if running_only {
        args.extend(["--filter", "status=running"]);
    } else {
        args.push("-a");
    }
    docker(&args).lines().count()
}

/// What is left of the project: containers (records included), networks,
/// volumes; empty when clean.
fn leftovers() -> Vec<String> {
    let mut left = Vec::new();
    let count = containers(false);
    if count > 0 {
        left.push(format!("{count} container(s)"));
    }
    for kind in ["network", "volume"] {
        left.extend(resources(kind).into_iter().map(|n| format!("{kind} {n}")));
    }
    left
}

/// The background `up` a run started, if it still runs; `down` should have
/// ended it.
struct Background(Option<u32>);

impl Background {
    /// Whether it runs: a zombie waiting for its new parent to reap it has
    /// exited.
    fn alive(&self) -> bool {
        self.0.is_some_and(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z') && !state.starts_with('X')
            })
        })
    }

    /// Waits (untimed: after the clock stopped) up to `patience` for it to
    /// exit; whether it did.
    fn exits_within(&self, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        // Not our child (its parent, `up -d`, has exited): no wait().
        while self.alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        !self.alive()
    }

    /// Ends it (it is ours: its pid came from our `up -d`) and waits for it,
    /// so the next run's lease and socket are free.
    fn end(&mut self) {
        let Some(pid) = self.0 else { return };
        if self.alive() {
            eprintln!("bench: the background up (pid {pid}) outlived its run; ending it");
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            self.exits_within(Duration::from_secs(15));
        }
        self.0 = None;
    }
}

/// Removes everything of the project, whoever made it; runs on drop too, so
/// a run that panics leaves nothing behind.
struct Cleanup {
    background: Background,
}

impl Cleanup {
    fn now(&mut self) {
        self.background.end();
        remove_prefixed(PROJECT);
        for kind in ["network", "volume"] {
            let names = resources(kind);
            if !names.is_empty() {
                let mut args = vec![kind, "rm"];
                args.extend(names.iter().map(String::as_str));
                let _ = Command::new("docker").args(&args).output();
            }
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.now();
    }
}

fn timed(command: &mut Command) -> (Duration, Output) {
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .output()
        .expect("the command runs");
    (started.elapsed(), output)
}

fn failed(what: &str, output: &Output) {
    eprintln!(
        "bench: {what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// `up -d` prints `… (pid N, log …)` on stderr: the background up's pid.
fn background_pid(stderr: &[u8]) -> Option<u32> {
    let text = String::from_utf8_lossy(stderr);
    let after = text.split("(pid ").nth(1)?;
    after
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// One contender's commands.
enum Contender {
    Stevedore { file: PathBuf, log: PathBuf },
    Compose { file: PathBuf },
}

impl Contender {
    fn up(&self) -> Command {
        match self {
            Contender::Stevedore { file, log } => {
                let mut up = Command::new(stevedore_binary());
                up.arg("up")
                    .arg("-f")
                    .arg(file)
                    .args(["-p", PROJECT, "-d", "--wait"])
                    .args(["--wait-timeout", WAIT_SECONDS])
                    .arg("--log-file")
                    .arg(log);
                up
            }
            Contender::Compose { file } => {
                let mut up = Command::new("docker-compose");
                up.args(["-p", PROJECT, "-f"]).arg(file).args(["up", "-d"]);
                up
            }
        }
    }

    fn down(&self) -> Command {
        match self {
            Contender::Stevedore { .. } => {
                let mut down = Command::new(stevedore_binary());
                down.args(["down", "-p", PROJECT, "-v"]);
                down
            }
            Contender::Compose { file } => {
                let mut down = Command::new("docker-compose");
                down.args(["-p", PROJECT, "-f"])
                    .arg(file)
                    .args(["down", "-v"]);
                down
            }
        }
    }
}

/// One run: up, checked; down, checked. The times of each, or none when
/// either failed or left the wrong state (the run then does not count).
fn one_run(contender: &Contender, cleanup: &mut Cleanup) -> Option<(Duration, Duration)> {
    cleanup.now();
    let left = leftovers();
    if !left.is_empty() {
        eprintln!("bench: could not start clean: {}", left.join(", "));
        return None;
    }
    let (up_time, output) = timed(&mut contender.up());
    cleanup.background = Background(background_pid(&output.stderr));
    if !output.status.success() {
        failed("up", &output);
        if let Contender::Stevedore { log, .. } = contender {
            eprintln!("bench: its log is {}", log.display());
        }
        return None;
    }
    // Checked after the clock stopped: both claim all run when they return.
    let running = containers(true);
    let made = resources("network").len() + resources("volume").len();
    if running != SERVICES || made != 2 {
        eprintln!(
            "bench: up returned with {running} of {SERVICES} running and {made} of 2 resources"
        );
        return None;
    }
    let (down_time, output) = timed(&mut contender.down());
    if !output.status.success() {
        failed("down", &output);
        return None;
    }
    // `down` returns once the up has answered its shutdown; the process
    // may take a moment more to exit, which no user waits for.
    let exited = cleanup.background.exits_within(Duration::from_secs(10));
    let left = leftovers();
    if !left.is_empty() || !exited {
        eprintln!(
            "bench: down returned leaving {} (background up exited: {exited})",
            left.join(", ")
        );
        return None;
    }
    Some((up_time, down_time))
}

pub async fn run(runs: usize, rows: &mut Vec<Row>) {
    let up_scenario =
        "compose: 20 services (4 chains of depth 5, a network, a volume) up, all running";
    let down_scenario = "compose: the same 20 down -v (containers, network, volume)";
    let mut ours_up = Row::new(up_scenario, "stevedore up -d --wait", "ms");
    let mut theirs_up = Row::new(up_scenario, "docker-compose up -d", "ms");
    let mut ours_down = Row::new(down_scenario, "stevedore down -v", "ms");
    let mut theirs_down = Row::new(down_scenario, "docker-compose down -v", "ms");
    let with_compose = have("docker-compose");
    let dir = std::env::temp_dir().join("stevedore-bench-project");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("docker-compose.yml");
    std::fs::write(&file, compose_file()).unwrap();
    let contenders = [
        Contender::Stevedore {
            file: file.clone(),
            log: dir.join("up.log"),
        },
        Contender::Compose { file },
    ];
    let mut cleanup = Cleanup {
        background: Background(None),
    };
    for round in 0..runs.max(1) {
        for offset in 0..2 {
            let index = (round + offset) % 2;
            if index == 1 && !with_compose {
                continue;
            }
            let Some((up, down)) = one_run(&contenders[index], &mut cleanup) else {
                continue;
            };
            let (up_row, down_row) = if index == 0 {
                (&mut ours_up, &mut ours_down)
            } else {
                (&mut theirs_up, &mut theirs_down)
            };
            up_row.push_duration(up);
            down_row.push_duration(down);
        }
    }
    cleanup.now();
    ours_up.note = format!(
        "p90 {:.0} ms; process start, lease, network + volume, 20 × create+start in dependency order; returns when all run (c0-l1 healthy first); target: faster than compose",
        ours_up.p90()
    );
    ours_down.note = format!(
        "p90 {:.0} ms; ends the background up, stops (exits on TERM, 1 s grace) and removes the 20, dependents first, then the network and the volume; target: faster than compose",
        ours_down.p90()
    );
    if with_compose {
        theirs_up.note = format!(
            "p90 {:.0} ms; returns when all 20 are started",
            theirs_up.p90()
        );
        theirs_down.note = format!("p90 {:.0} ms", theirs_down.p90());
    } else {
        let missing = "docker-compose not found: apt-get install docker-compose (1.29) to compare";
        theirs_up.note = missing.into();
        theirs_down.note = missing.into();
    }
    rows.extend([ours_up, theirs_up, ours_down, theirs_down]);
}
