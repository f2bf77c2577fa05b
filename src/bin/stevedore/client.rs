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

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// An HTTP/1.1 connection over `stream`, driven in the background.
async fn handshake<S>(stream: S) -> hyper::Result<Sender>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    actix::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// A running `up`'s API: on its unix socket, or on the TCP address of its
/// `--listen` with the token.
pub struct Client {
    socket: PathBuf,
    tcp: Option<(std::net::SocketAddr, String)>,
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
            tcp: None,
        })
    }

    /// The API at `address` (an `up --listen`), with `token`.
    pub fn over_tcp(address: std::net::SocketAddr, token: String) -> Client {
        Client {
            socket: PathBuf::from(address.to_string()),
            tcp: Some((address, token)),
        }
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
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("Host", "stevedore");
        let mut sender = match &self.tcp {
            Some((address, token)) => {
                request = request.header("Authorization", format!("Bearer {token}"));
                let stream = tokio::net::TcpStream::connect(address)
                    .await
                    .map_err(|e| unreachable(&e))?;
                handshake(stream).await.map_err(|e| unreachable(&e))?
            }
            None => {
                let stream = UnixStream::connect(&self.socket)
                    .await
                    .map_err(|e| unreachable(&e))?;
                handshake(stream).await.map_err(|e| unreachable(&e))?
            }
        };
        let request = request
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
