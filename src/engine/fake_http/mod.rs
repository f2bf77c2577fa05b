//! A fake Docker Engine that speaks the wire protocol: HTTP/1.1 on a unix
//! socket, the endpoints stevedore uses, the in-process [`FakeEngine`]'s
//! state behind them, and scripted faults in front (see [`Faults`]).
//!
//! stevedore reaches it through the real bollard gateway, so the whole stack
//! is exercised:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use stevedore::engine::fake::FakeEngine;
//! use stevedore::engine::fake_http::{Endpoint, Fault, FakeDocker};
//! let fake = FakeDocker::start(FakeEngine::new()).await?;
//! fake.faults().script(Endpoint::Create, Fault::LoseResponse);
//! let host = fake.docker_host(); // "unix:///tmp/…/docker.sock"
//! # Ok(()) }
//! ```

mod faults;
mod routes;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;
use tokio::sync::watch;

pub use self::faults::{Endpoint, Fault, Faults};
use super::fake::FakeEngine;

/// A running fake engine; it stops when dropped.
pub struct FakeDocker {
    engine: FakeEngine,
    faults: Arc<Faults>,
    socket: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl FakeDocker {
    /// Serves `engine` on a new unix socket in the temporary directory.
    pub async fn start(engine: FakeEngine) -> std::io::Result<FakeDocker> {
        let dir = std::env::temp_dir().join(format!(
            "stevedore-fake-docker-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir)?;
        let socket = dir.join("docker.sock");
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)?;
        let faults = Arc::new(Faults::default());
        let task = tokio::spawn(serve(
            listener,
            socket.clone(),
            engine.clone(),
            Arc::clone(&faults),
        ));
        Ok(FakeDocker {
            engine,
            faults,
            socket,
            task,
        })
    }

    /// `unix:///…/docker.sock`, for `DOCKER_HOST` or `DockerEngine::connect_host`.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The state behind the API (containers, call counts, crashes).
    pub fn engine(&self) -> &FakeEngine {
        &self.engine
    }

    /// The faults to inject.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }
}

impl Drop for FakeDocker {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.socket);
        if let Some(dir) = self.socket.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Accepts connections; while the engine is "down" the socket is gone and
/// every open connection is closed.
async fn serve(listener: UnixListener, socket: PathBuf, engine: FakeEngine, faults: Arc<Faults>) {
    let (generation, _) = watch::channel(0u64);
    let mut listener = Some(listener);
    loop {
        if let Some(until) = faults.down_until() {
            listener = None;
            let _ = std::fs::remove_file(&socket);
            generation.send_modify(|g| *g += 1);
            engine.drop_event_streams();
            tokio::time::sleep_until(until).await;
            continue;
        }
        let current = match &listener {
            Some(current) => current,
            None => match UnixListener::bind(&socket) {
                Ok(bound) => listener.insert(bound),
                Err(error) => panic!(
                    "the fake engine cannot listen again on {}: {error}",
                    socket.display()
                ),
            },
        };
        tokio::select! {
            accepted = current.accept() => {
                if let Ok((stream, _)) = accepted {
                    let closed = generation.subscribe();
                    tokio::spawn(connection(stream, engine.clone(), Arc::clone(&faults), closed));
                }
            }
            _ = faults.down_changed.notified() => {}
        }
    }
}

async fn connection(
    stream: tokio::net::UnixStream,
    engine: FakeEngine,
    faults: Arc<Faults>,
    mut closed: watch::Receiver<u64>,
) {
    let service = service_fn(move |request| {
        let (engine, faults) = (engine.clone(), Arc::clone(&faults));
        async move { handle(&engine, &faults, request).await }
    });
    let serving = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = serving => {}
        _ = closed.changed() => {}
    }
}

/// Why a connection is closed without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a scripted fault")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    engine: &FakeEngine,
    faults: &Faults,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<routes::Body>, Dropped> {
    let (parts, body) = request.into_parts();
    let full_path = parts.uri.path();
    // bollard prefixes a negotiated version: /v1.41/containers/json.
    let path = match full_path.strip_prefix("/v") {
        Some(rest) => rest.find('/').map_or(full_path, |slash| &rest[slash..]),
        None => full_path,
    };
    let query = routes::parse_query(parts.uri.query());
    let endpoint = routes::endpoint(&parts.method, path);
    let mut lose_response = false;
    match faults.next(endpoint) {
        Some(Fault::Status(code, text)) => {
            let status = hyper::StatusCode::from_u16(code)
                .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
            return Ok(routes::message(status, &text));
        }
        Some(Fault::Body(code, body)) => {
            let status = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::OK);
            return Ok(routes::text_response(status, &body));
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::Hang) => futures::future::pending::<()>().await,
        Some(Fault::Reset) => return Err(Dropped),
        Some(Fault::LoseResponse) => lose_response = true,
        None => {}
    }
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    let answer = routes::answer(engine, &parts.method, path, &query, body).await;
    match answer {
        Some(response) if !lose_response => Ok(response),
        _ => Err(Dropped),
    }
}
