//! `up -d`: run `up` in the background, its log to a file, and return once
//! its units run (with `--wait`, once those with checks are healthy), or
//! fail naming the units that did not within the timeout.
//!
//! The background `up` is this binary again, without `-d`, in its own
//! process group. It says it is ready the way it says so to systemd: a
//! `READY=1` datagram on `NOTIFY_SOCKET`, here a socket this process made;
//! the units' states then come from its control API.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use hyper::Method;
use serde_json::Value;
use tokio::net::UnixDatagram;

use crate::Failure;
use crate::client::Client;
use crate::output;

/// The options of `up -d`.
pub struct Detach {
    /// Also wait for units with a health check to be healthy.
    pub healthy: bool,
    /// How long to wait for the units.
    pub timeout: Duration,
    /// The background `up`'s log; else `<socket>.log`.
    pub log_file: Option<PathBuf>,
}

/// Whether a unit is where `up -d` waits for it to be: running (and, when
/// `healthy` and it has a check, healthy), or done (exited 0 and not
/// restarted).
pub fn settled(unit: &Value, healthy: bool) -> bool {
    match unit["phase"].as_str() {
        Some("running") => !healthy || unit["health"].is_null() || unit["health"] == "healthy",
        Some("exited") => unit["last_exit_code"] == 0,
        _ => false,
    }
}

/// Whether a unit will not get there by waiting: it failed.
fn hopeless(unit: &Value) -> bool {
    unit["phase"] == "failed"
}

/// `args` without the options only `up -d` reads.
pub fn background_args(args: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if skip_value {
            skip_value = false;
            continue;
        }
        match arg.as_str() {
            "-d" | "--detach" | "--wait" => {}
            "--wait-timeout" | "--log-file" => skip_value = true,
            other if other.starts_with("--wait-timeout=") || other.starts_with("--log-file=") => {}
            other => kept.push(other.to_string()),
        }
    }
    kept
}

/// Starts the background `up` and waits for its units.
pub async fn run(detach: Detach, socket: &Path, namespace: &str) -> Result<(), Failure> {
    let log_path = detach
        .log_file
        .clone()
        .unwrap_or_else(|| socket.with_extension("log"));
    if let Some(dir) = log_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|error| {
            Failure::runtime(format!("cannot open {}: {error}", log_path.display()))
        })?;
    let notify_path =
        std::env::temp_dir().join(format!("stevedore-ready-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&notify_path);
    let ready = UnixDatagram::bind(&notify_path).map_err(Failure::runtime)?;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let exe = std::env::current_exe().map_err(Failure::runtime)?;
    let mut command = tokio::process::Command::new(exe);
    command
        .args(background_args(&args))
        .env("NOTIFY_SOCKET", &notify_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(Failure::runtime)?)
        .stderr(log);
    // Its own process group: the terminal's Ctrl-C is not for it.
    command.as_std_mut().process_group(0);
    let mut child = command.spawn().map_err(Failure::runtime)?;
    let pid = child.id().unwrap_or_default();

    let mut buffer = [0u8; 4096];
    let outcome = tokio::select! {
        received = ready.recv(&mut buffer) => {
            let text = String::from_utf8_lossy(&buffer[..received.unwrap_or(0)]).into_owned();
            Ok(text)
        }
        status = child.wait() => Err(status),
    };
    let _ = std::fs::remove_file(&notify_path);
    match outcome {
        Ok(_ready) => {}
        Err(status) => {
            let code = status.ok().and_then(|s| s.code()).unwrap_or(1);
            let tail = last_lines(&log_path, 20);
            let failure = Failure {
                code: u8::try_from(code).unwrap_or(1),
                message: format!(
                    "up exited before it was ready (log: {}):",
                    log_path.display()
                ),
                problems: tail,
            };
            return Err(failure);
        }
    }
    eprintln!(
        "stevedore: up runs in the background (pid {pid}, log {})",
        log_path.display()
    );
    let client = Client::require(socket, namespace)?;
    wait_for_units(&client, detach.healthy, detach.timeout).await
}

/// Waits, following the events, until every unit is [`settled`]; fails
/// naming those that are not by `timeout`, or that failed.
async fn wait_for_units(client: &Client, healthy: bool, timeout: Duration) -> Result<(), Failure> {
    use http_body_util::BodyExt;
    // Subscribed before the first read, so that no change falls between.
    let mut events = client.stream("/v1/events").await?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let units = client.call(Method::GET, "/v1/units").await?.body;
        let units = units.as_array().cloned().unwrap_or_default();
        let pending: Vec<&Value> = units.iter().filter(|u| !settled(u, healthy)).collect();
        if pending.is_empty() {
            let names: Vec<&str> = units.iter().filter_map(|u| u["name"].as_str()).collect();
            output::stdout(&format!(
                "{} unit(s) up: {}\n",
                names.len(),
                names.join(", ")
            ));
            return Ok(());
        }
        let failed: Vec<&Value> = pending.iter().copied().filter(|u| hopeless(u)).collect();
        if !failed.is_empty() {
            return Err(not_up("failed", &failed));
        }
        // Any event may settle a unit: read on after the next one.
        match tokio::time::timeout_at(deadline, events.frame()).await {
            Ok(Some(Ok(_))) => {}
            Ok(_) => {
                return Err(Failure::runtime(
                    "the background up closed its events stream",
                ));
            }
            Err(_) => {
                return Err(not_up(
                    &format!("not up after {}s", timeout.as_secs()),
                    &pending,
                ));
            }
        }
    }
}

fn not_up(why: &str, units: &[&Value]) -> Failure {
    let lines = units
        .iter()
        .map(|unit| {
            let mut line = format!(
                "{}: {}",
                unit["name"].as_str().unwrap_or("?"),
                unit["phase"].as_str().unwrap_or("?")
            );
            if let Some(health) = unit["health"].as_str() {
                line.push_str(&format!(" ({health})"));
            }
            if let Some(reason) = unit["reason"].as_str() {
                line.push_str(&format!(": {reason}"));
            }
            line
        })
        .collect();
    Failure::runtime(format!(
        "{} unit(s) {why} (up goes on in the background; `stevedore down` ends it):",
        units.len()
    ))
    .with_problems(lines)
}

fn last_lines(path: &Path, count: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[lines.len().saturating_sub(count)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_background_up_gets_every_argument_but_the_detach_options() {
        let args: Vec<String> = [
            "up",
            "-f",
            "x.toml",
            "-d",
            "--wait",
            "--wait-timeout",
            "30s",
            "--log-file=/tmp/l",
            "--on-exit",
            "stop",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        assert_eq!(
            background_args(&args),
            ["up", "-f", "x.toml", "--on-exit", "stop"]
        );
    }

    #[test]
    fn a_unit_is_up_when_it_runs_and_healthy_only_matters_with_wait() {
        let starting = json!({"phase": "running", "health": "starting"});
        assert!(settled(&starting, false));
        assert!(!settled(&starting, true));
        assert!(settled(&json!({"phase": "running", "health": null}), true));
        assert!(settled(
            &json!({"phase": "exited", "last_exit_code": 0}),
            true
        ));
        assert!(!settled(
            &json!({"phase": "exited", "last_exit_code": 1}),
            false
        ));
        assert!(!settled(&json!({"phase": "waiting"}), false));
    }
}
