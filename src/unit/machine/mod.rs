//! The unit's life as one pure state machine: a data-carrying [`Phase`] and
//! one [`Machine::step`] that takes an [`Input`] and returns the [`Effect`]s
//! the actor must carry out. No actor, engine or clock here: time comes in
//! with every step ([`Now`]), so the tables in `tests` run under paused time.
//!
//! Every input that means nothing in the current phase is ignored on
//! purpose; the tests say so, phase by phase.

mod commands;
mod exits;
mod health;
mod launch;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::state::{UnitError, UnitState};
use crate::engine::{ContainerEvent, ContainerSnapshot, Health};
use crate::gateway::CreateOutcome;
use crate::labels::CarriedState;
use crate::policy::{ExitFacts, RestartHistory};
use crate::record::PhaseRecord;
use crate::spec::{UnitSpec, spec_hash};

/// How long an exit that followed an outside signal waits for the `stop`
/// event that tells `docker stop` from `docker kill -s` (Docker emits it
/// right after the exit).
pub(crate) const STOP_EVENT_WAIT: Duration = Duration::from_secs(1);
/// How long a unit waiting for the engine waits before trying again by
/// itself; the events pump re-drives it sooner, the moment the engine answers.
pub(crate) const ENGINE_RETRY: Duration = Duration::from_secs(5);
/// Recent events remembered to drop the ones a reconnect replays.
const REMEMBERED_EVENTS: usize = 32;

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
    /// Its dependencies do not meet their conditions yet; it launches the
    /// moment they do.
    WaitingForDeps {
        /// What the launch does with an existing container.
        existing: Existing,
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

/// The clock and the dice of one step.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Monotonic time, for delays and run times.
    pub at: Instant,
    /// Wall time in Unix nanoseconds, on the engine's clock scale, to drop
    /// events older than the unit's last start.
    pub wall_nanos: i64,
    /// A uniform sample in `[0, 1)` for the backoff's jitter.
    pub jitter: f64,
}

/// One unit's machine: its phase and what it remembers across phases.
#[derive(Debug, Clone)]
pub struct Machine {
    container_name: String,
    spec: UnitSpec,
    hash: String,
    mode: RestartMode,
    phase: Phase,
    /// The current container, kept across phases (an exited one is restarted in place).
    container: Option<String>,
    history: RestartHistory,
    last_exit: Option<i64>,
    /// Why the last restart happened (carried into the next container's labels).
    restart_reason: Option<String>,
    oom_seen: bool,
    /// A signal other than SIGKILL reached the running container from outside.
    signalled: bool,
    /// Events for the current container older than this (Unix nanoseconds)
    /// belong to an earlier run or to a stop of ours that has answered: a
    /// replay, or our own stop's events arriving after its answer.
    started_nanos: i64,
    /// When the start in flight was asked for (Unix nanoseconds).
    start_asked_nanos: i64,
    /// The wall time of the step being taken.
    step_nanos: i64,
    recent_events: VecDeque<(String, i64, &'static str)>,
    /// The events pump said the engine is gone.
    engine_down: bool,
    /// Why it runs, when that is news (adopted, started outside stevedore).
    running_reason: Option<String>,
    /// The running container's health, when it has a check.
    health: Option<Health>,
    /// A health event came for a check the unit leaves to its image: the
    /// image has one, so each start begins `starting`.
    image_check_seen: bool,
    /// Whether the dependencies meet their conditions.
    deps: Readiness,
    /// The public state, reason and health last published.
    published: (UnitState, Option<String>, Option<Health>),
}

impl Machine {
    /// A machine for `spec`, whose container is named `container_name`, in
    /// phase `pending`.
    pub fn new(spec: UnitSpec, container_name: String, mode: RestartMode) -> Self {
        Machine {
            container_name,
            hash: spec_hash(&spec),
            spec,
            mode,
            phase: Phase::Pending,
            container: None,
            history: RestartHistory::default(),
            last_exit: None,
            restart_reason: None,
            oom_seen: false,
            signalled: false,
            started_nanos: 0,
            start_asked_nanos: 0,
            step_nanos: 0,
            recent_events: VecDeque::new(),
            engine_down: false,
            running_reason: None,
            health: None,
            image_check_seen: false,
            deps: Readiness::Ready,
            published: (UnitState::Pending, None, None),
        }
    }

    /// Takes one input; returns what the actor must do, in order.
    pub fn step(&mut self, input: Input, now: Now) -> Vec<Effect> {
        let mut out = Vec::new();
        let before = self.phase.clone();
        self.step_nanos = now.wall_nanos;
        match input {
            Input::Begin(None) => self.launch(Goal::Run, Existing::Reuse, &mut out),
            Input::Begin(Some(adoption)) => self.adopt(*adoption, now, &mut out),
            Input::Event(event) => self.on_event(event, now, &mut out),
            Input::Observed(seen) => self.on_observed(seen, now, &mut out),
            Input::Command(command) => self.on_command(command, now, &mut out),
            Input::Done(done) => self.on_done(done, now, &mut out),
            Input::StoppedBy(who) => self.on_stopped_by(who, now, &mut out),
            Input::EngineAvailable(available) => self.on_engine(available, now, &mut out),
            Input::Dependencies(readiness) => self.on_dependencies(readiness, &mut out),
            Input::DependencyRestarted(name) => self.on_dependency_restarted(name, now, &mut out),
            Input::Timer(timer) => self.on_timer(timer, now, &mut out),
        }
        self.finish(before, now, &mut out);
        out
    }

    /// The phase.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The spec.
    pub fn spec(&self) -> &UnitSpec {
        &self.spec
    }

    /// The spec's hash.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The current container.
    pub fn container(&self) -> Option<&str> {
        self.container.as_deref()
    }

    /// Restarts so far.
    pub fn restart_count(&self) -> u32 {
        self.history.restart_count
    }

    /// Exit code of the last run.
    pub fn last_exit(&self) -> Option<i64> {
        self.last_exit
    }

    /// The running container's health (`None`: not running, or no check).
    pub fn health(&self) -> Option<Health> {
        match self.phase {
            Phase::Running { .. } => self.health,
            _ => None,
        }
    }

    /// The public state and its reason, derived from the phase alone.
    pub fn view(&self) -> (UnitState, Option<String>) {
        let reason = |text: &str| Some(text.to_string());
        match &self.phase {
            Phase::Pending => (UnitState::Pending, None),
            Phase::Launching { step, .. } => match step {
                Step::RemovingOld { .. } | Step::Creating { .. } => (UnitState::Creating, None),
                Step::Pulling { .. } => (UnitState::Pulling, None),
                Step::Starting(_) => (UnitState::Starting, None),
            },
            Phase::Running { .. } => (UnitState::Running, self.running_reason.clone()),
            Phase::AwaitingStop { facts } => {
                (UnitState::Exited, Some(crate::policy::describe_exit(facts)))
            }
            Phase::Probing { unexplained: None } => {
                (UnitState::Exited, reason("stopped outside stevedore"))
            }
            Phase::Probing {
                unexplained: Some(facts),
            } => (UnitState::Exited, Some(crate::policy::describe_exit(facts))),
            Phase::Stopping {
                then: AfterStop::Unhealthy(_),
                ..
            } => (UnitState::Stopping, reason("unhealthy")),
            Phase::Stopping {
                then: AfterStop::Relaunch { reason: why },
                ..
            } => (UnitState::Stopping, reason(why)),
            Phase::Stopping { .. } | Phase::Removing => (UnitState::Stopping, None),
            Phase::WaitingForDeps { on, .. } => (UnitState::Waiting, reason(on)),
            Phase::BackingOff { reason: why, .. } => (UnitState::BackingOff, reason(why)),
            Phase::WaitingForEngine { error, .. } => (UnitState::WaitingForEngine, reason(error)),
            Phase::Exited { reason: why } => (UnitState::Exited, reason(why)),
            Phase::StoppedByHand { reason: why } => (UnitState::Stopped, reason(why)),
            Phase::StoppedByShutdown => {
                (UnitState::StoppedByShutdown, reason("stopped at shutdown"))
            }
            Phase::Failed { reason: why } => (UnitState::Failed, reason(why)),
            Phase::Removed => (UnitState::Removed, None),
        }
    }

    /// Publishes the new view when it changed, and cancels the timer of a
    /// phase that was left.
    fn finish(&mut self, before: Phase, now: Now, out: &mut Vec<Effect>) {
        if let Some(timer) = timer_of(&before)
            && timer_of(&self.phase) != Some(timer)
        {
            out.insert(0, Effect::Cancel(timer));
        }
        let (state, reason) = self.view();
        let view = (state, reason, self.health());
        if view != self.published {
            let delay = match &self.phase {
                Phase::BackingOff { until, .. } => Some(until.saturating_duration_since(now.at)),
                _ => None,
            };
            out.push(Effect::Publish {
                state: view.0,
                reason: view.1.clone(),
                health: view.2,
                delay,
            });
            self.published = view;
        }
    }

    /// Enters `Running` with `id`, which started (or was found running) now.
    fn enter_running(&mut self, id: String, now: Now, reason: Option<&str>) {
        self.container = Some(id.clone());
        self.phase = Phase::Running { id, since: now.at };
        self.oom_seen = false;
        self.signalled = false;
        self.running_reason = reason.map(str::to_string);
        // A (re)start begins the check again, as the engine does.
        self.health = match self.spec.declares_check() {
            Some(true) => Some(Health::Starting),
            None if self.image_check_seen => Some(Health::Starting),
            _ => None,
        };
    }

    /// Asks for a start of `id`; events of the container from this moment
    /// on belong to the new run.
    fn start(&mut self, id: String, goal: Goal, out: &mut Vec<Effect>) {
        self.start_asked_nanos = self.step_nanos;
        self.phase = Phase::Launching {
            step: Step::Starting(id.clone()),
            goal,
        };
        out.push(Effect::Engine(Work::Start(id)));
    }

    /// What a restart the policy decided does with the container.
    fn restart_existing(&self) -> Existing {
        match self.mode {
            RestartMode::InPlace => Existing::Reuse,
            RestartMode::Replace => Existing::Replace,
        }
    }

    /// What the next container's labels carry.
    fn carried(&self) -> CarriedState {
        CarriedState::from_history(&self.history, self.last_exit, self.restart_reason.clone())
    }
}

/// The timer a phase owns.
fn timer_of(phase: &Phase) -> Option<Timer> {
    match phase {
        Phase::BackingOff { .. } => Some(Timer::Restart),
        Phase::AwaitingStop { .. } => Some(Timer::StopEvent),
        Phase::WaitingForEngine { .. } => Some(Timer::EngineRetry),
        _ => None,
    }
}
