//! The namespace lease and the phase record against the in-process fake engine.
#![cfg(feature = "test-util")]

use std::collections::BTreeMap;
use std::sync::Arc;

use stevedore::engine::fake::FakeEngine;
use stevedore::gateway::{Gateway, GatewayConfig, GetStats};
use stevedore::record::{Lease, LeaseError, PhaseRecord, read_phases, write_phases};
use stevedore::{ShutdownMode, Supervisor, UnitSpec};

#[actix::test]
async fn a_lease_held_by_this_live_process_refuses_nobody_but_itself() {
    let engine = FakeEngine::new();
    let gateway = Gateway::start_with(Arc::new(engine.clone()), GatewayConfig::default());
    let lease = Lease::acquire(&gateway, "ns", false).await.unwrap();
    assert!(engine.container("ns---lease").is_some());
    // The same process asking again (a restarted `up` with a reused pid) takes it back.
    let again = Lease::acquire(&gateway, "ns", false).await.unwrap();
    assert_eq!(
        again.replaced.as_ref().map(|h| h.pid),
        Some(std::process::id())
    );
    again.release().await.unwrap();
    assert!(engine.container("ns---lease").is_none());
    drop(lease);
}

#[actix::test]
async fn a_lease_of_another_host_is_refused_unless_taken_over() {
    use stevedore::engine::Engine;
    let engine = FakeEngine::new();
    engine.add_image(stevedore::record::RECORD_IMAGE);
    let labels = [
        ("io.stevedore.lease.host", "elsewhere"),
        ("io.stevedore.lease.pid", "42"),
        ("io.stevedore.lease.since", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let body = bollard::models::ContainerCreateBody {
        image: Some(stevedore::record::RECORD_IMAGE.into()),
        labels: Some(labels),
        ..Default::default()
    };
    engine
        .create_container("ns---lease".into(), body)
        .await
        .unwrap();
    let gateway = Gateway::start_with(Arc::new(engine.clone()), GatewayConfig::default());
    let refused = Lease::acquire(&gateway, "ns", false).await;
    let Err(LeaseError::Held { holder, .. }) = refused else {
        panic!("should be refused")
    };
    assert!(holder.contains("pid 42 on host elsewhere"), "{holder}");
    let taken = Lease::acquire(&gateway, "ns", true).await.unwrap();
    assert_eq!(taken.replaced.unwrap().host, "elsewhere");
}

#[actix::test]
async fn phases_written_are_read_back_and_none_reads_as_empty() {
    let engine = FakeEngine::new();
    let gateway = Gateway::start_with(Arc::new(engine), GatewayConfig::default());
    assert!(read_phases(&gateway, "ns").await.unwrap().is_empty());
    let phases = BTreeMap::from([(
        "web".to_string(),
        PhaseRecord {
            phase: "stopped".into(),
            reason: Some("stopped by request".into()),
            at: 7,
            restart_count: 3,
            last_exit_code: Some(143),
            last_restart_reason: None,
        },
    )]);
    write_phases(&gateway, "ns", &phases).await.unwrap();
    assert_eq!(read_phases(&gateway, "ns").await.unwrap(), phases);
}

#[actix::test]
async fn shutdown_writes_the_last_phases_and_stops_the_gateway_it_made() {
    let engine = FakeEngine::new();
    let supervisor = Supervisor::builder()
        .namespace("ns")
        .engine(Arc::new(engine.clone()))
        .record_phases(true)
        .start()
        .await
        .unwrap();
    supervisor
        .add(UnitSpec::new("web", "busybox:latest"))
        .await
        .unwrap();
    supervisor.shutdown(ShutdownMode::Leave).await;
    assert!(
        !supervisor.gateway().connected(),
        "the gateway and its events stream end with the supervisor"
    );
    let reader = Gateway::start_with(Arc::new(engine), GatewayConfig::default());
    let phases = read_phases(&reader, "ns").await.unwrap();
    assert_eq!(phases["web"].phase, "running");
}

#[actix::test]
async fn shutdown_leaves_a_gateway_it_was_given_running() {
    let engine = FakeEngine::new();
    let shared = Gateway::start_with(Arc::new(engine), GatewayConfig::default());
    let supervisor = Supervisor::builder()
        .namespace("ns")
        .gateway(shared.clone())
        .start()
        .await
        .unwrap();
    supervisor.shutdown(ShutdownMode::Leave).await;
    assert!(shared.connected());
    assert!(shared.send(GetStats).await.is_ok());
}
