//! Exponential backoff between restarts: initial delay, factor, cap, jitter,
//! and a reset once a run lasted long enough.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::too_long;
use crate::spec::text::duration_serde;

/// Delays between restarts. Defaults follow Docker: 100 ms doubling to 60 s,
/// reset after a 10 s run; stevedore adds ±10 % jitter so that units that
/// crash together do not restart in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backoff {
    /// Delay before the first restart, at most [`super::MAX_POLICY_DURATION`]
    /// like `max` and `reset_after`; 0 restarts at once (as supervisord
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
        let secs = (base.as_secs_f64() * spread).min(self.max.as_secs_f64());
        // Validation keeps every term small; should it not have run, a NaN
        // or a number past what a `Duration` holds becomes `max`, not a panic.
        Duration::try_from_secs_f64(secs.max(0.0))
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// Problems with these settings as (field, message), for validation.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if let Some(message) = too_long(self.initial) {
            problems.push(("initial", message));
        }
        if !(self.factor >= 1.0 && self.factor <= 100.0) {
            problems.push(("factor", format!("{} is outside 1-100", self.factor)));
        }
        if let Some(message) = too_long(self.max) {
            problems.push(("max", message));
        } else if self.max < self.initial {
            problems.push(("max", "is shorter than initial".to_string()));
        }
        if let Some(message) = too_long(self.reset_after) {
            problems.push(("reset_after", message));
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
    use proptest::prelude::*;

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

    #[test]
    fn a_backoff_longer_than_a_day_is_reported_field_by_field() {
        let day = Duration::from_secs(24 * 3600);
        let at_the_cap = Backoff {
            initial: day,
            max: day,
            reset_after: day,
            ..Backoff::default()
        };
        assert!(at_the_cap.problems().is_empty());
        let over = day + Duration::from_millis(1);
        let too_long = Backoff {
            initial: over,
            max: over,
            reset_after: over,
            ..Backoff::default()
        };
        let problems = too_long.problems();
        let fields: Vec<_> = problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["initial", "max", "reset_after"]);
        assert!(
            problems.iter().all(|(_, m)| m.contains("24 hours")),
            "{problems:?}"
        );
    }

    /// Durations from nothing to the largest a `Duration` holds: the
    /// issue's `5124095576030431h`, which once overflowed the delay, and a
    /// count of seconds an `f64` rounds up, which once made it exceed `max`.
    fn extreme_durations() -> [Duration; 7] {
        [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_millis(100),
            Duration::from_secs(24 * 3600),
            Duration::from_secs(11_727_296_433_648_551),
            Duration::from_secs(5_124_095_576_030_431 * 3600),
            Duration::MAX,
        ]
    }

    #[test]
    fn the_delay_never_panics_and_never_exceeds_max_whatever_the_settings() {
        let numbers = [
            0.0,
            0.1,
            1.0,
            2.0,
            100.0,
            -1.0,
            1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for initial in extreme_durations() {
            for max in extreme_durations() {
                for factor in numbers {
                    for jitter in numbers {
                        let backoff = Backoff {
                            initial,
                            factor,
                            max,
                            reset_after: Duration::ZERO,
                            jitter,
                        };
                        for attempt in [0, 1, 63, 1024, u32::MAX] {
                            for sample in numbers {
                                let delay = backoff.delay(attempt, sample);
                                assert!(delay <= max, "{backoff:?} {attempt} {sample}: {delay:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (any::<u64>(), 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
            (0..=86_400_000u64).prop_map(Duration::from_millis),
        ]
    }

    proptest! {
        #[test]
        fn any_delay_is_a_duration_no_longer_than_max(
            initial in any_duration(),
            max in any_duration(),
            factor in any::<f64>(),
            jitter in any::<f64>(),
            attempt in any::<u32>(),
            sample in any::<f64>(),
        ) {
            let backoff = Backoff { initial, factor, max, reset_after: Duration::ZERO, jitter };
            prop_assert!(backoff.delay(attempt, sample) <= max);
        }
    }
}
