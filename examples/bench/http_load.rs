//! An open-loop HTTP/1.1 load: requests on a fixed schedule over a few
//! keep-alive connections, each latency counted from when its request was
//! due (so a slow server is not excused by sending less).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Where the server listens.
#[derive(Clone)]
pub enum Target {
    Tcp(String),
    Unix(String),
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

fn connect(target: &Target) -> Box<dyn Stream> {
    match target {
        Target::Tcp(address) => {
            let stream = TcpStream::connect(address).expect("the server answers");
            stream.set_nodelay(true).unwrap();
            Box::new(stream)
        }
        Target::Unix(path) => Box::new(UnixStream::connect(path).expect("the server answers")),
    }
}

/// Reads one answer (status line, headers, a sized or chunked body);
/// returns its status.
fn read_answer(reader: &mut impl BufRead) -> u16 {
    let mut line = String::new();
    reader.read_line(&mut line).expect("an answer");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let header = line.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("content-length:") {
            length = value.trim().parse::<usize>().ok();
        }
        if header.starts_with("transfer-encoding:") && header.contains("chunked") {
            chunked = true;
        }
    }
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
        }
    } else if let Some(length) = length {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
    }
    status
}

/// Sends `request` (a whole HTTP/1.1 request, keep-alive) `rate` times a
/// second for `duration`, spread over `connections`; returns every
/// latency. Panics on an answer that is not 200.
pub fn fixed_rate(
    target: &Target,
    request: &[u8],
    rate: f64,
    duration: Duration,
    connections: usize,
) -> Vec<Duration> {
    let total = (rate * duration.as_secs_f64()) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now() + Duration::from_millis(50);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|worker| {
                let target = target.clone();
                scope.spawn(move || {
                    let stream = connect(&target);
                    let mut reader = BufReader::new(stream);
                    let mut latencies = Vec::new();
                    let mut slot = worker;
                    // One that cannot keep up is cut off 10 s after the
                    // schedule ends; what it answered by then counts.
                    let cutoff = start + duration + Duration::from_secs(10);
                    while slot < total && Instant::now() < cutoff {
                        let due = start + interval * slot as u32;
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        reader.get_mut().write_all(request).unwrap();
                        let status = read_answer(&mut reader);
                        assert_eq!(status, 200, "the server refused the load's request");
                        latencies.push(due.elapsed());
                        slot += connections;
                    }
                    latencies
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    })
}

/// The `fraction` quantile of `samples` (0.5: the median).
pub fn quantile(samples: &[Duration], fraction: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// `count` requests one after the other on one keep-alive connection;
/// returns each one's latency.
pub fn sequential(target: &Target, request: &[u8], count: usize) -> Vec<Duration> {
    let mut reader = BufReader::new(connect(target));
    (0..count)
        .map(|_| {
            let began = Instant::now();
            reader.get_mut().write_all(request).unwrap();
            assert_eq!(
                read_answer(&mut reader),
                200,
                "the server refused the request"
            );
            began.elapsed()
        })
        .collect()
}
