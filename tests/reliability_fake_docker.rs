//! Reliability against the wire-protocol fake engine, through the real
//! bollard gateway: faults, lost answers, dropped event streams, an engine
//! that goes away, calls that hang, and a flood of adds. Deterministic
//! (seeded faults), no Docker needed.
#![cfg(feature = "test-util")]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use stevedore::engine::fake::FakeEngine;
use stevedore::engine::fake_http::{Endpoint, FakeDocker, Fault};
use stevedore::engine::{DockerEngine, Operation};
use stevedore::gateway::GatewayConfig;
use stevedore::{
    Backoff, RestartPolicy, Supervisor, SupervisorHandle, UnitEvent, UnitSpec, UnitState,
};

async fn fake() -> FakeDocker {
    FakeDocker::start(FakeEngine::new())
        .await
        .expect("the fake engine listens")
}

async fn supervisor_on(
    fake: &FakeDocker,
    namespace: &str,
    config: GatewayConfig,
) -> SupervisorHandle {
    let engine = DockerEngine::connect_host(&fake.docker_host())
        .await
        .expect("bollard connects to the fake");
    Supervisor::builder()
        .namespace(namespace)
        .engine(Arc::new(engine))
        .gateway_config(config)
        .start()
        .await
        .expect("supervisor starts")
}

fn quick() -> Backoff {
    Backoff {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
        jitter: 0.0,
        ..Backoff::default()
    }
}

fn sleeper(name: &str) -> UnitSpec {
    UnitSpec::new(name, "busybox:latest")
        .restart(RestartPolicy::Always)
        .backoff(quick())
}

/// Waits for events until `done` says every awaited thing happened.
async fn until(
    events: &mut (impl StreamExt<Item = UnitEvent> + Unpin),
    mut done: impl FnMut(&UnitEvent) -> bool,
) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = events.next().await {
            if done(&event) {
                return;
            }
        }
        panic!("event stream ended");
    })
    .await
    .expect("the awaited events never came");
}

fn containers_per_name(fake: &FakeDocker) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for container in fake.engine().containers() {
        *counts.entry(container.name).or_default() += 1;
    }
    counts
}

#[actix::test]
async fn the_whole_stack_runs_units_over_the_wire_protocol() {
    let fake = fake().await;
    let sup = supervisor_on(&fake, "wire", GatewayConfig::default()).await;
    let mut events = sup.events().await;
    sup.add(sleeper("web")).await.unwrap();
    fake.engine().crash("wire--web", 3);
    until(&mut events, |e| {
        e.state == UnitState::Running && e.restart_count == 1
    })
    .await;
    let listed = sup.list().await.unwrap();
    assert_eq!(listed[0].container.as_ref().unwrap().status, "running");
    assert_eq!(containers_per_name(&fake)["wire--web"], 1);
}
