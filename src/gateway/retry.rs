//! Which failed calls are retried, and how long to wait before each retry:
//! exponential backoff with full jitter, bounded in attempts and total time.

use std::time::Duration;

use crate::engine::EngineError;

/// Retry bounds of the gateway.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// No retry starts after this much time since the first attempt.
    pub max_elapsed: Duration,
    /// Base delay; retry n waits up to `base × 2ⁿ`.
    pub base: Duration,
    /// Upper bound of one delay.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            max_elapsed: Duration::from_secs(30),
            base: Duration::from_millis(50),
            cap: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Whether to retry after `error` on attempt `attempt` (0-based) when
    /// `elapsed` has passed since the first attempt.
    pub fn should_retry(&self, error: &EngineError, attempt: u32, elapsed: Duration) -> bool {
        error.is_retryable() && attempt + 1 < self.max_attempts && elapsed < self.max_elapsed
    }

    /// The wait before retry `attempt` (0-based): uniform in `[0, min(cap,
    /// base × 2^attempt)]` ("full jitter"), with `sample` uniform in `[0, 1)`.
    pub fn delay(&self, attempt: u32, sample: f64) -> Duration {
        let ceiling = crate::policy::exponential(self.base, 2.0, attempt, self.cap);
        ceiling.mul_f64(sample.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Operation;

    #[test]
    fn only_transient_kinds_are_retried() {
        let policy = RetryPolicy::default();
        let zero = Duration::ZERO;
        assert!(policy.should_retry(&EngineError::Transient("reset".into()), 0, zero));
        assert!(policy.should_retry(&EngineError::Unavailable("refused".into()), 0, zero));
        let deadline = EngineError::DeadlineExceeded {
            operation: Operation::Stop,
            after: zero,
        };
        assert!(policy.should_retry(&deadline, 0, zero));
        assert!(!policy.should_retry(&EngineError::Conflict("x".into()), 0, zero));
        assert!(!policy.should_retry(&EngineError::ContainerNotFound("x".into()), 0, zero));
        assert!(!policy.should_retry(&EngineError::InvalidRequest("x".into()), 0, zero));
    }

    #[test]
    fn retries_stop_at_the_attempt_and_time_bounds() {
        let policy = RetryPolicy::default();
        let error = EngineError::Transient("reset".into());
        assert!(policy.should_retry(&error, 6, Duration::ZERO));
        assert!(!policy.should_retry(&error, 7, Duration::ZERO));
        assert!(!policy.should_retry(&error, 0, Duration::from_secs(30)));
    }

    #[test]
    fn full_jitter_spans_zero_to_the_capped_exponential() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(0, 0.0), Duration::ZERO);
        assert_eq!(policy.delay(0, 1.0), Duration::from_millis(50));
        assert_eq!(policy.delay(3, 1.0), Duration::from_millis(400));
        assert_eq!(policy.delay(30, 1.0), Duration::from_secs(2));
        assert_eq!(policy.delay(3, 0.5), Duration::from_millis(200));
    }
}
