//! The restart intensity limit: more than N restarts within a sliding window
//! fails the unit (OTP's intensity and period, per unit).

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::too_long;
use crate::spec::text::duration_serde;

/// At most `max_restarts` restarts within any `within` window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntensityLimit {
    /// Restarts allowed inside one window; more fails the unit.
    pub max_restarts: u32,
    /// Length of the sliding window, at most [`super::MAX_POLICY_DURATION`].
    #[serde(with = "duration_serde")]
    pub within: Duration,
}

impl Default for IntensityLimit {
    /// 10 restarts within 60 s. With the default backoff a crash loop cannot
    /// reach it (ten delays add up to 102 s), so the default behaves like
    /// Docker, which never gives up; it bites when the backoff is shortened.
    fn default() -> Self {
        IntensityLimit {
            max_restarts: 10,
            within: Duration::from_secs(60),
        }
    }
}

impl IntensityLimit {
    /// Whether one more restart at `now` would exceed the limit, given the
    /// times of earlier restarts.
    pub fn would_exceed(&self, restarts: &VecDeque<Instant>, now: Instant) -> bool {
        let recent = restarts
            .iter()
            .filter(|at| now.saturating_duration_since(**at) < self.within)
            .count();
        recent as u64 + 1 > u64::from(self.max_restarts)
    }

    /// Drops restart times that fell out of the window at `now`.
    pub fn forget_old(&self, restarts: &mut VecDeque<Instant>, now: Instant) {
        while let Some(first) = restarts.front() {
            if now.saturating_duration_since(*first) >= self.within {
                restarts.pop_front();
            } else {
                break;
            }
        }
    }

    /// Problems with these settings as (field, message), for validation.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        if self.within.is_zero() {
            vec![("within", "must be longer than 0".to_string())]
        } else if let Some(message) = too_long(self.within) {
            vec![("within", message)]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn restarts_older_than_the_window_do_not_count() {
        let limit = IntensityLimit {
            max_restarts: 2,
            within: Duration::from_secs(10),
        };
        let start = Instant::now();
        let mut restarts = VecDeque::from([start, start + Duration::from_secs(1)]);
        assert!(limit.would_exceed(&restarts, start + Duration::from_secs(2)));
        assert!(!limit.would_exceed(&restarts, start + Duration::from_secs(10)));
        limit.forget_old(&mut restarts, start + Duration::from_secs(10));
        assert_eq!(restarts.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_restarts_allowed_fails_on_the_first() {
        let limit = IntensityLimit {
            max_restarts: 0,
            within: Duration::from_secs(1),
        };
        assert!(limit.would_exceed(&VecDeque::new(), Instant::now()));
    }

    #[test]
    fn a_window_longer_than_a_day_is_refused() {
        let day = Duration::from_secs(24 * 3600);
        let limit = |within| IntensityLimit {
            max_restarts: 3,
            within,
        };
        assert!(limit(day).problems().is_empty());
        let problems = limit(day + Duration::from_millis(1)).problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, "within");
        assert!(problems[0].1.contains("24 hours"), "{problems:?}");
    }
}
