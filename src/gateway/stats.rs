//! Counters of the gateway's calls, retries and failures by kind.

use std::collections::BTreeMap;
use std::sync::Mutex;

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
