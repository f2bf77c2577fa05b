//! Engine errors: one small enum, and the one pure function that turns what
//! the engine said into it. No other module reads status codes or messages.

use std::time::Duration;

use thiserror::Error;

/// The engine operations stevedore performs; retry and deadline rules depend on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// `GET /_ping`.
    Ping,
    /// `GET /containers/json`.
    List,
    /// `GET /containers/{id}/json`.
    Inspect,
    /// `POST /containers/create`.
    Create,
    /// `POST /containers/{id}/start`.
    Start,
    /// `POST /containers/{id}/stop`.
    Stop,
    /// `POST /containers/{id}/kill`.
    Kill,
    /// `DELETE /containers/{id}`.
    Remove,
    /// `GET /images/{name}/json`.
    InspectImage,
    /// `POST /images/create`.
    Pull,
    /// `GET /events`.
    Events,
    /// `POST /images/create?fromSrc=-` (import).
    Import,
    /// `PUT /containers/{id}/archive`.
    PutArchive,
    /// `GET /containers/{id}/archive`.
    GetArchive,
    /// `GET /containers/{id}/logs`.
    Logs,
    /// `GET /networks/{id}`.
    InspectNetwork,
    /// `POST /networks/create`.
    CreateNetwork,
    /// `POST /networks/{id}/connect`.
    ConnectNetwork,
    /// `DELETE /networks/{id}`.
    RemoveNetwork,
    /// `GET /networks`.
    ListNetworks,
    /// `GET /volumes/{name}`.
    InspectVolume,
    /// `POST /volumes/create`.
    CreateVolume,
    /// `DELETE /volumes/{name}`.
    RemoveVolume,
    /// `GET /volumes`.
    ListVolumes,
    /// `POST /build`.
    Build,
}

impl Operation {
    /// Its name as metrics label it (`inspect_image`).
    pub fn name(self) -> &'static str {
        match self {
            Operation::Ping => "ping",
            Operation::List => "list",
            Operation::Inspect => "inspect",
            Operation::Create => "create",
            Operation::Start => "start",
            Operation::Stop => "stop",
            Operation::Kill => "kill",
            Operation::Remove => "remove",
            Operation::InspectImage => "inspect_image",
            Operation::Pull => "pull",
            Operation::Events => "events",
            Operation::Import => "import",
            Operation::PutArchive => "put_archive",
            Operation::GetArchive => "get_archive",
            Operation::Logs => "logs",
            Operation::InspectNetwork => "inspect_network",
            Operation::CreateNetwork => "create_network",
            Operation::ConnectNetwork => "connect_network",
            Operation::RemoveNetwork => "remove_network",
            Operation::ListNetworks => "list_networks",
            Operation::InspectVolume => "inspect_volume",
            Operation::CreateVolume => "create_volume",
            Operation::RemoveVolume => "remove_volume",
            Operation::ListVolumes => "list_volumes",
            Operation::Build => "build",
        }
    }

    /// Every operation, for counters.
    pub const ALL: [Operation; 25] = [
        Operation::Ping,
        Operation::List,
        Operation::Inspect,
        Operation::Create,
        Operation::Start,
        Operation::Stop,
        Operation::Kill,
        Operation::Remove,
        Operation::InspectImage,
        Operation::Pull,
        Operation::Events,
        Operation::Import,
        Operation::PutArchive,
        Operation::GetArchive,
        Operation::Logs,
        Operation::InspectNetwork,
        Operation::CreateNetwork,
        Operation::ConnectNetwork,
        Operation::RemoveNetwork,
        Operation::ListNetworks,
        Operation::InspectVolume,
        Operation::CreateVolume,
        Operation::RemoveVolume,
        Operation::ListVolumes,
        Operation::Build,
    ];

    /// Whether the call takes load off the engine (stop, kill, remove), so
    /// the rate limit lets it overtake queued creates and starts.
    pub fn is_urgent(self) -> bool {
        matches!(self, Operation::Stop | Operation::Kill | Operation::Remove)
    }

    /// Whether a 404 means a network or volume is missing (the subject),
    /// not a container.
    fn finds_resource(self) -> bool {
        matches!(
            self,
            Operation::InspectNetwork
                | Operation::ConnectNetwork
                | Operation::RemoveNetwork
                | Operation::InspectVolume
                | Operation::RemoveVolume
        )
    }

    /// Whether repeating the call after an unknown outcome is harmless. A
    /// create is not by itself, but the gateway makes it so: a repeated
    /// create that meets our own container adopts it.
    ///
    /// A build is not: it runs the Dockerfile's steps, which may act on the
    /// world (a `RUN` that posts somewhere), and its outcome is unknown once
    /// the context is sent. The gateway makes one attempt; a person runs
    /// `up` again (the engine's cache makes the steps that passed quick).
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Operation::Create | Operation::Build)
    }
}

/// What went wrong with an engine call, in the terms stevedore acts on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The container does not exist (any more).
    #[error("no such container: {0}")]
    ContainerNotFound(String),
    /// The image is not present on the engine.
    #[error("no such image: {0}")]
    ImageNotFound(String),
    /// A network or named volume does not exist (any more): a create that
    /// names a network the engine does not have, or a call about one.
    #[error("no such network or volume: {0}")]
    ResourceNotFound(String),
    /// Pulling an image failed (no registry reachable, unknown repository…).
    #[error("could not pull image {image}: {message}")]
    PullFailed {
        /// The image asked for.
        image: String,
        /// What the engine said.
        message: String,
    },
    /// Building an image failed (a step's command failed, a base image is
    /// missing, the Dockerfile does not parse…).
    #[error("could not build image {image}: {message}")]
    BuildFailed {
        /// The image being built.
        image: String,
        /// What the builder said (the failing step's error).
        message: String,
    },
    /// The name is in use, or the container is in a state that forbids the call.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A host port could not be bound.
    #[error("address already in use: {}:{port}", ip.as_deref().unwrap_or("0.0.0.0"))]
    AddressInUse {
        /// Host address, when the engine named one.
        ip: Option<String>,
        /// Host port.
        port: u16,
    },
    /// The engine refused the request as invalid (bad reference, bad limits…).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The engine cannot be reached (socket missing, connection refused).
    #[error("engine unavailable: {0}")]
    Unavailable(String),
    /// A failure that is expected to pass: connection reset, 503, device races.
    #[error("transient engine failure: {0}")]
    Transient(String),
    /// The call did not finish within its deadline.
    #[error("{operation:?} did not finish within {after:?}")]
    DeadlineExceeded {
        /// The call that timed out.
        operation: Operation,
        /// Its deadline.
        after: Duration,
    },
    /// Anything else the engine said.
    #[error("engine error: {0}")]
    Other(String),
}

/// A failure as the transport saw it, before classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawFailure {
    /// The engine answered with an error status.
    Status {
        /// HTTP status code.
        code: u16,
        /// The engine's `message`.
        message: String,
    },
    /// The engine's socket does not exist.
    SocketMissing(String),
    /// Connecting was refused.
    ConnectionRefused(String),
    /// The connection broke mid-call (reset, EOF, broken pipe).
    ConnectionLost(String),
    /// The client gave up waiting for the response headers.
    ClientTimeout,
    /// An error reported inside a streamed response (pull progress, events).
    Stream(String),
    /// The response could not be decoded.
    Malformed(String),
    /// Anything else.
    Other(String),
}

/// Classifies a failure of `operation` against `subject` (the container or
/// image the call was about).
pub fn classify(operation: Operation, subject: &str, failure: &RawFailure) -> EngineError {
    match failure {
        RawFailure::Status { code, message } => classify_status(operation, subject, *code, message),
        RawFailure::SocketMissing(m) | RawFailure::ConnectionRefused(m) => {
            EngineError::Unavailable(m.clone())
        }
        RawFailure::ConnectionLost(m) => EngineError::Transient(m.clone()),
        RawFailure::ClientTimeout if operation.is_idempotent() => {
            EngineError::Transient("the engine did not answer in time".into())
        }
        RawFailure::ClientTimeout => EngineError::Other("the engine did not answer in time".into()),
        RawFailure::Stream(m) if operation == Operation::Pull => EngineError::PullFailed {
            image: subject.to_string(),
            message: m.clone(),
        },
        RawFailure::Stream(m) if operation == Operation::Build => EngineError::BuildFailed {
            image: subject.to_string(),
            message: m.clone(),
        },
        RawFailure::Stream(m) => {
            classify_message(m).unwrap_or_else(|| EngineError::Other(m.clone()))
        }
        RawFailure::Malformed(m) => EngineError::Other(format!("malformed engine reply: {m}")),
        RawFailure::Other(m) => {
            classify_message(m).unwrap_or_else(|| EngineError::Other(m.clone()))
        }
    }
}

fn classify_status(operation: Operation, subject: &str, code: u16, message: &str) -> EngineError {
    if let Some(error) = address_in_use(message) {
        return error;
    }
    let lower = message.to_ascii_lowercase();
    match code {
        // What the builder refuses before it runs a step (no Dockerfile
        // in the context, a Dockerfile that does not parse, an engine
        // without the endpoint): never a container not found.
        400 | 404 | 500 if operation == Operation::Build => EngineError::BuildFailed {
            image: subject.to_string(),
            message: message.to_string(),
        },
        404 if lower.contains("no such image") || operation == Operation::InspectImage => {
            EngineError::ImageNotFound(subject.to_string())
        }
        404 if operation.finds_resource() => EngineError::ResourceNotFound(subject.to_string()),
        404 if operation == Operation::Create && lower.contains("network") => {
            EngineError::ResourceNotFound(message.to_string())
        }
        404 if operation == Operation::Create => EngineError::ImageNotFound(subject.to_string()),
        404 if operation == Operation::Pull => EngineError::PullFailed {
            image: subject.to_string(),
            message: message.to_string(),
        },
        404 => EngineError::ContainerNotFound(subject.to_string()),
        409 => EngineError::Conflict(message.to_string()),
        400 => EngineError::InvalidRequest(message.to_string()),
        503 => EngineError::Transient(message.to_string()),
        500 if lower.contains("unknown device") || lower.contains("no such device") => {
            EngineError::Transient(message.to_string())
        }
        500 if operation == Operation::Pull => EngineError::PullFailed {
            image: subject.to_string(),
            message: message.to_string(),
        },
        500 if lower.contains("invalid") && operation == Operation::Create => {
            EngineError::InvalidRequest(message.to_string())
        }
        _ => classify_message(message).unwrap_or_else(|| EngineError::Other(message.to_string())),
    }
}

fn classify_message(message: &str) -> Option<EngineError> {
    let lower = message.to_ascii_lowercase();
    if let Some(error) = address_in_use(message) {
        Some(error)
    } else if lower.contains("connection refused") {
        Some(EngineError::Unavailable(message.to_string()))
    } else if lower.contains("connection reset")
        || lower.contains("broken pipe")
        || lower.contains("unexpected eof")
        || lower.contains("error reading a body from connection")
        || lower.ends_with("eof")
    {
        Some(EngineError::Transient(message.to_string()))
    } else {
        None
    }
}

/// Reads a port conflict out of either of Docker's wordings:
/// `…listen tcp4 0.0.0.0:8080: bind: address already in use` and
/// `…Bind for 0.0.0.0:8080 failed: port is already allocated`.
pub fn address_in_use(message: &str) -> Option<EngineError> {
    let endpoint = if let Some(before) = message.find(": bind: address already in use") {
        let head = &message[..before];
        head.rsplit(' ').next()?
    } else if message.contains("port is already allocated") {
        let start = message.find("Bind for ")? + "Bind for ".len();
        let rest = &message[start..];
        &rest[..rest.find(" failed")?]
    } else {
        return None;
    };
    let (ip, port) = endpoint.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    Some(EngineError::AddressInUse {
        ip: (!ip.is_empty()).then(|| ip.to_string()),
        port,
    })
}

impl EngineError {
    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            EngineError::Transient(_)
                | EngineError::Unavailable(_)
                | EngineError::DeadlineExceeded { .. }
        )
    }

    /// Whether a remove met another removal of the same container already
    /// under way ("removal of container … is already in progress"): for a
    /// caller that wants it gone, that is success.
    pub fn is_removal_in_progress(&self) -> bool {
        matches!(self, EngineError::Conflict(message) if message.contains("already in progress"))
    }

    /// Whether joining a container to a network met it there already
    /// ("endpoint with name … already exists in network …", a 403): an
    /// adopted container may have joined before its answer was lost.
    pub fn is_already_joined(&self) -> bool {
        matches!(
            self,
            EngineError::Other(message) | EngineError::Conflict(message) | EngineError::InvalidRequest(message)
                if message.contains("already exists")
        )
    }

    /// A short name of the kind, for counters and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineError::ContainerNotFound(_) => "container_not_found",
            EngineError::ImageNotFound(_) => "image_not_found",
            EngineError::ResourceNotFound(_) => "resource_not_found",
            EngineError::PullFailed { .. } => "pull_failed",
            EngineError::BuildFailed { .. } => "build_failed",
            EngineError::Conflict(_) => "conflict",
            EngineError::AddressInUse { .. } => "address_in_use",
            EngineError::InvalidRequest(_) => "invalid_request",
            EngineError::Unavailable(_) => "unavailable",
            EngineError::Transient(_) => "transient",
            EngineError::DeadlineExceeded { .. } => "deadline_exceeded",
            EngineError::Other(_) => "other",
        }
    }
}

#[cfg(test)]
mod tests;
