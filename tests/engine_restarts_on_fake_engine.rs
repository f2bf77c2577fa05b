//! The engine going away and coming back, on the in-process fake: a graceful
//! stop (its containers stopped as `docker stop` would, seen live), a crash
//! whose restore stops the containers before the engine answers (seen only
//! in a `since` replay), and a person's `docker stop` while it answers.
#![cfg(feature = "test-util")]

mod common;

use std::sync::Arc;

use common::{event_where, quick_backoff};
use futures::stream::BoxStream;
use stevedore::engine::fake::FakeEngine;
use stevedore::{RestartPolicy, Supervisor, SupervisorHandle, UnitEvent, UnitSpec, UnitState};

/// A supervisor (as `up` runs it, with a phase record) whose units `a`, `b`
/// and `c` run, and its events from then on.
async fn three_running_units() -> (FakeEngine, SupervisorHandle, BoxStream<'static, UnitEvent>) {
    let engine = FakeEngine::new();
    let sup = Supervisor::builder()
        .namespace("ns")
        .engine(Arc::new(engine.clone()))
        .record_phases(true)
        .start()
        .await
        .expect("supervisor starts on the fake engine");
    for name in ["a", "b", "c"] {
        let spec = UnitSpec::new(name, "busybox:latest")
            .restart(RestartPolicy::Always)
            .backoff(quick_backoff());
        sup.add(spec).await.unwrap();
    }
    let events = sup.events().await;
    (engine, sup, events)
}

/// Waits until each of the three units has sent an event that `wanted` accepts.
async fn each_unit(
    events: &mut BoxStream<'static, UnitEvent>,
    wanted: impl Fn(&UnitEvent) -> bool,
) {
    let mut waiting: std::collections::BTreeSet<&str> = ["a", "b", "c"].into();
    while !waiting.is_empty() {
        let event = event_where(events, "", |e| {
            waiting.contains(e.unit.as_str()) && wanted(e)
        })
        .await;
        waiting.remove(event.unit.as_str());
    }
}

async fn assert_all_back(sup: &SupervisorHandle, engine: &FakeEngine) {
    let listed = sup.list().await.unwrap();
    for unit in &listed {
        assert_eq!(unit.state, UnitState::Running, "{unit:?}");
        assert_eq!(
            unit.restart_count, 0,
            "the outage counts no restart: {unit:?}"
        );
    }
    let units = engine
        .containers()
        .into_iter()
        .filter(|c| !c.name.contains("---"));
    assert_eq!(units.count(), 3, "one container per unit");
}

#[actix::test]
async fn a_graceful_engine_stop_is_not_a_stop_by_hand_and_every_unit_comes_back() {
    let (engine, sup, mut events) = three_running_units().await;
    engine.stop_engine();
    each_unit(&mut events, |e| e.state == UnitState::WaitingForEngine).await;
    engine.start_engine();
    each_unit(&mut events, |e| e.state == UnitState::Running).await;
    assert_all_back(&sup, &engine).await;
    for name in ["a", "b", "c"] {
        let container = engine.container(&format!("ns--{name}")).unwrap();
        assert_eq!(container.starts, 2, "started again in place");
    }
}

#[actix::test]
async fn stops_made_by_a_restoring_engine_are_replayed_and_never_taken_as_by_hand() {
    let (engine, sup, mut events) = three_running_units().await;
    engine.crash_engine();
    engine.restore_engine();
    each_unit(&mut events, |e| {
        assert_ne!(e.state, UnitState::Stopped, "{e:?}");
        e.state == UnitState::Running
    })
    .await;
    assert_all_back(&sup, &engine).await;
}

#[actix::test]
async fn a_docker_stop_after_the_engine_came_back_is_still_honoured() {
    use stevedore::engine::Engine;
    let (engine, _sup, mut events) = three_running_units().await;
    engine.crash_engine();
    engine.restore_engine();
    each_unit(&mut events, |e| e.state == UnitState::Running).await;
    let id = engine.container("ns--a").unwrap().id;
    engine
        .stop_container(id, std::time::Duration::from_secs(1))
        .await
        .unwrap();
    let stopped = event_where(&mut events, "a", |e| e.state == UnitState::Stopped).await;
    assert!(stopped.reason.unwrap().contains("docker stop"));
}

#[actix::test]
async fn an_exit_before_the_events_subscription_is_really_made_is_not_lost() {
    let engine = FakeEngine::new();
    let first = Supervisor::builder()
        .namespace("ns")
        .engine(Arc::new(engine.clone()))
        .start()
        .await
        .unwrap();
    first
        .add(UnitSpec::new("a", "busybox:latest").restart(RestartPolicy::Always))
        .await
        .unwrap();
    first.shutdown(stevedore::ShutdownMode::Leave).await;
    // The next supervisor's stream reaches the engine only after adoption's
    // list has shown the container running, and the container dies between.
    engine.delay_subscriptions(std::time::Duration::from_millis(300));
    let sup = Supervisor::builder()
        .namespace("ns")
        .engine(Arc::new(engine.clone()))
        .start()
        .await
        .unwrap();
    let mut events = sup.events().await;
    engine.crash("ns--a", 1);
    let back = event_where(&mut events, "a", |e| e.state == UnitState::BackingOff).await;
    assert_eq!(back.exit_code, Some(1));
    event_where(&mut events, "a", |e| e.state == UnitState::Running).await;
}
