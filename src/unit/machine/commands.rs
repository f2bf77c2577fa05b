//! Commands (stop, start, restart, update, remove, shutdown) and adoption
//! of a container found at start, as transitions of the machine.

use super::{Adoption, AfterStop, Command, Effect, Existing, Goal, Machine, Now, Phase, Work};
use crate::engine::EngineState;
use crate::labels;
use crate::spec::{UnitSpec, spec_hash};
use crate::unit::state::{UnitError, UnitState};

impl Machine {
    pub(super) fn on_command(&mut self, command: Command, now: Now, out: &mut Vec<Effect>) {
        if self.phase == Phase::Removed {
            out.push(Effect::Answer(Err(UnitError::NotFound(
                self.spec.name.clone(),
            ))));
            return;
        }
        let running = matches!(self.phase, Phase::Running { .. });
        match command {
            Command::Stop => match &self.phase {
                Phase::StoppedByHand { .. } => out.push(Effect::Answer(Ok(()))),
                _ if self.may_run() => self.stop_then(AfterStop::ByHand, now, out),
                _ => {
                    self.phase = Phase::StoppedByHand {
                        reason: "stopped by request".into(),
                    };
                    out.push(Effect::Answer(Ok(())));
                }
            },
            Command::Start if running => out.push(Effect::Answer(Ok(()))),
            Command::Start => {
                self.history.reset();
                self.launch(Goal::Run, Existing::Reuse, out);
            }
            Command::Restart if running => self.stop_then(AfterStop::Restart, now, out),
            Command::Restart => {
                self.history.reset();
                self.launch(Goal::Run, Existing::Reuse, out);
            }
            Command::Update(spec) => self.update(*spec, now, out),
            Command::Remove if self.may_run() => self.stop_then(AfterStop::Remove, now, out),
            Command::Remove => self.remove(out),
            Command::Shutdown => match &self.phase {
                _ if running => self.stop_then(AfterStop::Shutdown, now, out),
                Phase::BackingOff { .. }
                | Phase::AwaitingStop { .. }
                | Phase::Probing { .. }
                | Phase::WaitingForEngine { .. }
                | Phase::WaitingForDeps { .. } => {
                    self.phase = Phase::StoppedByShutdown;
                    out.push(Effect::Answer(Ok(())));
                }
                // Stopped by hand, exited, failed: the next supervisor finds them so.
                _ => out.push(Effect::Answer(Ok(()))),
            },
        }
    }

    /// Whether the container may be running, so that a stop must reach the
    /// engine: it runs, or the engine did not answer while it did.
    fn may_run(&self) -> bool {
        self.container.is_some()
            && match &self.phase {
                Phase::Running { .. } => true,
                Phase::WaitingForEngine { then, .. } => !matches!(
                    then,
                    super::Resume::Launch(Goal::Run) | super::Resume::Replace
                ),
                _ => false,
            }
    }

    /// Stops the container this supervisor's way, then `then`.
    pub(super) fn stop_then(&mut self, then: AfterStop, now: Now, out: &mut Vec<Effect>) {
        match self.container.clone() {
            Some(id) => {
                self.phase = Phase::Stopping {
                    id: id.clone(),
                    then,
                };
                out.push(Effect::Engine(Work::Stop(id)));
            }
            // Nothing to stop: carry on as if the stop had answered.
            None => self.after_stop(then, now, out),
        }
    }

    /// An unchanged spec changes nothing (a pending restart stays pending);
    /// a changed one replaces the container, which a unit stopped by hand
    /// creates without starting.
    fn update(&mut self, spec: UnitSpec, now: Now, out: &mut Vec<Effect>) {
        let hash = spec_hash(&spec);
        if hash == self.hash {
            out.push(Effect::Answer(Ok(())));
            return;
        }
        self.spec = spec;
        self.hash = hash;
        self.restart_reason = Some("spec changed".into());
        match &self.phase {
            Phase::Running { .. } => self.stop_then(AfterStop::Replace, now, out),
            Phase::StoppedByHand { .. } => self.launch(Goal::CreateOnly, Existing::Replace, out),
            _ if self.may_run() => self.stop_then(AfterStop::Replace, now, out),
            _ => self.launch(Goal::Run, Existing::Replace, out),
        }
    }

    /// Takes over a container found at start, with what the phase record
    /// says the previous supervisor last saw.
    pub(super) fn adopt(&mut self, adoption: Adoption, now: Now, out: &mut Vec<Effect>) {
        let Adoption { snapshot, recorded } = adoption;
        let carried = labels::carried_state(&snapshot.labels);
        self.history.restart_count = carried.restart_count;
        self.history.quick_failures = carried.quick_failures;
        self.last_exit = carried.last_exit_code;
        self.restart_reason = carried.last_restart_reason;
        // Restarts in place leave the labels at the count of the container's
        // creation; the phase record has the later one.
        if let Some(record) = &recorded
            && record.restart_count > self.history.restart_count
        {
            self.history.restart_count = record.restart_count;
            self.last_exit = record.last_exit_code.or(self.last_exit);
        }
        self.container = Some(snapshot.id.clone());
        let phase = recorded.as_ref().map(|record| record.phase.as_str());
        let was = |state: UnitState| phase == Some(state.as_str());
        if snapshot.state.is_alive() {
            // Running, whatever the record says: a unit stopped by hand that
            // someone `docker start`ed since is running again.
            let reason = if was(UnitState::Stopped) {
                "adopted; started outside stevedore since it was stopped"
            } else {
                "adopted"
            };
            let health = snapshot.health;
            self.enter_running(snapshot.id, now, Some(reason));
            if let Some(health) = health {
                self.on_health(health, now, out);
            }
            return;
        }
        self.last_exit = snapshot.exit_code.or(self.last_exit);
        if was(UnitState::Stopped) {
            self.phase = Phase::StoppedByHand {
                reason: "stopped by request before the supervisor restarted".into(),
            };
        } else if snapshot.state == EngineState::Created
            || was(UnitState::StoppedByShutdown)
            || was(UnitState::BackingOff)
            || was(UnitState::WaitingForEngine)
            || was(UnitState::Waiting)
        {
            // Created but never started (the supervisor stopped between the
            // two), stopped by a shutdown, or due for a restart that was
            // already counted: start it, counting nothing.
            self.launch(Goal::Run, Existing::Reuse, out);
        } else if was(UnitState::Failed) {
            self.phase = Phase::Failed {
                reason: recorded
                    .and_then(|record| record.reason)
                    .unwrap_or_else(|| "failed before the supervisor restarted".into()),
            };
        } else if was(UnitState::Exited) {
            self.phase = Phase::Exited {
                reason: "exited before the supervisor restarted".into(),
            };
        } else {
            // It exited while no supervisor watched: an exit like any other.
            let exit_code = snapshot.exit_code.unwrap_or(-1);
            self.last_exit = Some(exit_code);
            let facts = crate::policy::ExitFacts {
                exit_code,
                oom_killed: false,
                ran_for: std::time::Duration::ZERO,
                unhealthy: false,
            };
            self.apply_exit(facts, now, out);
        }
    }
}
