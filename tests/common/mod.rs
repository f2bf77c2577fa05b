//! Shared helpers of the tests that need the real Docker engine.
#![allow(dead_code)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use stevedore::engine::DockerEngine;
use stevedore::{Supervisor, SupervisorHandle, UnitEvent};

pub mod api;
pub mod cli;

/// The image `scripts/engine-up.sh` imports from the host's busybox.
pub const IMAGE: &str = "stevedore-test:latest";

/// The engine, or `None` (with a clear message) on a machine without one.
/// In CI (`CI` set) and under `scripts/test.sh` (`STEVEDORE_REQUIRE_ENGINE`
/// set) a missing engine fails the test instead.
pub async fn engine() -> Option<Arc<DockerEngine>> {
    let required =
        std::env::var_os("CI").is_some() || std::env::var_os("STEVEDORE_REQUIRE_ENGINE").is_some();
    match DockerEngine::connect().await {
        Ok(engine) => Some(Arc::new(engine)),
        Err(error) if required => {
            panic!(
                "the Docker engine is required (CI or scripts/test.sh) and does not answer: {error}"
            )
        }
        Err(error) => {
            eprintln!(
                "SKIPPED: no Docker engine answers ({error}); run scripts/engine-up.sh first"
            );
            None
        }
    }
}

/// A clean namespace and a supervisor on it; `None` when the engine is missing.
pub async fn supervisor(namespace: &str) -> Option<(SupervisorHandle, Cleanup)> {
    let engine = engine().await?;
    let cleanup = Cleanup::new(namespace);
    let handle = Supervisor::builder()
        .namespace(namespace)
        .engine(engine)
        .start()
        .await
        .expect("supervisor starts");
    Some((handle, cleanup))
}

/// Another supervisor of an existing namespace (for adoption tests).
pub async fn second_supervisor(namespace: &str) -> SupervisorHandle {
    let engine = engine().await.expect("engine answered before");
    Supervisor::builder()
        .namespace(namespace)
        .engine(engine)
        .start()
        .await
        .expect("supervisor starts")
}

/// Removes a namespace's containers now and again when dropped.
pub struct Cleanup {
    namespace: String,
    extra: Vec<String>,
}

impl Cleanup {
    pub fn new(namespace: &str) -> Self {
        // The namespace's lease and phase record are not labelled as its units.
        let cleanup = Cleanup {
            namespace: namespace.to_string(),
            extra: vec![
                format!("{namespace}---lease"),
                format!("{namespace}---state"),
            ],
        };
        cleanup.run();
        cleanup
    }

    /// Also removes `container` (a foreign one a test made) at the end.
    pub fn also(&mut self, container: &str) {
        self.extra.push(container.to_string());
    }

    fn run(&self) {
        let filter = format!("label=io.stevedore.namespace={}", self.namespace);
        let ids = docker(&["ps", "-aq", "--filter", &filter]);
        let mut targets: Vec<String> = ids.split_whitespace().map(str::to_string).collect();
        targets.extend(self.extra.iter().cloned());
        if !targets.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(targets.iter().map(String::as_str));
            let _ = Command::new("docker").args(&args).output();
        }
        // Networks and volumes a namespace made carry its label too.
        for kind in ["network", "volume"] {
            let names = docker(&[kind, "ls", "-q", "--filter", &filter]);
            for name in names.split_whitespace() {
                let _ = Command::new("docker").args([kind, "rm", name]).output();
            }
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.run();
    }
}

/// Runs the docker CLI and returns its standard output, trimmed.
pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// `docker inspect -f FORMAT NAME`.
pub fn inspect(name: &str, format: &str) -> String {
    docker(&["inspect", "-f", format, name])
}

/// Waits for the first event of `unit` (any unit when empty) that satisfies
/// `wanted` (bounded, so a regression fails instead of hanging).
pub async fn event_where(
    events: &mut (impl StreamExt<Item = UnitEvent> + Unpin),
    unit: &str,
    wanted: impl Fn(&UnitEvent) -> bool,
) -> UnitEvent {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let event = events.next().await.expect("event stream ended");
            if (unit.is_empty() || event.unit == unit) && wanted(&event) {
                return event;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the awaited event of {unit} never came"))
}

/// A host TCP port that is free now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the docker CLI reaches an engine (for checks that are only
/// meaningful with one; tests that need it use [`engine`]).
pub fn engine_available() -> bool {
    Command::new("docker")
        .args(["info"])
        .output()
        .map(|output| output.status.success())
        .unwrap_or(false)
}

/// A backoff short enough for tests: 10 ms growing to 50 ms, no jitter.
pub fn quick_backoff() -> stevedore::Backoff {
    stevedore::Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(50),
        jitter: 0.0,
        ..stevedore::Backoff::default()
    }
}

/// Starts the engine again with the project's own script (as CI does),
/// and fails the test if it does not come back.
pub fn engine_up() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/engine-up.sh");
    let status = Command::new("bash")
        .arg(script)
        .status()
        .expect("engine-up.sh runs");
    assert!(status.success(), "the engine did not come back");
}

/// Brings the engine back however a test that stops it ends.
pub struct EngineBack;

impl Drop for EngineBack {
    fn drop(&mut self) {
        engine_up();
    }
}
