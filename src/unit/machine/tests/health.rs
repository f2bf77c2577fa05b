//! Table tests of health verdicts and dependency readiness in the unit
//! machine, under paused time.

use super::*;
use crate::engine::Health;
use crate::policy::IntensityLimit;
use crate::spec::{HealthCheck, OnUnhealthy};

/// A unit with a quick check: 10 ms of failing before a verdict, so a
/// restart still has most of the first 100 ms delay to wait.
fn checked(policy: RestartPolicy) -> UnitSpec {
    let check = HealthCheck::exec(["test", "-f", "/ok"])
        .interval(Duration::from_millis(10))
        .retries(1);
    spec(policy).healthcheck(check)
}

fn health(verdict: Health) -> ContainerEventKind {
    ContainerEventKind::HealthChanged(verdict)
}

fn published_health(effects: &[Effect]) -> Vec<(UnitState, Option<Health>)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Publish { state, health, .. } => Some((*state, *health)),
            _ => None,
        })
        .collect()
}

fn reasons(effects: &[Effect]) -> Vec<Option<String>> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Publish { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

fn waiting(on: &str) -> Input {
    Input::Dependencies(Readiness::Waiting(on.into()))
}

#[tokio::test(start_paused = true)]
async fn a_declared_check_starts_as_starting_and_its_verdicts_are_published() {
    let mut h = Harness::running_spec(checked(RestartPolicy::Always));
    assert_eq!(h.machine.health(), Some(Health::Starting));
    let healthy = h.event(health(Health::Healthy));
    assert_eq!(
        published_health(&healthy),
        [(UnitState::Running, Some(Health::Healthy))]
    );
    assert!(engine_work(&healthy).is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_unhealthy_unit_is_stopped_then_restarted_counted_with_reason_unhealthy() {
    let mut h = Harness::running_spec(checked(RestartPolicy::Always));
    h.event(health(Health::Healthy));
    let unhealthy = h.event(health(Health::Unhealthy));
    assert_eq!(engine_work(&unhealthy), [&Work::Stop("c1".into())]);
    assert_eq!(published(&unhealthy), [UnitState::Stopping]);
    assert_eq!(reasons(&unhealthy), [Some("unhealthy".to_string())]);
    assert_eq!(h.machine.restart_count(), 1);
    let stopped = h.step(Input::Done(Done::Stopped(Ok(()))));
    assert_eq!(h.state(), UnitState::BackingOff);
    assert_eq!(reasons(&stopped), [Some("unhealthy".to_string())]);
    assert!(matches!(stopped[..], [Effect::Arm(Timer::Restart, _), ..]));
    let restart = h.step(Input::Timer(Timer::Restart));
    assert_eq!(engine_work(&restart), [&Work::Start("c1".into())]);
    h.step(Input::Done(Done::Started(Ok(()))));
    assert_eq!(
        h.machine.health(),
        Some(Health::Starting),
        "a start checks again"
    );
    assert_eq!(
        h.machine.carried().last_restart_reason.as_deref(),
        Some("unhealthy")
    );
}

#[tokio::test(start_paused = true)]
async fn the_backoff_counts_from_the_start_of_the_failing_streak() {
    // retries × interval = 2 × 20 ms = 40 ms of failing before the verdict:
    // of the 100 ms first delay, 60 ms are left after it.
    let check = HealthCheck::exec(["true"])
        .interval(Duration::from_millis(20))
        .retries(2);
    let mut h = Harness::running_spec(spec(RestartPolicy::Always).healthcheck(check));
    tokio::time::advance(Duration::from_secs(1)).await;
    h.event(health(Health::Unhealthy));
    let stopped = h.step(Input::Done(Done::Stopped(Ok(()))));
    assert!(
        stopped.contains(&Effect::Arm(Timer::Restart, Duration::from_millis(60))),
        "{stopped:?}"
    );
    // A streak as long as the delay leaves nothing to wait once stopped.
    let check = HealthCheck::exec(["true"])
        .interval(Duration::from_millis(250))
        .retries(1);
    let mut h = Harness::running_spec(spec(RestartPolicy::Always).healthcheck(check));
    tokio::time::advance(Duration::from_secs(1)).await;
    h.event(health(Health::Unhealthy));
    let stopped = h.step(Input::Done(Done::Stopped(Ok(()))));
    assert_eq!(engine_work(&stopped), [&Work::Start("c1".into())]);
}

#[tokio::test(start_paused = true)]
async fn a_stop_that_outlasts_the_backoff_starts_again_at_once() {
    let mut h = Harness::running_spec(checked(RestartPolicy::Always));
    h.event(health(Health::Unhealthy));
    tokio::time::advance(Duration::from_secs(2)).await;
    let stopped = h.step(Input::Done(Done::Stopped(Ok(()))));
    assert_eq!(engine_work(&stopped), [&Work::Start("c1".into())]);
    assert_eq!(published(&stopped), [UnitState::Starting]);
}

#[tokio::test(start_paused = true)]
async fn on_unhealthy_ignore_leaves_it_running_and_unhealthy() {
    let spec = checked(RestartPolicy::Always).on_unhealthy(OnUnhealthy::Ignore);
    let mut h = Harness::running_spec(spec);
    let unhealthy = h.event(health(Health::Unhealthy));
    assert!(engine_work(&unhealthy).is_empty());
    assert_eq!(
        published_health(&unhealthy),
        [(UnitState::Running, Some(Health::Unhealthy))]
    );
    assert_eq!(h.machine.restart_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_image_check_is_reported_but_acted_on_only_when_asked() {
    let mut h = Harness::running(RestartPolicy::Always);
    assert_eq!(
        h.machine.health(),
        None,
        "no verdict yet, no declared check"
    );
    let unhealthy = h.event(health(Health::Unhealthy));
    assert!(engine_work(&unhealthy).is_empty());
    assert_eq!(h.machine.health(), Some(Health::Unhealthy));
    h.event(died(1));
    h.step(Input::Timer(Timer::Restart));
    h.step(Input::Done(Done::Started(Ok(()))));
    assert_eq!(
        h.machine.health(),
        Some(Health::Starting),
        "the image has a check"
    );

    let asked = spec(RestartPolicy::Always).on_unhealthy(OnUnhealthy::Restart);
    let mut h = Harness::running_spec(asked);
    let unhealthy = h.event(health(Health::Unhealthy));
    assert_eq!(engine_work(&unhealthy), [&Work::Stop("c1".into())]);
}

#[tokio::test(start_paused = true)]
async fn a_unit_that_keeps_failing_its_check_ends_failed_by_the_intensity_limit() {
    let spec = checked(RestartPolicy::Always).intensity(IntensityLimit {
        max_restarts: 2,
        within: Duration::from_secs(60),
    });
    let mut h = Harness::running_spec(spec);
    for round in 0..2 {
        h.event(health(Health::Unhealthy));
        h.step(Input::Done(Done::Stopped(Ok(()))));
        h.step(Input::Timer(Timer::Restart));
        h.step(Input::Done(Done::Started(Ok(()))));
        assert_eq!(h.state(), UnitState::Running, "round {round}");
    }
    let third = h.event(health(Health::Unhealthy));
    assert_eq!(
        engine_work(&third),
        [&Work::Stop("c1".into())],
        "stopped all the same"
    );
    h.step(Input::Done(Done::Stopped(Ok(()))));
    assert_eq!(h.state(), UnitState::Failed);
    assert!(h.machine.view().1.unwrap().contains("unhealthy"));
}

#[tokio::test(start_paused = true)]
async fn restart_no_only_reports_an_unhealthy_container_unless_asked_to_restart() {
    let mut h = Harness::running_spec(checked(RestartPolicy::No));
    let unhealthy = h.event(health(Health::Unhealthy));
    assert!(
        engine_work(&unhealthy).is_empty(),
        "the default would stop it for good"
    );
    assert_eq!(h.machine.health(), Some(Health::Unhealthy));
    // Asked explicitly: stopped, and the policy says it stays so.
    let spec = checked(RestartPolicy::No).on_unhealthy(OnUnhealthy::Restart);
    let mut h = Harness::running_spec(spec);
    h.event(health(Health::Unhealthy));
    h.step(Input::Done(Done::Stopped(Ok(()))));
    assert_eq!(h.state(), UnitState::Exited);
    assert_eq!(h.machine.restart_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_verdict_outside_running_is_ignored() {
    let mut h = Harness::running_spec(checked(RestartPolicy::Always));
    h.event(died(1));
    let late = h.event(health(Health::Unhealthy));
    assert!(late.is_empty(), "{late:?}");
    assert_eq!(h.state(), UnitState::BackingOff);
}

#[tokio::test(start_paused = true)]
async fn a_verdict_an_events_gap_hid_is_read_from_the_list() {
    let mut h = Harness::running_spec(checked(RestartPolicy::Always));
    let mut seen = snapshot("c1", EngineState::Running, None);
    seen.health = Some(Health::Unhealthy);
    let observed = h.step(Input::Observed(Some(seen)));
    assert_eq!(engine_work(&observed), [&Work::Stop("c1".into())]);
}

#[tokio::test(start_paused = true)]
async fn an_adopted_unhealthy_container_is_restarted() {
    let mut h = Harness::of(checked(RestartPolicy::Always));
    let mut seen = snapshot("c1", EngineState::Running, None);
    seen.health = Some(Health::Unhealthy);
    let adoption = Adoption {
        snapshot: seen,
        recorded: None,
    };
    let begin = h.step(Input::Begin(Some(Box::new(adoption))));
    assert_eq!(engine_work(&begin), [&Work::Stop("c1".into())]);
}

#[tokio::test(start_paused = true)]
async fn a_unit_whose_dependencies_wait_enters_waiting_says_why_and_answers() {
    let mut h = Harness::new(RestartPolicy::Always);
    assert!(h.step(waiting("db (healthy): db is starting")).is_empty());
    let begin = h.step(Input::Begin(None));
    assert!(
        matches!(engine_work(&begin)[..], [Work::Create(_)]),
        "created while it waits, as compose creates before it starts"
    );
    let created = h.step(created("c1"));
    assert!(engine_work(&created).is_empty(), "not started");
    assert_eq!(published(&created), [UnitState::Waiting]);
    assert_eq!(
        reasons(&created),
        [Some("db (healthy): db is starting".to_string())]
    );
    assert!(
        created.contains(&Effect::Answer(Ok(()))),
        "an add is accepted"
    );
    let changed = h.step(waiting("db (healthy): db is unhealthy"));
    assert_eq!(
        reasons(&changed),
        [Some("db (healthy): db is unhealthy".to_string())]
    );
    let ready = h.step(Input::Dependencies(Readiness::Ready));
    assert_eq!(
        engine_work(&ready),
        [&Work::Start("c1".into())],
        "only the start is left"
    );
}

#[tokio::test(start_paused = true)]
async fn a_policy_restart_waits_for_the_dependencies_too() {
    let mut h = Harness::running(RestartPolicy::Always);
    assert!(
        h.step(waiting("db (started): db is backing-off"))
            .is_empty()
    );
    h.event(died(1));
    let due = h.step(Input::Timer(Timer::Restart));
    assert!(engine_work(&due).is_empty());
    assert_eq!(h.state(), UnitState::Waiting);
    let ready = h.step(Input::Dependencies(Readiness::Ready));
    assert_eq!(engine_work(&ready), [&Work::Start("c1".into())]);
}

#[tokio::test(start_paused = true)]
async fn a_restarted_dependency_restarts_a_running_unit_and_keeps_its_history() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(died(1));
    h.step(Input::Timer(Timer::Restart));
    h.step(Input::Done(Done::Started(Ok(()))));
    let restarted = h.step(Input::DependencyRestarted("db".into()));
    assert_eq!(engine_work(&restarted), [&Work::Stop("c1".into())]);
    assert_eq!(
        reasons(&restarted),
        [Some("dependency db restarted".to_string())]
    );
    let stopped = h.step(Input::Done(Done::Stopped(Ok(()))));
    assert_eq!(engine_work(&stopped), [&Work::Start("c1".into())]);
    assert_eq!(h.machine.restart_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_restarted_dependency_means_nothing_unless_the_unit_runs() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(died(1));
    assert!(h.step(Input::DependencyRestarted("db".into())).is_empty());
    assert_eq!(h.state(), UnitState::BackingOff);
}

#[tokio::test(start_paused = true)]
async fn a_waiting_unit_stops_by_hand_shuts_down_and_can_be_started_outside() {
    let waiting_unit = || {
        let mut h = Harness::new(RestartPolicy::Always);
        h.step(waiting("db (started): db is creating"));
        h.step(Input::Begin(None));
        h.step(created("c1"));
        assert_eq!(h.state(), UnitState::Waiting);
        h
    };
    let mut h = waiting_unit();
    h.step(Input::Command(Command::Stop));
    assert_eq!(h.state(), UnitState::Stopped);
    let mut h = waiting_unit();
    h.step(Input::Command(Command::Shutdown));
    assert_eq!(h.state(), UnitState::StoppedByShutdown);
    let mut h = waiting_unit();
    assert!(engine_work(&h.step(Input::Command(Command::Start))).is_empty());
    assert_eq!(
        h.state(),
        UnitState::Waiting,
        "a start waits like any launch"
    );
}

#[tokio::test(start_paused = true)]
async fn the_events_of_our_own_stop_arriving_after_its_answer_are_not_news() {
    let mut h = Harness::running_spec(checked(RestartPolicy::Always));
    h.event(health(Health::Unhealthy));
    h.step(Input::Done(Done::Stopped(Ok(()))));
    let answered_at = h.wall;
    for kind in [killed("15"), died(143), ContainerEventKind::Stopped] {
        let late = h.step(event_at("c1", kind, answered_at - 1_000));
        assert!(late.is_empty(), "{late:?}");
    }
    assert_eq!(h.state(), UnitState::BackingOff);
}
