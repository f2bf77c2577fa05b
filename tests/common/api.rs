//! Raw HTTP/1.1 over a unix socket, for tests of the control API: what the
//! server answers to exactly the bytes a test sends.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An answer: status, headers (names lowercased) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == &name.to_ascii_lowercase())
            .map(|(_, value)| value.as_str())
    }
}

/// A fresh socket path in its own directory (which `up` creates).
pub fn socket_path(name: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("stevedore-api-{}-{name}", std::process::id()))
        .join(format!("{name}.sock"))
}

/// Sends `method path` with `headers` and `body`; reads the whole answer.
pub fn request(
    socket: &Path,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let stream = UnixStream::connect(socket).expect("the API answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    exchange(stream, method, path, headers, body)
}

/// The same over TCP, to `address` (`127.0.0.1:8080`).
pub fn request_tcp(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let stream = std::net::TcpStream::connect(address).expect("the API answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    exchange(stream, method, path, headers, body)
}

fn exchange(
    mut stream: impl Read + Write,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: stevedore\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A server may answer (413) before reading it all.
    let _ = stream.write_all(body);
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader);
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        while let Some(chunk) = read_chunk(&mut reader) {
            body.extend(chunk);
        }
    } else {
        let _ = reader.read_to_end(&mut body);
    }
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// `GET path`.
pub fn get(socket: &Path, path: &str) -> Answer {
    request(socket, "GET", path, &[], b"")
}

/// `POST path` with no body.
pub fn post(socket: &Path, path: &str) -> Answer {
    request(socket, "POST", path, &[], b"")
}

fn read_head(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    (status, headers)
}

fn read_chunk(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut size = String::new();
    if reader.read_line(&mut size).ok()? == 0 {
        return None;
    }
    let size = usize::from_str_radix(size.trim(), 16).ok()?;
    if size == 0 {
        return None;
    }
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk).ok()?;
    chunk.truncate(size);
    Some(chunk)
}

/// One SSE message: its id, event type and data.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: Option<u64>,
    pub event: Option<String>,
    pub data: String,
}

impl Message {
    /// The data as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// An open `GET /v1/events`, read message by message.
pub struct Events {
    reader: BufReader<UnixStream>,
    pending: Vec<u8>,
}

impl Events {
    /// Opens the stream, resuming after `last_id` when given.
    pub fn open(socket: &Path, last_id: Option<u64>) -> Events {
        let mut stream = UnixStream::connect(socket).expect("the API answers");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut head = "GET /v1/events HTTP/1.1\r\nHost: stevedore\r\n".to_string();
        if let Some(id) = last_id {
            head.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let (status, _) = read_head(&mut reader);
        assert_eq!(status, 200);
        Events {
            reader,
            pending: Vec::new(),
        }
    }

    /// The next message with data (comments and `retry:` skipped).
    pub fn next(&mut self) -> Message {
        loop {
            if let Some(end) = find(&self.pending, b"\n\n") {
                let raw: Vec<u8> = self.pending.drain(..end + 2).collect();
                let text = String::from_utf8_lossy(&raw);
                let mut message = Message {
                    id: None,
                    event: None,
                    data: String::new(),
                };
                for line in text.lines() {
                    if let Some(id) = line.strip_prefix("id: ") {
                        message.id = id.parse().ok();
                    } else if let Some(event) = line.strip_prefix("event: ") {
                        message.event = Some(event.to_string());
                    } else if let Some(data) = line.strip_prefix("data: ") {
                        message.data = data.to_string();
                    }
                }
                if !message.data.is_empty() {
                    return message;
                }
                continue;
            }
            let chunk = read_chunk(&mut self.reader).expect("the stream goes on");
            self.pending.extend(chunk);
        }
    }

    /// Reads messages until one satisfies `wanted`; returns every one read.
    pub fn until(&mut self, wanted: impl Fn(&serde_json::Value) -> bool) -> Vec<Message> {
        let mut read = Vec::new();
        loop {
            let message = self.next();
            let done = message.event.is_none() && wanted(&message.json());
            read.push(message);
            if done {
                return read;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A running `up -f FILE` serving its API on a socket of its own and on
/// TCP, once `units` run: the process, its socket, its TCP address and the
/// token it made.
pub struct Listening {
    pub up: super::cli::Up,
    pub socket: PathBuf,
    pub address: String,
    pub token: String,
}

impl Listening {
    pub fn start(file: &Path, namespace: &str, units: &[&str]) -> Listening {
        let socket = socket_path(namespace);
        let address = format!("127.0.0.1:{}", super::free_port());
        let socket_text = socket.display().to_string();
        let mut up = super::cli::Up::start(file, &["--socket", &socket_text, "--listen", &address]);
        up.wait_running(units);
        up.wait_for(&["the token for", "is in"]);
        let token = std::fs::read_to_string(socket.with_extension("token")).unwrap();
        Listening {
            up,
            socket,
            address,
            token: token.trim().to_string(),
        }
    }
}
