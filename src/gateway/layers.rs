//! The gateway's layers around every engine call, in order: rate limit,
//! in-flight cap, deadline, then retry of the whole with backoff.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Semaphore;
use tokio::time::{Instant, sleep, timeout};

use super::rate::{Limiter, Rate};
use super::retry::RetryPolicy;
use super::stats::Counters;
use crate::engine::{Engine, EngineError, EngineResult, Operation};

/// Everything an engine call passes through; shared by the gateway's calls.
pub(crate) struct Layers {
    pub(crate) engine: Arc<dyn Engine>,
    pub(crate) limiter: Arc<Limiter>,
    in_flight: Semaphore,
    retry: RetryPolicy,
    pub(crate) counters: Counters,
}

impl Layers {
    pub(crate) fn new(
        engine: Arc<dyn Engine>,
        rate: Rate,
        max_in_flight: usize,
        retry: RetryPolicy,
    ) -> Self {
        Layers {
            engine,
            limiter: Limiter::new(rate),
            in_flight: Semaphore::new(max_in_flight.max(1)),
            retry,
            counters: Counters::default(),
        }
    }

    /// Runs `call` through every layer. The rate limit and the cap apply to
    /// each attempt, so retries are paced and bounded like first attempts.
    pub(crate) async fn run<T>(
        &self,
        operation: Operation,
        deadline: Duration,
        mut call: impl FnMut(&dyn Engine) -> BoxFuture<'static, EngineResult<T>>,
    ) -> EngineResult<T> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            let error = match self.attempt(operation, deadline, &mut call).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if !self.retry.should_retry(&error, attempt, started.elapsed()) {
                return Err(error);
            }
            tracing::debug!(?operation, %error, attempt, "retrying engine call");
            self.counters.retry(operation);
            sleep(self.retry.delay(attempt, rand::random())).await;
            attempt += 1;
        }
    }

    /// One attempt through the rate limit, the cap and the deadline, with no
    /// retry: for a caller whose own loop decides what a failure means.
    pub(crate) async fn attempt<T>(
        &self,
        operation: Operation,
        deadline: Duration,
        call: &mut impl FnMut(&dyn Engine) -> BoxFuture<'static, EngineResult<T>>,
    ) -> EngineResult<T> {
        let asked = Instant::now();
        self.limiter.acquire(operation.is_urgent()).await;
        let waited = asked.elapsed();
        if !waited.is_zero() {
            self.counters.update(|stats| stats.rate_limited += waited);
        }
        let _permit = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        self.counters.attempt(operation);
        let began = Instant::now();
        let result = timeout(deadline, call(&*self.engine)).await.unwrap_or(Err(
            EngineError::DeadlineExceeded {
                operation,
                after: deadline,
            },
        ));
        self.counters
            .finished(operation, began.elapsed(), result.is_err());
        if let Err(error) = &result {
            self.counters.failure(error);
        }
        result
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use crate::engine::RawFailure;
    use crate::engine::fake::FakeEngine;

    fn layers(engine: &FakeEngine) -> Layers {
        Layers::new(
            Arc::new(engine.clone()),
            Rate::default(),
            4,
            RetryPolicy::default(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_until_success() {
        let engine = FakeEngine::new();
        for _ in 0..3 {
            engine.fail_next(Operation::List, RawFailure::ConnectionLost("reset".into()));
        }
        let layers = layers(&engine);
        let listed = layers
            .run(Operation::List, Duration::from_secs(1), |e| {
                e.list_containers(String::new())
            })
            .await;
        assert!(listed.is_ok());
        assert_eq!(engine.calls(Operation::List), 4);
        assert_eq!(layers.counters.snapshot().retries[&Operation::List], 3);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_failures_are_returned_at_once() {
        let engine = FakeEngine::new();
        let layers = layers(&engine);
        let result = layers
            .run(Operation::Start, Duration::from_secs(1), |e| {
                e.start_container("nope".into())
            })
            .await;
        assert!(matches!(result, Err(EngineError::ContainerNotFound(_))));
        assert_eq!(engine.calls(Operation::Start), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_hangs_ends_at_its_deadline_and_the_retries_are_bounded() {
        let engine = FakeEngine::new();
        let layers = layers(&engine);
        let result: EngineResult<()> = layers
            .run(Operation::Stop, Duration::from_secs(2), |_| {
                Box::pin(futures::future::pending())
            })
            .await;
        assert!(matches!(result, Err(EngineError::DeadlineExceeded { .. })));
        assert_eq!(layers.counters.snapshot().calls[&Operation::Stop], 8);
    }
}
