//! What the engine tells a unit (events, lists after a reconnect, its own
//! availability) and what follows an exit: the policy's decision, a stop by
//! a person, or a stop by the engine itself.

use super::{
    Effect, Existing, Goal, Machine, Now, Phase, REMEMBERED_EVENTS, Resume, STOP_EVENT_WAIT,
    StoppedBy, Timer, Work,
};
use crate::engine::{ContainerEvent, ContainerEventKind, ContainerSnapshot, Health};
use crate::policy::{Decision, ExitFacts, RestartPolicy, decide};

fn is_sigkill(signal: &str) -> bool {
    matches!(signal, "9" | "KILL" | "SIGKILL")
}

fn kind_name(kind: &ContainerEventKind) -> &'static str {
    match kind {
        ContainerEventKind::Started => "start",
        ContainerEventKind::Died { .. } => "die",
        ContainerEventKind::OomKilled => "oom",
        ContainerEventKind::Killed { .. } => "kill",
        ContainerEventKind::Stopped => "stop",
        ContainerEventKind::Destroyed => "destroy",
        ContainerEventKind::HealthChanged(Health::Starting) => "health_status: starting",
        ContainerEventKind::HealthChanged(Health::Healthy) => "health_status: healthy",
        ContainerEventKind::HealthChanged(Health::Unhealthy) => "health_status: unhealthy",
    }
}

impl Machine {
    /// Whether the event is news: about the current container, not seen
    /// before (a reconnect replays), and not older than the last start.
    fn is_news(&mut self, event: &ContainerEvent) -> bool {
        if self.container.as_deref() != Some(event.id.as_str()) {
            return false; // an earlier container of this unit
        }
        if event.time_nanos < self.started_nanos {
            return false; // an earlier run of this container
        }
        let key = (event.id.clone(), event.time_nanos, kind_name(&event.kind));
        if self.recent_events.contains(&key) {
            return false;
        }
        if self.recent_events.len() == REMEMBERED_EVENTS {
            self.recent_events.pop_front();
        }
        self.recent_events.push_back(key);
        true
    }

    pub(super) fn on_event(&mut self, event: ContainerEvent, now: Now, out: &mut Vec<Effect>) {
        if !self.is_news(&event) {
            return;
        }
        match event.kind {
            ContainerEventKind::OomKilled => self.oom_seen = true,
            ContainerEventKind::Killed { signal } => {
                if matches!(self.phase, Phase::Running { .. }) && !is_sigkill(&signal) {
                    self.signalled = true;
                }
            }
            ContainerEventKind::Died { exit_code } => self.on_died(exit_code, now, out),
            ContainerEventKind::Stopped => self.on_outside_stop(out),
            ContainerEventKind::Destroyed => {
                self.container = None;
                if matches!(self.phase, Phase::Running { .. }) {
                    self.on_died(-1, now, out);
                }
            }
            ContainerEventKind::Started => self.on_started_elsewhere(event.id, now),
            ContainerEventKind::HealthChanged(health) => self.on_health(health, now, out),
        }
    }

    fn on_died(&mut self, exit_code: i64, now: Now, out: &mut Vec<Effect>) {
        let Phase::Running { since, .. } = self.phase else {
            return; // an exit means nothing unless the container ran
        };
        let facts = ExitFacts {
            exit_code,
            oom_killed: std::mem::take(&mut self.oom_seen),
            ran_for: now.at.saturating_duration_since(since),
            unhealthy: false,
        };
        self.last_exit = Some(exit_code);
        if std::mem::take(&mut self.signalled) {
            // Someone sent a polite signal before this exit: `docker stop`
            // (its `stop` event follows) or `docker kill -s` (an exit like
            // any other). Wait briefly for the verdict.
            self.phase = Phase::AwaitingStop { facts };
            out.push(Effect::Arm(Timer::StopEvent, STOP_EVENT_WAIT));
        } else {
            self.apply_exit(facts, now, out);
        }
    }

    /// A `stop` event this supervisor did not cause: `docker stop`, or the
    /// engine stopping its containers. The probe tells which.
    fn on_outside_stop(&mut self, out: &mut Vec<Effect>) {
        if matches!(
            self.phase,
            Phase::AwaitingStop { .. }
                | Phase::BackingOff { .. }
                | Phase::Exited { .. }
                | Phase::Failed { .. }
        ) {
            self.probe(None, out);
        }
    }

    /// Asks whether the engine still takes connections; `unexplained` is
    /// the exit to hand the policy if it does and no `stop` event came.
    fn probe(&mut self, unexplained: Option<ExitFacts>, out: &mut Vec<Effect>) {
        self.phase = Phase::Probing { unexplained };
        out.push(Effect::Engine(Work::Probe));
    }

    pub(super) fn on_stopped_by(&mut self, who: StoppedBy, now: Now, out: &mut Vec<Effect>) {
        let Phase::Probing { unexplained } = self.phase.clone() else {
            return;
        };
        match (who, unexplained) {
            (StoppedBy::User, None) => {
                self.phase = Phase::StoppedByHand {
                    reason: "stopped outside stevedore (docker stop)".into(),
                };
            }
            // The engine answers and no `stop` came: `docker kill -s`.
            (StoppedBy::User, Some(facts)) => self.apply_exit(facts, now, out),
            (StoppedBy::Engine, _) => {
                self.engine_down = true;
                self.engine_stopped(out);
            }
            // Our own stops are answered by `Done::Stopped`, never probed.
            (StoppedBy::Us, _) => {}
        }
    }

    /// The engine stopped the container (shutting down or restoring): no
    /// restart is counted. A policy that restarts anything brings it back as
    /// soon as the engine answers; `no` leaves it, as Docker does.
    fn engine_stopped(&mut self, out: &mut Vec<Effect>) {
        if self.spec.restart == RestartPolicy::No {
            self.phase = Phase::Exited {
                reason: "stopped by the engine; restart policy is \"no\"".into(),
            };
        } else if self.engine_down {
            self.phase = Phase::WaitingForEngine {
                then: Resume::Launch(Goal::Run),
                error: "the engine stopped the container; waiting for it to answer again".into(),
            };
            out.push(Effect::Arm(Timer::EngineRetry, super::ENGINE_RETRY));
        } else {
            self.launch(Goal::Run, Existing::Reuse, out);
        }
    }

    /// The policy's decision on `facts` (an exit, or an unhealthy verdict)
    /// with this unit's settings and history.
    pub(super) fn decide(&self, facts: &ExitFacts, now: Now) -> Decision {
        let spec = &self.spec;
        decide(
            spec.restart,
            &spec.backoff,
            &spec.intensity,
            facts,
            &self.history,
            now.at,
            now.jitter,
        )
    }

    /// Asks the policy what follows an exit the user did not ask for.
    pub(super) fn apply_exit(&mut self, facts: ExitFacts, now: Now, out: &mut Vec<Effect>) {
        let decision = self.decide(&facts, now);
        match decision {
            Decision::RestartAfter {
                delay,
                attempt,
                reason,
            } => {
                self.history
                    .record_restart(now.at, attempt, &self.spec.intensity);
                self.restart_reason = Some(reason.clone());
                self.phase = Phase::BackingOff {
                    until: now.at + delay,
                    reason,
                };
                out.push(Effect::Arm(Timer::Restart, delay));
            }
            Decision::Stay { reason } => self.phase = Phase::Exited { reason },
            Decision::GiveUp { reason } => self.phase = Phase::Failed { reason },
        }
    }

    fn on_started_elsewhere(&mut self, id: String, now: Now) {
        if matches!(
            self.phase,
            Phase::Exited { .. }
                | Phase::StoppedByHand { .. }
                | Phase::StoppedByShutdown
                | Phase::Failed { .. }
                | Phase::BackingOff { .. }
                | Phase::WaitingForEngine { .. }
                | Phase::WaitingForDeps { .. }
        ) {
            // `docker start` is a user start: it resets the history, as Docker does.
            self.history.reset();
            self.enter_running(id, now, Some("started outside stevedore"));
        }
    }

    /// After an events gap: catch up with what a fresh list shows. The gap
    /// may have been an engine restart (one can be over before a reconnect
    /// attempt sees it refuse), so a container that stopped running in it
    /// is taken as stopped by the engine.
    pub(super) fn on_observed(
        &mut self,
        seen: Option<ContainerSnapshot>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        self.engine_down = false;
        let ours = seen.filter(|s| Some(s.id.as_str()) == self.container.as_deref());
        let alive = ours.as_ref().is_some_and(|s| s.state.is_alive());
        if ours.is_none() {
            self.container = None;
        }
        let health = ours.as_ref().and_then(|snapshot| snapshot.health);
        match self.phase.clone() {
            Phase::Running { .. } if !alive => self.engine_stopped(out),
            // A verdict the gap hid (its event lost or never sent).
            Phase::Running { .. } => {
                if let Some(health) = health.filter(|health| Some(*health) != self.health) {
                    self.on_health(health, now, out);
                }
            }
            Phase::AwaitingStop { .. } | Phase::Probing { .. } => self.engine_stopped(out),
            Phase::WaitingForEngine { then, .. } => match (then, ours) {
                (Resume::Launch(Goal::Run), Some(snapshot)) if alive => {
                    self.enter_running(snapshot.id, now, Some("running when the engine came back"));
                    if let Some(health) = health {
                        self.on_health(health, now, out);
                    }
                }
                _ => self.resume(then, now, out),
            },
            _ => {}
        }
    }

    pub(super) fn on_engine(&mut self, available: bool, now: Now, out: &mut Vec<Effect>) {
        self.engine_down = !available;
        if let (true, Phase::WaitingForEngine { then, .. }) = (available, self.phase.clone()) {
            self.resume(then, now, out);
        }
    }

    pub(super) fn on_timer(&mut self, timer: Timer, now: Now, out: &mut Vec<Effect>) {
        match (timer, self.phase.clone()) {
            (Timer::Restart, Phase::BackingOff { .. }) => {
                self.launch(Goal::Run, self.restart_existing(), out)
            }
            // No `stop` event in time: `docker kill -s`, unless the engine
            // is shutting down (it can take seconds to send `stop` then).
            (Timer::StopEvent, Phase::AwaitingStop { facts }) => self.probe(Some(facts), out),
            (Timer::EngineRetry, Phase::WaitingForEngine { then, .. }) => {
                self.resume(then, now, out)
            }
            // A timer of a phase already left (its cancel raced the firing).
            _ => {}
        }
    }

    /// Carries on with what a unit waiting for the engine was doing.
    pub(super) fn resume(&mut self, then: Resume, now: Now, out: &mut Vec<Effect>) {
        match then {
            Resume::Launch(goal) => self.launch(goal, Existing::Reuse, out),
            Resume::Replace => self.launch(Goal::Run, Existing::Replace, out),
            Resume::StopByHand => self.stop_then(super::AfterStop::ByHand, now, out),
            Resume::Shutdown => self.stop_then(super::AfterStop::Shutdown, now, out),
            Resume::Remove => self.stop_then(super::AfterStop::Remove, now, out),
        }
    }
}
