//! Restart policies, backoff, intensity, containers killed behind our back,
//! adoption by a second supervisor and foreign containers, on the real engine.

mod common;

use std::time::Duration;

use common::{IMAGE, docker, event_where, inspect, quick_backoff, second_supervisor, supervisor};
use stevedore::{
    Backoff, IntensityLimit, RestartPolicy, ShutdownMode, UnitError, UnitSpec, UnitState,
};

/// A long-running unit restarted after any exit, quickly.
fn always_sleeper(name: &str) -> UnitSpec {
    UnitSpec::new(name, IMAGE)
        .command(["sleep", "600"])
        .restart(RestartPolicy::Always)
        .backoff(quick_backoff())
}

fn exits_with(name: &str, code: i32, policy: &str) -> UnitSpec {
    UnitSpec::new(name, IMAGE)
        .command(["sh", "-c", &format!("exit {code}")])
        .restart(policy.parse().unwrap())
        .backoff(quick_backoff())
}

#[actix::test]
async fn policy_no_runs_once() {
    let Some((sup, _cleanup)) = supervisor("t-no").await else {
        return;
    };
    let mut events = sup.events().await;
    sup.add(exits_with("once", 1, "no")).await.unwrap();
    let exited = event_where(&mut events, "once", |e| e.state == UnitState::Exited).await;
    assert_eq!((exited.exit_code, exited.restart_count), (Some(1), 0));
    assert_eq!(inspect("t-no--once", "{{.State.Status}}"), "exited");
}

#[actix::test]
async fn always_restarts_after_a_clean_exit() {
    let Some((sup, _cleanup)) = supervisor("t-always").await else {
        return;
    };
    let mut events = sup.events().await;
    sup.add(exits_with("ok", 0, "always")).await.unwrap();
    let restarted = event_where(&mut events, "ok", |e| {
        e.state == UnitState::Running && e.restart_count >= 2
    })
    .await;
    assert!(restarted.container_id.is_some());
    sup.remove("ok").await.unwrap();
}

#[actix::test]
async fn on_failure_restarts_a_failure_but_not_a_success() {
    let Some((sup, _cleanup)) = supervisor("t-onfail").await else {
        return;
    };
    let mut events = sup.events().await;
    sup.add(exits_with("good", 0, "on-failure")).await.unwrap();
    sup.add(exits_with("bad", 1, "on-failure:1")).await.unwrap();
    let good = event_where(&mut events, "good", |e| e.state == UnitState::Exited).await;
    assert_eq!(good.restart_count, 0);
    let bad = event_where(&mut events, "bad", |e| e.state == UnitState::BackingOff).await;
    assert_eq!(bad.exit_code, Some(1));
}

#[actix::test]
async fn on_failure_three_runs_exactly_four_times() {
    let Some((sup, _cleanup)) = supervisor("t-onfail3").await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("stevedore-t-onfail3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.join("runs"));
    let mut events = sup.events().await;
    let spec = UnitSpec::new("job", IMAGE)
        .command(["sh", "-c", "echo run >> /data/runs; exit 3"])
        .volume(format!("{}:/data", dir.display()).parse().unwrap())
        .restart("on-failure:3".parse().unwrap())
        .backoff(quick_backoff());
    sup.add(spec).await.unwrap();
    let failed = event_where(&mut events, "job", |e| e.state == UnitState::Failed).await;
    assert_eq!(failed.restart_count, 3);
    assert_eq!(
        std::fs::read_to_string(dir.join("runs"))
            .unwrap()
            .lines()
            .count(),
        4
    );
    assert_eq!(
        inspect(
            "t-onfail3--job",
            "{{index .Config.Labels \"io.stevedore.restart-count\"}}"
        ),
        "3"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[actix::test]
async fn backoff_delays_grow_between_restarts() {
    let Some((sup, _cleanup)) = supervisor("t-backoff").await else {
        return;
    };
    let mut events = sup.events().await;
    let backoff = Backoff {
        initial: Duration::from_millis(50),
        factor: 2.0,
        jitter: 0.0,
        ..Backoff::default()
    };
    sup.add(exits_with("crash", 1, "always").backoff(backoff))
        .await
        .unwrap();
    let mut delays = Vec::new();
    for _ in 0..3 {
        let event = event_where(&mut events, "crash", |e| e.state == UnitState::BackingOff).await;
        delays.push(event.delay.unwrap().as_millis());
    }
    assert_eq!(delays, [50, 100, 200]);
    sup.remove("crash").await.unwrap();
}

#[actix::test]
async fn the_intensity_limit_fails_a_crash_looping_unit() {
    let Some((sup, _cleanup)) = supervisor("t-intensity").await else {
        return;
    };
    let mut events = sup.events().await;
    let spec = exits_with("loop", 1, "always").intensity(IntensityLimit {
        max_restarts: 3,
        within: Duration::from_secs(60),
    });
    sup.add(spec).await.unwrap();
    let failed = event_where(&mut events, "loop", |e| e.state == UnitState::Failed).await;
    assert!(failed.reason.unwrap().contains("more than 3 restarts"));
    assert_eq!(failed.restart_count, 3);
}

#[actix::test]
async fn docker_kill_of_an_always_units_container_brings_it_back() {
    let Some((sup, _cleanup)) = supervisor("t-kill").await else {
        return;
    };
    let mut events = sup.events().await;
    sup.add(always_sleeper("web")).await.unwrap();
    let before = inspect("t-kill--web", "{{.Id}}");
    docker(&["kill", "t-kill--web"]);
    let back = event_where(&mut events, "web", |e| {
        e.state == UnitState::Running && e.restart_count == 1
    })
    .await;
    assert_ne!(back.container_id.as_deref(), Some(before.as_str()));
    assert_eq!(inspect("t-kill--web", "{{.State.Running}}"), "true");
}

#[actix::test]
async fn docker_rm_f_of_an_always_units_container_brings_it_back() {
    let Some((sup, _cleanup)) = supervisor("t-rmf").await else {
        return;
    };
    let mut events = sup.events().await;
    sup.add(always_sleeper("web")).await.unwrap();
    docker(&["rm", "-f", "t-rmf--web"]);
    event_where(&mut events, "web", |e| {
        e.state == UnitState::Running && e.restart_count == 1
    })
    .await;
    assert_eq!(inspect("t-rmf--web", "{{.State.Running}}"), "true");
}

#[actix::test]
async fn a_second_supervisor_adopts_running_containers_keeping_ids_and_restart_counts() {
    let Some((first, _cleanup)) = supervisor("t-adopt").await else {
        return;
    };
    let mut events = first.events().await;
    first.add(always_sleeper("web")).await.unwrap();
    docker(&["kill", "t-adopt--web"]);
    event_where(&mut events, "web", |e| {
        e.state == UnitState::Running && e.restart_count == 1
    })
    .await;
    let id = inspect("t-adopt--web", "{{.Id}}");
    first.shutdown(ShutdownMode::Leave).await;

    let second = second_supervisor("t-adopt").await;
    assert_eq!(second.adopted().adopted, ["web"]);
    let status = &second.list().await.unwrap()[0];
    assert_eq!(status.state, UnitState::Running);
    assert_eq!(status.restart_count, 1);
    assert_eq!(status.container.as_ref().unwrap().id, id);
    assert_eq!(
        inspect("t-adopt--web", "{{.Id}}"),
        id,
        "adoption keeps the container"
    );
}

#[actix::test]
async fn a_foreign_container_with_a_units_name_is_never_touched() {
    let Some((sup, mut cleanup)) = supervisor("t-foreign").await else {
        return;
    };
    cleanup.also("t-foreign--web");
    let foreign = docker(&[
        "run",
        "-d",
        "--name",
        "t-foreign--web",
        IMAGE,
        "sleep",
        "600",
    ]);
    assert!(!foreign.is_empty());
    let refused = sup
        .add(UnitSpec::new("web", IMAGE).command(["sleep", "600"]))
        .await;
    assert_eq!(refused, Err(UnitError::NameTaken("t-foreign--web".into())));
    let again = second_supervisor("t-foreign").await;
    assert!(again.adopted().adopted.is_empty());
    assert_eq!(
        inspect("t-foreign--web", "{{.Id}} {{.State.Running}}"),
        format!("{foreign} true")
    );
}
