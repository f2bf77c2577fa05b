//! The decision after an exit: a pure function of the policy, what the exit
//! looked like and the unit's restart history.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::{Backoff, IntensityLimit, RestartPolicy};

/// What is known about one exit of a unit's container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitFacts {
    /// The process's exit code (137 after a kill).
    pub exit_code: i64,
    /// The kernel's OOM killer ended it.
    pub oom_killed: bool,
    /// How long it ran, from start to exit.
    pub ran_for: Duration,
    /// It did not exit: its health check failed, and the unit stops it.
    pub unhealthy: bool,
}

/// What the unit remembers of its restarts. `restart_count` and
/// `quick_failures` survive a supervisor restart through container labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestartHistory {
    /// Restarts since the unit was last started by hand (Docker's RestartCount).
    pub restart_count: u32,
    /// Consecutive runs shorter than the backoff's `reset_after`.
    pub quick_failures: u32,
    /// When recent restarts happened, for the intensity window.
    pub recent: VecDeque<Instant>,
}

impl RestartHistory {
    /// The backoff step the next restart uses: a long enough run starts over.
    pub fn backoff_attempt(&self, ran_for: Duration, backoff: &Backoff) -> u32 {
        if ran_for >= backoff.reset_after {
            0
        } else {
            self.quick_failures
        }
    }

    /// Records a restart decided at `now` with backoff step `attempt`.
    pub fn record_restart(&mut self, now: Instant, attempt: u32, intensity: &IntensityLimit) {
        self.restart_count = self.restart_count.saturating_add(1);
        self.quick_failures = attempt.saturating_add(1);
        intensity.forget_old(&mut self.recent, now);
        self.recent.push_back(now);
    }

    /// Forgets everything, as Docker does when a user starts a container.
    pub fn reset(&mut self) {
        *self = RestartHistory::default();
    }
}

/// What to do after an exit.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Start again after `delay`; `attempt` is the backoff step to record.
    RestartAfter {
        /// How long to wait first.
        delay: Duration,
        /// Backoff step used, for [`RestartHistory::record_restart`].
        attempt: u32,
        /// Why, for events and labels ("exited with code 1").
        reason: String,
    },
    /// Leave the container exited: the policy does not restart this exit.
    Stay {
        /// Why, for events.
        reason: String,
    },
    /// Stop trying: the unit is failed.
    GiveUp {
        /// Why, for events and status.
        reason: String,
    },
}

/// Words for an exit, as events and labels show it.
pub fn describe_exit(facts: &ExitFacts) -> String {
    if facts.unhealthy {
        "unhealthy".to_string()
    } else if facts.oom_killed {
        format!("killed by the OOM killer (exit code {})", facts.exit_code)
    } else {
        format!("exited with code {}", facts.exit_code)
    }
}

/// Decides what follows an exit that the user did not ask for.
///
/// Docker's meaning: `no` never restarts; `always` and `unless-stopped`
/// always do; `on-failure[:N]` restarts a non-zero exit (an OOM kill is one)
/// while fewer than N restarts happened. On top of Docker: the intensity limit
/// gives up when one more restart would exceed it. `jitter_sample` is uniform
/// in `[0, 1)`.
pub fn decide(
    policy: RestartPolicy,
    backoff: &Backoff,
    intensity: &IntensityLimit,
    facts: &ExitFacts,
    history: &RestartHistory,
    now: Instant,
    jitter_sample: f64,
) -> Decision {
    let exit = describe_exit(facts);
    let failed = facts.exit_code != 0 || facts.oom_killed || facts.unhealthy;
    match policy {
        RestartPolicy::No => {
            return Decision::Stay {
                reason: format!("{exit}; restart policy is \"no\""),
            };
        }
        RestartPolicy::OnFailure { .. } if !failed => {
            return Decision::Stay {
                reason: format!("{exit}; on-failure does not restart a success"),
            };
        }
        RestartPolicy::OnFailure {
            max_retries: Some(max),
        } if history.restart_count >= max => {
            return Decision::GiveUp {
                reason: format!(
                    "{exit} after {} restarts (on-failure:{max})",
                    history.restart_count
                ),
            };
        }
        _ => {}
    }
    if intensity.would_exceed(&history.recent, now) {
        return Decision::GiveUp {
            reason: format!(
                "{exit}; more than {} restarts within {:?}",
                intensity.max_restarts, intensity.within
            ),
        };
    }
    let attempt = history.backoff_attempt(facts.ran_for, backoff);
    Decision::RestartAfter {
        delay: backoff.delay(attempt, jitter_sample),
        attempt,
        reason: exit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_JITTER: f64 = 0.5;

    fn exit(code: i64) -> ExitFacts {
        ExitFacts {
            exit_code: code,
            oom_killed: false,
            ran_for: Duration::from_millis(50),
            unhealthy: false,
        }
    }

    fn run(policy: &str, facts: ExitFacts, history: &RestartHistory) -> Decision {
        decide(
            policy.parse().unwrap(),
            &Backoff::default(),
            &IntensityLimit::default(),
            &facts,
            history,
            Instant::now(),
            NO_JITTER,
        )
    }

    fn restarts(decision: &Decision) -> bool {
        matches!(decision, Decision::RestartAfter { .. })
    }

    #[tokio::test(start_paused = true)]
    async fn every_policy_meets_every_kind_of_exit_as_docker_does() {
        let fresh = RestartHistory::default();
        // (policy, exit code, restarts?)
        let table = [
            ("no", 0, false),
            ("no", 1, false),
            ("always", 0, true),
            ("always", 1, true),
            ("always", 137, true),
            ("unless-stopped", 0, true),
            ("unless-stopped", 2, true),
            ("on-failure", 0, false),
            ("on-failure", 1, true),
            ("on-failure", 137, true),
            ("on-failure:3", 0, false),
            ("on-failure:3", 3, true),
        ];
        for (policy, code, expected) in table {
            assert_eq!(
                restarts(&run(policy, exit(code), &fresh)),
                expected,
                "{policy} exit {code}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_unhealthy_container_is_a_failure_named_unhealthy() {
        let facts = ExitFacts {
            unhealthy: true,
            ..exit(0)
        };
        let Decision::RestartAfter { reason, .. } =
            run("on-failure", facts, &RestartHistory::default())
        else {
            panic!("on-failure restarts an unhealthy container")
        };
        assert_eq!(reason, "unhealthy");
        assert!(!restarts(&run("no", facts, &RestartHistory::default())));
    }

    #[tokio::test(start_paused = true)]
    async fn an_oom_kill_is_a_failure_for_on_failure() {
        let facts = ExitFacts {
            oom_killed: true,
            ..exit(0)
        };
        let decision = run("on-failure", facts, &RestartHistory::default());
        assert!(restarts(&decision));
        let Decision::RestartAfter { reason, .. } = decision else {
            unreachable!()
        };
        assert!(reason.contains("OOM"));
    }

    #[tokio::test(start_paused = true)]
    async fn on_failure_three_gives_up_after_the_third_restart() {
        let mut history = RestartHistory::default();
        let intensity = IntensityLimit::default();
        for _ in 0..3 {
            let Decision::RestartAfter { attempt, .. } = run("on-failure:3", exit(1), &history)
            else {
                panic!("should restart")
            };
            history.record_restart(Instant::now(), attempt, &intensity);
        }
        let decision = run("on-failure:3", exit(1), &history);
        assert!(
            matches!(decision, Decision::GiveUp { ref reason } if reason.contains("on-failure:3"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unit_backs_off_longer_after_each_quick_crash() {
        let mut history = RestartHistory::default();
        let intensity = IntensityLimit::default();
        let mut delays = Vec::new();
        for _ in 0..4 {
            let Decision::RestartAfter { delay, attempt, .. } = run("always", exit(1), &history)
            else {
                panic!()
            };
            delays.push(delay.as_millis());
            history.record_restart(Instant::now(), attempt, &intensity);
            tokio::time::advance(delay).await;
        }
        assert_eq!(delays, [100, 200, 400, 800]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_healthy_run_resets_the_backoff() {
        let history = RestartHistory {
            restart_count: 5,
            quick_failures: 5,
            recent: VecDeque::new(),
        };
        let long_run = ExitFacts {
            ran_for: Duration::from_secs(10),
            ..exit(1)
        };
        let Decision::RestartAfter { delay, attempt, .. } = run("always", long_run, &history)
        else {
            panic!()
        };
        assert_eq!((delay, attempt), (Duration::from_millis(100), 0));
    }

    #[tokio::test(start_paused = true)]
    async fn unit_fails_when_restarts_exceed_the_intensity_window() {
        let intensity = IntensityLimit {
            max_restarts: 3,
            within: Duration::from_secs(10),
        };
        let backoff = Backoff {
            initial: Duration::from_millis(10),
            factor: 1.0,
            ..Backoff::default()
        };
        let mut history = RestartHistory::default();
        let mut outcomes = Vec::new();
        for _ in 0..4 {
            let now = Instant::now();
            let decision = decide(
                RestartPolicy::Always,
                &backoff,
                &intensity,
                &exit(1),
                &history,
                now,
                NO_JITTER,
            );
            if let Decision::RestartAfter { attempt, delay, .. } = &decision {
                history.record_restart(now, *attempt, &intensity);
                tokio::time::advance(*delay).await;
            }
            outcomes.push(restarts(&decision));
        }
        assert_eq!(outcomes, [true, true, true, false]);
        // Once the window has slid past the early restarts, restarting is allowed again.
        tokio::time::advance(Duration::from_secs(10)).await;
        let later = decide(
            RestartPolicy::Always,
            &backoff,
            &intensity,
            &exit(1),
            &history,
            Instant::now(),
            NO_JITTER,
        );
        assert!(restarts(&later));
    }

    #[test]
    fn a_user_start_resets_the_history() {
        let mut history = RestartHistory {
            restart_count: 3,
            quick_failures: 3,
            recent: VecDeque::new(),
        };
        history.reset();
        assert_eq!(history, RestartHistory::default());
    }
}
