//! Counters of the gateway's calls, retries and failures by kind.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::engine::{EngineError, Operation};

/// A copy of the gateway's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Attempts sent to the engine, by operation (retries included).
    pub calls: BTreeMap<Operation, u64>,
    /// Retries, by operation.
    pub retries: BTreeMap<Operation, u64>,
    /// Failed attempts, by error kind (see [`EngineError::kind`]).
    pub failures: BTreeMap<&'static str, u64>,
    /// Times the events stream was (re)connected.
    pub event_connects: u64,
    /// Full resyncs done after an events stream reconnect.
    pub resyncs: u64,
    /// Image pulls started (single flight: one per image at a time).
    pub pulls: u64,
    /// Failed attempts, by operation (the rest of `calls` succeeded).
    pub errors: BTreeMap<Operation, u64>,
    /// How long attempts took, by operation (the events stream excluded).
    pub durations: BTreeMap<Operation, CallDurations>,
    /// Time calls spent waiting for the rate limiter, all together.
    pub rate_limited: Duration,
    /// Whether the events stream is connected now.
    pub events_connected: bool,
}

/// Upper bounds, in seconds, of the buckets of [`CallDurations`].
pub const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A histogram of call durations over [`DURATION_BUCKETS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallDurations {
    /// Calls at or under each bound (not cumulative); longer ones only
    /// count in `count`.
    pub buckets: [u64; DURATION_BUCKETS.len()],
    /// Calls in all.
    pub count: u64,
    /// Their durations added up.
    pub sum: Duration,
}

impl CallDurations {
    /// Counts one call that took `took`.
    pub fn observe(&mut self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(bucket) = DURATION_BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[bucket] += 1;
        }
        self.count += 1;
        self.sum += took;
    }

    /// `(bound, calls at or under it)` per bucket, cumulative, as Prometheus
    /// histograms have them (the `+Inf` bucket is `count`).
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        DURATION_BUCKETS
            .iter()
            .zip(self.buckets)
            .map(|(bound, calls)| {
                total += calls;
                (*bound, total)
            })
            .collect()
    }
}

impl GatewayStats {
    /// Attempts of every operation together.
    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }
}

/// The live counters, shared by the gateway's in-flight calls.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    inner: Mutex<GatewayStats>,
}

impl Counters {
    pub(crate) fn attempt(&self, operation: Operation) {
        *self
            .inner
            .lock()
            .unwrap()
            .calls
            .entry(operation)
            .or_default() += 1;
    }

    pub(crate) fn retry(&self, operation: Operation) {
        *self
            .inner
            .lock()
            .unwrap()
            .retries
            .entry(operation)
            .or_default() += 1;
    }

    /// One attempt of `operation` ended after `took`, failed or not.
    pub(crate) fn finished(&self, operation: Operation, took: Duration, failed: bool) {
        let mut stats = self.inner.lock().unwrap();
        stats.durations.entry(operation).or_default().observe(took);
        if failed {
            *stats.errors.entry(operation).or_default() += 1;
        }
    }

    pub(crate) fn failure(&self, error: &EngineError) {
        *self
            .inner
            .lock()
            .unwrap()
            .failures
            .entry(error.kind())
            .or_default() += 1;
    }

    pub(crate) fn update(&self, change: impl FnOnce(&mut GatewayStats)) {
        change(&mut self.inner.lock().unwrap());
    }

    pub(crate) fn snapshot(&self) -> GatewayStats {
        self.inner.lock().unwrap().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_durations_fall_in_the_first_bucket_that_holds_them() {
        let mut durations = CallDurations::default();
        durations.observe(Duration::from_micros(500));
        durations.observe(Duration::from_millis(3));
        durations.observe(Duration::from_secs(60));
        let cumulative = durations.cumulative();
        assert_eq!(cumulative[0], (0.001, 1));
        assert_eq!(cumulative[2], (0.005, 2));
        assert_eq!(
            cumulative.last().unwrap().1,
            2,
            "a minute is past the last bound"
        );
        assert_eq!(durations.count, 3);
    }
}
