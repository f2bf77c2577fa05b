//! The engine boundary: the [`Engine`] trait the gateway calls, its bollard
//! implementation, the error classification and the spec ↔ engine mappings.
//!
//! Only the gateway holds an `Engine`. Tests hold a fake one (see
//! `engine::fake`, behind the `test-util` feature).

pub mod build;
mod docker;
pub mod error;
#[cfg(any(test, feature = "test-util"))]
pub mod fake;
#[cfg(feature = "test-util")]
pub mod fake_http;
pub mod mapping;
pub mod resources;

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, EndpointSettings, ImageInspect,
    NetworkCreateRequest, VolumeCreateRequest,
};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};

pub use self::build::BuildOptions;
pub use self::docker::DockerEngine;
pub use self::error::{EngineError, Operation, RawFailure, classify};
pub use self::resources::{ResourceInfo, ResourceKind};

/// The result of one engine call.
pub type EngineResult<T> = Result<T, EngineError>;

/// The Docker Engine calls stevedore makes. Implementations classify their
/// failures with [`classify`]; retries, deadlines and limits are the gateway's.
pub trait Engine: Send + Sync + 'static {
    /// Checks the engine answers.
    fn ping(&self) -> BoxFuture<'static, EngineResult<()>>;
    /// The API version spoken with the engine (`(1, 41)`), when known:
    /// fields of newer versions are dropped by older engines without a word.
    fn api_version(&self) -> Option<(u32, u32)> {
        None
    }
    /// Checks the engine takes a *new* connection. A shutting-down dockerd
    /// closes its listener before it stops its containers, but keeps serving
    /// open connections (the events stream among them); a probe is how a
    /// `stop` made by the engine is told from one made by a person.
    fn probe(&self) -> BoxFuture<'static, EngineResult<()>>;
    /// Every container (running or not) carrying `label_filter` (`key=value` or `key`).
    fn list_containers(
        &self,
        label_filter: String,
    ) -> BoxFuture<'static, EngineResult<Vec<ContainerSnapshot>>>;
    /// Full details of one container, by id or name.
    fn inspect_container(
        &self,
        id: String,
    ) -> BoxFuture<'static, EngineResult<ContainerInspectResponse>>;
    /// Creates a container named `name`; returns its id.
    fn create_container(
        &self,
        name: String,
        body: ContainerCreateBody,
    ) -> BoxFuture<'static, EngineResult<String>>;
    /// Starts a container; starting a running one succeeds.
    fn start_container(&self, id: String) -> BoxFuture<'static, EngineResult<()>>;
    /// Sends the container's stop signal, then kills it after `grace`.
    fn stop_container(&self, id: String, grace: Duration) -> BoxFuture<'static, EngineResult<()>>;
    /// Sends `signal` to the container.
    fn kill_container(&self, id: String, signal: String) -> BoxFuture<'static, EngineResult<()>>;
    /// Removes a container; `force` kills it first.
    fn remove_container(&self, id: String, force: bool) -> BoxFuture<'static, EngineResult<()>>;
    /// Details of an image present on the engine.
    fn inspect_image(&self, image: String) -> BoxFuture<'static, EngineResult<ImageInspect>>;
    /// Pulls an image, reporting progress lines to `progress`.
    fn pull_image(
        &self,
        image: String,
        progress: Box<dyn Fn(String) + Send>,
    ) -> BoxFuture<'static, EngineResult<()>>;
    /// Makes image `name` from a root filesystem tarball (`docker import`).
    fn import_image(&self, name: String, tar: Vec<u8>) -> BoxFuture<'static, EngineResult<()>>;
    /// Builds image `tag` from a build context (a tar archive with the
    /// Dockerfile), reporting the builder's output lines to `progress`. An
    /// engine that cannot build answers [`EngineError::InvalidRequest`].
    fn build_image(
        &self,
        tag: String,
        options: BuildOptions,
        context_tar: Vec<u8>,
        progress: Box<dyn Fn(String) + Send>,
    ) -> BoxFuture<'static, EngineResult<()>> {
        let _ = (tag, options, context_tar, progress);
        futures::future::ready(Err(EngineError::InvalidRequest(
            "this engine cannot build images".into(),
        )))
        .boxed()
    }
    /// Extracts a tar archive into the container's filesystem at `path`.
    fn put_archive(
        &self,
        id: String,
        path: String,
        tar: Vec<u8>,
    ) -> BoxFuture<'static, EngineResult<()>>;
    /// A tar archive of `path` in the container's filesystem.
    fn get_archive(&self, id: String, path: String) -> BoxFuture<'static, EngineResult<Vec<u8>>>;
    /// Container events for containers carrying `label_filter`, from `since`
    /// (Unix nanoseconds) when given.
    fn events(
        &self,
        label_filter: String,
        since: Option<i64>,
    ) -> BoxStream<'static, EngineResult<ContainerEvent>>;
    /// A network or named volume by name; [`EngineError::ResourceNotFound`]
    /// when the engine has none of that name.
    fn inspect_resource(
        &self,
        kind: ResourceKind,
        name: String,
    ) -> BoxFuture<'static, EngineResult<ResourceInfo>> {
        let _ = (kind, name);
        no_resources()
    }
    /// Every network or named volume carrying `label_filter`.
    fn list_resources(
        &self,
        kind: ResourceKind,
        label_filter: String,
    ) -> BoxFuture<'static, EngineResult<Vec<ResourceInfo>>> {
        let _ = (kind, label_filter);
        no_resources()
    }
    /// Creates a network.
    fn create_network(&self, body: NetworkCreateRequest) -> BoxFuture<'static, EngineResult<()>> {
        let _ = body;
        no_resources()
    }
    /// Creates a named volume.
    fn create_volume(&self, body: VolumeCreateRequest) -> BoxFuture<'static, EngineResult<()>> {
        let _ = body;
        no_resources()
    }
    /// Removes a network or named volume.
    fn remove_resource(
        &self,
        kind: ResourceKind,
        name: String,
    ) -> BoxFuture<'static, EngineResult<()>> {
        let _ = (kind, name);
        no_resources()
    }
    /// Joins a (created, not yet started) container to one more network.
    fn connect_network(
        &self,
        network: String,
        container: String,
        endpoint: EndpointSettings,
    ) -> BoxFuture<'static, EngineResult<()>> {
        let _ = (network, container, endpoint);
        no_resources()
    }
    /// A container's output: its last `tail` lines (all of it when `None`),
    /// then, with `follow`, what it prints until it stops. An engine that
    /// keeps no logs answers [`EngineError::InvalidRequest`].
    fn logs(&self, id: String, options: LogOptions) -> BoxStream<'static, EngineResult<LogChunk>> {
        let _ = (id, options);
        futures::stream::once(async {
            Err(EngineError::InvalidRequest(
                "this engine keeps no logs".into(),
            ))
        })
        .boxed()
    }
}

/// The answer of an engine that has no networks or volumes of its own.
fn no_resources<T: Send + 'static>() -> BoxFuture<'static, EngineResult<T>> {
    Box::pin(async {
        Err(EngineError::InvalidRequest(
            "this engine has no networks or volumes".into(),
        ))
    })
}

/// What [`Engine::logs`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogOptions {
    /// Only the last lines; `None`: all of them.
    pub tail: Option<u64>,
    /// Go on with what it prints from now on.
    pub follow: bool,
    /// Each line prefixed with the engine's time (RFC 3339, nanoseconds).
    pub timestamps: bool,
}

/// Which of a container's streams a chunk of its output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// Standard output (or a terminal's).
    Stdout,
    /// Standard error.
    Stderr,
}

/// A piece of a container's output, as the engine sent it (usually a line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    /// Its stream.
    pub stream: LogStream,
    /// The bytes.
    pub bytes: bytes::Bytes,
}

/// Now in Unix nanoseconds: the scale of [`ContainerEvent::time_nanos`] and
/// of the events' `since` (the engine stamps events with its wall clock).
pub fn unix_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// The engine's word for a container's state (`docker ps`'s STATUS column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineState {
    /// Created, never started.
    Created,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Being restarted by the engine's own restart policy.
    Restarting,
    /// Being removed.
    Removing,
    /// Exited.
    Exited,
    /// Dead (a removal failed).
    Dead,
    /// A state this version does not know (Podman's "stopping", say); read
    /// conservatively as not running.
    Unknown(String),
}

impl EngineState {
    /// Reads the engine's state word.
    pub fn parse(word: &str) -> EngineState {
        match word {
            "created" => EngineState::Created,
            "running" => EngineState::Running,
            "paused" => EngineState::Paused,
            "restarting" => EngineState::Restarting,
            "removing" => EngineState::Removing,
            "exited" => EngineState::Exited,
            "dead" => EngineState::Dead,
            other => EngineState::Unknown(other.to_string()),
        }
    }

    /// The engine's word for it.
    pub fn as_str(&self) -> &str {
        match self {
            EngineState::Created => "created",
            EngineState::Running => "running",
            EngineState::Paused => "paused",
            EngineState::Restarting => "restarting",
            EngineState::Removing => "removing",
            EngineState::Exited => "exited",
            EngineState::Dead => "dead",
            EngineState::Unknown(word) => word,
        }
    }

    /// Whether a process of the container is alive.
    pub fn is_alive(&self) -> bool {
        matches!(
            self,
            EngineState::Running | EngineState::Paused | EngineState::Restarting
        )
    }
}

/// A container's health, as the engine's check reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Health {
    /// Started, no verdict yet (within the start period, or before the
    /// first check).
    Starting,
    /// The last check passed.
    Healthy,
    /// `retries` checks in a row failed.
    Unhealthy,
}

impl Health {
    /// The engine's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }

    /// Reads the engine's word (`none`, or anything else: no health).
    pub fn parse(word: &str) -> Option<Health> {
        match word {
            "starting" => Some(Health::Starting),
            "healthy" => Some(Health::Healthy),
            "unhealthy" => Some(Health::Unhealthy),
            _ => None,
        }
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One container as a list call shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSnapshot {
    /// Container id.
    pub id: String,
    /// Container name without the leading `/`.
    pub name: String,
    /// The container's labels.
    pub labels: HashMap<String, String>,
    /// Its state.
    pub state: EngineState,
    /// Exit code, when exited and the engine said it.
    pub exit_code: Option<i64>,
    /// Image as asked for at create.
    pub image: String,
    /// Its health, when it runs with a health check.
    pub health: Option<Health>,
}

/// What happened to a container, as the events stream tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerEventKind {
    /// Its process started.
    Started,
    /// Its process exited.
    Died {
        /// Exit code.
        exit_code: i64,
    },
    /// The kernel's OOM killer hit it (a `Died` follows).
    OomKilled,
    /// A signal was sent to it (`docker kill`, or the first step of `docker stop`).
    Killed {
        /// The signal, as the engine names it (`"15"`, `"9"`).
        signal: String,
    },
    /// `docker stop` (or our stop) ended it.
    Stopped,
    /// It was removed.
    Destroyed,
    /// Its health check changed its verdict (`health_status: healthy`).
    HealthChanged(Health),
}

/// One container event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEvent {
    /// Container id.
    pub id: String,
    /// Container name.
    pub name: String,
    /// What happened.
    pub kind: ContainerEventKind,
    /// When, in Unix nanoseconds (for reconnecting with `since`).
    pub time_nanos: i64,
}
