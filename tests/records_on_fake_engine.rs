//! The namespace lease and the phase record against the in-process fake engine.
#![cfg(feature = "test-util")]

use std::collections::BTreeMap;
use std::sync::Arc;

use stevedore::engine::fake::FakeEngine;
use stevedore::gateway::{Gateway, GatewayConfig};
use stevedore::record::{Lease, LeaseError, PhaseRecord, read_phases, write_phases};

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
        },
    )]);
    write_phases(&gateway, "ns", &phases).await.unwrap();
    assert_eq!(read_phases(&gateway, "ns").await.unwrap(), phases);
}
