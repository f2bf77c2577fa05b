//! Helpers: the docker CLI, cleanup, process figures.

use std::process::Command;

pub const IMAGE: &str = "stevedore-test:latest";

/// Runs the docker CLI; returns stdout.
pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Removes every container whose name starts with `prefix`, and a namespace's records.
pub fn remove_prefixed(prefix: &str) {
    let ids = docker(&["ps", "-aq", "--filter", &format!("name=^{prefix}")]);
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids);
        let _ = Command::new("docker").args(&args).output();
    }
}

/// This process's resident memory in KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// This process's CPU time (user + system) in seconds.
pub fn cpu_seconds() -> f64 {
    process_cpu_seconds("self")
}

/// A process's CPU time (user + system) in seconds; `pid` as in /proc.
pub fn process_cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    ticks(&fields, &[11, 12])
}

/// CPU time the whole machine spent busy (every core, every process and
/// the kernel), in seconds: the engine's work shows up here, not in ours.
pub fn machine_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    ticks(&fields, &[0, 1, 2, 5, 6, 7])
}

/// The sum of the given fields, clock ticks (100 a second) to seconds.
fn ticks(fields: &[&str], indices: &[usize]) -> f64 {
    let sum: f64 = indices
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    sum / 100.0
}

/// Whether a command is on PATH.
pub fn have(command: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {command}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Creates container `name` from `body` and starts it, through bollard (a
/// raw client, as the peers the runner measures stevedore against).
pub async fn create_and_start(
    client: &bollard::Docker,
    name: &str,
    body: bollard::models::ContainerCreateBody,
) {
    let options = bollard::query_parameters::CreateContainerOptions {
        name: Some(name.into()),
        ..Default::default()
    };
    client
        .create_container(Some(options), body)
        .await
        .expect("created");
    client.start_container(name, None).await.expect("started");
}
