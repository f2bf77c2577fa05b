//! What a unit is doing, what it tells subscribers, and what it reports.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::engine::mapping::ContainerDetails;
use crate::engine::{EngineError, Health};
use crate::spec::{SpecProblem, UnitSpec};

/// A unit's public state, derived from the phase of its machine (see
/// ARCHITECTURE.md): what `list`, `ps` and every event show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum UnitState {
    /// Declared, nothing done yet.
    Pending,
    /// Its image is being pulled.
    Pulling,
    /// Its container is being created.
    Creating,
    /// Its container is being started.
    Starting,
    /// It waits for its dependencies to meet their conditions.
    Waiting,
    /// Its container runs.
    Running,
    /// Its container exited and the policy does not restart it.
    Exited,
    /// Its container exited and will be restarted after a delay.
    BackingOff,
    /// It is being stopped.
    Stopping,
    /// It was stopped by hand; no policy restarts it.
    Stopped,
    /// A supervisor's shutdown stopped it; the next supervisor starts it again.
    StoppedByShutdown,
    /// The engine does not answer; the unit carries on as soon as it does
    /// (never counted as a failure or a restart).
    WaitingForEngine,
    /// Its container was removed and the unit is gone.
    Removed,
    /// It gave up: the restart limit was reached or it could not be started.
    Failed,
}

impl UnitState {
    /// Every state, in the order of the machine's life.
    pub const ALL: [UnitState; 14] = [
        UnitState::Pending,
        UnitState::Pulling,
        UnitState::Creating,
        UnitState::Starting,
        UnitState::Waiting,
        UnitState::Running,
        UnitState::Exited,
        UnitState::BackingOff,
        UnitState::Stopping,
        UnitState::Stopped,
        UnitState::StoppedByShutdown,
        UnitState::WaitingForEngine,
        UnitState::Removed,
        UnitState::Failed,
    ];

    /// The state's name as events and `stevedore ps` show it.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitState::Pending => "pending",
            UnitState::Pulling => "pulling",
            UnitState::Creating => "creating",
            UnitState::Starting => "starting",
            UnitState::Waiting => "waiting",
            UnitState::Running => "running",
            UnitState::Exited => "exited",
            UnitState::BackingOff => "backing-off",
            UnitState::Stopping => "stopping",
            UnitState::Stopped => "stopped",
            UnitState::StoppedByShutdown => "stopped-by-shutdown",
            UnitState::WaitingForEngine => "waiting-for-engine",
            UnitState::Removed => "removed",
            UnitState::Failed => "failed",
        }
    }
}

impl fmt::Display for UnitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change of one unit, as subscribers receive it.
#[derive(Debug, Clone, PartialEq, Serialize, actix::Message)]
#[rtype(result = "()")]
#[non_exhaustive]
pub struct UnitEvent {
    /// Namespace of the unit.
    pub namespace: String,
    /// Unit name.
    pub unit: String,
    /// The state it entered.
    pub state: UnitState,
    /// Its container, when it has one.
    pub container_id: Option<String>,
    /// Restarts so far.
    pub restart_count: u32,
    /// Exit code of the last run, when it exited.
    pub exit_code: Option<i64>,
    /// Why (the exit, the policy's word, the error).
    pub reason: Option<String>,
    /// Its health while it runs with a check (`None`: not running, or no check).
    pub health: Option<Health>,
    /// For `backing-off`: how long until the restart.
    pub delay: Option<Duration>,
    /// When it happened.
    pub at: SystemTime,
}

/// A unit as the registry's `list` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UnitStatus {
    /// Unit name.
    pub name: String,
    /// Container name (`<namespace>--<unit>`).
    pub container_name: String,
    /// The supervisor's state of the unit.
    pub state: UnitState,
    /// Why it is in that state, when known.
    pub reason: Option<String>,
    /// Restarts so far.
    pub restart_count: u32,
    /// Exit code of the last run.
    pub last_exit_code: Option<i64>,
    /// Its health while it runs with a check (`None`: not running, or no check).
    pub health: Option<Health>,
    /// The declared spec.
    pub spec: UnitSpec,
    /// The container as the engine has it; `None` when there is none.
    pub container: Option<ContainerDetails>,
}

impl UnitStatus {
    /// Whether its container runs ("active" in Flocker's words).
    pub fn is_active(&self) -> bool {
        self.container
            .as_ref()
            .is_some_and(|c| c.status == "running")
    }
}

/// Why a unit operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitError {
    /// The spec is invalid; nothing was sent to the engine.
    #[error("invalid unit {name}: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// Unit name as given.
        name: String,
        /// Every problem found.
        problems: Vec<SpecProblem>,
    },
    /// A unit of that name exists in the namespace.
    #[error("unit {0} already exists")]
    AlreadyExists(String),
    /// No unit of that name exists in the namespace.
    #[error("no unit named {0}")]
    NotFound(String),
    /// The container name is held by a container that is not ours; it is left alone.
    #[error("container name {0} is taken by a container stevedore does not own")]
    NameTaken(String),
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The unit's actor is gone (the system is shutting down).
    #[error("unit {0} is no longer running")]
    Gone(String),
    /// The engine gateway is gone (its supervisor shut down).
    #[error("the engine gateway is no longer running")]
    GatewayGone,
    /// The namespace's registry is gone (its supervisor shut down).
    #[error("the registry of namespace {0} is no longer running")]
    RegistryGone(String),
}

impl UnitError {
    /// Whether the engine did not answer (unreachable, transient, past its
    /// deadline): a reason to wait for it, never to fail the unit.
    pub fn is_engine_unavailable(&self) -> bool {
        matches!(self, UnitError::Engine(error) if error.is_retryable())
    }
}
