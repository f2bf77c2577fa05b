//! Delivery of unit events to subscribers: actix recipients and streams.

use std::sync::RwLock;

use actix::Recipient;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast;

use super::state::UnitEvent;

/// Stream subscribers that fall this far behind lose the oldest events.
const STREAM_BUFFER: usize = 4096;

/// Fans unit events out to every subscriber of one namespace.
pub struct EventBus {
    recipients: RwLock<Vec<Recipient<UnitEvent>>>,
    stream: broadcast::Sender<UnitEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            recipients: RwLock::default(),
            stream: broadcast::channel(STREAM_BUFFER).0,
        }
    }
}

impl EventBus {
    /// Delivers `event` to every recipient (unbounded, never dropped while the
    /// recipient lives) and every stream (bounded: 4096 events).
    pub fn publish(&self, event: UnitEvent) {
        tracing::debug!(unit = %event.unit, state = %event.state, reason = ?event.reason, "unit event");
        let mut dead = false;
        for recipient in self.recipients.read().unwrap().iter() {
            if !recipient.connected() {
                dead = true;
                continue;
            }
            recipient.do_send(event.clone());
        }
        if dead {
            self.recipients
                .write()
                .unwrap()
                .retain(Recipient::connected);
        }
        let _ = self.stream.send(event);
    }

    /// Adds an actor recipient.
    pub fn subscribe(&self, recipient: Recipient<UnitEvent>) {
        self.recipients.write().unwrap().push(recipient);
    }

    /// A stream of every event from now on. A subscriber that lags more than
    /// the buffer skips what it missed.
    pub fn stream(&self) -> BoxStream<'static, UnitEvent> {
        let receiver = self.stream.subscribe();
        futures::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) => return Some((event, receiver)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "unit event stream subscriber lagged");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }
}
