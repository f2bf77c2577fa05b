//! The actors against the in-process fake engine: lifecycle, policies,
//! adoption and the gateway's single-flight pull, with no Docker needed.
#![cfg(feature = "test-util")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{event_where, quick_backoff};
use stevedore::engine::Operation;
use stevedore::engine::fake::FakeEngine;
use stevedore::labels;
use stevedore::{
    Backoff, IntensityLimit, RestartPolicy, Supervisor, SupervisorHandle, UnitError, UnitSpec,
    UnitState,
};

async fn supervisor(engine: &FakeEngine, namespace: &str) -> SupervisorHandle {
    Supervisor::builder()
        .namespace(namespace)
        .engine(Arc::new(engine.clone()))
        .start()
        .await
        .expect("supervisor starts on the fake engine")
}

/// A unit restarted after any exit, quickly.
fn always(name: &str) -> UnitSpec {
    UnitSpec::new(name, "busybox:latest")
        .restart(RestartPolicy::Always)
        .backoff(quick_backoff())
}

#[actix::test]
async fn add_creates_and_starts_one_labelled_container() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    sup.add(UnitSpec::new("web", "busybox:latest"))
        .await
        .unwrap();
    let container = engine
        .container("ns--web")
        .expect("container named <ns>--<unit>");
    assert_eq!(container.starts, 1);
    let labels = container.body.labels.unwrap();
    assert_eq!(labels[labels::NAMESPACE], "ns");
    assert_eq!(labels[labels::UNIT], "web");
    assert!(sup.exists("web").await);
}

#[actix::test]
async fn adding_a_name_twice_is_already_exists() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    sup.add(UnitSpec::new("web", "busybox:latest"))
        .await
        .unwrap();
    let again = sup.add(UnitSpec::new("web", "busybox:latest")).await;
    assert_eq!(again, Err(UnitError::AlreadyExists("web".into())));
    assert_eq!(engine.containers().len(), 1);
}

#[actix::test]
async fn an_invalid_spec_is_refused_before_any_engine_call() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    let calls_before = engine.total_calls();
    let refused = sup
        .add(UnitSpec::new("bad name", "busybox:latest").memory(1))
        .await;
    let Err(UnitError::Invalid { problems, .. }) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(problems.len(), 2);
    assert_eq!(engine.total_calls(), calls_before);
}

#[actix::test]
async fn removing_twice_succeeds_and_removes_the_container() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    sup.add(UnitSpec::new("web", "busybox:latest"))
        .await
        .unwrap();
    sup.remove("web").await.unwrap();
    sup.remove("web").await.unwrap();
    assert!(engine.containers().is_empty());
    assert!(!sup.exists("web").await);
}

#[actix::test]
async fn on_failure_three_runs_exactly_four_times_then_fails() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    let mut events = sup.events().await;
    let spec = UnitSpec::new("job", "busybox:latest")
        .command(["exit", "3"])
        .restart("on-failure:3".parse().unwrap())
        .backoff(quick_backoff());
    sup.add(spec).await.unwrap();
    let failed = event_where(&mut events, "job", |e| e.state == UnitState::Failed).await;
    assert_eq!(failed.restart_count, 3);
    assert!(failed.reason.unwrap().contains("on-failure:3"));
    // Each restart replaces the container, whose labels carry the count.
    let container = engine.container("ns--job").unwrap();
    assert_eq!(container.body.labels.unwrap()[labels::RESTART_COUNT], "3");
    assert_eq!(engine.calls(Operation::Start), 4);
}

#[actix::test]
async fn policy_no_runs_once_and_is_listed_exited() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    let mut events = sup.events().await;
    sup.add(UnitSpec::new("once", "busybox:latest").command(["exit", "0"]))
        .await
        .unwrap();
    event_where(&mut events, "once", |e| e.state == UnitState::Exited).await;
    assert_eq!(engine.calls(Operation::Start), 1);
    let listed = sup.list().await.unwrap();
    assert_eq!(listed[0].state, UnitState::Exited);
    assert!(!listed[0].is_active());
}

#[actix::test]
async fn unit_fails_when_restarts_exceed_the_intensity_limit() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    let mut events = sup.events().await;
    let spec = UnitSpec::new("loop", "busybox:latest")
        .command(["exit", "1"])
        .restart(RestartPolicy::Always)
        .backoff(quick_backoff())
        .intensity(IntensityLimit {
            max_restarts: 5,
            within: Duration::from_secs(60),
        });
    sup.add(spec).await.unwrap();
    let failed = event_where(&mut events, "loop", |e| e.state == UnitState::Failed).await;
    assert!(failed.reason.unwrap().contains("more than 5 restarts"));
    assert_eq!(failed.restart_count, 5);
}

#[actix::test]
async fn a_crash_of_an_always_unit_is_restarted_after_backing_off() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    let mut events = sup.events().await;
    sup.add(always("web")).await.unwrap();
    engine.crash("ns--web", 2);
    let backing_off = event_where(&mut events, "web", |e| e.state == UnitState::BackingOff).await;
    assert_eq!(backing_off.exit_code, Some(2));
    let running = event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
    assert_eq!(running.restart_count, 1);
    assert_eq!(
        engine.containers().len(),
        1,
        "the dead container is replaced, not duplicated"
    );
}

#[actix::test]
async fn a_manual_stop_is_never_undone_by_the_policy() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    sup.add(UnitSpec::new("web", "busybox:latest").restart(RestartPolicy::Always))
        .await
        .unwrap();
    sup.stop("web").await.unwrap();
    let status = &sup.list().await.unwrap()[0];
    assert_eq!(status.state, UnitState::Stopped);
    assert_eq!(engine.container("ns--web").unwrap().starts, 1);
    sup.start("web").await.unwrap();
    assert_eq!(sup.list().await.unwrap()[0].state, UnitState::Running);
}

#[actix::test]
async fn an_unchanged_update_leaves_the_container_and_a_changed_one_replaces_it() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    let spec = UnitSpec::new("web", "busybox:latest");
    sup.add(spec.clone()).await.unwrap();
    let first = engine.container("ns--web").unwrap().id;
    sup.update(spec.clone()).await.unwrap();
    assert_eq!(engine.container("ns--web").unwrap().id, first);
    sup.update(spec.env("A", "1")).await.unwrap();
    let second = engine.container("ns--web").unwrap();
    assert_ne!(second.id, first);
    assert_eq!(second.body.env, Some(vec!["A=1".into()]));
    assert_eq!(engine.containers().len(), 1);
}

#[actix::test]
async fn a_second_supervisor_adopts_without_recreating_and_keeps_restart_counts() {
    let engine = FakeEngine::new();
    let first = supervisor(&engine, "ns").await;
    let mut events = first.events().await;
    first
        .add(
            UnitSpec::new("web", "busybox:latest")
                .restart(RestartPolicy::Always)
                .backoff(quick_backoff()),
        )
        .await
        .unwrap();
    engine.crash("ns--web", 1);
    event_where(&mut events, "web", |e| {
        e.state == UnitState::Running && e.restart_count == 1
    })
    .await;
    let id = engine.container("ns--web").unwrap().id;
    first.shutdown(stevedore::ShutdownMode::Leave).await;

    let creates = engine.calls(Operation::Create);
    let second = supervisor(&engine, "ns").await;
    assert_eq!(second.adopted().adopted, ["web"]);
    let status = &second.list().await.unwrap()[0];
    assert_eq!(status.state, UnitState::Running);
    assert_eq!(status.restart_count, 1);
    assert_eq!(status.container.as_ref().unwrap().id, id);
    assert_eq!(
        engine.calls(Operation::Create),
        creates,
        "adoption creates nothing"
    );
}

#[actix::test]
async fn namespaces_do_not_see_each_others_units() {
    let engine = FakeEngine::new();
    let a = supervisor(&engine, "a").await;
    a.add(UnitSpec::new("web", "busybox:latest")).await.unwrap();
    let b = supervisor(&engine, "b").await;
    assert!(b.adopted().adopted.is_empty());
    assert!(b.list().await.unwrap().is_empty());
    b.add(UnitSpec::new("web", "busybox:latest")).await.unwrap();
    assert_eq!(engine.containers().len(), 2);
}

#[actix::test]
async fn a_missing_image_is_pulled_once_for_ten_units_and_fails_clearly() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    let adds = (0..10).map(|n| sup.add(UnitSpec::new(format!("u{n}"), "nothere:1")));
    let results = futures::future::join_all(adds).await;
    for result in results {
        let error = result.unwrap_err().to_string();
        assert!(error.contains("could not pull image nothere:1"), "{error}");
    }
    assert_eq!(engine.calls(Operation::Pull), 1, "single flight");
    assert!(engine.containers().is_empty());
    assert!(!sup.exists("u0").await, "a failed add changes nothing");
}

#[actix::test]
async fn a_lost_create_response_adopts_the_container_instead_of_duplicating() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    // A previous attempt made the container, but its answer never arrived.
    let spec = UnitSpec::new("web", "busybox:latest");
    let body = stevedore::engine::mapping::create_body(
        "ns",
        &spec,
        &stevedore::spec::spec_hash(&spec),
        &Default::default(),
    );
    use stevedore::engine::Engine;
    let made = engine
        .create_container("ns--web".into(), body)
        .await
        .unwrap();
    sup.add(spec).await.unwrap();
    assert_eq!(engine.containers().len(), 1);
    assert_eq!(engine.container("ns--web").unwrap().id, made);
}

#[actix::test]
async fn a_foreign_container_with_a_units_name_is_never_touched() {
    let engine = FakeEngine::new();
    use stevedore::engine::Engine;
    let body = bollard::models::ContainerCreateBody {
        image: Some("busybox:latest".into()),
        ..Default::default()
    };
    let foreign = engine
        .create_container("ns--web".into(), body)
        .await
        .unwrap();
    let sup = supervisor(&engine, "ns").await;
    let refused = sup.add(UnitSpec::new("web", "busybox:latest")).await;
    assert_eq!(refused, Err(UnitError::NameTaken("ns--web".into())));
    assert_eq!(engine.container("ns--web").unwrap().id, foreign);
    assert_eq!(
        engine.calls(Operation::Remove) + engine.calls(Operation::Stop),
        0
    );
}

#[actix::test]
async fn an_exit_missed_while_the_events_stream_was_down_is_caught_by_the_resync() {
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    sup.add(always("web")).await.unwrap();
    let mut events = sup.events().await;
    engine.drop_event_streams();
    engine.crash_unseen("ns--web", 9);
    // A dropped stream may be an engine restart, which is not the unit's
    // failure: the resync starts it again at once, counting nothing.
    event_where(&mut events, "web", |e| e.state == UnitState::Starting).await;
    let back = event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
    assert_eq!(back.restart_count, 0);
    assert_eq!(engine.container("ns--web").unwrap().starts, 2);
    let stats = sup.stats().await;
    assert_eq!(stats.resyncs, 1);
    assert_eq!(stats.event_connects, 2);
}

#[actix::test]
async fn docker_stop_behind_our_back_is_a_manual_stop_that_no_policy_undoes() {
    use stevedore::engine::Engine;
    let engine = FakeEngine::new();
    let sup = supervisor(&engine, "ns").await;
    let mut events = sup.events().await;
    let spec = always("web").backoff(Backoff {
        initial: Duration::from_millis(200),
        jitter: 0.0,
        ..Backoff::default()
    });
    sup.add(spec).await.unwrap();
    let id = engine.container("ns--web").unwrap().id;
    engine
        .stop_container(id, Duration::from_secs(1))
        .await
        .unwrap();
    let stopped = event_where(&mut events, "web", |e| e.state == UnitState::Stopped).await;
    assert!(stopped.reason.unwrap().contains("docker stop"));
    assert_eq!(sup.list().await.unwrap()[0].state, UnitState::Stopped);
    assert_eq!(engine.calls(Operation::Start), 1, "never started again");
}

#[actix::test]
async fn with_a_phase_record_a_restart_starts_the_same_container_and_the_count_survives() {
    let engine = FakeEngine::new();
    let start = |engine: &FakeEngine| {
        Supervisor::builder()
            .namespace("ns")
            .engine(Arc::new(engine.clone()))
            .record_phases(true)
            .start()
    };
    let first = start(&engine).await.unwrap();
    let mut events = first.events().await;
    first.add(always("web")).await.unwrap();
    let id = engine.container("ns--web").unwrap().id;
    engine.crash("ns--web", 4);
    let back = event_where(&mut events, "web", |e| {
        e.state == UnitState::Running && e.restart_count == 1
    })
    .await;
    assert_eq!(
        back.container_id.as_deref(),
        Some(id.as_str()),
        "the same container, started again"
    );
    assert_eq!(engine.container("ns--web").unwrap().starts, 2);
    first.shutdown(stevedore::ShutdownMode::Leave).await;

    let second = start(&engine).await.unwrap();
    let status = &second.list().await.unwrap()[0];
    assert_eq!(
        status.restart_count, 1,
        "kept by the phase record, not the labels"
    );
    assert_eq!(status.last_exit_code, Some(4));
}
