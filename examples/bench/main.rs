//! The bench runner: stevedore side by side with what people would use
//! instead, in one run, several interleaved runs each, medians and ratios.
//!
//! cargo build --release && cargo run --release --features test-util --example bench -- all
//! Scenarios: bringup, restart, adoption (with idle), scale, engine-restart
//! (restarts the machine's dockerd), unhealthy (unhealthy → running again,
//! against an events client and an autoheal-style poller), ordered-bringup
//! (50 units in 10 dependency chains of depth 5, against docker-compose),
//! compose (one 20-service compose file up and down -v, against
//! docker-compose), api (listing 200 units at 1,000 req/s beside the engine's list and
//! supervisord's XML-RPC, and wrk's saturation throughput), all. Only `all` rewrites BENCHMARKS.md; one scenario prints its rows.
//! Options: --runs N (5), --restarts N (20), --engine-restarts N (8), --idle-seconds N (60),
//! --units N (50, engine-restart), --rounds N (20, unhealthy: per contender).
//! It installs nothing: it checks for the engine, the test image, the
//! stevedore binary and docker-compose, and says how to get what is missing.

mod adoption;
mod api;
mod bringup;
mod compose;
mod engine_restart;
mod heap;
mod http_load;
mod ordered_bringup;
mod report;
mod restart;
mod scale;
mod unhealthy;
mod util;

use std::time::Duration;

use report::{Row, table};

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;
use util::{docker, have};

fn option(args: &[String], flag: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn check_engine() -> Result<(), String> {
    if !have("docker") {
        return Err("the docker CLI is missing: apt-get install docker.io".into());
    }
    if docker(&["version", "--format", "{{.Server.Version}}"]).is_empty() {
        return Err("no Docker engine answers: run scripts/engine-up.sh".into());
    }
    if docker(&["image", "inspect", "--format", "{{.Id}}", util::IMAGE]).is_empty() {
        return Err(format!(
            "the test image {} is missing: run scripts/engine-up.sh",
            util::IMAGE
        ));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let binary = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|d| d.join("stevedore"));
    if !binary.is_some_and(|b| b.exists()) {
        return Err(
            "the stevedore binary is not built next to the runner: cargo build --release".into(),
        );
    }
    Ok(())
}

#[actix::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = args.get(1).cloned().unwrap_or_else(|| "all".into());
    let runs = option(&args, "--runs", 5);
    let wants = |name: &str| scenario == "all" || scenario == name;
    let known = [
        "all",
        "bringup",
        "restart",
        "adoption",
        "scale",
        "engine-restart",
        "unhealthy",
        "ordered-bringup",
        "compose",
        "api",
    ];
    if !known.contains(&scenario.as_str()) {
        eprintln!(
            "usage: bench [all|bringup|restart|adoption|scale|engine-restart|unhealthy|ordered-bringup|compose|api] [--runs N] [--restarts N] [--engine-restarts N] [--idle-seconds N] [--units N] [--rounds N]"
        );
        std::process::exit(2);
    }
    let needs_engine = scenario != "scale";
    if needs_engine && let Err(missing) = check_engine() {
        eprintln!("bench: {missing}");
        std::process::exit(1);
    }
    let mut rows: Vec<Row> = Vec::new();
    if wants("bringup") {
        eprintln!("bench: bring-up…");
        bringup::run(runs, &mut rows).await;
    }
    if wants("restart") {
        eprintln!("bench: restart overhead…");
        restart::run(
            option(&args, "--restarts", 20),
            option(&args, "--engine-restarts", 8),
            runs,
            &mut rows,
        )
        .await;
    }
    if wants("adoption") {
        eprintln!("bench: adoption and idle…");
        let idle = Duration::from_secs(option(&args, "--idle-seconds", 60) as u64);
        adoption::run(200, runs, idle, &mut rows).await;
    }
    if wants("unhealthy") {
        eprintln!("bench: unhealthy → running again…");
        unhealthy::run(option(&args, "--rounds", 20), runs, &mut rows).await;
    }
    if wants("ordered-bringup") {
        eprintln!("bench: ordered bring-up…");
        ordered_bringup::run(runs, &mut rows).await;
    }
    if wants("compose") {
        eprintln!("bench: compose project up and down…");
        compose::run(runs, &mut rows).await;
    }
    if wants("api") {
        eprintln!("bench: api under load…");
        api::run(runs.min(3), &mut rows).await;
    }
    if wants("engine-restart") {
        eprintln!("bench: engine restart (restarts dockerd)…");
        engine_restart::run(option(&args, "--units", 50), runs, &mut rows).await;
    }
    if wants("scale") {
        eprintln!("bench: scale on the fake engine…");
        scale::run(10_000, runs.min(3), &mut rows).await;
    }
    let table = table(&rows);
    println!("{table}");
    let command = format!(
        "cargo run --release --features test-util --example bench -- {}",
        args[1..].join(" ")
    );
    let engine = if needs_engine {
        docker(&[
            "version",
            "--format",
            "Docker {{.Server.Version}} (API {{.Server.APIVersion}})",
        ])
    } else {
        "none (in-process fake engine)".into()
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let document = format!(
        "# Benchmarks\n\nProduced by `{command}` on {cores} cores ({cpu}), {engine}.\nMedians of interleaved runs; these machines are noisy, so read the ratios, not the absolute times.\n\n{table}\n"
    );
    if scenario != "all" {
        eprintln!("bench: one scenario: BENCHMARKS.md is left as it is (`all` rewrites it)");
        return;
    }
    let notes = std::fs::read_to_string("BENCHMARKS.notes.md").unwrap_or_default();
    std::fs::write("BENCHMARKS.md", document + &notes).expect("write BENCHMARKS.md");
    eprintln!("bench: table written to BENCHMARKS.md");
}
