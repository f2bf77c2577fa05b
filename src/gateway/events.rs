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
use crate::engine::{ContainerEvent, ContainerSnapshot, Operation};
use crate::labels;

/// What the gateway tells a unit about its container.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum ContainerSignal {
    /// Something happened to a container with the unit's name.
    Event(ContainerEvent),
    /// After a reconnect: the container as a fresh list shows it (`None`:
    /// no container has the unit's name any more).
    Observed(Option<ContainerSnapshot>),
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

    /// Tells every routed unit what `listed` shows of its container.
    fn resync(&self, listed: &[ContainerSnapshot]) {
        for route in self.routes.iter() {
            let seen = listed.iter().find(|c| &c.name == route.key()).cloned();
            route.value().do_send(ContainerSignal::Observed(seen));
        }
    }
}

/// Delay before reconnecting after the `failures`-th consecutive failure.
pub(crate) fn reconnect_delay(failures: u32) -> Duration {
    let millis = 100u64.saturating_mul(1 << failures.min(6));
    Duration::from_millis(millis.min(5_000))
}

/// Runs the events stream forever: deliver, and on a drop reconnect and resync.
pub(crate) async fn pump(
    layers: Arc<Layers>,
    router: Arc<EventRouter>,
    connected: watch::Sender<bool>,
) {
    let mut since: Option<i64> = None;
    let mut failures = 0u32;
    let mut ever_connected = false;
    loop {
        layers.counters.attempt(Operation::Events);
        let mut stream = layers.engine.events(labels::NAMESPACE.to_string(), since);
        layers.counters.update(|s| s.event_connects += 1);
        // The stream is live once the engine accepted it; a reconnect
        // resyncs, because events may have been lost in the gap.
        if ever_connected {
            match layers
                .run(Operation::List, Duration::from_secs(30), |e| {
                    e.list_containers(labels::NAMESPACE.to_string())
                })
                .await
            {
                Ok(listed) => {
                    layers.counters.update(|s| s.resyncs += 1);
                    router.resync(&listed);
                }
                Err(error) => tracing::warn!(%error, "resync after events reconnect failed"),
            }
        }
        ever_connected = true;
        let _ = connected.send(true);
        let mut delivered = false;
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    since = Some(event.time_nanos);
                    delivered = true;
                    router.route(event);
                }
                Err(error) => {
                    layers.counters.failure(&error);
                    tracing::warn!(%error, "events stream failed");
                    break;
                }
            }
        }
        let _ = connected.send(false);
        failures = if delivered { 0 } else { failures + 1 };
        tokio::time::sleep(reconnect_delay(failures)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delays_grow_to_five_seconds() {
        let delays: Vec<u128> = (0..9).map(|n| reconnect_delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }
}
