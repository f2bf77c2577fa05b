//! A token bucket that queues callers instead of refusing them.

use std::time::Duration;

use tokio::time::Instant;

/// Calls per second and burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Sustained calls per second.
    pub per_second: f64,
    /// Calls allowed at once after a quiet period.
    pub burst: u32,
}

impl Default for Rate {
    fn default() -> Self {
        Rate {
            per_second: 200.0,
            burst: 50,
        }
    }
}

/// Token bucket by reservation: each caller takes a token now and is told
/// how long to wait for it. Tokens may go negative, which is the queue: a
/// caller waits for every reservation made before it, so order is FIFO and
/// nobody is refused (kubelet's bucket refuses; we do not).
#[derive(Debug)]
pub struct TokenBucket {
    rate: Rate,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: Rate, now: Instant) -> Self {
        TokenBucket {
            rate,
            tokens: f64::from(rate.burst.max(1)),
            updated: now,
        }
    }

    /// Takes one token at `now`; returns how long the caller must wait for it.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        // A rate that is not a positive finite number means "no limit".
        if !self.rate.per_second.is_finite() || self.rate.per_second <= 0.0 {
            return Duration::ZERO;
        }
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.updated = now;
        let capacity = f64::from(self.rate.burst.max(1));
        self.tokens = (self.tokens + elapsed * self.rate.per_second).min(capacity);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate.per_second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_at_once_then_callers_queue_at_the_rate() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(
            Rate {
                per_second: 10.0,
                burst: 3,
            },
            now,
        );
        let waits: Vec<u128> = (0..6).map(|_| bucket.reserve(now).as_millis()).collect();
        assert_eq!(waits, [0, 0, 0, 100, 200, 300]);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_refill_with_time_up_to_the_burst() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(
            Rate {
                per_second: 10.0,
                burst: 2,
            },
            now,
        );
        bucket.reserve(now);
        bucket.reserve(now);
        let later = now + Duration::from_secs(60);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert_eq!(bucket.reserve(later), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unlimited_rate_never_waits() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(
            Rate {
                per_second: f64::INFINITY,
                burst: 1,
            },
            now,
        );
        assert!((0..1000).all(|_| bucket.reserve(now).is_zero()));
    }
}
