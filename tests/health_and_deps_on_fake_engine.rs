//! Health verdicts and dependencies on the in-process fake engine: timing
//! and order without Docker (the real engine's tests are in
//! `real_engine_health.rs`).
#![cfg(feature = "test-util")]

mod common;

use std::sync::Arc;

use common::{event_where, quick_backoff};
use stevedore::engine::fake::FakeEngine;
use stevedore::{
    Condition, Dependency, Health, HealthCheck, RestartPolicy, ShutdownMode, Supervisor,
    SupervisorHandle, UnitError, UnitSpec, UnitState,
};

async fn supervisor(engine: &FakeEngine) -> SupervisorHandle {
    Supervisor::builder()
        .namespace("ns")
        .engine(Arc::new(engine.clone()))
        .start()
        .await
        .expect("supervisor starts on the fake engine")
}

fn unit(name: &str) -> UnitSpec {
    UnitSpec::new(name, "busybox:latest")
        .restart(RestartPolicy::Always)
        .backoff(quick_backoff())
}

fn checked(name: &str) -> UnitSpec {
    unit(name).healthcheck(HealthCheck::exec(["test", "-f", "/ok"]))
}

fn starts(engine: &FakeEngine, unit: &str) -> u32 {
    engine
        .container(&format!("ns--{unit}"))
        .map_or(0, |c| c.starts)
}

#[actix::test]
async fn an_unhealthy_unit_is_restarted_with_reason_unhealthy_and_comes_back() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine).await;
    sup.add(checked("web")).await.unwrap();
    let mut events = sup.events().await;
    engine.set_health("ns--web", Health::Healthy);
    event_where(&mut events, "web", |e| e.health == Some(Health::Healthy)).await;
    engine.set_health("ns--web", Health::Unhealthy);
    let stopping = event_where(&mut events, "web", |e| e.state == UnitState::Stopping).await;
    assert_eq!(stopping.reason.as_deref(), Some("unhealthy"));
    let back = event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
    assert_eq!(back.restart_count, 1);
    assert_eq!(back.health, Some(Health::Starting));
    assert_eq!(
        engine.container("ns--web").map(|c| c.id),
        back.container_id,
        "a new container (no phase record: restarts replace)"
    );
}

#[actix::test]
async fn a_verdict_given_while_the_events_stream_was_down_is_acted_on_after_the_reconnect() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine).await;
    sup.add(checked("web")).await.unwrap();
    let mut events = sup.events().await;
    engine.drop_event_streams();
    engine.set_health_unseen("ns--web", Health::Unhealthy);
    let stopping = event_where(&mut events, "web", |e| e.state == UnitState::Stopping).await;
    assert_eq!(stopping.reason.as_deref(), Some("unhealthy"));
    event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
}

#[actix::test]
async fn a_dependent_added_first_waits_and_starts_only_once_its_dependency_is_healthy() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine).await;
    let mut events = sup.events().await;
    sup.add(unit("web").depends_on("db", Condition::Healthy))
        .await
        .expect("a waiting unit is accepted");
    let waiting = event_where(&mut events, "web", |e| e.state == UnitState::Waiting).await;
    assert_eq!(
        waiting.reason.as_deref(),
        Some("db (healthy): db is not declared yet")
    );
    assert_eq!(
        starts(&engine, "web"),
        0,
        "created while it waits, not started"
    );
    sup.add(checked("db")).await.unwrap();
    event_where(&mut events, "web", |e| {
        e.reason.as_deref() == Some("db (healthy): db is starting")
    })
    .await;
    assert_eq!(starts(&engine, "web"), 0);
    engine.set_health("ns--db", Health::Healthy);
    event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
}

#[actix::test]
async fn a_job_that_exits_0_gates_its_dependent_and_one_that_exits_1_leaves_it_waiting() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine).await;
    let mut events = sup.events().await;
    let job = |name: &str, code: &str| {
        UnitSpec::new(name, "busybox:latest")
            .command(["exit", code])
            .restart(RestartPolicy::No)
    };
    sup.add(job("migrate", "0")).await.ok();
    sup.add(job("broken", "1")).await.ok();
    sup.add(unit("app").depends_on("migrate", Condition::Completed))
        .await
        .unwrap();
    sup.add(unit("stuck").depends_on("broken", Condition::Completed))
        .await
        .unwrap();
    event_where(&mut events, "app", |e| e.state == UnitState::Running).await;
    let listed = sup.list().await.unwrap();
    let stuck = listed.iter().find(|u| u.name == "stuck").unwrap();
    assert_eq!(stuck.state, UnitState::Waiting);
    assert_eq!(
        stuck.reason.as_deref(),
        Some("broken (completed): broken exited with code 1, not 0")
    );
}

#[actix::test]
async fn restart_true_restarts_the_dependent_after_its_dependency_restarts() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine).await;
    sup.add(unit("db")).await.unwrap();
    let with_restart = Dependency::new(Condition::Started).restart(true);
    sup.add(unit("web").depends_on("db", with_restart))
        .await
        .unwrap();
    sup.add(unit("worker").depends_on("db", Condition::Started))
        .await
        .unwrap();
    let mut events = sup.events().await;
    engine.crash("ns--db", 1);
    let stopping = event_where(&mut events, "web", |e| e.state == UnitState::Stopping).await;
    assert_eq!(stopping.reason.as_deref(), Some("dependency db restarted"));
    event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
    assert_eq!(starts(&engine, "web"), 2);
    sup.restart("db").await.unwrap();
    event_where(&mut events, "web", |e| e.state == UnitState::Stopping).await;
    event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
    assert_eq!(starts(&engine, "web"), 3);
    assert_eq!(
        starts(&engine, "worker"),
        1,
        "no restart = true, no restart"
    );
}

#[actix::test]
async fn a_unit_that_would_close_a_cycle_is_refused_naming_it() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine).await;
    sup.add(unit("a").depends_on("b", Condition::Started))
        .await
        .unwrap();
    let refused = sup
        .add(unit("b").depends_on("a", Condition::Started))
        .await
        .unwrap_err();
    let UnitError::Invalid { problems, .. } = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(problems[0].field, "depends_on.a");
    assert_eq!(problems[0].message, "dependency cycle b -> a -> b");
    assert!(!sup.exists("b").await);
}

#[actix::test]
async fn a_stopping_shutdown_stops_dependents_before_what_they_depend_on() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine).await;
    sup.add(unit("db")).await.unwrap();
    sup.add(unit("api").depends_on("db", Condition::Started))
        .await
        .unwrap();
    sup.add(unit("web").depends_on("api", Condition::Started))
        .await
        .unwrap();
    let mut events = sup.events().await;
    sup.shutdown(ShutdownMode::Stop).await;
    let mut stopped = Vec::new();
    while stopped.len() < 3 {
        let event = event_where(&mut events, "", |e| e.state == UnitState::StoppedByShutdown).await;
        stopped.push(event.unit);
    }
    assert_eq!(stopped, ["web", "api", "db"]);
}
