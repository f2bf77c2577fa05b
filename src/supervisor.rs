//! `Supervisor::builder()…start()`: wires a gateway and a registry together
//! and hands back a [`SupervisorHandle`] for embedding in an actix app.

use std::sync::Arc;

use actix::prelude::*;
use futures::stream::BoxStream;
use thiserror::Error;

use crate::engine::{DockerEngine, Engine, EngineError};
use crate::gateway::{
    AwaitEvents, EngineApiVersion, Gateway, GatewayConfig, GatewayStats, GetRouter, GetStats, Rate,
    RetryPolicy, StopGateway,
};
use crate::gateway::{Declared, Ensured, ResourceError, ensure_resources};
use crate::record::{FinishRecording, PhaseRecorder, read_phases};
use crate::registry::{
    AddUnit, Adopt, AdoptReport, CheckUnits, CommandUnit, DeclareUnit, GetBus, ListUnits, Registry,
    RemoveUnit, Shutdown, ShutdownMode, SnapshotUnit, Subscribe, UnitExists, UnitProblem,
};
use crate::spec::validate::is_valid_name;
use crate::spec::{Resources, UnitSpec};
use crate::unit::{RestartMode, UnitCommand, UnitError, UnitEvent, UnitSnapshot, UnitStatus};

/// Why a supervisor could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StartError {
    /// The namespace is not a valid container-name prefix.
    #[error(
        "invalid namespace {0:?}: use letters, digits, '_', '.' and '-', starting with a letter or digit"
    )]
    InvalidNamespace(String),
    /// The engine could not be reached or refused adoption's list call.
    #[error("cannot reach the Docker engine: {0}")]
    Engine(#[from] EngineError),
    /// Adoption failed.
    #[error("adoption failed: {0}")]
    Adoption(UnitError),
    /// `start` was called outside a running actix `System`, whose arbiter
    /// the supervisor's actors need (under plain `#[tokio::main]`, say).
    #[error(
        "the supervisor's actors need a running actix System: call start() inside #[actix::main], actix::System::new().block_on(…) or an actix-web server"
    )]
    NoActixSystem,
}

/// Builds a supervisor.
#[derive(Default)]
pub struct SupervisorBuilder {
    namespace: Option<String>,
    engine: Option<Arc<dyn Engine>>,
    gateway: Option<Addr<Gateway>>,
    config: GatewayConfig,
    record_phases: bool,
    subscribers: Vec<Recipient<UnitEvent>>,
}

impl std::fmt::Debug for SupervisorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let engine = match (&self.gateway, &self.engine) {
            (Some(_), _) => "a shared gateway",
            (None, Some(_)) => "an engine given",
            (None, None) => "the local engine (DOCKER_HOST or the default socket)",
        };
        f.debug_struct("SupervisorBuilder")
            .field("namespace", &self.namespace)
            .field("engine", &engine)
            .field("config", &self.config)
            .field("record_phases", &self.record_phases)
            .field("subscribers", &self.subscribers.len())
            .finish()
    }
}

/// The supervisor's entry point.
///
/// ```no_run
/// use stevedore::{RestartPolicy, Supervisor, UnitSpec};
///
/// #[actix::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let supervisor = Supervisor::builder().namespace("shop").start().await?;
///     supervisor
///         .add(UnitSpec::new("web", "busybox:latest").restart(RestartPolicy::Always))
///         .await?;
///     Ok(())
/// }
/// ```
pub struct Supervisor;

impl Supervisor {
    /// A builder with the defaults: namespace `default`, the local engine.
    pub fn builder() -> SupervisorBuilder {
        SupervisorBuilder::default()
    }
}

impl SupervisorBuilder {
    /// The namespace whose units this supervisor owns.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Talks to `engine` instead of connecting to the local Docker engine.
    pub fn engine(mut self, engine: Arc<dyn Engine>) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Shares an already running gateway (one per engine) with other supervisors.
    pub fn gateway(mut self, gateway: Addr<Gateway>) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// Engine calls per second and burst (queued, never refused).
    pub fn rate_limit(mut self, per_second: f64, burst: u32) -> Self {
        self.config.rate = Rate { per_second, burst };
        self
    }

    /// Engine calls in flight at once.
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.config.max_in_flight = calls;
        self
    }

    /// Retry bounds for transient engine failures.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Records each unit's phase on the engine (see [`crate::record`]): `ps`
    /// shows it, units stopped by hand stay stopped across restarts of the
    /// supervisor (`unless-stopped` included), and since the record keeps
    /// restart counts, a restart starts the same container again — the
    /// engine's own restart work, with its logs and id kept — instead of
    /// replacing it.
    pub fn record_phases(mut self, record: bool) -> Self {
        self.record_phases = record;
        self
    }

    /// Sends every unit event to `recipient` from the very start, adoption
    /// included (a subscription after `start` misses adoption's events).
    pub fn subscriber(mut self, recipient: Recipient<UnitEvent>) -> Self {
        self.subscribers.push(recipient);
        self
    }

    /// Every gateway setting at once.
    pub fn gateway_config(mut self, config: GatewayConfig) -> Self {
        self.config = config;
        self
    }

    /// Starts the gateway (unless one was given) and the registry inside the
    /// running actix System, waits for the events stream, and adopts the
    /// namespace's existing containers.
    pub async fn start(self) -> Result<SupervisorHandle, StartError> {
        let namespace = self.namespace.unwrap_or_else(|| "default".to_string());
        if !is_valid_name(&namespace) || namespace.contains("--") {
            return Err(StartError::InvalidNamespace(namespace));
        }
        // Without a System, starting the first actor would panic in spawn_local.
        if actix::System::try_current().is_none() {
            return Err(StartError::NoActixSystem);
        }
        let owns_gateway = self.gateway.is_none();
        let gateway = match self.gateway {
            Some(gateway) => gateway,
            None => {
                let engine: Arc<dyn Engine> = match self.engine {
                    // No ping: adoption's list call is the first request, and
                    // an engine that does not answer fails it (StartError::Engine).
                    Some(engine) => engine,
                    // Connecting negotiates the API version: the engine has answered.
                    None => Arc::new(DockerEngine::connect().await?),
                };
                Gateway::start_with(engine, self.config)
            }
        };
        let gone = |_| StartError::Adoption(UnitError::GatewayGone);
        gateway.send(AwaitEvents).await.map_err(gone)?;
        let router = gateway.send(GetRouter).await.map_err(gone)?;
        let api_version = gateway.send(EngineApiVersion).await.map_err(gone)?;
        let mode = if self.record_phases {
            RestartMode::InPlace
        } else {
            RestartMode::Replace
        };
        let registry = Registry::new(namespace.clone(), gateway.clone(), router)
            .restart_mode(mode)
            .api_version(api_version)
            .start();
        let registry_gone = |_| StartError::Adoption(UnitError::RegistryGone(namespace.clone()));
        for recipient in self.subscribers {
            registry
                .send(Subscribe(recipient))
                .await
                .map_err(registry_gone)?;
        }
        let (phases, recorder) = if self.record_phases {
            let phases = read_phases(&gateway, &namespace).await?;
            let recorder =
                PhaseRecorder::new(gateway.clone(), namespace.clone(), phases.clone()).start();
            registry
                .send(Subscribe(recorder.clone().recipient()))
                .await
                .map_err(registry_gone)?;
            (phases, Some(recorder))
        } else {
            Default::default()
        };
        let adopted = registry
            .send(Adopt {
                recorded: phases.into_iter().collect(),
            })
            .await
            .map_err(registry_gone)?
            .map_err(|error| match error {
                UnitError::Engine(engine) => StartError::Engine(engine),
                other => StartError::Adoption(other),
            })?;
        Ok(SupervisorHandle {
            namespace,
            registry,
            gateway,
            adopted,
            recorder,
            owns_gateway,
        })
    }
}

/// A running supervisor: every operation is also a typed message on
/// [`SupervisorHandle::registry`].
#[derive(Clone, Debug)]
pub struct SupervisorHandle {
    namespace: String,
    registry: Addr<Registry>,
    gateway: Addr<Gateway>,
    adopted: AdoptReport,
    recorder: Option<Addr<PhaseRecorder>>,
    /// Whether `start` made the gateway (stopped at shutdown) rather than
    /// being given one that others may share (left running).
    owns_gateway: bool,
}

impl SupervisorHandle {
    async fn ask<M>(&self, message: M) -> Result<(), UnitError>
    where
        M: Message<Result = Result<(), UnitError>> + Send + 'static,
        Registry: Handler<M>,
    {
        self.registry
            .send(message)
            .await
            .unwrap_or_else(|_| Err(UnitError::RegistryGone(self.namespace.clone())))
    }

    async fn command(&self, name: &str, command: UnitCommand) -> Result<(), UnitError> {
        self.ask(CommandUnit {
            name: name.to_string(),
            command,
        })
        .await
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The registry's address, for sending its messages directly.
    pub fn registry(&self) -> &Addr<Registry> {
        &self.registry
    }

    /// The gateway's address. A gateway the builder made ends with this
    /// supervisor's `shutdown`; to share one between supervisors, start it
    /// with [`Gateway::start_with`] and pass it to each builder.
    pub fn gateway(&self) -> &Addr<Gateway> {
        &self.gateway
    }

    /// What was adopted at start.
    pub fn adopted(&self) -> &AdoptReport {
        &self.adopted
    }

    /// Adds a unit; answers once its container runs, or once it waits for
    /// its dependencies (state `waiting`: it starts as soon as they meet
    /// their conditions; a dependency not added yet is waited for too).
    ///
    /// ```no_run
    /// # async fn demo(supervisor: stevedore::SupervisorHandle) -> Result<(), stevedore::UnitError> {
    /// use stevedore::{Condition, HealthCheck, UnitSpec};
    /// supervisor
    ///     .add(UnitSpec::new("db", "postgres:16").healthcheck(HealthCheck::exec(["pg_isready"])))
    ///     .await?;
    /// supervisor
    ///     .add(UnitSpec::new("web", "nginx:1").depends_on("db", Condition::Healthy))
    ///     .await?; // answers at once: web waits until db is healthy
    /// # Ok(()) }
    /// ```
    pub async fn add(&self, spec: UnitSpec) -> Result<(), UnitError> {
        self.ask(AddUnit(spec)).await
    }

    /// Makes sure the namespace's networks and named volumes exist before
    /// units that use them are added: creates the missing ones with the
    /// namespace's label, adopts those an earlier run created, uses
    /// `external` ones as they are, and refuses a name someone else's
    /// resource holds. Doing it again changes nothing.
    ///
    /// ```no_run
    /// # async fn demo(supervisor: stevedore::SupervisorHandle) -> Result<(), Box<dyn std::error::Error>> {
    /// use stevedore::spec::{NetworkAttachment, NetworkSpec, Resources, VolumeSpec};
    /// use stevedore::UnitSpec;
    /// let resources = Resources {
    ///     networks: vec![NetworkSpec::new("shop_default")],
    ///     volumes: vec![VolumeSpec::new("shop_data")],
    /// };
    /// supervisor.ensure_resources(&resources).await?;
    /// supervisor
    ///     .add(
    ///         UnitSpec::new("web", "nginx:1")
    ///             .network("shop_default", NetworkAttachment::default())
    ///             .volume("shop_data:/usr/share/nginx/html:ro".parse()?),
    ///     )
    ///     .await?; // other units on shop_default reach it as http://web/
    /// # Ok(()) }
    /// ```
    pub async fn ensure_resources(
        &self,
        resources: &Resources,
    ) -> Result<Vec<(Declared, Ensured)>, ResourceError> {
        ensure_resources(&self.gateway, &self.namespace, resources).await
    }

    /// Adds a unit as a manifest declares it: like [`SupervisorHandle::add`],
    /// except that a unit that cannot be started (an image that cannot be
    /// pulled, say) stays, `failed` with the reason, for `list`, `ps` and a
    /// later `update`, `start` or `remove`.
    pub async fn declare(&self, spec: UnitSpec) -> Result<(), UnitError> {
        self.ask(DeclareUnit(spec)).await
    }

    /// Checks units about to be declared together (a manifest) against the
    /// engine, declaring nothing: every problem `add` would refuse for the
    /// engine's sake, and `healthy` dependencies on units whose image has no
    /// check. Validation of each spec and of their graph is the caller's
    /// ([`crate::spec::validate()`], [`crate::spec::graph::problems`]).
    pub async fn check(&self, specs: Vec<UnitSpec>) -> Vec<UnitProblem> {
        self.registry
            .send(CheckUnits(specs))
            .await
            .unwrap_or_default()
    }

    /// Removes a unit (stop, remove its container); succeeds if it does not exist.
    pub async fn remove(&self, name: &str) -> Result<(), UnitError> {
        self.ask(RemoveUnit(name.to_string())).await
    }

    /// Whether the registry answers a message within `within`: it is the
    /// actor every command and event passes through, so one that does not
    /// answer is a wedged supervisor (what a service manager's watchdog
    /// asks).
    pub async fn responsive(&self, within: std::time::Duration) -> bool {
        let asked = self.registry.send(UnitExists(String::new()));
        matches!(tokio::time::timeout(within, asked).await, Ok(Ok(_)))
    }

    /// Whether a unit of that name exists.
    pub async fn exists(&self, name: &str) -> bool {
        self.registry
            .send(UnitExists(name.to_string()))
            .await
            .unwrap_or(false)
    }

    /// Every unit with its container as the engine has it.
    ///
    /// ```no_run
    /// # async fn demo(supervisor: stevedore::SupervisorHandle) -> Result<(), stevedore::UnitError> {
    /// for unit in supervisor.list().await? {
    ///     println!("{} {} restarts={} health={:?}", unit.name, unit.state, unit.restart_count, unit.health);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<UnitStatus>, UnitError> {
        self.registry
            .send(ListUnits)
            .await
            .unwrap_or_else(|_| Err(UnitError::RegistryGone(self.namespace.clone())))
    }

    /// One unit as it knows itself (state, health, restarts, spec), without
    /// asking the engine; `None` when there is no unit of that name.
    pub async fn snapshot(&self, name: &str) -> Option<UnitSnapshot> {
        self.registry
            .send(SnapshotUnit(name.to_string()))
            .await
            .ok()
            .flatten()
    }

    /// Stops a unit by hand; no restart policy undoes it.
    pub async fn stop(&self, name: &str) -> Result<(), UnitError> {
        self.command(name, UnitCommand::Stop).await
    }

    /// Starts a unit by hand (resets its restart history, as `docker start` does).
    pub async fn start(&self, name: &str) -> Result<(), UnitError> {
        self.command(name, UnitCommand::Start).await
    }

    /// Stops and starts a unit.
    pub async fn restart(&self, name: &str) -> Result<(), UnitError> {
        self.command(name, UnitCommand::Restart).await
    }

    /// Replaces a unit's container if `spec` differs from the current one.
    pub async fn update(&self, spec: UnitSpec) -> Result<(), UnitError> {
        let name = spec.name.clone();
        self.command(&name, UnitCommand::Update(Box::new(spec)))
            .await
    }

    /// Sends every unit event of the namespace to `recipient`.
    pub async fn subscribe(&self, recipient: Recipient<UnitEvent>) {
        let _ = self.registry.send(Subscribe(recipient)).await;
    }

    /// Every unit event of the namespace from now on, as a stream.
    ///
    /// ```no_run
    /// # async fn demo(supervisor: stevedore::SupervisorHandle) {
    /// use futures::StreamExt;
    /// let mut events = supervisor.events().await;
    /// while let Some(event) = events.next().await {
    ///     println!("{} is {} ({:?})", event.unit, event.state, event.reason);
    /// }
    /// # }
    /// ```
    pub async fn events(&self) -> BoxStream<'static, UnitEvent> {
        match self.registry.send(GetBus).await {
            Ok(bus) => bus.stream(),
            Err(_) => Box::pin(futures::stream::empty()),
        }
    }

    /// The gateway's counters.
    pub async fn stats(&self) -> GatewayStats {
        self.gateway.send(GetStats).await.unwrap_or_default()
    }

    /// Ends the supervisor: `Leave` keeps containers running for the next
    /// supervisor to adopt; `Stop` stops each unit with its grace period.
    /// The unit actors, the registry, the phase recorder (after its last
    /// write) and a gateway the builder made are stopped; nothing of the
    /// supervisor keeps running or calling the engine afterwards.
    pub async fn shutdown(&self, mode: ShutdownMode) {
        let _ = self.registry.send(Shutdown(mode)).await;
        if let Some(recorder) = &self.recorder
            && let Ok(Err(error)) = recorder.send(FinishRecording).await
        {
            tracing::warn!(%error, "could not record unit phases at shutdown");
        }
        if self.owns_gateway {
            let _ = self.gateway.send(StopGateway).await;
        }
    }
}
