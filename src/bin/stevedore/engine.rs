//! Connecting to the engine the way the docker CLI does, for every command:
//! the address checked before any connection, and a failure to reach it
//! told in one line (the address and the OS's word).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use stevedore::engine::{ContainerSnapshot, DockerEngine, Engine};
use stevedore::gateway::{AwaitEvents, Gateway, GatewayConfig, ListContainers};

use crate::Failure;

/// The forms `-H` and DOCKER_HOST take, for the message that refuses others.
const FORMS: &str = "unix:///path, tcp://host:port or http://host:port";

/// Where the engine listens, as `-H` or DOCKER_HOST gave it (or the local
/// socket), already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// As the user gave it, for messages; `None`: the local socket.
    given: Option<String>,
    place: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Unix(String),
    /// `host` without brackets (an IPv6 address is bracketed in URLs only).
    Tcp {
        host: String,
        port: u16,
    },
}

/// The engine's port when `tcp://host` names none, as with the docker CLI.
const DEFAULT_TCP_PORT: u16 = 2375;
const LOCAL_SOCKET: &str = "/var/run/docker.sock";

impl Address {
    /// Checks `host` (`None`: the local socket); `from_env` says it came
    /// from DOCKER_HOST rather than `-H`, for the message.
    pub fn parse(host: Option<&str>, from_env: bool) -> Result<Address, Failure> {
        let Some(text) = host else {
            return Ok(Address {
                given: None,
                place: Place::Unix(LOCAL_SOCKET.to_string()),
            });
        };
        let place = parse_place(text).map_err(|why| {
            let flag = if from_env { "DOCKER_HOST" } else { "-H" };
            Failure::input(format!(
                "{flag} {text:?} is not an engine address stevedore can use{why}; it takes {FORMS}"
            ))
        })?;
        Ok(Address {
            given: Some(text.to_string()),
            place,
        })
    }

    /// What the messages call it.
    fn shown(&self) -> String {
        match (&self.given, &self.place) {
            (Some(given), _) => given.clone(),
            (None, Place::Unix(path)) => format!("unix://{path}"),
            (None, Place::Tcp { .. }) => unreachable!("a TCP address is always given"),
        }
    }

    /// The form `DockerEngine::connect_host` reads.
    fn url(&self) -> String {
        match &self.place {
            Place::Unix(path) => format!("unix://{path}"),
            Place::Tcp { host, port } if host.contains(':') => format!("tcp://[{host}]:{port}"),
            Place::Tcp { host, port } => format!("tcp://{host}:{port}"),
        }
    }
}

/// The place `text` names, or why it names none (`: …`, or empty).
fn parse_place(text: &str) -> Result<Place, String> {
    if let Some(path) = text.strip_prefix("unix://") {
        if !path.starts_with('/') || path.len() < 2 {
            return Err(
                ": the socket's path must be absolute (unix:///var/run/docker.sock)".into(),
            );
        }
        return Ok(Place::Unix(path.to_string()));
    }
    let Some(rest) = text
        .strip_prefix("tcp://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return Err(match text.split_once("://") {
            Some(("ssh", _)) => {
                ": ssh:// is not supported (forward the socket with ssh -L /tmp/docker.sock:/var/run/docker.sock HOST and use unix:///tmp/docker.sock)".into()
            }
            Some(("https", _)) => ": TLS (https://) is not supported".into(),
            _ => String::new(),
        });
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or(": an unclosed '[' in the address")?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(": no ':' before the port")?),
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!(": {host:?} in brackets is not an IPv6 address"));
        }
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if host.is_empty() || !host.chars().all(host_chars) {
        return Err(": no host name or address".into());
    }
    let port = match port {
        None => DEFAULT_TCP_PORT,
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => return Err(format!(": {port:?} is not a port number (1-65535)")),
        },
    };
    Ok(Place::Tcp {
        host: host.to_string(),
        port,
    })
}

/// How long reaching a TCP engine may take before it counts as unreachable.
const CONNECT_WITHIN: Duration = Duration::from_secs(10);

/// Opens one connection to the address, so that "unreachable" is told in
/// the OS's words before the HTTP client wraps them in its own.
async fn probe(place: &Place) -> Result<(), String> {
    let opened = match place {
        Place::Unix(path) => tokio::net::UnixStream::connect(path).await.map(drop),
        Place::Tcp { host, port } => {
            let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
            match tokio::time::timeout(CONNECT_WITHIN, connect).await {
                Ok(opened) => opened.map(drop),
                Err(_) => return Err(format!("no answer within {CONNECT_WITHIN:?}")),
            }
        }
    };
    opened.map_err(|error| os_words(&error))
}

/// `connection refused`, not `Connection refused (os error 111)`.
fn os_words(error: &io::Error) -> String {
    let text = error.to_string();
    let text = match error.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .unwrap_or(&text)
            .to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// Connects, checks the engine answers, and starts a gateway over it.
pub async fn gateway(address: &Address) -> Result<Addr<Gateway>, Failure> {
    let unreachable = |why: &dyn std::fmt::Display| {
        Failure::runtime(format!(
            "cannot reach the Docker engine at {}: {why}",
            address.shown()
        ))
    };
    probe(&address.place)
        .await
        .map_err(|why| unreachable(&why))?;
    let engine = match &address.given {
        Some(_) => DockerEngine::connect_host(&address.url()).await,
        None => DockerEngine::connect().await,
    }
    .map_err(|e| unreachable(&e))?;
    engine.ping().await.map_err(|e| unreachable(&e))?;
    let gateway = Gateway::start_with(Arc::new(engine), GatewayConfig::default());
    gateway.send(AwaitEvents).await.map_err(Failure::runtime)?;
    Ok(gateway)
}

/// Every container of the namespace (one list call).
pub async fn containers(
    gateway: &Addr<Gateway>,
    namespace: &str,
) -> Result<Vec<ContainerSnapshot>, Failure> {
    gateway
        .send(ListContainers {
            namespace: namespace.to_string(),
        })
        .await
        .map_err(Failure::runtime)?
        .map_err(|e| Failure::runtime(format!("cannot list containers: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(text: &str) -> Result<Place, String> {
        parse_place(text)
    }

    #[test]
    fn the_docker_cli_forms_are_read() {
        assert_eq!(
            place("unix:///run/d.sock"),
            Ok(Place::Unix("/run/d.sock".into()))
        );
        let tcp = |host: &str, port| {
            Ok(Place::Tcp {
                host: host.into(),
                port,
            })
        };
        assert_eq!(place("tcp://10.0.0.1:2376"), tcp("10.0.0.1", 2376));
        assert_eq!(place("http://engine.local:80/"), tcp("engine.local", 80));
        assert_eq!(place("tcp://engine"), tcp("engine", 2375));
        assert_eq!(place("tcp://[::1]:2375"), tcp("::1", 2375));
    }

    #[test]
    fn other_forms_are_refused_with_a_reason_where_one_helps() {
        for bad in [
            "ssh://me@host",
            "https://h:1",
            "garbage",
            "tcp://",
            "tcp://h:x",
            "tcp://h:0",
            "tcp://[zz]:1",
            "tcp://[::1",
            "tcp://a b:1",
            "tcp://h:1/path",
            "unix://rel",
        ] {
            assert!(place(bad).is_err(), "{bad}");
        }
        assert!(place("ssh://me@host").unwrap_err().contains("ssh -L"));
    }

    #[test]
    fn os_errors_are_told_in_lower_case_without_their_number() {
        let refused = io::Error::from_raw_os_error(111);
        assert_eq!(os_words(&refused), "connection refused");
    }

    #[test]
    fn an_ipv6_host_is_bracketed_again_in_the_url() {
        let address = Address::parse(Some("tcp://[::1]:2375"), false)
            .ok()
            .unwrap();
        assert_eq!(address.url(), "tcp://[::1]:2375");
    }
}
