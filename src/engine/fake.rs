//! An in-process fake engine for tests and benches: containers in memory,
//! names unique, events on start / die / destroy, scripted failures.
//!
//! A container whose command is `["exit", "N"]` exits with code N as soon as
//! it starts; any other container runs until it is stopped, killed or
//! [`FakeEngine::crash`]ed.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::models::{
    ContainerConfig, ContainerCreateBody, ContainerInspectResponse, ContainerState, ImageInspect,
};
use futures::future::{self, BoxFuture};
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use tokio::sync::{broadcast, watch};

use super::{
    ContainerEvent, ContainerEventKind, ContainerSnapshot, Engine, EngineResult, EngineState,
    Operation, RawFailure, classify,
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
}

#[derive(Default)]
struct State {
    containers: Vec<FakeContainer>,
    images: Vec<String>,
    calls: HashMap<Operation, u64>,
    failures: HashMap<Operation, VecDeque<RawFailure>>,
}

/// The fake engine; clones share one state.
#[derive(Clone)]
pub struct FakeEngine {
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<ContainerEvent>,
    next_id: Arc<AtomicU64>,
    clock: Arc<AtomicU64>,
    /// Bumped to end every open events stream (a dropped connection).
    stream_epoch: Arc<watch::Sender<u64>>,
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
        };
        engine.add_image("busybox:latest");
        engine
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
        self.state.lock().unwrap().containers.clone()
    }

    /// The container named `name`, if any.
    pub fn container(&self, name: &str) -> Option<FakeContainer> {
        self.containers().into_iter().find(|c| c.name == name)
    }

    /// Makes a running container exit with `exit_code`, as a crash would.
    pub fn crash(&self, name: &str, exit_code: i64) {
        let mut state = self.state.lock().unwrap();
        if let Some(c) = state
            .containers
            .iter_mut()
            .find(|c| c.name == name || c.id == name)
            && c.state == EngineState::Running
        {
            self.exit(c, exit_code);
        }
    }

    /// Ends every open events stream, as a dropped connection would; events
    /// emitted before the supervisor reconnects reach nobody.
    pub fn drop_event_streams(&self) {
        self.stream_epoch.send_modify(|epoch| *epoch += 1);
    }

    /// Makes a running container exit with `exit_code` while no events
    /// stream is open: the exit is only visible to a list call.
    pub fn crash_unseen(&self, name: &str, exit_code: i64) {
        let mut state = self.state.lock().unwrap();
        if let Some(c) = state.containers.iter_mut().find(|c| c.name == name) {
            c.state = EngineState::Exited;
            c.exit_code = Some(exit_code);
        }
    }

    /// Removes a container as `docker rm -f` would, behind the supervisor's back.
    pub fn remove_behind_back(&self, name: &str) {
        let mut state = self.state.lock().unwrap();
        if let Some(index) = state.containers.iter().position(|c| c.name == name) {
            let mut container = state.containers.remove(index);
            if container.state == EngineState::Running {
                self.exit(&mut container, 137);
            }
            self.emit(&container, ContainerEventKind::Destroyed);
        }
    }

    fn exit(&self, container: &mut FakeContainer, exit_code: i64) {
        container.state = EngineState::Exited;
        container.exit_code = Some(exit_code);
        self.emit(container, ContainerEventKind::Died { exit_code });
    }

    fn emit(&self, container: &FakeContainer, kind: ContainerEventKind) {
        let _ = self.events.send(ContainerEvent {
            id: container.id.clone(),
            name: container.name.clone(),
            kind,
            time_nanos: self.clock.fetch_add(1, Ordering::SeqCst) as i64,
        });
    }

    /// Counts the call and takes a scripted failure for it, if one is queued.
    fn enter(&self, operation: Operation) -> Result<std::sync::MutexGuard<'_, State>, RawFailure> {
        let mut state = self.state.lock().unwrap();
        *state.calls.entry(operation).or_default() += 1;
        match state
            .failures
            .get_mut(&operation)
            .and_then(VecDeque::pop_front)
        {
            Some(failure) => Err(failure),
            None => Ok(state),
        }
    }

    fn call<T: Send + 'static>(
        &self,
        operation: Operation,
        subject: &str,
        body: impl FnOnce(&FakeEngine, &mut State) -> Result<T, RawFailure>,
    ) -> BoxFuture<'static, EngineResult<T>> {
        let result = match self.enter(operation) {
            Ok(mut state) => body(self, &mut state),
            Err(failure) => Err(failure),
        };
        let result = result.map_err(|failure| classify(operation, subject, &failure));
        future::ready(result).boxed()
    }
}

fn not_found(what: &str, name: &str) -> RawFailure {
    RawFailure::Status {
        code: 404,
        message: format!("No such {what}: {name}"),
    }
}

fn find<'a>(state: &'a mut State, id: &str) -> Result<&'a mut FakeContainer, RawFailure> {
    state
        .containers
        .iter_mut()
        .find(|c| c.id == id || c.name == id)
        .ok_or_else(|| not_found("container", id))
}

impl Engine for FakeEngine {
    fn ping(&self) -> BoxFuture<'static, EngineResult<()>> {
        self.call(Operation::Ping, "", |_, _| Ok(()))
    }

    fn list_containers(
        &self,
        label_filter: String,
    ) -> BoxFuture<'static, EngineResult<Vec<ContainerSnapshot>>> {
        self.call(Operation::List, "", move |_, state| {
            let (key, value) = match label_filter.split_once('=') {
                Some((key, value)) => (key.to_string(), Some(value.to_string())),
                None => (label_filter.clone(), None),
            };
            Ok(state
                .containers
                .iter()
                .filter_map(|c| {
                    let labels = c.body.labels.clone().unwrap_or_default();
                    let matches = match (&value, labels.get(&key)) {
                        (Some(v), Some(l)) => v == l,
                        (None, Some(_)) => true,
                        _ => false,
                    };
                    matches.then(|| ContainerSnapshot {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        labels,
                        state: c.state.clone(),
                        exit_code: c.exit_code,
                        image: c.body.image.clone().unwrap_or_default(),
                    })
                })
                .collect())
        })
    }

    fn inspect_container(
        &self,
        id: String,
    ) -> BoxFuture<'static, EngineResult<ContainerInspectResponse>> {
        self.call(Operation::Inspect, &id.clone(), move |_, state| {
            let c = find(state, &id)?;
            let body = c.body.clone();
            Ok(ContainerInspectResponse {
                id: Some(c.id.clone()),
                name: Some(format!("/{}", c.name)),
                config: Some(ContainerConfig {
                    image: body.image,
                    cmd: body.cmd,
                    env: body.env,
                    labels: body.labels,
                    ..Default::default()
                }),
                host_config: body.host_config,
                state: Some(ContainerState {
                    status: None,
                    running: Some(c.state == EngineState::Running),
                    exit_code: c.exit_code,
                    ..Default::default()
                }),
                ..Default::default()
            })
        })
    }

    fn create_container(
        &self,
        name: String,
        body: ContainerCreateBody,
    ) -> BoxFuture<'static, EngineResult<String>> {
        let image = body.image.clone().unwrap_or_default();
        self.call(Operation::Create, &image.clone(), move |engine, state| {
            if !state.images.contains(&image) {
                return Err(not_found("image", &image));
            }
            if let Some(existing) = state.containers.iter().find(|c| c.name == name) {
                return Err(RawFailure::Status {
                    code: 409,
                    message: format!(
                        "Conflict. The container name \"/{name}\" is already in use by container \"{}\".",
                        existing.id
                    ),
                });
            }
            let id = format!("{:064x}", engine.next_id.fetch_add(1, Ordering::SeqCst));
            state.containers.push(FakeContainer {
                id: id.clone(),
                name,
                body,
                state: EngineState::Created,
                exit_code: None,
                starts: 0,
                archive: None,
            });
            Ok(id)
        })
    }

    fn start_container(&self, id: String) -> BoxFuture<'static, EngineResult<()>> {
        self.call(Operation::Start, &id.clone(), move |engine, state| {
            let c = find(state, &id)?;
            if c.state == EngineState::Running {
                return Ok(());
            }
            c.state = EngineState::Running;
            c.exit_code = None;
            c.starts += 1;
            engine.emit(c, ContainerEventKind::Started);
            let cmd = c.body.cmd.clone().unwrap_or_default();
            if cmd.first().map(String::as_str) == Some("exit") {
                let code = cmd.get(1).and_then(|code| code.parse().ok()).unwrap_or(0);
                engine.exit(c, code);
            }
            Ok(())
        })
    }

    fn stop_container(&self, id: String, _grace: Duration) -> BoxFuture<'static, EngineResult<()>> {
        self.call(Operation::Stop, &id.clone(), move |engine, state| {
            let c = find(state, &id)?;
            if c.state == EngineState::Running {
                engine.exit(c, 143);
                engine.emit(c, ContainerEventKind::Stopped);
            }
            Ok(())
        })
    }

    fn kill_container(&self, id: String, _signal: String) -> BoxFuture<'static, EngineResult<()>> {
        self.call(Operation::Kill, &id.clone(), move |engine, state| {
            let c = find(state, &id)?;
            if c.state != EngineState::Running {
                return Err(RawFailure::Status {
                    code: 409,
                    message: format!("Container {id} is not running"),
                });
            }
            engine.exit(c, 137);
            Ok(())
        })
    }

    fn remove_container(&self, id: String, force: bool) -> BoxFuture<'static, EngineResult<()>> {
        self.call(Operation::Remove, &id.clone(), move |engine, state| {
            let c = find(state, &id)?;
            if c.state == EngineState::Running {
                if !force {
                    return Err(RawFailure::Status {
                        code: 409,
                        message: "You cannot remove a running container. Stop the container before attempting removal or force remove".into(),
                    });
                }
                engine.exit(c, 137);
            }
            let removed_id = c.id.clone();
            let index = state.containers.iter().position(|c| c.id == removed_id).expect("just found");
            let removed = state.containers.remove(index);
            engine.emit(&removed, ContainerEventKind::Destroyed);
            Ok(())
        })
    }

    fn inspect_image(&self, image: String) -> BoxFuture<'static, EngineResult<ImageInspect>> {
        self.call(Operation::InspectImage, &image.clone(), move |_, state| {
            if state.images.contains(&image) {
                Ok(ImageInspect {
                    id: Some(image.clone()),
                    ..Default::default()
                })
            } else {
                Err(not_found("image", &image))
            }
        })
    }

    fn pull_image(
        &self,
        image: String,
        _progress: Box<dyn Fn(String) + Send>,
    ) -> BoxFuture<'static, EngineResult<()>> {
        self.call(Operation::Pull, &image.clone(), move |_, _| {
            Err(RawFailure::Stream(format!(
                "pull access denied for {image}: the fake engine has no registry"
            )))
        })
    }

    fn import_image(&self, name: String, _tar: Vec<u8>) -> BoxFuture<'static, EngineResult<()>> {
        self.call(Operation::Import, &name.clone(), move |_, state| {
            state.images.push(name);
            Ok(())
        })
    }

    fn put_archive(
        &self,
        id: String,
        _path: String,
        tar: Vec<u8>,
    ) -> BoxFuture<'static, EngineResult<()>> {
        self.call(Operation::PutArchive, &id.clone(), move |_, state| {
            find(state, &id)?.archive = Some(tar);
            Ok(())
        })
    }

    fn get_archive(&self, id: String, path: String) -> BoxFuture<'static, EngineResult<Vec<u8>>> {
        self.call(Operation::GetArchive, &id.clone(), move |_, state| {
            find(state, &id)?
                .archive
                .clone()
                .ok_or_else(|| RawFailure::Status {
                    code: 404,
                    message: format!("Could not find the file {path} in container {id}"),
                })
        })
    }

    fn events(
        &self,
        label_filter: String,
        _since: Option<i64>,
    ) -> BoxStream<'static, EngineResult<ContainerEvent>> {
        if let Err(failure) = self.enter(Operation::Events) {
            return futures::stream::once(future::ready(Err(classify(
                Operation::Events,
                "",
                &failure,
            ))))
            .boxed();
        }
        let _ = label_filter;
        let mut epoch = self.stream_epoch.subscribe();
        epoch.mark_unchanged();
        event_stream(self.events.subscribe(), epoch)
    }
}

/// Events until the epoch changes (the connection "drops").
fn event_stream(
    receiver: broadcast::Receiver<ContainerEvent>,
    epoch: watch::Receiver<u64>,
) -> BoxStream<'static, EngineResult<ContainerEvent>> {
    futures::stream::unfold((receiver, epoch), |(mut receiver, mut epoch)| async move {
        loop {
            tokio::select! {
                _ = epoch.changed() => return None,
                received = receiver.recv() => match received {
                    Ok(event) => return Some((Ok(event), (receiver, epoch))),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    })
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
        let mut events = engine.events(String::new(), None);
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
        engine.drop_event_streams();
        let next = tokio::time::timeout(Duration::from_secs(1), events.next()).await;
        assert!(matches!(next, Ok(None)), "{next:?}");
    }
}
