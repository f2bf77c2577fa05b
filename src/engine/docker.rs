//! [`Engine`] over bollard: the only place in the crate that calls bollard.

use std::collections::HashMap;
use std::error::Error as _;
use std::io;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, EndpointSettings, ImageInspect,
    NetworkCreateRequest, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, DownloadFromContainerOptions, EventsOptions,
    KillContainerOptions, ListContainersOptions, RemoveContainerOptions, StopContainerOptions,
    UploadToContainerOptions,
};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};

use super::mapping::{container_event, snapshot};
use super::resources::{ResourceInfo, ResourceKind, docker as resources};
use super::{
    ContainerEvent, ContainerSnapshot, Engine, EngineError, EngineResult, LogChunk, LogOptions,
    LogStream, Operation, RawFailure, classify,
};

/// The Docker Engine reached through bollard.
#[derive(Clone, Debug)]
pub struct DockerEngine {
    docker: Docker,
    /// How to open a connection of its own, for [`Engine::probe`].
    endpoint: Endpoint,
}

/// Where the engine listens, to reach it on a new connection.
#[derive(Clone, Debug)]
enum Endpoint {
    /// As the docker CLI finds it (`DOCKER_HOST`, else the local socket).
    Defaults,
    /// A unix socket.
    Unix(String),
    /// An HTTP address.
    Http(String),
    /// A client made elsewhere: probes use its pool.
    Given,
}

impl Endpoint {
    fn client(&self) -> Option<Result<Docker, BollardError>> {
        let version = bollard::API_DEFAULT_VERSION;
        Some(match self {
            Endpoint::Defaults if std::env::var_os("DOCKER_HOST").is_some() => {
                Docker::connect_with_defaults()
            }
            Endpoint::Defaults => Docker::connect_with_local_defaults(),
            Endpoint::Unix(path) => Docker::connect_with_unix(path, 5, version),
            Endpoint::Http(address) => Docker::connect_with_http(address, 5, version),
            Endpoint::Given => return None,
        })
    }
}

impl DockerEngine {
    /// Connects as the docker CLI does: `DOCKER_HOST` when set, else the
    /// local socket; then negotiates the API version with the engine.
    pub async fn connect() -> EngineResult<Self> {
        Self::connect_to(Endpoint::Defaults).await
    }

    async fn connect_to(endpoint: Endpoint) -> EngineResult<Self> {
        let docker = endpoint
            .client()
            .expect("a connectable endpoint")
            .map_err(|e| failure(Operation::Ping, "", e))?;
        Self::negotiate(docker, endpoint).await
    }

    /// Connects to `host` as `docker -H` reads it: `unix:///path`,
    /// `tcp://host:port` or `http://host:port`.
    pub async fn connect_host(host: &str) -> EngineResult<Self> {
        let endpoint = match host.strip_prefix("unix://") {
            Some(path) => Endpoint::Unix(path.to_string()),
            None => Endpoint::Http(host.replacen("tcp://", "http://", 1)),
        };
        Self::connect_to(endpoint).await
    }

    /// Connects to the engine listening on a unix socket at `path`.
    pub async fn connect_unix(path: &str) -> EngineResult<Self> {
        Self::connect_to(Endpoint::Unix(path.to_string())).await
    }

    async fn negotiate(docker: Docker, endpoint: Endpoint) -> EngineResult<Self> {
        // The gateway sets a deadline on every call; bollard's own timeout
        // covers only response headers, so it is set beyond any deadline.
        let docker = docker.with_timeout(Duration::from_secs(3600));
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| failure(Operation::Ping, "", e))?;
        Ok(DockerEngine { docker, endpoint })
    }

    /// Wraps an already connected client. Its probes ([`Engine::probe`])
    /// go through the client's own connection pool, so an engine that is
    /// shutting down may still answer them on a kept-alive connection.
    pub fn from_client(docker: Docker) -> Self {
        DockerEngine {
            docker,
            endpoint: Endpoint::Given,
        }
    }
}

/// Classifies a bollard error from `operation` on `subject`.
pub(super) fn failure(operation: Operation, subject: &str, error: BollardError) -> EngineError {
    classify(operation, subject, &raw_failure(error))
}

fn raw_failure(error: BollardError) -> RawFailure {
    match error {
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } => RawFailure::Status {
            code: status_code,
            message,
        },
        BollardError::SocketNotFoundError(path) => RawFailure::SocketMissing(path),
        BollardError::RequestTimeoutError => RawFailure::ClientTimeout,
        BollardError::DockerStreamError { error } => RawFailure::Stream(error),
        BollardError::JsonDataError { message, .. } => RawFailure::Malformed(message),
        BollardError::JsonSerdeError { err } => RawFailure::Malformed(err.to_string()),
        other => match io_kind(&other) {
            Some(io::ErrorKind::NotFound) => RawFailure::SocketMissing(other.to_string()),
            Some(io::ErrorKind::ConnectionRefused) => {
                RawFailure::ConnectionRefused(other.to_string())
            }
            Some(
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof,
            ) => RawFailure::ConnectionLost(other.to_string()),
            _ => RawFailure::Other(describe_chain(&other)),
        },
    }
}

/// The kind of the first I/O error in the error's source chain.
fn io_kind(error: &BollardError) -> Option<io::ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io_error) = current.downcast_ref::<io::Error>() {
            return Some(io_error.kind());
        }
        if let Some(hyper_error) = current.downcast_ref::<hyper::Error>()
            && (hyper_error.is_incomplete_message() || hyper_error.is_closed())
        {
            return Some(io::ErrorKind::UnexpectedEof);
        }
        source = current.source();
    }
    None
}

fn describe_chain(error: &BollardError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        text.push_str(": ");
        text.push_str(&current.to_string());
        source = current.source();
    }
    text
}

/// Splits `repo:tag` (a `:` after the last `/`); no tag means `latest`.
fn split_reference(reference: &str) -> (String, String) {
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (reference.to_string(), "latest".to_string()),
    }
}

pub(super) fn label_filters(label_filter: String) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![label_filter])])
}

/// `_ping` through `docker` (whose pool decides which connection carries it).
fn ping(docker: Docker) -> BoxFuture<'static, EngineResult<()>> {
    async move {
        docker
            .ping()
            .await
            .map(drop)
            .map_err(|e| failure(Operation::Ping, "", e))
    }
    .boxed()
}

impl Engine for DockerEngine {
    fn inspect_resource(
        &self,
        kind: ResourceKind,
        name: String,
    ) -> BoxFuture<'static, EngineResult<ResourceInfo>> {
        resources::inspect(self.docker.clone(), kind, name).boxed()
    }

    fn list_resources(
        &self,
        kind: ResourceKind,
        label_filter: String,
    ) -> BoxFuture<'static, EngineResult<Vec<ResourceInfo>>> {
        resources::list(self.docker.clone(), kind, label_filter).boxed()
    }

    fn create_network(&self, body: NetworkCreateRequest) -> BoxFuture<'static, EngineResult<()>> {
        resources::create_network(self.docker.clone(), body).boxed()
    }

    fn create_volume(&self, body: VolumeCreateRequest) -> BoxFuture<'static, EngineResult<()>> {
        resources::create_volume(self.docker.clone(), body).boxed()
    }

    fn remove_resource(
        &self,
        kind: ResourceKind,
        name: String,
    ) -> BoxFuture<'static, EngineResult<()>> {
        resources::remove(self.docker.clone(), kind, name).boxed()
    }

    fn connect_network(
        &self,
        network: String,
        container: String,
        endpoint: EndpointSettings,
    ) -> BoxFuture<'static, EngineResult<()>> {
        resources::connect(self.docker.clone(), network, container, endpoint).boxed()
    }

    fn ping(&self) -> BoxFuture<'static, EngineResult<()>> {
        ping(self.docker.clone())
    }

    fn api_version(&self) -> Option<(u32, u32)> {
        // Negotiated at connect: the lower of the engine's and the client's.
        let version = self.docker.client_version();
        Some((version.major_version as u32, version.minor_version as u32))
    }

    fn probe(&self) -> BoxFuture<'static, EngineResult<()>> {
        match self.endpoint.client() {
            Some(Ok(fresh)) => ping(fresh),
            Some(Err(error)) => {
                futures::future::ready(Err(failure(Operation::Ping, "", error))).boxed()
            }
            None => ping(self.docker.clone()),
        }
    }

    fn list_containers(
        &self,
        label_filter: String,
    ) -> BoxFuture<'static, EngineResult<Vec<ContainerSnapshot>>> {
        let docker = self.docker.clone();
        async move {
            let options = ListContainersOptions {
                all: true,
                filters: Some(label_filters(label_filter)),
                ..Default::default()
            };
            let summaries = docker
                .list_containers(Some(options))
                .await
                .map_err(|e| failure(Operation::List, "", e))?;
            Ok(summaries.iter().filter_map(snapshot).collect())
        }
        .boxed()
    }

    fn inspect_container(
        &self,
        id: String,
    ) -> BoxFuture<'static, EngineResult<ContainerInspectResponse>> {
        let docker = self.docker.clone();
        async move {
            docker
                .inspect_container(&id, None)
                .await
                .map_err(|e| failure(Operation::Inspect, &id, e))
        }
        .boxed()
    }

    fn create_container(
        &self,
        name: String,
        body: ContainerCreateBody,
    ) -> BoxFuture<'static, EngineResult<String>> {
        let docker = self.docker.clone();
        async move {
            let image = body.image.clone().unwrap_or_default();
            let options = CreateContainerOptions {
                name: Some(name),
                ..Default::default()
            };
            docker
                .create_container(Some(options), body)
                .await
                .map(|created| created.id)
                .map_err(|e| failure(Operation::Create, &image, e))
        }
        .boxed()
    }

    fn start_container(&self, id: String) -> BoxFuture<'static, EngineResult<()>> {
        let docker = self.docker.clone();
        async move {
            docker
                .start_container(&id, None)
                .await
                .map_err(|e| failure(Operation::Start, &id, e))
        }
        .boxed()
    }

    fn stop_container(&self, id: String, grace: Duration) -> BoxFuture<'static, EngineResult<()>> {
        let docker = self.docker.clone();
        async move {
            let options = StopContainerOptions {
                t: Some(grace.as_secs().min(i32::MAX as u64) as i32),
                signal: None,
            };
            docker
                .stop_container(&id, Some(options))
                .await
                .map_err(|e| failure(Operation::Stop, &id, e))
        }
        .boxed()
    }

    fn kill_container(&self, id: String, signal: String) -> BoxFuture<'static, EngineResult<()>> {
        let docker = self.docker.clone();
        async move {
            docker
                .kill_container(&id, Some(KillContainerOptions { signal }))
                .await
                .map_err(|e| failure(Operation::Kill, &id, e))
        }
        .boxed()
    }

    fn remove_container(&self, id: String, force: bool) -> BoxFuture<'static, EngineResult<()>> {
        let docker = self.docker.clone();
        async move {
            let options = RemoveContainerOptions {
                force,
                ..Default::default()
            };
            docker
                .remove_container(&id, Some(options))
                .await
                .map_err(|e| failure(Operation::Remove, &id, e))
        }
        .boxed()
    }

    fn inspect_image(&self, image: String) -> BoxFuture<'static, EngineResult<ImageInspect>> {
        let docker = self.docker.clone();
        async move {
            docker
                .inspect_image(&image)
                .await
                .map_err(|e| failure(Operation::InspectImage, &image, e))
        }
        .boxed()
    }

    fn pull_image(
        &self,
        image: String,
        progress: Box<dyn Fn(String) + Send>,
    ) -> BoxFuture<'static, EngineResult<()>> {
        let docker = self.docker.clone();
        async move {
            let options = CreateImageOptions {
                from_image: Some(image.clone()),
                ..Default::default()
            };
            let mut stream = docker.create_image(Some(options), None, None);
            while let Some(item) = stream.next().await {
                let info = item.map_err(|e| failure(Operation::Pull, &image, e))?;
                if let Some(detail) = info.error_detail {
                    let message = detail.message.unwrap_or_else(|| "pull failed".into());
                    return Err(classify(
                        Operation::Pull,
                        &image,
                        &RawFailure::Stream(message),
                    ));
                }
                if let Some(status) = info.status {
                    progress(status);
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn import_image(&self, name: String, tar: Vec<u8>) -> BoxFuture<'static, EngineResult<()>> {
        let docker = self.docker.clone();
        async move {
            let (repo, tag) = split_reference(&name);
            let options = CreateImageOptions {
                from_src: Some("-".into()),
                repo: Some(repo),
                tag: Some(tag),
                ..Default::default()
            };
            let mut stream =
                docker.create_image(Some(options), Some(bollard::body_full(tar.into())), None);
            while let Some(item) = stream.next().await {
                let info = item.map_err(|e| failure(Operation::Import, &name, e))?;
                if let Some(detail) = info.error_detail {
                    let message = detail.message.unwrap_or_else(|| "import failed".into());
                    return Err(classify(
                        Operation::Import,
                        &name,
                        &RawFailure::Stream(message),
                    ));
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn build_image(
        &self,
        tag: String,
        options: super::BuildOptions,
        context_tar: Vec<u8>,
        progress: Box<dyn Fn(String) + Send>,
    ) -> BoxFuture<'static, EngineResult<()>> {
        super::build::build(self.docker.clone(), tag, options, context_tar, progress)
    }

    fn put_archive(
        &self,
        id: String,
        path: String,
        tar: Vec<u8>,
    ) -> BoxFuture<'static, EngineResult<()>> {
        let docker = self.docker.clone();
        async move {
            let options = UploadToContainerOptions {
                path,
                ..Default::default()
            };
            docker
                .upload_to_container(&id, Some(options), bollard::body_full(tar.into()))
                .await
                .map_err(|e| failure(Operation::PutArchive, &id, e))
        }
        .boxed()
    }

    fn get_archive(&self, id: String, path: String) -> BoxFuture<'static, EngineResult<Vec<u8>>> {
        let docker = self.docker.clone();
        async move {
            let options = DownloadFromContainerOptions { path };
            let mut stream = docker.download_from_container(&id, Some(options));
            let mut tar = Vec::new();
            while let Some(chunk) = stream.next().await {
                tar.extend_from_slice(&chunk.map_err(|e| failure(Operation::GetArchive, &id, e))?);
            }
            Ok(tar)
        }
        .boxed()
    }

    fn logs(&self, id: String, options: LogOptions) -> BoxStream<'static, EngineResult<LogChunk>> {
        let query = bollard::query_parameters::LogsOptions {
            follow: options.follow,
            stdout: true,
            stderr: true,
            timestamps: options.timestamps,
            tail: options
                .tail
                .map_or_else(|| "all".to_string(), |n| n.to_string()),
            ..Default::default()
        };
        self.docker
            .logs(&id, Some(query))
            .filter_map(move |item| {
                let id = id.clone();
                async move {
                    use bollard::container::LogOutput;
                    match item {
                        Ok(LogOutput::StdErr { message }) => Some(Ok(LogChunk {
                            stream: LogStream::Stderr,
                            bytes: message,
                        })),
                        Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                            Some(Ok(LogChunk {
                                stream: LogStream::Stdout,
                                bytes: message,
                            }))
                        }
                        Ok(LogOutput::StdIn { .. }) => None,
                        Err(e) => Some(Err(failure(Operation::Logs, &id, e))),
                    }
                }
            })
            .boxed()
    }

    fn events(
        &self,
        label_filter: String,
        since: Option<i64>,
    ) -> BoxStream<'static, EngineResult<ContainerEvent>> {
        let mut filters = label_filters(label_filter);
        filters.insert("type".into(), vec!["container".into()]);
        let options = EventsOptions {
            since: since
                .map(|nanos| format!("{}.{:09}", nanos / 1_000_000_000, nanos % 1_000_000_000)),
            until: None,
            filters: Some(filters),
        };
        self.docker
            .events(Some(options))
            .filter_map(|item| async move {
                match item {
                    Ok(message) => container_event(&message).map(Ok),
                    Err(e) => Some(Err(failure(Operation::Events, "", e))),
                }
            })
            .boxed()
    }
}
