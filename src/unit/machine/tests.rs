//! Table tests of the unit machine, under paused time: every transition the
//! issues name, and the inputs each phase ignores on purpose.

use std::time::Duration;

use tokio::time::Instant;

mod first_step;
mod health;

use super::*;
use crate::engine::{
    ContainerEvent, ContainerEventKind, ContainerSnapshot, EngineError, EngineState,
};
use crate::gateway::CreateOutcome;
use crate::labels;
use crate::policy::{Backoff, RestartPolicy};
use crate::record::PhaseRecord;
use crate::unit::state::UnitError;

/// The wall clock of the first step, in Unix nanoseconds.
const T0: i64 = 1_000_000_000_000;

struct Harness {
    machine: Machine,
    wall: i64,
}

fn spec(policy: RestartPolicy) -> UnitSpec {
    UnitSpec::new("web", "busybox:latest")
        .restart(policy)
        .backoff(Backoff {
            jitter: 0.0,
            ..Backoff::default()
        })
}

impl Harness {
    fn new(policy: RestartPolicy) -> Self {
        Harness::of(spec(policy))
    }

    fn of(spec: UnitSpec) -> Self {
        Harness {
            machine: Machine::new(spec, "ns--web".into(), RestartMode::InPlace),
            wall: T0,
        }
    }

    /// A unit whose container `c1` runs.
    fn running(policy: RestartPolicy) -> Self {
        Harness::running_spec(spec(policy))
    }

    /// A unit of `spec` whose container `c1` runs.
    fn running_spec(spec: UnitSpec) -> Self {
        let mut h = Harness::of(spec);
        h.step(Input::Begin(None));
        h.step(created("c1"));
        h.step(Input::Done(Done::Started(Ok(()))));
        assert!(matches!(h.machine.phase(), Phase::Running { id, .. } if id == "c1"));
        h
    }

    /// One step, 1 ms of wall time after the previous one.
    fn step(&mut self, input: Input) -> Vec<Effect> {
        self.wall += 1_000_000;
        let now = Now {
            at: Instant::now(),
            wall_nanos: self.wall,
            jitter: 0.5,
        };
        self.machine.step(input, now)
    }

    /// An event of `c1` happening now.
    fn event(&mut self, kind: ContainerEventKind) -> Vec<Effect> {
        let time = self.wall + 500_000;
        self.step(event_at("c1", kind, time))
    }

    fn phase(&self) -> &Phase {
        self.machine.phase()
    }

    fn state(&self) -> UnitState {
        self.machine.view().0
    }
}

fn event_at(id: &str, kind: ContainerEventKind, time_nanos: i64) -> Input {
    Input::Event(ContainerEvent {
        id: id.into(),
        name: "ns--web".into(),
        kind,
        time_nanos,
    })
}

fn created(id: &str) -> Input {
    Input::Done(Done::Created(Ok(CreateOutcome::Created(id.into()))))
}

fn died(code: i64) -> ContainerEventKind {
    ContainerEventKind::Died { exit_code: code }
}

fn killed(signal: &str) -> ContainerEventKind {
    ContainerEventKind::Killed {
        signal: signal.into(),
    }
}

fn unavailable() -> UnitError {
    UnitError::Engine(EngineError::Unavailable("connection refused".into()))
}

fn snapshot(id: &str, state: EngineState, exit_code: Option<i64>) -> ContainerSnapshot {
    let carried = CarriedState::default();
    let spec = spec(RestartPolicy::Always);
    ContainerSnapshot {
        id: id.into(),
        name: "ns--web".into(),
        labels: labels::container_labels("ns", &spec, &spec_hash(&spec), &carried),
        state,
        exit_code,
        image: "busybox:latest".into(),
        health: None,
    }
}

fn recorded(phase: UnitState) -> PhaseRecord {
    PhaseRecord {
        phase: phase.as_str().into(),
        reason: None,
        at: 0,
        restart_count: 3,
        last_exit_code: Some(1),
        last_restart_reason: None,
    }
}

fn engine_work(effects: &[Effect]) -> Vec<&Work> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Engine(work) => Some(work),
            _ => None,
        })
        .collect()
}

fn published(effects: &[Effect]) -> Vec<UnitState> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Publish { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_fresh_unit_creates_starts_and_answers_once_it_runs() {
    let mut h = Harness::new(RestartPolicy::Always);
    let begin = h.step(Input::Begin(None));
    assert!(matches!(engine_work(&begin)[..], [Work::Create(_)]));
    assert_eq!(published(&begin), [UnitState::Creating]);
    let create = h.step(created("c1"));
    assert_eq!(engine_work(&create), [&Work::Start("c1".into())]);
    assert_eq!(published(&create), [UnitState::Starting]);
    let start = h.step(Input::Done(Done::Started(Ok(()))));
    assert_eq!(published(&start), [UnitState::Running]);
    assert!(start.contains(&Effect::Answer(Ok(()))));
}

#[tokio::test(start_paused = true)]
async fn a_missing_image_is_pulled_once_then_created() {
    let mut h = Harness::new(RestartPolicy::Always);
    h.step(Input::Begin(None));
    let missing = || {
        Input::Done(Done::Created(Err(UnitError::Engine(
            EngineError::ImageNotFound("busybox:latest".into()),
        ))))
    };
    let pull = h.step(missing());
    assert_eq!(engine_work(&pull), [&Work::Pull]);
    assert_eq!(h.state(), UnitState::Pulling);
    let again = h.step(Input::Done(Done::Pulled(Ok(()))));
    assert!(matches!(engine_work(&again)[..], [Work::Create(_)]));
    let failed = h.step(missing());
    assert!(engine_work(&failed).is_empty(), "pulled once only");
    assert_eq!(h.state(), UnitState::Failed);
}

#[tokio::test(start_paused = true)]
async fn unit_backs_off_after_a_crash_and_restarts_the_same_container() {
    let mut h = Harness::running(RestartPolicy::Always);
    let exit = h.event(died(1));
    assert!(exit.contains(&Effect::Arm(Timer::Restart, Duration::from_millis(100))));
    assert_eq!(h.state(), UnitState::BackingOff);
    assert_eq!(h.machine.restart_count(), 1);
    let restart = h.step(Input::Timer(Timer::Restart));
    assert_eq!(engine_work(&restart), [&Work::Start("c1".into())]);
}

#[tokio::test(start_paused = true)]
async fn a_restart_by_replacement_removes_creates_and_starts() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.machine.mode = RestartMode::Replace;
    h.event(died(1));
    let remove = h.step(Input::Timer(Timer::Restart));
    assert_eq!(engine_work(&remove), [&Work::Remove("c1".into())]);
    let create = h.step(Input::Done(Done::Removed(Ok(()))));
    let [Work::Create(carried)] = engine_work(&create)[..] else {
        panic!("a create follows the remove: {create:?}")
    };
    assert_eq!(carried.restart_count, 1, "the new labels carry the count");
    assert_eq!(
        engine_work(&h.step(created("c2"))),
        [&Work::Start("c2".into())]
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_in_the_wait_for_a_stop_event_is_not_undone_by_its_timer() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(killed("15"));
    let exit = h.event(died(143));
    assert!(exit.contains(&Effect::Arm(Timer::StopEvent, STOP_EVENT_WAIT)));
    let stop = h.step(Input::Command(Command::Stop));
    assert!(stop.contains(&Effect::Cancel(Timer::StopEvent)));
    assert!(stop.contains(&Effect::Answer(Ok(()))));
    assert!(
        engine_work(&stop).is_empty(),
        "the container already exited"
    );
    // A firing that raced the cancel changes nothing.
    assert!(h.step(Input::Timer(Timer::StopEvent)).is_empty());
    assert_eq!(h.state(), UnitState::Stopped);
    assert_eq!(h.machine.restart_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_start_in_the_wait_for_a_stop_event_makes_the_policy_act_not_at_all() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(killed("15"));
    h.event(died(143));
    let start = h.step(Input::Command(Command::Start));
    assert_eq!(engine_work(&start), [&Work::Start("c1".into())]);
    h.step(Input::Done(Done::Started(Ok(()))));
    assert!(h.step(Input::Timer(Timer::StopEvent)).is_empty());
    assert_eq!(h.machine.restart_count(), 0);
    assert_eq!(h.state(), UnitState::Running);
}

#[tokio::test(start_paused = true)]
async fn docker_kill_with_a_polite_signal_is_an_exit_once_no_stop_event_came() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(killed("15"));
    h.event(died(143));
    let probe = h.step(Input::Timer(Timer::StopEvent));
    assert_eq!(engine_work(&probe), [&Work::Probe]);
    let decided = h.step(Input::StoppedBy(StoppedBy::User));
    assert!(decided.contains(&Effect::Arm(Timer::Restart, Duration::from_millis(100))));
    assert_eq!(h.state(), UnitState::BackingOff);
    assert_eq!(h.machine.restart_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_shutting_down_engine_slow_to_send_stop_is_still_the_engines_stop() {
    // 50 containers stopped at once: dockerd sent `stop` 1.5 s after `die`.
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(killed("15"));
    h.event(killed("9"));
    h.event(died(137));
    h.step(Input::Timer(Timer::StopEvent));
    let verdict = h.step(Input::StoppedBy(StoppedBy::Engine));
    assert!(verdict.contains(&Effect::Arm(Timer::EngineRetry, ENGINE_RETRY)));
    assert_eq!(h.state(), UnitState::WaitingForEngine);
    // The late `stop` means nothing any more.
    assert!(h.event(ContainerEventKind::Stopped).is_empty());
    assert_eq!(h.machine.restart_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn docker_stop_while_the_engine_answers_is_a_stop_by_hand() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(killed("15"));
    h.event(died(143));
    let probe = h.event(ContainerEventKind::Stopped);
    assert_eq!(engine_work(&probe), [&Work::Probe]);
    h.step(Input::StoppedBy(StoppedBy::User));
    assert_eq!(h.state(), UnitState::Stopped);
    assert!(h.step(Input::Timer(Timer::StopEvent)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_stop_by_the_shutting_down_engine_waits_for_it_and_counts_no_restart() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(killed("15"));
    h.event(died(143));
    h.event(ContainerEventKind::Stopped);
    let verdict = h.step(Input::StoppedBy(StoppedBy::Engine));
    assert!(verdict.contains(&Effect::Arm(Timer::EngineRetry, ENGINE_RETRY)));
    assert_eq!(h.state(), UnitState::WaitingForEngine);
    let back = h.step(Input::Observed(Some(snapshot(
        "c1",
        EngineState::Exited,
        Some(143),
    ))));
    assert_eq!(engine_work(&back), [&Work::Start("c1".into())]);
    assert!(back.contains(&Effect::Cancel(Timer::EngineRetry)));
    h.step(Input::Done(Done::Started(Ok(()))));
    assert_eq!(h.machine.restart_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn after_an_outage_an_exited_container_starts_again_and_the_replayed_stop_is_ignored() {
    let mut h = Harness::running(RestartPolicy::UnlessStopped);
    let during_outage = h.wall + 1;
    assert!(h.step(Input::EngineAvailable(false)).is_empty());
    let back = h.step(Input::Observed(Some(snapshot(
        "c1",
        EngineState::Exited,
        Some(137),
    ))));
    assert_eq!(engine_work(&back), [&Work::Start("c1".into())]);
    h.step(Input::Done(Done::Started(Ok(()))));
    // The restore's own kill, die and stop, replayed after the reconnect.
    for kind in [
        killed("15"),
        killed("9"),
        died(137),
        ContainerEventKind::Stopped,
    ] {
        assert!(h.step(event_at("c1", kind, during_outage)).is_empty());
    }
    assert_eq!(h.state(), UnitState::Running);
    assert_eq!(h.machine.restart_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_engine_stop_leaves_a_unit_whose_policy_is_no_exited() {
    let mut h = Harness::running(RestartPolicy::No);
    let back = h.step(Input::Observed(Some(snapshot(
        "c1",
        EngineState::Exited,
        Some(143),
    ))));
    assert!(engine_work(&back).is_empty());
    assert_eq!(h.state(), UnitState::Exited);
}

#[tokio::test(start_paused = true)]
async fn an_engine_that_does_not_answer_a_launch_is_waited_for_not_a_failure() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(died(1));
    h.step(Input::Timer(Timer::Restart));
    let down = h.step(Input::Done(Done::Started(Err(unavailable()))));
    assert_eq!(h.state(), UnitState::WaitingForEngine);
    assert!(down.contains(&Effect::Arm(Timer::EngineRetry, ENGINE_RETRY)));
    let back = h.step(Input::EngineAvailable(true));
    assert_eq!(engine_work(&back), [&Work::Start("c1".into())]);
    h.step(Input::Done(Done::Started(Ok(()))));
    assert_eq!(h.machine.restart_count(), 1, "only the crash counted");
}

#[tokio::test(start_paused = true)]
async fn a_replayed_exit_is_handled_once() {
    let mut h = Harness::running(RestartPolicy::OnFailure {
        max_retries: Some(1),
    });
    let time = h.wall + 10;
    h.step(event_at("c1", died(1), time));
    h.step(event_at("c1", died(1), time));
    assert_eq!(h.machine.restart_count(), 1);
    assert_eq!(h.state(), UnitState::BackingOff);
}

#[tokio::test(start_paused = true)]
async fn a_restart_command_does_not_see_its_own_stop_as_an_outside_one() {
    let mut h = Harness::running(RestartPolicy::Always);
    let before_stop = h.wall + 1;
    let stop = h.step(Input::Command(Command::Restart));
    assert_eq!(engine_work(&stop), [&Work::Stop("c1".into())]);
    let start = h.step(Input::Done(Done::Stopped(Ok(()))));
    assert_eq!(engine_work(&start), [&Work::Start("c1".into())]);
    h.step(Input::Done(Done::Started(Ok(()))));
    // Our stop's events reach the unit after the new start.
    for kind in [killed("15"), died(143), ContainerEventKind::Stopped] {
        assert!(h.step(event_at("c1", kind, before_stop)).is_empty());
    }
    assert_eq!(h.state(), UnitState::Running);
    assert_eq!(h.machine.restart_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_unchanged_update_keeps_a_pending_restart() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.event(died(1));
    let update = h.step(Input::Command(Command::Update(Box::new(spec(
        RestartPolicy::Always,
    )))));
    assert_eq!(update, [Effect::Answer(Ok(()))]);
    let restart = h.step(Input::Timer(Timer::Restart));
    assert_eq!(engine_work(&restart), [&Work::Start("c1".into())]);
}

#[tokio::test(start_paused = true)]
async fn a_changed_update_of_a_running_unit_stops_removes_creates_and_starts() {
    let mut h = Harness::running(RestartPolicy::Always);
    let changed = spec(RestartPolicy::Always).command(["sleep", "9"]);
    let stop = h.step(Input::Command(Command::Update(Box::new(changed))));
    assert_eq!(engine_work(&stop), [&Work::Stop("c1".into())]);
    let remove = h.step(Input::Done(Done::Stopped(Ok(()))));
    assert_eq!(engine_work(&remove), [&Work::Remove("c1".into())]);
    let create = h.step(Input::Done(Done::Removed(Ok(()))));
    assert!(matches!(engine_work(&create)[..], [Work::Create(_)]));
}

#[tokio::test(start_paused = true)]
async fn the_shutdowns_stop_is_its_own_phase_and_the_next_supervisor_starts_it() {
    let mut h = Harness::running(RestartPolicy::Always);
    h.step(Input::Command(Command::Shutdown));
    h.step(Input::Done(Done::Stopped(Ok(()))));
    assert_eq!(h.state(), UnitState::StoppedByShutdown);
    let mut next = Harness::new(RestartPolicy::Always);
    let adopt = next.step(Input::Begin(Some(Box::new(Adoption {
        snapshot: snapshot("c1", EngineState::Exited, Some(143)),
        recorded: Some(recorded(UnitState::StoppedByShutdown)),
    }))));
    assert_eq!(engine_work(&adopt), [&Work::Start("c1".into())]);
    assert_eq!(
        next.machine.restart_count(),
        3,
        "the record's count carries on"
    );
}

#[tokio::test(start_paused = true)]
async fn adoption_follows_the_record_and_the_container() {
    // (container state, recorded phase, expected public state after adoption)
    let table = [
        (
            EngineState::Running,
            Some(UnitState::Running),
            UnitState::Running,
        ),
        // Stopped by hand, then `docker start`ed while no supervisor ran.
        (
            EngineState::Running,
            Some(UnitState::Stopped),
            UnitState::Running,
        ),
        (
            EngineState::Exited,
            Some(UnitState::Stopped),
            UnitState::Stopped,
        ),
        // A restart already counted, never carried out: carried out now.
        (
            EngineState::Exited,
            Some(UnitState::BackingOff),
            UnitState::Starting,
        ),
        (
            EngineState::Exited,
            Some(UnitState::WaitingForEngine),
            UnitState::Starting,
        ),
        (
            EngineState::Exited,
            Some(UnitState::StoppedByShutdown),
            UnitState::Starting,
        ),
        (EngineState::Created, None, UnitState::Starting),
        (
            EngineState::Exited,
            Some(UnitState::Failed),
            UnitState::Failed,
        ),
        // Exited while no supervisor watched: the policy decides.
        (
            EngineState::Exited,
            Some(UnitState::Running),
            UnitState::BackingOff,
        ),
        (EngineState::Exited, None, UnitState::BackingOff),
    ];
    for (engine_state, phase, expected) in table {
        let mut h = Harness::new(RestartPolicy::Always);
        h.step(Input::Begin(Some(Box::new(Adoption {
            snapshot: snapshot("c1", engine_state.clone(), Some(1)),
            recorded: phase.map(recorded),
        }))));
        assert_eq!(h.state(), expected, "{engine_state:?} recorded {phase:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_unit_adopted_running_after_a_stop_by_hand_follows_its_policy_again() {
    let mut h = Harness::new(RestartPolicy::Always);
    h.step(Input::Begin(Some(Box::new(Adoption {
        snapshot: snapshot("c1", EngineState::Running, None),
        recorded: Some(recorded(UnitState::Stopped)),
    }))));
    h.event(died(1));
    assert_eq!(h.state(), UnitState::BackingOff);
}

#[tokio::test(start_paused = true)]
async fn inputs_that_mean_nothing_in_a_phase_are_ignored() {
    let stray = |h: &mut Harness| {
        vec![
            Input::Timer(Timer::Restart),
            Input::Timer(Timer::StopEvent),
            Input::Timer(Timer::EngineRetry),
            Input::StoppedBy(StoppedBy::User),
            Input::StoppedBy(StoppedBy::Engine),
            Input::Done(Done::Started(Ok(()))),
            Input::Done(Done::Removed(Ok(()))),
            event_at("c0", died(1), h.wall + 10),
            event_at("c1", died(1), T0 - 1),
        ]
    };
    // Running: a stray timer, verdict or answer, an earlier container's or
    // an earlier run's exit, and a repeated start, all change nothing.
    let mut running = Harness::running(RestartPolicy::Always);
    let mut inputs = stray(&mut running);
    inputs.push(Input::EngineAvailable(true));
    inputs.push(event_at(
        "c1",
        ContainerEventKind::Started,
        running.wall + 10,
    ));
    for input in inputs {
        let phase = running.phase().clone();
        assert!(running.step(input.clone()).is_empty(), "running: {input:?}");
        assert_eq!(running.phase(), &phase);
    }
    // Stopped by hand: exits, stops and timers are not its business.
    let mut stopped = Harness::running(RestartPolicy::Always);
    stopped.step(Input::Command(Command::Stop));
    stopped.step(Input::Done(Done::Stopped(Ok(()))));
    let mut inputs = stray(&mut stopped);
    inputs.push(event_at("c1", died(143), stopped.wall + 10));
    inputs.push(event_at(
        "c1",
        ContainerEventKind::Stopped,
        stopped.wall + 20,
    ));
    inputs.push(Input::EngineAvailable(false));
    for input in inputs {
        let phase = stopped.phase().clone();
        assert!(stopped.step(input.clone()).is_empty(), "stopped: {input:?}");
        assert_eq!(stopped.phase(), &phase);
    }
}

#[tokio::test(start_paused = true)]
async fn the_public_state_is_the_phases_and_every_change_is_published_once() {
    let mut h = Harness::running(RestartPolicy::Always);
    let mut states = Vec::new();
    for input in [
        event_at("c1", died(1), h.wall + 10),
        Input::Timer(Timer::Restart),
        Input::Done(Done::Started(Ok(()))),
        Input::Command(Command::Stop),
        Input::Done(Done::Stopped(Ok(()))),
    ] {
        let effects = h.step(input);
        states.extend(published(&effects));
        assert_eq!(Some(&h.state()), states.last(), "view and event agree");
    }
    use UnitState::*;
    assert_eq!(states, [BackingOff, Starting, Running, Stopping, Stopped]);
}
