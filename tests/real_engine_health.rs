//! Health checks and dependencies on the real engine: the engine runs the
//! checks, its `health_status` events drive restarts, and dependency order
//! is read from the engine's own event times.

mod common;

use std::time::Duration;

use common::{IMAGE, docker, event_where, inspect, quick_backoff};
use stevedore::{
    Condition, Dependency, Health, HealthCheck, OnUnhealthy, RestartPolicy, UnitSpec, UnitState,
};

/// A check of `/tmp/ok`, every 300 ms, unhealthy after 2 failures.
fn file_check() -> HealthCheck {
    HealthCheck::exec(["test", "-f", "/tmp/ok"])
        .interval(Duration::from_millis(300))
        .timeout(Duration::from_secs(2))
        .retries(2)
}

fn unit(name: &str, script: &str) -> UnitSpec {
    UnitSpec::new(name, IMAGE)
        .command(["sh", "-c", script])
        .restart(RestartPolicy::Always)
        .backoff(quick_backoff())
        .stop_timeout(Duration::from_secs(1))
}

/// Now on the engine's clock scale, in Unix nanoseconds.
fn now_nanos() -> i64 {
    stevedore::engine::unix_nanos()
}

/// The engine's events of container `name` between `since` and now:
/// (action, time in Unix nanoseconds), oldest first.
fn engine_events(name: &str, since: i64) -> Vec<(String, i64)> {
    let secs = |nanos: i64| format!("{}.{:09}", nanos / 1_000_000_000, nanos % 1_000_000_000);
    let out = docker(&[
        "events",
        "--since",
        &secs(since),
        "--until",
        &secs(now_nanos() + 1_000_000),
        "--filter",
        &format!("container={name}"),
        "--format",
        "{{.Action}}|{{.TimeNano}}",
    ]);
    out.lines()
        .filter_map(|line| {
            let (action, time) = line.rsplit_once('|')?;
            Some((action.to_string(), time.parse().ok()?))
        })
        .collect()
}

fn first(events: &[(String, i64)], action: &str) -> i64 {
    events
        .iter()
        .find(|(a, _)| a == action)
        .unwrap_or_else(|| panic!("no {action:?} in {events:?}"))
        .1
}

#[actix::test]
async fn a_unit_whose_check_starts_failing_is_restarted_as_unhealthy_and_comes_back_healthy() {
    let Some((sup, _cleanup)) = common::supervisor("t-health-restart").await else {
        return;
    };
    let since = now_nanos();
    // Healthy for two seconds after each start, then failing.
    let spec =
        unit("web", "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 600").healthcheck(file_check());
    sup.add(spec).await.unwrap();
    let mut events = sup.events().await;
    event_where(&mut events, "web", |e| e.health == Some(Health::Healthy)).await;
    let stopping = event_where(&mut events, "web", |e| e.state == UnitState::Stopping).await;
    assert_eq!(stopping.reason.as_deref(), Some("unhealthy"));
    let back = event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
    assert_eq!(back.restart_count, 1);
    event_where(&mut events, "web", |e| e.health == Some(Health::Healthy)).await;

    let name = "t-health-restart--web";
    let seen = engine_events(name, since);
    let unhealthy = first(&seen, "health_status: unhealthy");
    let restarted = seen
        .iter()
        .find(|(action, time)| action == "start" && *time > unhealthy)
        .unwrap_or_else(|| panic!("no start after the unhealthy verdict: {seen:?}"))
        .1;
    // interval × retries after the file went, then the stop's grace period:
    // seconds, not the minutes of a supervisor that polls or never acts.
    let reaction = Duration::from_nanos((restarted - unhealthy) as u64);
    assert!(reaction < Duration::from_secs(15), "{reaction:?}");
    let listed = sup.list().await.unwrap();
    assert_eq!(listed[0].restart_count, 1);
}

#[actix::test]
async fn on_unhealthy_ignore_leaves_the_unit_running_and_unhealthy() {
    let Some((sup, _cleanup)) = common::supervisor("t-health-ignore").await else {
        return;
    };
    let spec = unit("web", "sleep 600")
        .healthcheck(file_check())
        .on_unhealthy(OnUnhealthy::Ignore);
    sup.add(spec).await.unwrap();
    let mut events = sup.events().await;
    let verdict = event_where(&mut events, "web", |e| e.health == Some(Health::Unhealthy)).await;
    assert_eq!(verdict.state, UnitState::Running);
    let listed = sup.list().await.unwrap();
    assert_eq!(listed[0].state, UnitState::Running);
    assert_eq!(listed[0].health, Some(Health::Unhealthy));
    assert_eq!(listed[0].restart_count, 0);
    assert_eq!(
        inspect("t-health-ignore--web", "{{.State.Health.Status}}"),
        "unhealthy"
    );
}

/// An image built locally from the test image, with a HEALTHCHECK.
fn image_with_check() -> &'static str {
    const NAME: &str = "stevedore-test-healthcheck:latest";
    let dockerfile =
        format!("FROM {IMAGE}\nHEALTHCHECK --interval=300ms --timeout=2s --retries=1 CMD true\n");
    let mut child = std::process::Command::new("docker")
        .args(["build", "-q", "-t", NAME, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("docker build runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dockerfile.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "the image builds");
    NAME
}

#[actix::test]
async fn an_image_healthcheck_is_inherited_and_can_be_disabled() {
    let Some((sup, _cleanup)) = common::supervisor("t-health-image").await else {
        return;
    };
    let image = image_with_check();
    let mut events = sup.events().await;
    let inherits = UnitSpec::new("inherits", image).command(["sleep", "600"]);
    let disabled = UnitSpec::new("disabled", image)
        .command(["sleep", "600"])
        .healthcheck(HealthCheck::disabled());
    sup.add(inherits).await.unwrap();
    sup.add(disabled).await.unwrap();
    event_where(&mut events, "inherits", |e| {
        e.health == Some(Health::Healthy)
    })
    .await;
    let state = "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}";
    assert_eq!(inspect("t-health-image--inherits", state), "healthy");
    assert_eq!(inspect("t-health-image--disabled", state), "none");
    assert_eq!(
        inspect(
            "t-health-image--disabled",
            "{{json .Config.Healthcheck.Test}}"
        ),
        "[\"NONE\"]"
    );
}

#[actix::test]
async fn a_dependent_starts_only_after_its_dependency_is_healthy_by_the_engines_clock() {
    let Some((sup, _cleanup)) = common::supervisor("t-deps-healthy").await else {
        return;
    };
    let since = now_nanos();
    let mut events = sup.events().await;
    let web = unit("web", "sleep 600").depends_on("db", Condition::Healthy);
    // Healthy a second after it starts.
    let db = unit("db", "sleep 1; touch /tmp/ok; sleep 600")
        .healthcheck(file_check().start_period(Duration::from_secs(10)));
    sup.add(web).await.unwrap();
    sup.add(db).await.unwrap();
    event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
    let healthy = first(
        &engine_events("t-deps-healthy--db", since),
        "health_status: healthy",
    );
    let started = first(&engine_events("t-deps-healthy--web", since), "start");
    assert!(
        started > healthy,
        "web started {started}, db healthy {healthy}"
    );
}

#[actix::test]
async fn a_job_that_exits_0_gates_its_dependent_and_one_that_exits_1_leaves_it_waiting() {
    let Some((sup, _cleanup)) = common::supervisor("t-deps-completed").await else {
        return;
    };
    let mut events = sup.events().await;
    let job =
        |name: &str, code: &str| unit(name, &format!("exit {code}")).restart(RestartPolicy::No);
    sup.add(unit("app", "sleep 600").depends_on("migrate", Condition::Completed))
        .await
        .unwrap();
    sup.add(unit("stuck", "sleep 600").depends_on("broken", Condition::Completed))
        .await
        .unwrap();
    sup.add(job("migrate", "0")).await.ok();
    sup.add(job("broken", "1")).await.ok();
    // Either can come first: wait for both in one pass.
    let (mut app_ran, mut stuck) = (false, None);
    while !app_ran || stuck.is_none() {
        let event = event_where(&mut events, "", |e| e.unit == "app" || e.unit == "stuck").await;
        app_ran |= event.unit == "app" && event.state == UnitState::Running;
        let says_why = |r: &str| r.contains("broken exited with code 1");
        if event.unit == "stuck" && event.reason.as_deref().is_some_and(says_why) {
            stuck = Some(event);
        }
    }
    let stuck = stuck.unwrap();
    assert_eq!(stuck.state, UnitState::Waiting);
    assert_eq!(
        inspect("t-deps-completed--stuck", "{{.State.Status}}"),
        "created",
        "a unit that waits has its container created, never started"
    );
}

#[actix::test]
async fn restart_true_restarts_the_dependent_after_its_dependency_is_restarted_or_killed() {
    let Some((sup, _cleanup)) = common::supervisor("t-deps-restart").await else {
        return;
    };
    let since = now_nanos();
    sup.add(unit("db", "sleep 600")).await.unwrap();
    let dependency = Dependency::new(Condition::Started).restart(true);
    sup.add(unit("web", "sleep 600").depends_on("db", dependency))
        .await
        .unwrap();
    let mut events = sup.events().await;
    sup.restart("db").await.unwrap();
    let by_us = event_where(&mut events, "web", |e| e.state == UnitState::Stopping).await;
    assert_eq!(by_us.reason.as_deref(), Some("dependency db restarted"));
    event_where(&mut events, "web", |e| e.state == UnitState::Running).await;

    docker(&["kill", "t-deps-restart--db"]);
    let by_kill = event_where(&mut events, "web", |e| e.state == UnitState::Stopping).await;
    assert_eq!(by_kill.reason.as_deref(), Some("dependency db restarted"));
    event_where(&mut events, "web", |e| e.state == UnitState::Running).await;
    let starts = engine_events("t-deps-restart--web", since)
        .iter()
        .filter(|(action, _)| action == "start")
        .count();
    assert_eq!(starts, 3, "started, then once per restart of db");
}
