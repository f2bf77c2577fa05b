//! `stevedore service print`: a systemd unit that runs `up` for a manifest
//! at boot, after the engine, with the notify protocol and a watchdog.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use stevedore::manifest::Manifest;
use stevedore::spec::Dependencies;
use stevedore::spec::graph::stop_order;

use crate::{Failure, OnExit, args};

/// How long systemd waits for the watchdog ping before it restarts `up`.
const WATCHDOG: Duration = Duration::from_secs(30);
/// Added to the longest stop for TimeoutStopSec.
const STOP_MARGIN: Duration = Duration::from_secs(30);

/// Prints the unit for the manifest at `file`.
pub fn print(file: &Path, on_exit: OnExit) -> Result<(), Failure> {
    let manifest = args::load(&crate::args::Files::new(
        vec![file.to_path_buf()],
        Vec::new(),
    ))?;
    let file = std::fs::canonicalize(file)
        .map_err(|error| Failure::input(format!("cannot read {}: {error}", file.display())))?;
    let binary = std::env::current_exe().map_err(Failure::runtime)?;
    crate::output::stdout(&unit_file(&manifest, &file, &binary, on_exit));
    Ok(())
}

/// The unit file's text.
pub fn unit_file(manifest: &Manifest, file: &Path, binary: &Path, on_exit: OnExit) -> String {
    let namespace = &manifest.namespace;
    let (file, binary) = (file.display(), binary.display());
    let (mode, stop_timeout) = match on_exit {
        // Leaving the containers running makes a stop (or an upgrade:
        // `systemctl restart`) quick, and the next start adopts them.
        OnExit::Leave => ("leave", STOP_MARGIN),
        OnExit::Stop => ("stop", longest_stop(manifest) + STOP_MARGIN),
    };
    format!(
        "# stevedore supervising namespace {namespace} from {file}.
# Written by `stevedore service print -f {file}`. Install it:
#   stevedore service print -f {file} > /etc/systemd/system/stevedore-{namespace}.service
#   systemctl daemon-reload && systemctl enable --now stevedore-{namespace}
# `systemctl reload` re-reads the manifest (SIGHUP); with --on-exit leave a
# stop or restart of the service leaves the containers running for the next
# start to adopt.
[Unit]
Description=stevedore: namespace {namespace} ({file})
Documentation=https://docs.rs/stevedore
Requires=docker.service
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={binary} up -f {file} --on-exit {mode}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=2s
WatchdogSec={watchdog}s
# Images may have to be pulled before the units run.
TimeoutStartSec=10min
TimeoutStopSec={stop}s

[Install]
WantedBy=multi-user.target
",
        watchdog = WATCHDOG.as_secs(),
        stop = stop_timeout.as_secs(),
    )
}

/// How long `--on-exit stop` may take: units stop as soon as their
/// dependents have, so the longest chain of grace periods.
fn longest_stop(manifest: &Manifest) -> Duration {
    let graph: HashMap<String, Dependencies> = manifest
        .units
        .iter()
        .map(|spec| (spec.name.clone(), spec.depends_on.clone()))
        .collect();
    let grace: HashMap<&str, Duration> = manifest
        .units
        .iter()
        .map(|spec| (spec.name.as_str(), spec.stop_timeout))
        .collect();
    let mut done: HashMap<String, Duration> = HashMap::new();
    for (unit, waits_for) in stop_order(&graph) {
        let after = waits_for
            .iter()
            .filter_map(|dependent| done.get(dependent))
            .max()
            .copied()
            .unwrap_or_default();
        let own = grace.get(unit.as_str()).copied().unwrap_or_default();
        done.insert(unit, after + own);
    }
    done.into_values().max().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Manifest {
        stevedore::manifest::parse_manifest(text, "units.toml").unwrap()
    }

    const CHAIN: &str = r#"namespace = "shop"
[[unit]]
name = "db"
image = "busybox"
stop_timeout = "20s"
[[unit]]
name = "api"
image = "busybox"
stop_timeout = "5s"
depends_on = ["db"]
[[unit]]
name = "batch"
image = "busybox"
stop_timeout = "3s"
"#;

    #[test]
    fn the_unit_runs_up_after_the_engine_with_notify_and_a_watchdog() {
        let text = unit_file(
            &manifest(CHAIN),
            Path::new("/etc/stevedore/shop.toml"),
            Path::new("/usr/local/bin/stevedore"),
            OnExit::Leave,
        );
        for line in [
            "Type=notify",
            "Requires=docker.service",
            "After=docker.service network-online.target",
            "Restart=on-failure",
            "WatchdogSec=30s",
            "ExecStart=/usr/local/bin/stevedore up -f /etc/stevedore/shop.toml --on-exit leave",
            "ExecReload=/bin/kill -HUP $MAINPID",
            "WantedBy=multi-user.target",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
    }

    #[test]
    fn stopping_the_units_gives_the_longest_chain_of_grace_periods_time() {
        let text = unit_file(
            &manifest(CHAIN),
            Path::new("/m.toml"),
            Path::new("/b"),
            OnExit::Stop,
        );
        // api (5 s) then db (20 s), plus the 30 s margin.
        assert!(text.contains("TimeoutStopSec=55s\n"), "{text}");
        assert!(text.contains("--on-exit stop\n"), "{text}");
    }
}
