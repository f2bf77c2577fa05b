//! `stevedore up`: take the namespace's lease, adopt, bring the manifest's
//! units to their declared state, then supervise in the foreground until a
//! signal (or the control API) says stop; SIGHUP or `reload` applies an
//! edited manifest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use actix::prelude::*;
use futures::future::{BoxFuture, join_all};
use stevedore::compose::BuildSpec;
use stevedore::gateway::Ensured;
use stevedore::http::{Api, ApiError, Control, Reloaded};
use stevedore::manifest::Manifest;
use stevedore::record::Lease;
use stevedore::spec::spec_hash;
use stevedore::{
    ShutdownMode, StartError, Supervisor, SupervisorHandle, UnitEvent, UnitSpec, UnitState,
};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};

use crate::engine::Address;
use crate::notify::{Notifier, describe, summary};
use crate::output::{Line, event_line, failure_line};
use crate::{Failure, OnExit, api, args, build, engine, socket};

/// The options of `up`.
pub struct Options {
    /// The files read (and read again on SIGHUP), with the profiles.
    pub files: args::Files,
    pub namespace: Option<String>,
    pub on_exit: OnExit,
    pub remove_orphans: bool,
    pub take_over: bool,
    /// Build compose `build:` images again, present or not (`--build`).
    pub build: bool,
    /// The control socket instead of the namespace's.
    pub socket: Option<PathBuf>,
    /// A TCP address to serve the API on too (with the token).
    pub listen: Option<std::net::SocketAddr>,
    /// Where the TCP listener's token is read from.
    pub token_file: Option<PathBuf>,
}

/// The manifest, and the images a compose file's services build.
fn load(options: &Options) -> Result<(Manifest, Vec<BuildSpec>), Failure> {
    let project =
        args::load_project_with(&options.files, options.namespace.as_deref(), |warning| {
            Line::warn(warning.to_string()).emit();
        })?;
    Ok((project.manifest, project.builds))
}

/// A request from the control API for the loop of [`run`].
enum Request {
    Reload(oneshot::Sender<Result<Reloaded, ApiError>>),
    /// Answered once the supervisor has ended (units stopped if asked,
    /// lease released).
    Shutdown {
        stop: bool,
        ended: oneshot::Sender<()>,
    },
}

/// The API's [`Control`]: passes requests to the loop of [`run`].
struct UpControl(mpsc::UnboundedSender<Request>);

impl Control for UpControl {
    fn reload(&self) -> BoxFuture<'static, Result<Reloaded, ApiError>> {
        let (reply, answer) = oneshot::channel();
        let sent = self.0.send(Request::Reload(reply));
        Box::pin(async move {
            sent.map_err(|_| ApiError::Unavailable("the supervisor is shutting down".into()))?;
            answer.await.unwrap_or_else(|_| {
                Err(ApiError::Unavailable(
                    "the supervisor is shutting down".into(),
                ))
            })
        })
    }

    fn shutdown(&self, stop: bool) -> BoxFuture<'static, ()> {
        let (ended, done) = oneshot::channel();
        let sent = self.0.send(Request::Shutdown { stop, ended });
        Box::pin(async move {
            if sent.is_ok() {
                let _ = done.await;
            }
        })
    }
}

/// Runs `up` until SIGINT or SIGTERM.
pub async fn run(address: &Address, options: Options) -> Result<(), Failure> {
    // Signals are ours from the start, so none kills us mid-bring-up.
    let mut interrupt = signal(SignalKind::interrupt()).map_err(Failure::runtime)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(Failure::runtime)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(Failure::runtime)?;

    let (mut manifest, builds) = load(&options)?;
    let gateway = engine::gateway(address).await?;
    let lease = Lease::acquire(&gateway, &manifest.namespace, options.take_over)
        .await
        .map_err(Failure::runtime)?;
    // The lease decides who supervises; the socket of a live `up` is still
    // never taken from it (one taken over elsewhere keeps serving its own).
    let socket_path = socket::path_of(options.socket.clone(), &manifest.namespace);
    let listeners = match listen(&options, &socket_path) {
        Ok(listeners) => listeners,
        Err(failure) => {
            release(lease).await;
            return Err(failure);
        }
    };
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
        .gateway(gateway.clone())
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

    let prepared = prepare(&supervisor, &mut manifest, &builds, options.build).await;
    if let Err(failure) = prepared {
        // No unit was created: adoption only took over what already ran.
        supervisor.shutdown(ShutdownMode::Leave).await;
        release(lease).await;
        let _ = std::fs::remove_file(&socket_path);
        return Err(failure);
    }
    let (requests, mut asked) = mpsc::unbounded_channel();
    let api = Api::new(supervisor.clone())
        .await
        .control(Arc::new(UpControl(requests)));
    let mut servers = Vec::new();
    for (listener, token) in listeners {
        let api = match token {
            Some(token) => api.clone().token(token),
            None => api.clone(),
        };
        servers.push(api::serve(api, listener).map_err(Failure::runtime)?);
    }
    let socket_text = socket_path.display().to_string();
    Line::info(format!("control API on {socket_text}"))
        .with("socket", socket_text)
        .emit();
    if let Some(address) = options.listen {
        Line::info(format!(
            "control API and status page on http://{address}/ (bearer token)"
        ))
        .with("listen", address.to_string())
        .emit();
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

    let mut answer_when_ended = None;
    let mode = loop {
        tokio::select! {
            _ = interrupt.recv() => break options.on_exit,
            _ = terminate.recv() => break options.on_exit,
            _ = hangup.recv() => {
                if let Err(failure) = reload(&options, &supervisor, &mut manifest, &notifier).await {
                    refused(&failure);
                }
            }
            Some(request) = asked.recv() => match request {
                Request::Reload(reply) => {
                    let result = reload(&options, &supervisor, &mut manifest, &notifier).await;
                    if let Err(failure) = &result {
                        refused(failure);
                    }
                    let _ = reply.send(result.map_err(|failure| ApiError::Invalid {
                        message: failure.message().to_string(),
                        problems: failure.problems().to_vec(),
                    }));
                }
                Request::Shutdown { stop, ended } => {
                    answer_when_ended = Some(ended);
                    break if stop { OnExit::Stop } else { OnExit::Leave };
                }
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
    if let Some(ended) = answer_when_ended {
        let _ = ended.send(());
    }
    for server in servers {
        server.stop(true).await;
    }
    let _ = std::fs::remove_file(&socket_path);
    Ok(())
}

/// The listeners `up` serves the API on: its socket, and with --listen a
/// TCP address and the token it needs.
fn listen(
    options: &Options,
    socket_path: &std::path::Path,
) -> Result<Vec<(api::Listener, Option<String>)>, Failure> {
    let mut listeners = vec![(api::Listener::Unix(socket::bind(socket_path)?), None)];
    if let Some(address) = options.listen {
        let beside = socket_path.with_extension("token");
        let tcp = api::token(options.token_file.as_deref(), &beside).and_then(|token| {
            let tcp = std::net::TcpListener::bind(address).map_err(|error| {
                Failure::runtime(format!("cannot listen on {address}: {error}"))
            })?;
            Ok((tcp, token))
        });
        // The socket is ours by now: not left behind.
        let (tcp, token) = tcp.inspect_err(|_| {
            let _ = std::fs::remove_file(socket_path);
        })?;
        if options.token_file.is_none() {
            let file = beside.display().to_string();
            Line::info(format!("the token for {address} is in {file}"))
                .with("token_file", file)
                .emit();
        }
        listeners.push((api::Listener::Tcp(tcp), Some(token)));
    }
    Ok(listeners)
}

/// Re-reads the manifest and applies the difference (SIGHUP, `reload`);
/// a manifest that is invalid, or names another namespace, changes nothing.
/// Images are built only when missing (`--build` is the bring-up's); an
/// image rebuilt meanwhile replaces the containers that run it.
async fn reload(
    options: &Options,
    supervisor: &SupervisorHandle,
    manifest: &mut Manifest,
    notifier: &Notifier,
) -> Result<Reloaded, Failure> {
    let (mut reloaded, builds) = load(options)?;
    if reloaded.namespace != manifest.namespace {
        return Err(Failure::input(format!(
            "the namespace changed from {} to {}; restart up to move",
            manifest.namespace, reloaded.namespace
        )));
    }
    prepare(supervisor, &mut reloaded, &builds, false).await?;
    let file = args::label(&options.files.resolve()?);
    Line::info(format!("reloading {file}"))
        .with("file", file)
        .emit();
    notifier.reloading();
    let report = apply(
        supervisor,
        &reloaded.units,
        &manifest.units,
        options.remove_orphans,
    )
    .await;
    *manifest = reloaded;
    notifier.ready(&summary(supervisor).await);
    Ok(report)
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

/// Everything a manifest's units need before they are brought up: their
/// images built (all of them when `rebuild`, else those missing), the
/// engine's [`preflight`], then the networks and volumes they use.
async fn prepare(
    supervisor: &SupervisorHandle,
    manifest: &mut Manifest,
    builds: &[BuildSpec],
    rebuild: bool,
) -> Result<(), Failure> {
    build::ensure(supervisor.gateway(), builds, &mut manifest.units, rebuild).await?;
    preflight(supervisor, manifest).await?;
    let ensured = supervisor
        .ensure_resources(&manifest.resources)
        .await
        .map_err(|error| Failure::runtime(format!("{}: {error}", manifest.file)))?;
    for (declared, ensured) in ensured {
        let kind = declared.kind().as_str();
        let name = declared.name().to_string();
        let done = match ensured {
            Ensured::Created => "created",
            Ensured::Adopted => "adopted",
            Ensured::External => "found (external)",
        };
        Line::info(format!("{kind} {name} {done}"))
            .with(kind, name)
            .emit();
    }
    Ok(())
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
/// changed, removes units that `previous` declared and `desired` no longer
/// does, and reports (or, with `remove_orphans`, removes) units that no
/// manifest declared. Returns what it did, by unit.
async fn apply(
    supervisor: &SupervisorHandle,
    desired: &[UnitSpec],
    previous: &[UnitSpec],
    remove_orphans: bool,
) -> Reloaded {
    let mut report = Reloaded::default();
    let existing: BTreeMap<String, String> = match supervisor.list().await {
        Ok(units) => units
            .into_iter()
            .map(|unit| (unit.name, spec_hash(&unit.spec)))
            .collect(),
        Err(error) => {
            Line::error(format!("cannot list units: {error}")).emit();
            return report;
        }
    };
    let wanted: BTreeSet<&str> = desired.iter().map(|spec| spec.name.as_str()).collect();
    let declared_before: BTreeSet<&str> = previous.iter().map(|spec| spec.name.as_str()).collect();

    let existing_ref = &existing;
    let changes = desired.iter().map(|spec| async move {
        let name = spec.name.clone();
        let (result, change) = match existing_ref.get(&name) {
            Some(hash) => {
                let same = *hash == spec_hash(spec);
                (
                    supervisor.update(spec.clone()).await,
                    if same {
                        Change::Unchanged
                    } else {
                        Change::Updated
                    },
                )
            }
            None => (supervisor.declare(spec.clone()).await, Change::Added),
        };
        (name, result, change)
    });
    for (name, result, change) in join_all(changes).await {
        if let Err(error) = result {
            unit_error(&name, &error);
            continue;
        }
        match change {
            Change::Added => report.added.push(name),
            Change::Updated => report.updated.push(name),
            Change::Unchanged => report.unchanged.push(name),
        }
    }
    for name in existing
        .keys()
        .filter(|name| !wanted.contains(name.as_str()))
    {
        if remove_orphans || declared_before.contains(name.as_str()) {
            match supervisor.remove(name).await {
                Ok(()) => report.removed.push(name.clone()),
                Err(error) => unit_error(name, &error),
            }
        } else {
            Line::warn(format!(
                "orphan {name}: not in the manifest (--remove-orphans removes it)"
            ))
            .with("unit", name.clone())
            .emit();
        }
    }
    report
}

/// What `apply` did to one unit.
enum Change {
    Added,
    Updated,
    Unchanged,
}

fn unit_error(name: &str, error: &dyn std::fmt::Display) {
    Line::error(format!("unit {name}: {error}"))
        .with("unit", name)
        .with("error", error.to_string())
        .emit();
}
