//! An in-process fake engine for tests and benches: containers in memory,
//! names unique, events on start / die / destroy, scripted failures.
//!
//! A container whose command is `["exit", "N"]` exits with code N as soon as
//! it starts; any other container runs until it is stopped, killed or
//! [`FakeEngine::crash`]ed.

mod behind;
mod containers;
mod lifecycle;
mod ops;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::models::{ContainerCreateBody, ContainerInspectResponse, ImageInspect};
use futures::future::{self, BoxFuture};
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use tokio::sync::{broadcast, watch};

use super::{
    ContainerEvent, ContainerEventKind, ContainerSnapshot, Engine, EngineResult, EngineState,
    Health, Operation, RawFailure, classify,
};

/// One container in the fake engine.
#[derive(Debug, Clone)]
pub struct FakeContainer {
    /// Container id.
    pub id: String,
    /// Container name.
    pub name: String,
    /// The create request it was made from.
    pub body: ContainerCreateBody,
    /// Its state.
    pub state: EngineState,
    /// Exit code of the last run.
    pub exit_code: Option<i64>,
    /// How many times it was started.
    pub starts: u32,
    /// The last archive put into it (the fake keeps the tar as it came).
    pub archive: Option<Vec<u8>>,
    /// Its health while it runs with a check (`starting` at each start).
    pub health: Option<Health>,
}

impl FakeContainer {
    /// Whether it was created with a check of its own (the fake's images have none).
    fn has_check(&self) -> bool {
        self.body
            .healthcheck
            .as_ref()
            .and_then(|check| check.test.as_ref())
            .is_some_and(|test| !test.is_empty() && test[0] != "NONE")
    }
}

#[derive(Default)]
pub(crate) struct State {
    containers: containers::Containers,
    images: Vec<String>,
    calls: HashMap<Operation, u64>,
    failures: HashMap<Operation, VecDeque<RawFailure>>,
}

/// The fake engine; clones share one state.
#[derive(Clone)]
pub struct FakeEngine {
    state: Arc<Mutex<State>>,
    /// Every event, stamped with the stream epoch it was sent in.
    events: broadcast::Sender<(u64, ContainerEvent)>,
    next_id: Arc<AtomicU64>,
    clock: Arc<AtomicU64>,
    /// Bumped to end every open events stream (a dropped connection).
    stream_epoch: Arc<watch::Sender<u64>>,
    log: Arc<Mutex<lifecycle::EventLog>>,
    /// The engine takes no connections (stopped or crashed).
    refusing: Arc<AtomicBool>,
    /// How long a new events stream takes to subscribe once polled, in ms.
    subscribe_delay_ms: Arc<AtomicU64>,
    /// The API version it claims to speak (`None`: unknown).
    api_version: Arc<Mutex<Option<(u32, u32)>>>,
}

impl Default for FakeEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeEngine {
    /// An empty engine that has the image `busybox:latest`.
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(65_536);
        let engine = FakeEngine {
            state: Arc::default(),
            events,
            next_id: Arc::new(AtomicU64::new(1)),
            clock: Arc::new(AtomicU64::new(1)),
            stream_epoch: Arc::new(watch::channel(0).0),
            log: Arc::default(),
            refusing: Arc::default(),
            subscribe_delay_ms: Arc::default(),
            api_version: Arc::default(),
        };
        engine.add_image("busybox:latest");
        engine
    }

    /// Claims to speak API `version` (as a negotiated client would report).
    pub fn set_api_version(&self, version: (u32, u32)) {
        *self.api_version.lock().unwrap() = Some(version);
    }

    /// Makes `image` present.
    pub fn add_image(&self, image: &str) {
        self.state.lock().unwrap().images.push(image.to_string());
    }

    /// Makes the next call of `operation` fail with `failure` (queued, in order).
    pub fn fail_next(&self, operation: Operation, failure: RawFailure) {
        let mut state = self.state.lock().unwrap();
        state
            .failures
            .entry(operation)
            .or_default()
            .push_back(failure);
    }

    /// How many times `operation` was called.
    pub fn calls(&self, operation: Operation) -> u64 {
        self.state
            .lock()
            .unwrap()
            .calls
            .get(&operation)
            .copied()
            .unwrap_or(0)
    }

    /// Every call so far, all operations together.
    pub fn total_calls(&self) -> u64 {
        self.state.lock().unwrap().calls.values().sum()
    }

    /// A copy of every container.
    pub fn containers(&self) -> Vec<FakeContainer> {
        self.state
            .lock()
            .unwrap()
            .containers
            .values()
            .cloned()
            .collect()
    }

    /// The container named `name`, if any.
    pub fn container(&self, name: &str) -> Option<FakeContainer> {
        self.state.lock().unwrap().containers.named(name).cloned()
    }

    /// Ends every open events stream, as a dropped connection would; events
    /// emitted before the supervisor reconnects reach nobody.
    pub fn drop_event_streams(&self) {
        self.stream_epoch.send_modify(|epoch| *epoch += 1);
    }

    fn exit(&self, container: &mut FakeContainer, exit_code: i64) {
        container.state = EngineState::Exited;
        container.health = None;
        container.exit_code = Some(exit_code);
        self.emit(container, ContainerEventKind::Died { exit_code });
    }

    fn emit(&self, container: &FakeContainer, kind: ContainerEventKind) {
        self.publish_event(ContainerEvent {
            id: container.id.clone(),
            name: container.name.clone(),
            kind,
            time_nanos: self.next_event_time(),
        });
    }

    /// Counts the call and takes a scripted failure for it, if one is queued.
    fn enter(&self, operation: Operation) -> Result<std::sync::MutexGuard<'_, State>, RawFailure> {
        let mut state = self.state.lock().unwrap();
        *state.calls.entry(operation).or_default() += 1;
        if self.refusing.load(Ordering::SeqCst) {
            return Err(RawFailure::ConnectionRefused("connection refused".into()));
        }
        match state
            .failures
            .get_mut(&operation)
            .and_then(VecDeque::pop_front)
        {
            Some(failure) => Err(failure),
            None => Ok(state),
        }
    }

    /// Counts the call, takes a scripted failure if one is queued, else runs `body`.
    pub(crate) fn raw<T>(
        &self,
        operation: Operation,
        body: impl FnOnce(&FakeEngine, &mut State) -> Result<T, RawFailure>,
    ) -> Result<T, RawFailure> {
        let mut state = self.enter(operation)?;
        body(self, &mut state)
    }
}

/// A raw result as the in-process engine returns it: classified, at once.
fn classified<T: Send + 'static>(
    operation: Operation,
    subject: &str,
    result: Result<T, RawFailure>,
) -> BoxFuture<'static, EngineResult<T>> {
    future::ready(result.map_err(|failure| classify(operation, subject, &failure))).boxed()
}

pub(crate) fn not_found(what: &str, name: &str) -> RawFailure {
    RawFailure::Status {
        code: 404,
        message: format!("No such {what}: {name}"),
    }
}

pub(crate) fn find<'a>(
    state: &'a mut State,
    id: &str,
) -> Result<&'a mut FakeContainer, RawFailure> {
    state
        .containers
        .get_mut(id)
        .ok_or_else(|| not_found("container", id))
}

impl Engine for FakeEngine {
    fn api_version(&self) -> Option<(u32, u32)> {
        *self.api_version.lock().unwrap()
    }

    fn ping(&self) -> BoxFuture<'static, EngineResult<()>> {
        let subject = String::new();
        classified(Operation::Ping, &subject, self.ping_raw())
    }

    fn list_containers(
        &self,
        label_filter: String,
    ) -> BoxFuture<'static, EngineResult<Vec<ContainerSnapshot>>> {
        let subject = String::new();
        classified(
            Operation::List,
            &subject,
            self.list_containers_raw(label_filter),
        )
    }

    fn inspect_container(
        &self,
        id: String,
    ) -> BoxFuture<'static, EngineResult<ContainerInspectResponse>> {
        let subject = id.to_string();
        classified(Operation::Inspect, &subject, self.inspect_container_raw(id))
    }

    fn create_container(
        &self,
        name: String,
        body: ContainerCreateBody,
    ) -> BoxFuture<'static, EngineResult<String>> {
        let subject = body.image.clone().unwrap_or_default();
        classified(
            Operation::Create,
            &subject,
            self.create_container_raw(name, body),
        )
    }

    fn start_container(&self, id: String) -> BoxFuture<'static, EngineResult<()>> {
        let subject = id.to_string();
        classified(Operation::Start, &subject, self.start_container_raw(id))
    }

    fn stop_container(&self, id: String, _grace: Duration) -> BoxFuture<'static, EngineResult<()>> {
        let subject = id.to_string();
        classified(
            Operation::Stop,
            &subject,
            self.stop_container_raw(id, _grace),
        )
    }

    fn kill_container(&self, id: String, _signal: String) -> BoxFuture<'static, EngineResult<()>> {
        let subject = id.to_string();
        classified(
            Operation::Kill,
            &subject,
            self.kill_container_raw(id, _signal),
        )
    }

    fn remove_container(&self, id: String, force: bool) -> BoxFuture<'static, EngineResult<()>> {
        let subject = id.to_string();
        classified(
            Operation::Remove,
            &subject,
            self.remove_container_raw(id, force),
        )
    }

    fn inspect_image(&self, image: String) -> BoxFuture<'static, EngineResult<ImageInspect>> {
        let subject = image.to_string();
        classified(
            Operation::InspectImage,
            &subject,
            self.inspect_image_raw(image),
        )
    }

    fn pull_image(
        &self,
        image: String,
        _progress: Box<dyn Fn(String) + Send>,
    ) -> BoxFuture<'static, EngineResult<()>> {
        let subject = image.to_string();
        classified(
            Operation::Pull,
            &subject,
            self.pull_image_raw(image, _progress),
        )
    }

    fn import_image(&self, name: String, _tar: Vec<u8>) -> BoxFuture<'static, EngineResult<()>> {
        let subject = name.to_string();
        classified(
            Operation::Import,
            &subject,
            self.import_image_raw(name, _tar),
        )
    }

    fn build_image(
        &self,
        tag: String,
        _options: super::BuildOptions,
        _context_tar: Vec<u8>,
        _progress: Box<dyn Fn(String) + Send>,
    ) -> BoxFuture<'static, EngineResult<()>> {
        let subject = tag.clone();
        classified(Operation::Build, &subject, self.build_image_raw(tag))
    }

    fn put_archive(
        &self,
        id: String,
        _path: String,
        tar: Vec<u8>,
    ) -> BoxFuture<'static, EngineResult<()>> {
        let subject = id.to_string();
        classified(
            Operation::PutArchive,
            &subject,
            self.put_archive_raw(id, _path, tar),
        )
    }

    fn get_archive(&self, id: String, path: String) -> BoxFuture<'static, EngineResult<Vec<u8>>> {
        let subject = id.to_string();
        classified(
            Operation::GetArchive,
            &subject,
            self.get_archive_raw(id, path),
        )
    }

    fn events(
        &self,
        label_filter: String,
        since: Option<i64>,
    ) -> BoxStream<'static, EngineResult<ContainerEvent>> {
        let _ = label_filter;
        let engine = self.clone();
        // Lazy, as bollard's stream: nothing is subscribed until it is
        // polled, and then only once the engine has taken the request.
        let delay = Duration::from_millis(self.subscribe_delay_ms.load(Ordering::SeqCst));
        futures::stream::once(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            engine.subscribe(since)
        })
        .flat_map(|subscribed| match subscribed {
            Ok(events) => events,
            Err(failure) => futures::stream::once(future::ready(Err(classify(
                Operation::Events,
                "",
                &failure,
            ))))
            .boxed(),
        })
        .boxed()
    }

    fn probe(&self) -> BoxFuture<'static, EngineResult<()>> {
        let subject = String::new();
        classified(Operation::Ping, &subject, self.ping_raw())
    }
}

impl FakeEngine {
    /// The events from `since` on until the streams are dropped, for the
    /// wire server (counted as an events call).
    pub(crate) fn event_feed(
        &self,
        since: Option<i64>,
    ) -> Result<BoxStream<'static, ContainerEvent>, RawFailure> {
        Ok(self
            .subscribe(since)?
            .filter_map(|item| future::ready(item.ok()))
            .boxed())
    }
}

/// Events until the epoch changes (the connection "drops"): those sent
/// before the drop are delivered, as a connection delivers what it carried
/// before its end; none sent after it.
fn event_stream(
    receiver: broadcast::Receiver<(u64, ContainerEvent)>,
    epoch: watch::Receiver<u64>,
) -> BoxStream<'static, EngineResult<ContainerEvent>> {
    let subscribed = *epoch.borrow();
    futures::stream::unfold(
        (receiver, epoch),
        move |(mut receiver, mut epoch)| async move {
            loop {
                tokio::select! {
                    biased;
                    received = receiver.recv() => match received {
                        Ok((sent, event)) if sent == subscribed => {
                            return Some((Ok(event), (receiver, epoch)));
                        }
                        Ok(_) => return None,
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    _ = epoch.changed() => return None,
                }
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineError;

    fn body(cmd: &[&str]) -> ContainerCreateBody {
        ContainerCreateBody {
            image: Some("busybox:latest".into()),
            cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn names_are_unique_like_the_real_engine() {
        let engine = FakeEngine::new();
        engine
            .create_container("a".into(), body(&["sleep"]))
            .await
            .unwrap();
        let again = engine.create_container("a".into(), body(&["sleep"])).await;
        assert!(matches!(again, Err(EngineError::Conflict(_))));
    }

    #[tokio::test]
    async fn an_exit_command_dies_right_after_start_with_its_code() {
        let engine = FakeEngine::new();
        let mut events = engine.events(String::new(), Some(engine.next_event_time()));
        let id = engine
            .create_container("a".into(), body(&["exit", "3"]))
            .await
            .unwrap();
        engine.start_container(id).await.unwrap();
        assert_eq!(
            events.next().await.unwrap().unwrap().kind,
            ContainerEventKind::Started
        );
        assert_eq!(
            events.next().await.unwrap().unwrap().kind,
            ContainerEventKind::Died { exit_code: 3 }
        );
    }

    #[tokio::test]
    async fn scripted_failures_are_classified_like_real_ones() {
        let engine = FakeEngine::new();
        engine.fail_next(
            Operation::List,
            RawFailure::Status {
                code: 500,
                message: "Unknown device".into(),
            },
        );
        assert!(matches!(
            engine.list_containers(String::new()).await,
            Err(EngineError::Transient(_))
        ));
        assert!(engine.list_containers(String::new()).await.is_ok());
        assert_eq!(engine.calls(Operation::List), 2);
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[tokio::test]
    async fn dropping_event_streams_ends_the_open_ones() {
        let engine = FakeEngine::new();
        let mut events = engine.events(String::new(), None);
        // Polled once, the stream is open (subscribing is lazy).
        let quiet = tokio::time::timeout(Duration::from_millis(10), events.next()).await;
        assert!(quiet.is_err(), "nothing happened yet");
        engine.drop_event_streams();
        let next = tokio::time::timeout(Duration::from_secs(1), events.next()).await;
        assert!(matches!(next, Ok(None)), "{next:?}");
    }

    #[tokio::test]
    async fn a_stream_subscribes_when_polled_and_replays_from_since() {
        let engine = FakeEngine::new();
        let before = engine.next_event_time();
        let mut late = engine.events(String::new(), None);
        let mut replaying = engine.events(String::new(), Some(before));
        let id = engine
            .create_container_raw(
                "a".into(),
                ContainerCreateBody {
                    image: Some("busybox:latest".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        engine.start_container_raw(id.clone()).unwrap();
        // Asked for before the start, polled after it: the start happened
        // before the subscription, so only a replay shows it.
        let next = tokio::time::timeout(Duration::from_millis(50), late.next()).await;
        assert!(
            next.is_err(),
            "a lazy stream misses what came before its first poll"
        );
        let replayed = replaying.next().await.unwrap().unwrap();
        assert_eq!(
            (replayed.id, replayed.kind),
            (id, ContainerEventKind::Started)
        );
    }
}
