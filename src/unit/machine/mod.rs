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
mod types;

pub use self::types::*;

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::state::UnitState;
use crate::engine::Health;
use crate::labels::CarriedState;
use crate::policy::RestartHistory;
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
            Phase::WaitingForDeps { on } => (UnitState::Waiting, reason(on)),
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
        // The container is made (or kept) while the dependencies are not
        // ready, as compose creates before it starts in order: once they
        // are, only the start is left.
        if self.waits_for_deps(out) {
            return;
        }
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
