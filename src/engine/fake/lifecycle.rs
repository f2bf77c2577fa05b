//! The fake engine's own life: its event log (for `since` replays), and the
//! engine going away and coming back the ways dockerd does (a graceful
//! stop, a crash with the containers left running, the restore after it).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use futures::StreamExt;
use futures::stream::BoxStream;

use super::{FakeEngine, event_stream};
use crate::engine::{ContainerEvent, ContainerEventKind, EngineResult, EngineState, RawFailure};

/// How many past events the fake keeps for `since` replays (dockerd keeps
/// a bounded ring too).
const LOGGED_EVENTS: usize = 4096;

/// Past events, oldest first.
#[derive(Default)]
pub(crate) struct EventLog {
    events: VecDeque<ContainerEvent>,
}

impl FakeEngine {
    /// The next event time: the wall clock in Unix nanoseconds, as the real
    /// engine stamps events, made strictly increasing so that every event
    /// has its own time.
    pub(super) fn next_event_time(&self) -> i64 {
        let wall = crate::engine::unix_nanos().max(0) as u64;
        let mut last = self.clock.load(Ordering::SeqCst);
        loop {
            let next = wall.max(last + 1);
            match self
                .clock
                .compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return next as i64,
                Err(seen) => last = seen,
            }
        }
    }

    /// Logs and broadcasts one event, both under the log's lock so that a
    /// subscriber sees each event once: in its replay or live.
    pub(super) fn publish_event(&self, event: ContainerEvent) {
        let mut log = self.log.lock().unwrap();
        if log.events.len() == LOGGED_EVENTS {
            log.events.pop_front();
        }
        log.events.push_back(event.clone());
        let _ = self.events.send((*self.stream_epoch.borrow(), event));
    }

    /// Subscribes now (not when the stream was asked for: bollard's stream
    /// subscribes only once polled): the logged events from `since`, then
    /// live ones until the streams are dropped.
    pub(super) fn subscribe(
        &self,
        since: Option<i64>,
    ) -> Result<BoxStream<'static, EngineResult<ContainerEvent>>, RawFailure> {
        drop(self.enter(crate::engine::Operation::Events)?);
        let log = self.log.lock().unwrap();
        let replay: Vec<_> = match since {
            Some(since) => log
                .events
                .iter()
                .filter(|event| event.time_nanos >= since)
                .cloned()
                .map(Ok)
                .collect(),
            None => Vec::new(),
        };
        let mut epoch = self.stream_epoch.subscribe();
        epoch.mark_unchanged();
        let live = event_stream(self.events.subscribe(), epoch);
        Ok(futures::stream::iter(replay).chain(live).boxed())
    }

    /// Makes every new events stream subscribe `delay` after it is first
    /// polled, as a real request takes a while to reach the engine: events in
    /// between are seen only through `since`.
    pub fn delay_subscriptions(&self, delay: std::time::Duration) {
        self.subscribe_delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Whether the engine refuses connections (stopped, crashed).
    pub fn is_refusing(&self) -> bool {
        self.refusing.load(Ordering::SeqCst)
    }

    fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// `systemctl stop docker`: the engine stops taking connections, then
    /// stops every running container as `docker stop` does (signal, exit,
    /// `stop`; open event streams still see it), then goes away (open
    /// streams end). It refuses everything until [`FakeEngine::start_engine`].
    pub fn stop_engine(&self) {
        self.refuse(true);
        self.stop_running_containers(&["15"], 143);
        self.drop_event_streams();
    }

    /// dockerd killed with SIGKILL while the containers' processes live on:
    /// streams end at once, calls are refused, containers keep running.
    pub fn crash_engine(&self) {
        self.refuse(true);
        self.drop_event_streams();
    }

    /// dockerd started again after [`FakeEngine::crash_engine`]: before it
    /// answers, it stops the containers it finds running (signal, kill,
    /// exit 137, `stop`: events only a `since` replay can show), then answers.
    pub fn restore_engine(&self) {
        self.stop_running_containers(&["15", "9"], 137);
        self.refuse(false);
    }

    /// The engine answers again.
    pub fn start_engine(&self) {
        self.refuse(false);
    }

    fn stop_running_containers(&self, signals: &[&str], exit_code: i64) {
        let mut state = self.state.lock().unwrap();
        for container in state.containers.values_mut() {
            if container.state != EngineState::Running {
                continue;
            }
            for signal in signals {
                let signal = signal.to_string();
                self.emit(container, ContainerEventKind::Killed { signal });
            }
            self.exit(container, exit_code);
            self.emit(container, ContainerEventKind::Stopped);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bollard::models::ContainerCreateBody;
    use futures::StreamExt;

    use super::*;
    use crate::engine::Engine;

    #[tokio::test]
    async fn a_graceful_stop_shows_each_running_container_stopped_then_ends_the_streams() {
        let engine = FakeEngine::new();
        let body = ContainerCreateBody {
            image: Some("busybox:latest".into()),
            ..Default::default()
        };
        let id = engine.create_container_raw("a".into(), body).unwrap();
        engine.start_container_raw(id).unwrap();
        let mut events = engine.events(String::new(), None);
        let quiet = tokio::time::timeout(Duration::from_millis(10), events.next()).await;
        assert!(quiet.is_err());
        engine.stop_engine();
        let mut kinds = Vec::new();
        while let Some(event) = events.next().await {
            kinds.push(event.unwrap().kind);
        }
        assert_eq!(
            kinds,
            [
                ContainerEventKind::Killed {
                    signal: "15".into()
                },
                ContainerEventKind::Died { exit_code: 143 },
                ContainerEventKind::Stopped
            ]
        );
        assert!(
            engine.probe().await.is_err(),
            "a stopped engine takes no connection"
        );
    }
}
