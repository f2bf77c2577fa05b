//! Soak: many units that crash at random intervals, supervised against the
//! real engine for a while. Prints RSS at the start and the end, the restart
//! counts against the engine's own `die` events (they must match exactly),
//! and what is alive at the end. Not part of CI.
//!
//! cargo run --release --example soak -- --units 100 --minutes 10

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use stevedore::{Backoff, IntensityLimit, RestartPolicy, ShutdownMode, Supervisor, UnitSpec};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| {
                    line.split_whitespace()
                        .nth(1)
                        .and_then(|kib| kib.parse().ok())
                })
        })
        .unwrap_or(0)
}

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| entries.count())
        .unwrap_or(0)
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str, default: u64| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (units, minutes) = (value("--units", 100), value("--minutes", 10));
    let namespace = "soak";
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!("docker rm -f $(docker ps -aq --filter label=io.stevedore.namespace={namespace}) 2>/dev/null"))
        .status();

    // The engine's own count of exits, independent of stevedore.
    let dies = Arc::new(AtomicU64::new(0));
    let mut watcher = Command::new("docker")
        .args([
            "events",
            "--filter",
            &format!("label=io.stevedore.namespace={namespace}"),
            "--filter",
            "event=die",
            "--format",
            "{{.ID}}",
        ])
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = watcher.stdout.take().unwrap();
    let counted = Arc::clone(&dies);
    std::thread::spawn(move || {
        for _ in BufReader::new(stdout).lines().map_while(Result::ok) {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let control = std::env::temp_dir().join("stevedore-soak-control");
    std::fs::create_dir_all(&control)?;
    let _ = std::fs::remove_file(control.join("stop"));
    let supervisor = Supervisor::builder().namespace(namespace).start().await?;
    let rss_start = rss_kib();
    for n in 0..units {
        let spec = UnitSpec::new(format!("crasher-{n:03}"), "stevedore-test:latest")
            // Crash after 2-21 s, until /ctl/stop exists: then stay up, so
            // that at the end no exit is in flight and the counts settle.
            .command([
                "sh",
                "-c",
                "sleep $((RANDOM % 20 + 2)); [ -e /ctl/stop ] && exec sleep 100000; exit 1",
            ])
            .volume(format!("{}:/ctl", control.display()).parse()?)
            .restart(RestartPolicy::Always)
            .stop_timeout(Duration::from_secs(1))
            .backoff(Backoff {
                initial: Duration::from_millis(200),
                max: Duration::from_secs(5),
                ..Backoff::default()
            })
            .intensity(IntensityLimit {
                max_restarts: 1000,
                within: Duration::from_secs(60),
            });
        supervisor.add(spec).await?;
    }
    println!("soak: {units} units up, RSS {rss_start} KiB; running {minutes} min");
    tokio::time::sleep(Duration::from_secs(minutes * 60)).await;

    // Stop the crashing, wait until every unit has run its last crash and
    // restart (at most 21 s of sleep plus a 5 s backoff), then count.
    std::fs::write(control.join("stop"), b"")?;
    tokio::time::sleep(Duration::from_secs(30)).await;
    let listed = supervisor.list().await?;
    let restarts: u64 = listed
        .iter()
        .map(|unit| u64::from(unit.restart_count))
        .sum();
    let running = listed.iter().filter(|unit| unit.is_active()).count();
    let rss_end = rss_kib();
    let engine_dies = dies.load(Ordering::SeqCst);
    let threads = count("/proc/self/task");
    supervisor.shutdown(ShutdownMode::Leave).await;
    let crashes = engine_dies;
    println!("soak: RSS {rss_start} KiB at start, {rss_end} KiB at the end");
    println!(
        "soak: {crashes} crash exits seen by the engine, {restarts} restarts recorded by stevedore ({})",
        if crashes == restarts {
            "match"
        } else {
            "MISMATCH"
        }
    );
    println!(
        "soak: at the end {} unit actors listed, {running} running, {threads} threads, {} open fds",
        listed.len(),
        count("/proc/self/fd")
    );
    let _ = watcher.kill();
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!("docker rm -f $(docker ps -aq --filter label=io.stevedore.namespace={namespace}) >/dev/null 2>&1"))
        .status();
    if crashes != restarts {
        std::process::exit(1);
    }
    Ok(())
}
