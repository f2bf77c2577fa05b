//! The gateway's rate limit: a token bucket whose callers queue instead of
//! being refused, in two lanes — stops, kills and removes go before the
//! creates and starts queued ahead of them, so a flood of adds never starves
//! the calls that take load off the engine.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

/// Calls per second and burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Sustained calls per second; not a positive finite number means no limit.
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

impl Rate {
    fn is_unlimited(&self) -> bool {
        !self.per_second.is_finite() || self.per_second <= 0.0
    }
}

/// The bucket and its two queues of waiting callers.
#[derive(Debug)]
struct Bucket {
    rate: Rate,
    tokens: f64,
    updated: Instant,
    urgent: VecDeque<oneshot::Sender<()>>,
    normal: VecDeque<oneshot::Sender<()>>,
    dispatching: bool,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.updated = now;
        self.tokens =
            (self.tokens + elapsed * self.rate.per_second).min(f64::from(self.rate.burst.max(1)));
    }

    /// Hands tokens to waiting callers, urgent lane first; returns how long
    /// until the next token when callers are still waiting.
    fn grant(&mut self, now: Instant) -> Option<Duration> {
        self.refill(now);
        while self.tokens >= 1.0 {
            let Some(waiter) = self.urgent.pop_front().or_else(|| self.normal.pop_front()) else {
                break;
            };
            // A caller that gave up (its future was dropped) takes no token.
            if waiter.send(()).is_ok() {
                self.tokens -= 1.0;
            }
        }
        if self.urgent.is_empty() && self.normal.is_empty() {
            None
        } else {
            Some(Duration::from_secs_f64(
                (1.0 - self.tokens).max(0.0) / self.rate.per_second,
            ))
        }
    }
}

/// The rate limiter shared by the gateway's calls.
#[derive(Debug)]
pub(crate) struct Limiter {
    bucket: Mutex<Bucket>,
}

impl Limiter {
    /// A full bucket.
    pub(crate) fn new(rate: Rate) -> Arc<Self> {
        Arc::new(Limiter {
            bucket: Mutex::new(Bucket {
                rate,
                tokens: f64::from(rate.burst.max(1)),
                updated: Instant::now(),
                urgent: VecDeque::new(),
                normal: VecDeque::new(),
                dispatching: false,
            }),
        })
    }

    /// Waits for a token. Urgent callers overtake normal ones that wait;
    /// within a lane the order is first come, first served.
    pub(crate) async fn acquire(self: &Arc<Self>, urgent: bool) {
        let granted = {
            let mut bucket = self.bucket.lock().unwrap();
            if bucket.rate.is_unlimited() {
                return;
            }
            bucket.refill(Instant::now());
            let nobody_ahead = bucket.urgent.is_empty() && (urgent || bucket.normal.is_empty());
            if nobody_ahead && bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
                return;
            }
            let (tx, rx) = oneshot::channel();
            if urgent {
                bucket.urgent.push_back(tx);
            } else {
                bucket.normal.push_back(tx);
            }
            if !bucket.dispatching {
                bucket.dispatching = true;
                tokio::spawn(Arc::clone(self).dispatch());
            }
            rx
        };
        let _ = granted.await;
    }

    /// Grants tokens as they refill until nobody waits.
    async fn dispatch(self: Arc<Self>) {
        loop {
            let next = {
                let mut bucket = self.bucket.lock().unwrap();
                let next = bucket.grant(Instant::now());
                if next.is_none() {
                    bucket.dispatching = false;
                }
                next
            };
            match next {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_at_once_then_callers_queue_at_the_rate() {
        let limiter = Limiter::new(Rate {
            per_second: 10.0,
            burst: 3,
        });
        let start = Instant::now();
        let mut waits = Vec::new();
        for _ in 0..6 {
            limiter.acquire(false).await;
            waits.push(start.elapsed().as_millis());
        }
        assert_eq!(waits, [0, 0, 0, 100, 200, 300]);
    }

    #[tokio::test(start_paused = true)]
    async fn urgent_callers_overtake_a_queue_of_normal_ones() {
        let limiter = Limiter::new(Rate {
            per_second: 10.0,
            burst: 1,
        });
        limiter.acquire(false).await;
        let order = Arc::new(StdMutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..5 {
            let (limiter, order) = (Arc::clone(&limiter), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                limiter.acquire(false).await;
                order.lock().unwrap().push(format!("create{n}"));
            }));
            tokio::task::yield_now().await;
        }
        let (urgent, urgent_order) = (Arc::clone(&limiter), Arc::clone(&order));
        tasks.push(tokio::spawn(async move {
            urgent.acquire(true).await;
            urgent_order.lock().unwrap().push("stop".into());
        }));
        for task in tasks {
            task.await.unwrap();
        }
        let order = order.lock().unwrap();
        assert_eq!(order[0], "stop", "{order:?}");
        assert_eq!(order.len(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_refill_with_time_up_to_the_burst() {
        let limiter = Limiter::new(Rate {
            per_second: 10.0,
            burst: 2,
        });
        limiter.acquire(false).await;
        limiter.acquire(false).await;
        tokio::time::advance(Duration::from_secs(60)).await;
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire(false).await;
        }
        assert_eq!(
            start.elapsed().as_millis(),
            100,
            "two from the refilled burst, then one at the rate"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_unlimited_rate_never_waits() {
        let limiter = Limiter::new(Rate {
            per_second: f64::INFINITY,
            burst: 1,
        });
        let start = Instant::now();
        for _ in 0..1000 {
            limiter.acquire(false).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
