//! The Gateway actor: the only way to the engine. Every call is a typed
//! message and passes, in order, a token-bucket rate limit, a cap on calls in
//! flight, a deadline, and retries of transient failures (see `layers`). It
//! also pulls images once per image (`pull`) and owns the events stream
//! (`events`).

mod build;
mod control;
mod events;
mod layers;
mod logs;
mod pull;
pub mod rate;
mod resources;
pub mod retry;
mod stats;

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, EndpointSettings, ImageInspect,
};
use tokio::sync::{oneshot, watch};

pub use self::build::{BUILD_DEADLINE, BuildImage};
pub use self::control::{
    AwaitEvents, EngineApiVersion, GetRouter, GetStats, ProbeEngine, StopGateway,
};
pub use self::events::{ContainerSignal, EventRouter};
use self::layers::Layers;
pub use self::logs::StreamLogs;
use self::pull::Pulls;
pub use self::rate::Rate;
pub use self::resources::{
    Declared, EnsureResource, Ensured, RemoveResources, Removed, ResourceError, ensure_resources,
};
pub use self::retry::RetryPolicy;
pub use self::stats::{CallDurations, DURATION_BUCKETS, GatewayStats};
use crate::engine::{ContainerSnapshot, Engine, EngineError, EngineResult, Operation};
use crate::labels;

/// How the gateway paces and bounds engine calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GatewayConfig {
    /// Token bucket of calls per second and burst.
    pub rate: Rate,
    /// Calls in flight at once.
    pub max_in_flight: usize,
    /// Retry bounds for transient failures.
    pub retry: RetryPolicy,
    /// Deadline of one attempt of an ordinary call.
    pub call_deadline: Duration,
    /// Extra time a stop's deadline gets beyond its grace period.
    pub stop_margin: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            rate: Rate::default(),
            max_in_flight: 16,
            retry: RetryPolicy::default(),
            call_deadline: Duration::from_secs(30),
            stop_margin: Duration::from_secs(15),
        }
    }
}

/// The Gateway actor. Start it with [`Gateway::start_with`].
pub struct Gateway {
    layers: Arc<Layers>,
    pulls: Arc<Pulls>,
    router: Arc<EventRouter>,
    config: GatewayConfig,
    connected_tx: Option<watch::Sender<bool>>,
    connected: watch::Receiver<bool>,
    /// Answered once the actor has stopped (see [`StopGateway`]).
    on_stopped: Vec<oneshot::Sender<()>>,
}

impl Gateway {
    /// A gateway over `engine`; its events pump starts with the actor.
    pub fn new(engine: Arc<dyn Engine>, config: GatewayConfig) -> Self {
        let (connected_tx, connected) = watch::channel(false);
        Gateway {
            layers: Arc::new(Layers::new(
                engine,
                config.rate,
                config.max_in_flight,
                config.retry,
            )),
            pulls: Arc::default(),
            router: Arc::default(),
            config,
            connected_tx: Some(connected_tx),
            connected,
            on_stopped: Vec::new(),
        }
    }

    /// Starts the actor on the current arbiter.
    pub fn start_with(engine: Arc<dyn Engine>, config: GatewayConfig) -> Addr<Gateway> {
        Gateway::new(engine, config).start()
    }

    /// The router registries write their units into.
    pub fn router(&self) -> Arc<EventRouter> {
        Arc::clone(&self.router)
    }

    fn call<T: Send + 'static>(
        &self,
        operation: Operation,
        deadline: Duration,
        call: impl FnMut(&dyn Engine) -> futures::future::BoxFuture<'static, EngineResult<T>>
        + Send
        + 'static,
    ) -> ResponseFuture<EngineResult<T>> {
        let layers = Arc::clone(&self.layers);
        Box::pin(async move { layers.run(operation, deadline, call).await })
    }
}

impl Actor for Gateway {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Units of every namespace send here; 16 would make them queue.
        ctx.set_mailbox_capacity(4096);
        if let Some(connected) = self.connected_tx.take() {
            let pump = events::pump(
                Arc::clone(&self.layers),
                Arc::clone(&self.router),
                connected,
            );
            ctx.spawn(pump.into_actor(self));
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        for waiter in self.on_stopped.drain(..) {
            let _ = waiter.send(());
        }
    }
}

/// Checks the engine answers.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<()>")]
pub struct Ping;

impl Handler<Ping> for Gateway {
    type Result = ResponseFuture<EngineResult<()>>;
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> Self::Result {
        self.call(Operation::Ping, self.config.call_deadline, |e| e.ping())
    }
}

/// Lists every container of a namespace, running or not (one engine call).
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<Vec<ContainerSnapshot>>")]
pub struct ListContainers {
    /// The namespace.
    pub namespace: String,
}

impl Handler<ListContainers> for Gateway {
    type Result = ResponseFuture<EngineResult<Vec<ContainerSnapshot>>>;
    fn handle(&mut self, msg: ListContainers, _: &mut Context<Self>) -> Self::Result {
        let filter = labels::namespace_filter(&msg.namespace);
        self.call(Operation::List, self.config.call_deadline, move |e| {
            e.list_containers(filter.clone())
        })
    }
}

/// Inspects one container.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<ContainerInspectResponse>")]
pub struct InspectContainer {
    /// Container id or name.
    pub id: String,
}

impl Handler<InspectContainer> for Gateway {
    type Result = ResponseFuture<EngineResult<ContainerInspectResponse>>;
    fn handle(&mut self, msg: InspectContainer, _: &mut Context<Self>) -> Self::Result {
        self.call(Operation::Inspect, self.config.call_deadline, move |e| {
            e.inspect_container(msg.id.clone())
        })
    }
}

/// Inspects one image.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<ImageInspect>")]
pub struct InspectImage {
    /// Image reference.
    pub image: String,
}

impl Handler<InspectImage> for Gateway {
    type Result = ResponseFuture<EngineResult<ImageInspect>>;
    fn handle(&mut self, msg: InspectImage, _: &mut Context<Self>) -> Self::Result {
        self.call(
            Operation::InspectImage,
            self.config.call_deadline,
            move |e| e.inspect_image(msg.image.clone()),
        )
    }
}

/// What a create found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// A new container.
    Created(String),
    /// The name was taken by our own container made from the same spec (an
    /// earlier create whose answer was lost): it is this unit's container.
    Adopted(String),
    /// The name is taken by a container of this namespace made from another spec.
    Stale(String),
    /// The name is taken by a container that is not ours; it must not be touched.
    Foreign(String),
}

/// Creates a container, adopting our own same-spec container on a name conflict.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<CreateOutcome>")]
pub struct CreateContainer {
    /// Container name.
    pub name: String,
    /// The create request.
    pub body: ContainerCreateBody,
    /// Namespace the container must carry to count as ours.
    pub namespace: String,
    /// Spec hash it must carry to count as the same container.
    pub spec_hash: String,
    /// Networks to join beyond the body's one, before anything starts it
    /// (engines before API 1.44 take one network at create).
    pub further_networks: Vec<(String, EndpointSettings)>,
}

impl Handler<CreateContainer> for Gateway {
    type Result = ResponseFuture<EngineResult<CreateOutcome>>;
    fn handle(&mut self, msg: CreateContainer, _: &mut Context<Self>) -> Self::Result {
        let layers = Arc::clone(&self.layers);
        let deadline = self.config.call_deadline;
        Box::pin(async move {
            let CreateContainer {
                name,
                body,
                namespace,
                spec_hash,
                further_networks,
            } = msg;
            let created = layers
                .run(Operation::Create, deadline, |e| {
                    e.create_container(name.clone(), body.clone())
                })
                .await;
            let outcome = match created {
                Ok(id) => Ok(CreateOutcome::Created(id)),
                Err(EngineError::Conflict(message)) => {
                    let existing = layers
                        .run(Operation::Inspect, deadline, |e| {
                            e.inspect_container(name.clone())
                        })
                        .await
                        .map_err(|_| EngineError::Conflict(message))?;
                    let id = existing.id.unwrap_or_default();
                    let found = existing.config.and_then(|c| c.labels).unwrap_or_default();
                    Ok(conflict_outcome(&found, &namespace, &spec_hash, id))
                }
                Err(error) => Err(error),
            }?;
            let (CreateOutcome::Created(id) | CreateOutcome::Adopted(id)) = &outcome else {
                return Ok(outcome);
            };
            for (network, endpoint) in further_networks {
                let joined = layers
                    .run(Operation::ConnectNetwork, deadline, |e| {
                        e.connect_network(network.clone(), id.clone(), endpoint.clone())
                    })
                    .await;
                match joined {
                    Ok(()) => {}
                    Err(error) if error.is_already_joined() => {}
                    Err(error) => {
                        // Half-joined, it would run where its spec does not say.
                        let _ = layers
                            .run(Operation::Remove, deadline, |e| {
                                e.remove_container(id.clone(), true)
                            })
                            .await;
                        return Err(error);
                    }
                }
            }
            Ok(outcome)
        })
    }
}

/// Who owns a container whose name a create found taken.
pub fn conflict_outcome(
    found: &std::collections::HashMap<String, String>,
    namespace: &str,
    spec_hash: &str,
    id: String,
) -> CreateOutcome {
    if !labels::belongs_to(found, namespace) {
        CreateOutcome::Foreign(id)
    } else if found.get(labels::SPEC_HASH).map(String::as_str) == Some(spec_hash) {
        CreateOutcome::Adopted(id)
    } else {
        CreateOutcome::Stale(id)
    }
}

/// Starts a container (starting a running one succeeds).
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<()>")]
pub struct StartContainer {
    /// Container id.
    pub id: String,
}

impl Handler<StartContainer> for Gateway {
    type Result = ResponseFuture<EngineResult<()>>;
    fn handle(&mut self, msg: StartContainer, _: &mut Context<Self>) -> Self::Result {
        self.call(Operation::Start, self.config.call_deadline, move |e| {
            e.start_container(msg.id.clone())
        })
    }
}

/// Stops a container: its stop signal, then a kill after `grace`. A missing
/// container counts as stopped.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<()>")]
pub struct StopContainer {
    /// Container id.
    pub id: String,
    /// Grace period before the kill.
    pub grace: Duration,
}

impl Handler<StopContainer> for Gateway {
    type Result = ResponseFuture<EngineResult<()>>;
    fn handle(&mut self, msg: StopContainer, _: &mut Context<Self>) -> Self::Result {
        // bollard's timeout covers only headers and the engine answers a stop
        // after the grace period, so this call's deadline must exceed it.
        let deadline = msg.grace + self.config.stop_margin;
        let layers = Arc::clone(&self.layers);
        Box::pin(async move {
            let stopped = layers
                .run(Operation::Stop, deadline, |e| {
                    e.stop_container(msg.id.clone(), msg.grace)
                })
                .await;
            match stopped {
                Err(EngineError::ContainerNotFound(_)) => Ok(()),
                other => other,
            }
        })
    }
}

/// Sends a signal to a container.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<()>")]
pub struct KillContainer {
    /// Container id.
    pub id: String,
    /// Signal name.
    pub signal: String,
}

impl Handler<KillContainer> for Gateway {
    type Result = ResponseFuture<EngineResult<()>>;
    fn handle(&mut self, msg: KillContainer, _: &mut Context<Self>) -> Self::Result {
        self.call(Operation::Kill, self.config.call_deadline, move |e| {
            e.kill_container(msg.id.clone(), msg.signal.clone())
        })
    }
}

/// Removes a container; removing a missing one succeeds.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<()>")]
pub struct RemoveContainer {
    /// Container id.
    pub id: String,
    /// Kill it first if it runs.
    pub force: bool,
}

impl Handler<RemoveContainer> for Gateway {
    type Result = ResponseFuture<EngineResult<()>>;
    fn handle(&mut self, msg: RemoveContainer, _: &mut Context<Self>) -> Self::Result {
        let layers = Arc::clone(&self.layers);
        let deadline = self.config.call_deadline;
        Box::pin(async move {
            let removed = layers
                .run(Operation::Remove, deadline, |e| {
                    e.remove_container(msg.id.clone(), msg.force)
                })
                .await;
            match removed {
                Err(EngineError::ContainerNotFound(_)) => Ok(()),
                Err(error) if error.is_removal_in_progress() => Ok(()),
                other => other,
            }
        })
    }
}

/// Pulls an image, once however many ask at the same time.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<()>")]
pub struct PullImage {
    /// Image reference.
    pub image: String,
}

impl Handler<PullImage> for Gateway {
    type Result = ResponseFuture<EngineResult<()>>;
    fn handle(&mut self, msg: PullImage, _: &mut Context<Self>) -> Self::Result {
        let pull = self.pulls.pull(Arc::clone(&self.layers), msg.image);
        Box::pin(pull)
    }
}

/// Makes an image from a root filesystem tarball (`docker import`).
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<()>")]
pub struct ImportImage {
    /// Image reference to create.
    pub name: String,
    /// The root filesystem as a tar archive.
    pub tar: Vec<u8>,
}

impl Handler<ImportImage> for Gateway {
    type Result = ResponseFuture<EngineResult<()>>;
    fn handle(&mut self, msg: ImportImage, _: &mut Context<Self>) -> Self::Result {
        self.call(Operation::Import, self.config.call_deadline, move |e| {
            e.import_image(msg.name.clone(), msg.tar.clone())
        })
    }
}

/// Extracts a tar archive into a container's filesystem.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<()>")]
pub struct PutArchive {
    /// Container id or name.
    pub id: String,
    /// Directory to extract into.
    pub path: String,
    /// The archive.
    pub tar: Vec<u8>,
}

impl Handler<PutArchive> for Gateway {
    type Result = ResponseFuture<EngineResult<()>>;
    fn handle(&mut self, msg: PutArchive, _: &mut Context<Self>) -> Self::Result {
        self.call(Operation::PutArchive, self.config.call_deadline, move |e| {
            e.put_archive(msg.id.clone(), msg.path.clone(), msg.tar.clone())
        })
    }
}

/// Reads a path of a container's filesystem as a tar archive.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<Vec<u8>>")]
pub struct GetArchive {
    /// Container id or name.
    pub id: String,
    /// File or directory to read.
    pub path: String,
}

impl Handler<GetArchive> for Gateway {
    type Result = ResponseFuture<EngineResult<Vec<u8>>>;
    fn handle(&mut self, msg: GetArchive, _: &mut Context<Self>) -> Self::Result {
        self.call(Operation::GetArchive, self.config.call_deadline, move |e| {
            e.get_archive(msg.id.clone(), msg.path.clone())
        })
    }
}
