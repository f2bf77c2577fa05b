//! The machine's vocabulary: its phases, the inputs it takes, the effects
//! it asks for, and the data they carry.

use std::time::Duration;

use tokio::time::Instant;

use crate::engine::{ContainerEvent, ContainerSnapshot, Health};
use crate::gateway::CreateOutcome;
use crate::labels::CarriedState;
use crate::policy::ExitFacts;
use crate::record::PhaseRecord;
use crate::spec::UnitSpec;
use crate::unit::state::{UnitError, UnitState};

/// How a restart that the policy decided brings the container back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartMode {
    /// Start the same container again (the engine's own restart work, logs
    /// and id kept); the restart count lives in the phase record.
    InPlace,
    /// Remove the dead container and create a new one whose labels carry
    /// the restart count (kubelet's way; used without a phase record).
    Replace,
}

/// Who stopped a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoppedBy {
    /// This supervisor (a command, or a shutdown).
    Us,
    /// A person, through the engine's API (`docker stop`): honoured, as
    /// Docker honours it for every restart policy.
    User,
    /// The engine itself, shutting down or restoring after a crash: never a
    /// manual stop; the unit comes back when the engine answers again.
    Engine,
}

/// The timers a phase may own. Each belongs to one phase and is cancelled
/// when the phase is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The backoff delay before a restart.
    Restart,
    /// The wait for a `stop` event after an exit that followed a signal.
    StopEvent,
    /// The wait before trying an unavailable engine again.
    EngineRetry,
}

/// What a command asks of the unit.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Stop by hand.
    Stop,
    /// Start by hand (resets the restart history).
    Start,
    /// Stop, then start.
    Restart,
    /// Replace the container when the spec changed.
    Update(Box<UnitSpec>),
    /// Stop and remove; the unit ends.
    Remove,
    /// Stop because the supervisor shuts down: the next supervisor starts it again.
    Shutdown,
}

/// The result of the one engine call the machine asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    /// [`Work::Create`] answered.
    Created(Result<CreateOutcome, UnitError>),
    /// [`Work::Pull`] answered.
    Pulled(Result<(), UnitError>),
    /// [`Work::Start`] answered.
    Started(Result<(), UnitError>),
    /// [`Work::Stop`] answered (a success means [`StoppedBy::Us`]).
    Stopped(Result<(), UnitError>),
    /// [`Work::Remove`] answered.
    Removed(Result<(), UnitError>),
}

/// Whether a unit's dependencies meet their conditions (the registry, which
/// sees every unit, works it out and tells the unit when it changes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Readiness {
    /// Every condition holds (or the unit has no dependencies).
    #[default]
    Ready,
    /// Some do not: what it waits for, in words (`db (healthy): db is starting`).
    Waiting(String),
}

/// What follows stopping an unhealthy container: the policy's decision,
/// taken when the check failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Start again, not before `until` (the backoff runs from the failure,
    /// so a stop that takes longer than the delay adds nothing to it).
    Restart {
        /// When the restart is due.
        until: Instant,
        /// Why (`unhealthy`).
        reason: String,
    },
    /// Stay exited: the policy does not restart a failure.
    Stay(String),
    /// The intensity limit or `on-failure:N` is reached: the unit is failed.
    GiveUp(String),
}

/// A container found at start, with what the phase record says of its unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Adoption {
    /// The container as the list call showed it.
    pub snapshot: ContainerSnapshot,
    /// The unit's entry in the phase record, when there is one.
    pub recorded: Option<PhaseRecord>,
}

/// Everything that can happen to a unit.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The actor started: bring a fresh unit up, or take over a container.
    Begin(Option<Box<Adoption>>),
    /// A container event from the engine's stream.
    Event(ContainerEvent),
    /// What a list showed of the unit's container (`None`: no container has
    /// its name) after the events stream ended and came back, which may
    /// have been the engine restarting.
    Observed(Option<ContainerSnapshot>),
    /// A command from the handle.
    Command(Command),
    /// The engine call in flight answered.
    Done(Done),
    /// The verdict on an outside stop ([`Work::Probe`]'s answer).
    StoppedBy(StoppedBy),
    /// The events pump lost (`false`) or regained (`true`) the engine.
    EngineAvailable(bool),
    /// Whether the unit's dependencies meet their conditions now.
    Dependencies(Readiness),
    /// A dependency declared with `restart = true` was restarted or replaced.
    DependencyRestarted(String),
    /// A timer fired.
    Timer(Timer),
}

/// One engine call. The actor runs one at a time and feeds its result back
/// as [`Input::Done`] (or, for a probe, [`Input::StoppedBy`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// Create the container from the spec, its labels carrying this state.
    Create(CarriedState),
    /// Pull the spec's image.
    Pull,
    /// Start this container.
    Start(String),
    /// Stop this container with the spec's grace period.
    Stop(String),
    /// Remove this container (forced).
    Remove(String),
    /// Ask whether the engine still takes new connections: a stop made while
    /// it is shutting down is the engine's, not a person's.
    Probe,
}

/// What the actor must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Run one engine call, then feed its result back.
    Engine(Work),
    /// Tell subscribers that the unit entered this state.
    Publish {
        /// The public state.
        state: UnitState,
        /// Why.
        reason: Option<String>,
        /// Its health, while it runs with a check.
        health: Option<Health>,
        /// For `backing-off`: the delay.
        delay: Option<Duration>,
    },
    /// Fire `Timer` after the duration.
    Arm(Timer, Duration),
    /// The timer is no longer wanted.
    Cancel(Timer),
    /// Answer the command being carried out (ignored when none waits).
    Answer(Result<(), UnitError>),
    /// End the actor (the unit was removed).
    End,
}

/// What a launch is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// A running container.
    Run,
    /// A container created but not started (a spec change of a unit stopped by hand).
    CreateOnly,
}

/// What a launch does with the container the unit already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Start it again (a restart in place, a start by hand, the engine back).
    Reuse,
    /// Remove it and create a new one (a spec change, a restart by replacement).
    Replace,
}

/// Where a launch is.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Removing the container it replaces (`stale`: one a lost create left).
    RemovingOld {
        /// The container being removed.
        id: String,
        /// It was found holding the name at a create.
        stale: bool,
    },
    /// Creating the container.
    Creating {
        /// The image was pulled already (pull once).
        pulled: bool,
        /// A stale container was replaced already (replace once).
        replaced_stale: bool,
    },
    /// Pulling the image.
    Pulling {
        /// A stale container was replaced already.
        replaced_stale: bool,
    },
    /// Starting the container.
    Starting(String),
}

/// What follows a stop that this supervisor makes.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterStop {
    /// Stay stopped by hand.
    ByHand,
    /// Start again.
    Restart,
    /// Replace the container with one of the (already updated) spec.
    Replace,
    /// Remove the container and end.
    Remove,
    /// Stay stopped until the next supervisor starts it.
    Shutdown,
    /// The health check failed: carry out the policy's verdict.
    Unhealthy(Verdict),
    /// Start again, for a reason that is not a restart by hand (a dependency
    /// restarted): the restart history is kept.
    Relaunch {
        /// Why.
        reason: String,
    },
}

/// What a unit waiting for the engine does once it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Launch (start or create) towards the goal.
    Launch(Goal),
    /// Replace the container with one of the updated spec, and start it.
    Replace,
    /// Stop by hand.
    StopByHand,
    /// Remove and end.
    Remove,
    /// Stop for the shutdown.
    Shutdown,
}

/// The unit's phase: everything it is doing, with the data that belongs to it.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Declared; the actor has not begun.
    Pending,
    /// Bringing a container up, one engine call at a time.
    Launching {
        /// The call in flight.
        step: Step,
        /// What it is for.
        goal: Goal,
    },
    /// Its container runs.
    Running {
        /// The container.
        id: String,
        /// When it started (or was adopted).
        since: Instant,
    },
    /// It exited after an outside signal; waiting for the `stop` event
    /// that would make it `docker stop`.
    AwaitingStop {
        /// What the exit looked like.
        facts: ExitFacts,
    },
    /// An outside signal or `stop` it did not make: asking whether the
    /// engine is shutting down (then the engine made it).
    Probing {
        /// The exit, when no `stop` event came after it in time: if the
        /// engine still answers, that exit was `docker kill -s`, for the
        /// policy. `None`: a `stop` event came, so a person's `docker stop`.
        unexplained: Option<ExitFacts>,
    },
    /// Being stopped by this supervisor.
    Stopping {
        /// The container.
        id: String,
        /// What follows.
        then: AfterStop,
    },
    /// Its container is being removed; the unit ends after.
    Removing,
    /// Waiting out the backoff delay before a restart.
    BackingOff {
        /// When the restart is due.
        until: Instant,
        /// Why it restarts.
        reason: String,
    },
    /// Its dependencies do not meet their conditions yet; its container is
    /// created, and started the moment they do.
    WaitingForDeps {
        /// What it waits for, in words.
        on: String,
    },
    /// The engine did not answer; the unit resumes as soon as it does.
    WaitingForEngine {
        /// What it was doing.
        then: Resume,
        /// What the engine said.
        error: String,
    },
    /// Exited and the policy does not restart it.
    Exited {
        /// The policy's word.
        reason: String,
    },
    /// Stopped by hand (here or with `docker stop`); no policy undoes it.
    StoppedByHand {
        /// Who and how.
        reason: String,
    },
    /// Stopped by a supervisor's shutdown; the next supervisor starts it.
    StoppedByShutdown,
    /// Gave up.
    Failed {
        /// Why.
        reason: String,
    },
    /// Its container is gone and so is the unit.
    Removed,
}
