//! The events pump: one `/events` stream per engine, filtered to stevedore's
//! label, routed to the unit that owns each container, reconnected with
//! `since` when it drops and followed by a full resync (one list call).

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use dashmap::DashMap;
use futures::StreamExt;
use tokio::sync::watch;

use super::layers::Layers;
use crate::engine::{ContainerEvent, ContainerSnapshot, Operation, unix_nanos};
use crate::labels;
use crate::policy::exponential;

/// What the gateway tells a unit about its container and the engine.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum ContainerSignal {
    /// Something happened to a container with the unit's name.
    Event(ContainerEvent),
    /// After the stream ended and came back (which may have been an engine
    /// restart): the container as a fresh list shows it (`None`: no
    /// container has the unit's name any more).
    Observed(Option<ContainerSnapshot>),
    /// The engine stopped answering (`false`); it answers again once an
    /// `Observed` follows.
    EngineAvailable(bool),
}

/// Container name → the unit that owns it. Only registries write it; the
/// pump reads it without locks on the hot path.
#[derive(Default)]
pub struct EventRouter {
    routes: DashMap<String, Recipient<ContainerSignal>>,
}

impl EventRouter {
    /// Sends events for `container_name` to `unit`.
    pub fn insert(&self, container_name: String, unit: Recipient<ContainerSignal>) {
        self.routes.insert(container_name, unit);
    }

    /// Stops routing `container_name`.
    pub fn remove(&self, container_name: &str) {
        self.routes.remove(container_name);
    }

    /// Delivers one event; returns whether a unit took it.
    pub fn route(&self, event: ContainerEvent) -> bool {
        match self.routes.get(&event.name) {
            Some(unit) => {
                unit.do_send(ContainerSignal::Event(event));
                true
            }
            None => false,
        }
    }

    /// How many containers are routed.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether nothing is routed.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Tells every routed unit the same thing.
    fn broadcast(&self, signal: ContainerSignal) {
        for route in self.routes.iter() {
            route.value().do_send(signal.clone());
        }
    }

    /// Tells every routed unit what `listed` shows of its container.
    fn resync(&self, listed: &[ContainerSnapshot]) {
        for route in self.routes.iter() {
            let seen = listed.iter().find(|c| &c.name == route.key()).cloned();
            route.value().do_send(ContainerSignal::Observed(seen));
        }
    }
}

/// Delay before reconnecting after the `failures`-th consecutive failure:
/// while the engine refuses connections (restarting, say) trying is cheap
/// and every moment counts, so it is tried often; other failures back off
/// further.
pub(crate) fn reconnect_delay(failures: u32, engine_unreachable: bool) -> Duration {
    let cap = if engine_unreachable {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(5)
    };
    exponential(Duration::from_millis(100), 2.0, failures, cap)
}

/// Runs the events stream forever: deliver, and on a drop reconnect and resync.
///
/// The first stream asks for everything `since` the pump started, so an
/// event that happens before the engine has really subscribed it (bollard
/// sends the request only when the stream is first polled, after adoption's
/// list may already have run) is replayed rather than lost. Replays and the
/// resync can both show one event; units drop what they have seen.
pub(crate) async fn pump(
    layers: Arc<Layers>,
    router: Arc<EventRouter>,
    connected: watch::Sender<bool>,
) {
    let mut since: i64 = unix_nanos();
    let mut failures = 0u32;
    let mut ever_connected = false;
    // Units were told the engine is away, and not yet that it is back.
    let mut announced_down = false;
    loop {
        layers.counters.attempt(Operation::Events);
        let mut stream = layers
            .engine
            .events(labels::NAMESPACE.to_string(), Some(since));
        layers.counters.update(|s| s.event_connects += 1);
        // A reconnect resyncs, because events may have been lost in the
        // gap; the list is also the proof that the engine answers again.
        if ever_connected {
            // One attempt: a failure is news (the engine is away), and
            // this loop retries it at its own pace.
            let mut list =
                |e: &dyn crate::engine::Engine| e.list_containers(labels::NAMESPACE.to_string());
            match layers
                .attempt(Operation::List, Duration::from_secs(30), &mut list)
                .await
            {
                Ok(listed) => {
                    layers.counters.update(|s| s.resyncs += 1);
                    // The stream ended: most often the engine going away (a
                    // restart can be over before an attempt sees it refuse),
                    // so an exit found now is taken as the engine's.
                    router.resync(&listed);
                    announced_down = false;
                }
                Err(error) => {
                    tracing::warn!(%error, "resync after events reconnect failed");
                    let unreachable = error.is_retryable();
                    if unreachable && !announced_down {
                        announced_down = true;
                        router.broadcast(ContainerSignal::EngineAvailable(false));
                    }
                    failures += 1;
                    tokio::time::sleep(reconnect_delay(failures, unreachable)).await;
                    continue;
                }
            }
        }
        ever_connected = true;
        let _ = connected.send(true);
        layers.counters.update(|s| s.events_connected = true);
        let mut delivered = false;
        let mut unreachable = false;
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    since = event.time_nanos;
                    delivered = true;
                    router.route(event);
                }
                Err(error) => {
                    layers.counters.failure(&error);
                    tracing::warn!(%error, "events stream failed");
                    unreachable = error.is_retryable();
                    break;
                }
            }
        }
        layers.counters.update(|s| s.events_connected = false);
        failures = if delivered { 0 } else { failures + 1 };
        tokio::time::sleep(reconnect_delay(failures, unreachable)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delays_grow_to_five_seconds() {
        let delays: Vec<u128> = (0..9)
            .map(|n| reconnect_delay(n, false).as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }

    #[test]
    fn an_engine_that_refuses_connections_is_tried_every_half_second_at_most() {
        let delays: Vec<u128> = (0..5)
            .map(|n| reconnect_delay(n, true).as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
    }
}
