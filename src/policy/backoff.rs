//! Exponential backoff between restarts: initial delay, factor, cap, jitter,
//! and a reset once a run lasted long enough.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::spec::text::duration_serde;

/// Delays between restarts. Defaults follow Docker: 100 ms doubling to 60 s,
/// reset after a 10 s run; stevedore adds ±10 % jitter so that units that
/// crash together do not restart in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backoff {
    /// Delay before the first restart; 0 restarts at once (as supervisord
    /// and systemd's `RestartSec=0` can), and the intensity limit still ends
    /// a crash loop.
    #[serde(with = "duration_serde")]
    pub initial: Duration,
    /// Growth of the delay per consecutive quick failure (≥ 1).
    pub factor: f64,
    /// Upper bound of the delay.
    #[serde(with = "duration_serde")]
    pub max: Duration,
    /// A run at least this long resets the delay to `initial`.
    #[serde(with = "duration_serde")]
    pub reset_after: Duration,
    /// Spread of the delay, as a fraction (0.1 = ±10 %), between 0 and 1.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            factor: 2.0,
            max: Duration::from_secs(60),
            reset_after: Duration::from_secs(10),
            jitter: 0.1,
        }
    }
}

/// `initial × factor^attempt`, capped at `cap`: the one exponential of the
/// crate (restart backoff, the gateway's retries, events reconnects), which
/// never overflows or panics whatever its inputs (a NaN or negative product
/// reads as the cap or zero).
pub fn exponential(initial: Duration, factor: f64, attempt: u32, cap: Duration) -> Duration {
    if initial.is_zero() {
        return Duration::ZERO; // 0 × factor^huge would be 0 × ∞, not a number
    }
    let secs = initial.as_secs_f64() * factor.powi(attempt.min(1024) as i32);
    let capped = if secs.is_nan() {
        cap.as_secs_f64()
    } else {
        secs.clamp(0.0, cap.as_secs_f64())
    };
    Duration::try_from_secs_f64(capped).unwrap_or(cap)
}

impl Backoff {
    /// The delay before restart number `attempt` (0-based) of a run of quick
    /// failures. `jitter_sample` is a uniform number in `[0, 1)`; 0.5 means
    /// no jitter. The result never exceeds `max`.
    pub fn delay(&self, attempt: u32, jitter_sample: f64) -> Duration {
        let base = exponential(self.initial, self.factor, attempt, self.max);
        let spread = 1.0 + self.jitter * (2.0 * jitter_sample.clamp(0.0, 1.0) - 1.0);
        let secs = (base.as_secs_f64() * spread).clamp(0.0, self.max.as_secs_f64());
        Duration::try_from_secs_f64(secs).unwrap_or(self.max)
    }

    /// Problems with these settings as (field, message), for validation.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if !(self.factor >= 1.0 && self.factor <= 100.0) {
            problems.push(("factor", format!("{} is outside 1-100", self.factor)));
        }
        if self.max < self.initial {
            problems.push(("max", "is shorter than initial".to_string()));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            problems.push(("jitter", format!("{} is outside 0-1", self.jitter)));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_jitter() -> Backoff {
        Backoff {
            jitter: 0.0,
            ..Backoff::default()
        }
    }

    #[test]
    fn default_backoff_doubles_from_100ms_like_docker() {
        let delays: Vec<u128> = (0..5)
            .map(|n| no_jitter().delay(n, 0.9).as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600]);
    }

    #[test]
    fn backoff_is_capped_at_max() {
        assert_eq!(no_jitter().delay(10, 0.5), Duration::from_secs(60));
        assert_eq!(no_jitter().delay(u32::MAX, 0.5), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let backoff = Backoff {
            jitter: 0.2,
            ..Backoff::default()
        };
        assert_eq!(backoff.delay(0, 0.0), Duration::from_millis(80));
        assert_eq!(backoff.delay(0, 0.5), Duration::from_millis(100));
        assert!(backoff.delay(0, 0.999_999) <= Duration::from_millis(120));
        for sample in [0.0, 0.3, 0.7, 0.99] {
            assert!(backoff.delay(20, sample) <= backoff.max);
        }
    }

    #[test]
    fn zero_initial_backoff_restarts_at_once_every_time() {
        let immediate = Backoff {
            initial: Duration::ZERO,
            ..Backoff::default()
        };
        assert!(immediate.problems().is_empty());
        for attempt in [0, 1, 10, u32::MAX] {
            assert_eq!(immediate.delay(attempt, 0.9), Duration::ZERO);
        }
    }

    #[test]
    fn settings_that_cannot_work_are_reported() {
        let bad = Backoff {
            initial: Duration::from_secs(2),
            factor: f64::NAN,
            max: Duration::from_secs(1),
            reset_after: Duration::ZERO,
            jitter: 1.5,
        };
        let fields: Vec<_> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["factor", "max", "jitter"]);
    }
}
