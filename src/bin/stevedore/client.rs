//! The command line's side of the control API: HTTP/1.1 over the
//! namespace's unix socket (hyper), one connection per request.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::UnixStream;

use crate::Failure;

/// A running `up`'s API.
pub struct Client {
    socket: PathBuf,
}

/// An answer: its status and JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// The body's `message` (an API error), else the status.
    pub fn message(&self) -> String {
        self.body["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| self.status.to_string())
    }
}

impl Client {
    /// The API at `socket`, if an `up` answers there; `None` otherwise.
    pub fn connect(socket: &Path) -> Option<Client> {
        crate::socket::is_live(socket).then(|| Client {
            socket: socket.to_path_buf(),
        })
    }

    /// The API at `socket`, or the failure that says no `up` runs (exit 1).
    pub fn require(socket: &Path, namespace: &str) -> Result<Client, Failure> {
        Client::connect(socket).ok_or_else(|| {
            Failure::runtime(format!(
                "no stevedore up is running for namespace {namespace} (no answer on {}); start one with `stevedore up`",
                socket.display()
            ))
        })
    }

    async fn send(&self, method: Method, path: &str) -> Result<Response<Incoming>, Failure> {
        let unreachable = |error: &dyn std::fmt::Display| {
            Failure::runtime(format!("cannot talk to {}: {error}", self.socket.display()))
        };
        let stream = UnixStream::connect(&self.socket)
            .await
            .map_err(|e| unreachable(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(&e))?;
        actix::spawn(async move {
            let _ = connection.await;
        });
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("Host", "stevedore")
            .body(Empty::<Bytes>::new())
            .expect("a valid request");
        sender
            .send_request(request)
            .await
            .map_err(|e| unreachable(&e))
    }

    /// One request, its whole answer read.
    pub async fn call(&self, method: Method, path: &str) -> Result<Answer, Failure> {
        let response = self.send(method, path).await?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|error| Failure::runtime(format!("the answer broke off: {error}")))?
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer { status, body })
    }

    /// `GET path`, streamed: each chunk of the body as it arrives.
    pub async fn stream(&self, path: &str) -> Result<Incoming, Failure> {
        let response = self.send(Method::GET, path).await?;
        if !response.status().is_success() {
            return Err(Failure::runtime(format!("{path}: {}", response.status())));
        }
        Ok(response.into_body())
    }
}
