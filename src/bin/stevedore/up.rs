//! `stevedore up`: take the namespace's lease, adopt, bring the manifest's
//! units to their declared state, then supervise in the foreground until a
//! signal says stop; SIGHUP applies an edited manifest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use actix::prelude::*;
use futures::future::join_all;
use stevedore::manifest::Manifest;
use stevedore::record::Lease;
use stevedore::{
    ShutdownMode, StartError, Supervisor, SupervisorHandle, UnitEvent, UnitSpec, UnitState,
};
use tokio::signal::unix::{SignalKind, signal};

use crate::engine::Address;
use crate::notify::{Notifier, describe, summary};
use crate::output::{Line, event_line, failure_line};
use crate::{Failure, OnExit, args, engine};

/// The options of `up`.
pub struct Options {
    pub file: PathBuf,
    pub namespace: Option<String>,
    pub on_exit: OnExit,
    pub remove_orphans: bool,
    pub take_over: bool,
}

fn load(options: &Options) -> Result<Manifest, Failure> {
    let mut manifest = args::load(&options.file)?;
    if let Some(namespace) = &options.namespace {
        manifest.namespace = namespace.clone();
    }
    Ok(manifest)
}

/// Runs `up` until SIGINT or SIGTERM.
pub async fn run(address: &Address, options: Options) -> Result<(), Failure> {
    // Signals are ours from the start, so none kills us mid-bring-up.
    let mut interrupt = signal(SignalKind::interrupt()).map_err(Failure::runtime)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(Failure::runtime)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(Failure::runtime)?;

    let mut manifest = load(&options)?;
    let gateway = engine::gateway(address).await?;
    let lease = Lease::acquire(&gateway, &manifest.namespace, options.take_over)
        .await
        .map_err(Failure::runtime)?;
    if let Some(previous) = &lease.replaced {
        let namespace = &manifest.namespace;
        Line::warn(format!(
            "took over the lease of namespace {namespace} from {previous}"
        ))
        .with("namespace", namespace.clone())
        .with("previous", previous.to_string())
        .emit();
    }
    let notifier = Notifier::from_env();
    let printer = EventPrinter {
        notifier,
        states: BTreeMap::new(),
    }
    .start();
    let supervisor = Supervisor::builder()
        .namespace(manifest.namespace.clone())
        .gateway(gateway)
        .record_phases(true)
        .subscriber(printer.recipient())
        .start()
        .await
        .map_err(|error| match error {
            StartError::InvalidNamespace(_) => Failure::input(error.to_string()),
            other => Failure::runtime(other),
        })?;

    for name in &supervisor.adopted().adopted {
        Line::info(format!("adopted {name}"))
            .with("unit", name.clone())
            .emit();
    }
    for (container, why) in &supervisor.adopted().skipped {
        Line::warn(format!("left {container} alone: {why}"))
            .with("container", container.clone())
            .with("reason", why.clone())
            .emit();
    }

    if let Err(failure) = preflight(&supervisor, &manifest).await {
        // Nothing was created: adoption only took over what already ran.
        supervisor.shutdown(ShutdownMode::Leave).await;
        release(lease).await;
        return Err(failure);
    }
    apply(&supervisor, &manifest.units, &[], options.remove_orphans).await;
    // Every unit is adopted or started (or waits, or failed and said why).
    notifier.ready(&summary(&supervisor).await);
    let watched = supervisor.clone();
    actix::spawn(async move {
        notifier
            .watchdog(|within| {
                let supervisor = watched.clone();
                async move { supervisor.responsive(within).await }
            })
            .await
    });

    let mode = loop {
        tokio::select! {
            _ = interrupt.recv() => break options.on_exit,
            _ = terminate.recv() => break options.on_exit,
            _ = hangup.recv() => match load(&options) {
                Ok(reloaded) if reloaded.namespace != manifest.namespace => Line::error(format!(
                    "reload refused: the namespace changed from {} to {}; restart up to move",
                    manifest.namespace, reloaded.namespace
                ))
                .emit(),
                Ok(reloaded) if let Err(failure) = preflight(&supervisor, &reloaded).await => {
                    refused(&failure)
                }
                Ok(reloaded) => {
                    let file = options.file.display().to_string();
                    Line::info(format!("reloading {file}")).with("file", file).emit();
                    notifier.reloading();
                    apply(&supervisor, &reloaded.units, &manifest.units, options.remove_orphans).await;
                    manifest = reloaded;
                    notifier.ready(&summary(&supervisor).await);
                }
                Err(failure) => refused(&failure),
            },
        }
    };
    notifier.stopping();
    let shutdown_mode = match mode {
        OnExit::Leave => ShutdownMode::Leave,
        OnExit::Stop => ShutdownMode::Stop,
    };
    let how = if mode == OnExit::Stop {
        "stopping units"
    } else {
        "leaving units running"
    };
    Line::info(format!("shutting down ({how})")).emit();
    tokio::select! {
        _ = supervisor.shutdown(shutdown_mode) => {}
        _ = interrupt.recv() => Line::warn("second interrupt: not waiting for units to stop").emit(),
    }
    release(lease).await;
    Ok(())
}

async fn release(lease: Lease) {
    if let Err(error) = lease.release().await {
        Line::warn(format!("could not release the lease: {error}")).emit();
    }
}

/// A reload that is not applied: the failure, its problems listed.
fn refused(failure: &Failure) {
    let mut line = failure_line(failure);
    line.message = format!("reload refused, the running set is kept: {}", line.message);
    line.emit();
}

/// Prints one line per unit event on stderr, and keeps the service
/// manager's one-line status current.
struct EventPrinter {
    notifier: Notifier,
    /// Each unit's last state.
    states: BTreeMap<String, UnitState>,
}

impl Actor for EventPrinter {
    type Context = Context<Self>;
}

impl Handler<UnitEvent> for EventPrinter {
    type Result = ();
    fn handle(&mut self, event: UnitEvent, _: &mut Context<Self>) {
        event_line(&event).emit();
        if event.state == UnitState::Removed {
            self.states.remove(&event.unit);
        } else {
            self.states.insert(event.unit.clone(), event.state);
        }
        self.notifier
            .status(&describe(self.states.values().copied()));
    }
}

/// What only the engine can tell of a manifest (its API version, the
/// images' own health checks), each problem at its place in the file;
/// checked before anything is brought up.
async fn preflight(supervisor: &SupervisorHandle, manifest: &Manifest) -> Result<(), Failure> {
    let problems = supervisor.check(manifest.units.clone()).await;
    if problems.is_empty() {
        return Ok(());
    }
    let count = problems.len();
    let lines = problems
        .into_iter()
        .map(|found| {
            manifest
                .problem(&found.unit, &found.problem.field, found.problem.message)
                .to_string()
        })
        .collect();
    let message = format!(
        "{} is invalid for this engine ({count} problem{}):",
        manifest.file,
        if count == 1 { "" } else { "s" },
    );
    Err(Failure::input(message).with_problems(lines))
}

/// Brings the supervisor to `desired`: adds what is missing, updates what
/// exists (a no-op when unchanged), removes units that `previous` declared
/// and `desired` no longer does, and reports (or, with `remove_orphans`,
/// removes) units that no manifest declared.
async fn apply(
    supervisor: &SupervisorHandle,
    desired: &[UnitSpec],
    previous: &[UnitSpec],
    remove_orphans: bool,
) {
    let existing: BTreeSet<String> = match supervisor.list().await {
        Ok(units) => units.into_iter().map(|unit| unit.name).collect(),
        Err(error) => {
            Line::error(format!("cannot list units: {error}")).emit();
            return;
        }
    };
    let wanted: BTreeSet<&str> = desired.iter().map(|spec| spec.name.as_str()).collect();
    let declared_before: BTreeSet<&str> = previous.iter().map(|spec| spec.name.as_str()).collect();

    let existing_ref = &existing;
    let changes = desired.iter().map(|spec| async move {
        let name = spec.name.clone();
        let result = if existing_ref.contains(&name) {
            supervisor.update(spec.clone()).await
        } else {
            supervisor.declare(spec.clone()).await
        };
        (name, result)
    });
    for (name, result) in join_all(changes).await {
        if let Err(error) = result {
            unit_error(&name, &error);
        }
    }
    for name in existing
        .iter()
        .filter(|name| !wanted.contains(name.as_str()))
    {
        if remove_orphans || declared_before.contains(name.as_str()) {
            if let Err(error) = supervisor.remove(name).await {
                unit_error(name, &error);
            }
        } else {
            Line::warn(format!(
                "orphan {name}: not in the manifest (--remove-orphans removes it)"
            ))
            .with("unit", name.clone())
            .emit();
        }
    }
}

fn unit_error(name: &str, error: &dyn std::fmt::Display) {
    Line::error(format!("unit {name}: {error}"))
        .with("unit", name)
        .with("error", error.to_string())
        .emit();
}
