//! Health verdicts and dependency readiness as transitions of the machine:
//! an unhealthy container is stopped and its restart decided like a failed
//! run's; a launch waits while the dependencies' conditions do not hold.

use super::{AfterStop, Effect, Existing, Machine, Now, Phase, Readiness, Timer, Verdict};
use crate::engine::Health;
use crate::policy::{Decision, ExitFacts};
use crate::spec::OnUnhealthy;

impl Machine {
    /// The engine's check changed its verdict on the running container.
    pub(super) fn on_health(&mut self, health: Health, now: Now, out: &mut Vec<Effect>) {
        let Phase::Running { since, .. } = self.phase else {
            return; // a verdict on a container that is not running means nothing
        };
        if self.spec.declares_check().is_none() {
            self.image_check_seen = true;
        }
        self.health = Some(health);
        if health == Health::Unhealthy && self.spec.unhealthy_action() == OnUnhealthy::Restart {
            let facts = ExitFacts {
                exit_code: -1,
                oom_killed: false,
                ran_for: now.at.saturating_duration_since(since),
                unhealthy: true,
            };
            self.stop_unhealthy(facts, now, out);
        }
    }

    /// Decides now, as for a failed run, then stops the container with its
    /// grace period and signal; the verdict is carried out once it stopped.
    fn stop_unhealthy(&mut self, facts: ExitFacts, now: Now, out: &mut Vec<Effect>) {
        let decision = self.decide(&facts, now);
        let verdict = match decision {
            Decision::RestartAfter {
                delay,
                attempt,
                reason,
            } => {
                self.history
                    .record_restart(now.at, attempt, &self.spec.intensity);
                self.restart_reason = Some(reason.clone());
                // The container has been failing since its streak began,
                // not since the verdict: the delay counts from there, as a
                // crash's counts from the exit.
                let failing_since = now.at.checked_sub(self.failing_for()).unwrap_or(now.at);
                Verdict::Restart {
                    until: failing_since + delay,
                    reason,
                }
            }
            Decision::Stay { reason } => Verdict::Stay(reason),
            Decision::GiveUp { reason } => Verdict::GiveUp(reason),
        };
        self.stop_then(AfterStop::Unhealthy(verdict), now, out);
    }

    /// How long the container had been failing its check when it was
    /// found unhealthy: `retries` checks an `interval` apart (the engine's
    /// defaults, 3 and 30 s, where the unit leaves them out). A check only
    /// the image declares has timings stevedore does not know: none.
    fn failing_for(&self) -> std::time::Duration {
        match (&self.spec.healthcheck, self.spec.declares_check()) {
            (Some(check), Some(true)) => {
                let interval = check.interval.unwrap_or(std::time::Duration::from_secs(30));
                interval.saturating_mul(check.retries.unwrap_or(3))
            }
            _ => std::time::Duration::ZERO,
        }
    }

    /// Carries out the verdict on a container stopped for being unhealthy.
    pub(super) fn after_unhealthy_stop(
        &mut self,
        verdict: Verdict,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        match verdict {
            Verdict::Restart { until, .. } if until <= now.at => {
                self.launch(super::Goal::Run, self.restart_existing(), out)
            }
            Verdict::Restart { until, reason } => {
                self.phase = Phase::BackingOff { until, reason };
                out.push(Effect::Arm(Timer::Restart, until - now.at));
            }
            Verdict::Stay(reason) => self.phase = Phase::Exited { reason },
            Verdict::GiveUp(reason) => self.phase = Phase::Failed { reason },
        }
    }

    /// The dependencies' conditions changed: a unit waiting for them
    /// launches once they hold, and says what it waits for meanwhile.
    pub(super) fn on_dependencies(&mut self, readiness: Readiness, out: &mut Vec<Effect>) {
        self.deps = readiness;
        if let Phase::WaitingForDeps { .. } = self.phase {
            match &self.deps {
                Readiness::Ready => self.launch(super::Goal::Run, Existing::Reuse, out),
                Readiness::Waiting(on) => self.phase = Phase::WaitingForDeps { on: on.clone() },
            }
        }
    }

    /// A dependency with `restart = true` restarted: a running unit restarts
    /// too (and waits for the dependency's condition again before it starts).
    pub(super) fn on_dependency_restarted(
        &mut self,
        name: String,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        if matches!(self.phase, Phase::Running { .. }) {
            let reason = format!("dependency {name} restarted");
            self.stop_then(AfterStop::Relaunch { reason }, now, out);
        }
    }

    /// Whether the start of a container must wait for the dependencies; if
    /// so the unit enters `waiting` with its container created (and an add
    /// or a start waiting for an answer is told it is accepted).
    pub(super) fn waits_for_deps(&mut self, out: &mut Vec<Effect>) -> bool {
        let Readiness::Waiting(on) = &self.deps else {
            return false;
        };
        self.phase = Phase::WaitingForDeps { on: on.clone() };
        out.push(Effect::Answer(Ok(())));
        true
    }
}
