//! The Unit actor: owns one container's lifecycle and carries out the restart
//! policy's decisions. It decides nothing itself (see `policy::decide`).
//!
//! Engine work runs one sequence at a time inside `ctx.wait`, so commands,
//! container events and timers never interleave with a half-done sequence;
//! they wait in the mailbox and see its result.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix::prelude::*;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::bus::EventBus;
use super::flows::Flows;
use super::state::{UnitError, UnitEvent, UnitState};
use crate::engine::{ContainerEventKind, ContainerSnapshot, EngineState};
use crate::gateway::ContainerSignal;
use crate::labels::{self, CarriedState};
use crate::policy::{Decision, ExitFacts, RestartHistory, decide};
use crate::spec::{UnitSpec, spec_hash};

/// How long an exit that followed an outside signal waits for the `stop`
/// event that tells `docker stop` from `docker kill -s` (Docker emits it
/// right after the exit).
const STOP_EVENT_WAIT: Duration = Duration::from_secs(1);

fn is_sigkill(signal: &str) -> bool {
    matches!(signal, "9" | "KILL" | "SIGKILL")
}

/// Publishes events for one unit.
#[derive(Clone)]
struct Reporter {
    bus: Arc<EventBus>,
    namespace: String,
    unit: String,
}

impl Reporter {
    fn publish(&self, state: UnitState, fill: impl FnOnce(&mut UnitEvent)) {
        let mut event = UnitEvent {
            namespace: self.namespace.clone(),
            unit: self.unit.clone(),
            state,
            container_id: None,
            restart_count: 0,
            exit_code: None,
            reason: None,
            delay: None,
            at: SystemTime::now(),
        };
        fill(&mut event);
        self.bus.publish(event);
    }
}

/// What a create-and-start sequence achieved.
pub(super) struct Launch {
    pub(super) container: Option<String>,
    pub(super) result: Result<(), UnitError>,
}

/// Everything a unit actor starts from.
pub struct UnitInit {
    pub(crate) flows: Flows,
    pub(crate) bus: Arc<EventBus>,
    pub(crate) spec: UnitSpec,
    pub(crate) adopted: Option<ContainerSnapshot>,
    /// The phase record says the unit was stopped by hand (adoption only).
    pub(crate) stopped_by_hand: bool,
    /// Restart by starting the same container again (the engine's own
    /// work), because the phase record keeps the restart count; otherwise a
    /// restart replaces the container so that its labels carry the count.
    pub(crate) in_place_restarts: bool,
    /// Restart count and last exit code from the phase record (adoption only).
    pub(crate) recorded_restarts: Option<(u32, Option<i64>)>,
    pub(crate) first_start: Option<oneshot::Sender<Result<(), UnitError>>>,
}

/// The Unit actor.
pub struct Unit {
    pub(super) flows: Flows,
    reporter: Reporter,
    pub(super) spec: UnitSpec,
    pub(super) hash: String,
    pub(super) state: UnitState,
    pub(super) reason: Option<String>,
    pub(super) container: Option<String>,
    pub(super) history: RestartHistory,
    pub(super) last_exit: Option<i64>,
    pub(super) started_at: Option<Instant>,
    pub(super) oom_seen: bool,
    pub(super) manual_stop: bool,
    pub(super) timer: Option<SpawnHandle>,
    in_place_restarts: bool,
    recorded_restarts: Option<(u32, Option<i64>)>,
    /// A signal other than SIGKILL sent to the running container from outside.
    pub(super) signalled: Option<String>,
    /// The wait for a `stop` event after such a signal's exit.
    pub(super) awaiting_stop: Option<SpawnHandle>,
    pub(super) adopted: Option<ContainerSnapshot>,
    pub(super) first_start: Option<oneshot::Sender<Result<(), UnitError>>>,
}

impl Unit {
    /// A unit that will bring its container up, or adopt `init.adopted`.
    pub fn new(init: UnitInit) -> Self {
        Unit {
            reporter: Reporter {
                bus: init.bus,
                namespace: init.flows.namespace.clone(),
                unit: init.spec.name.clone(),
            },
            flows: init.flows,
            hash: spec_hash(&init.spec),
            spec: init.spec,
            state: UnitState::Pending,
            reason: None,
            container: None,
            history: RestartHistory::default(),
            last_exit: None,
            started_at: None,
            oom_seen: false,
            manual_stop: init.stopped_by_hand,
            timer: None,
            in_place_restarts: init.in_place_restarts,
            recorded_restarts: init.recorded_restarts,
            signalled: None,
            awaiting_stop: None,
            adopted: init.adopted,
            first_start: init.first_start,
        }
    }

    pub(super) fn set_state(&mut self, state: UnitState, reason: Option<String>) {
        self.set_state_after(state, reason, None);
    }

    fn set_state_after(
        &mut self,
        state: UnitState,
        reason: Option<String>,
        delay: Option<Duration>,
    ) {
        self.state = state;
        self.reason = reason.clone();
        let (container_id, restart_count, exit_code) = (
            self.container.clone(),
            self.history.restart_count,
            self.last_exit,
        );
        self.reporter.publish(state, |event| {
            event.container_id = container_id;
            event.restart_count = restart_count;
            event.exit_code = exit_code;
            event.reason = reason;
            event.delay = delay;
        });
    }

    pub(super) fn carried(&self, reason: Option<String>) -> CarriedState {
        CarriedState::from_history(&self.history, self.last_exit, reason)
    }

    pub(super) fn cancel_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.timer.take() {
            ctx.cancel_future(handle);
        }
    }

    /// Creates (unless `existing` is given) and, when `start`, starts the container.
    pub(super) fn launch(
        &self,
        carried: CarriedState,
        existing: Option<String>,
        start: bool,
    ) -> impl Future<Output = Launch> + use<> {
        let (flows, spec, hash) = (self.flows.clone(), self.spec.clone(), self.hash.clone());
        let (reporter, restarts) = (self.reporter.clone(), self.history.restart_count);
        async move {
            let report = |state| reporter.publish(state, |e| e.restart_count = restarts);
            let id = match existing {
                Some(id) => id,
                None => match flows.create(&spec, &hash, &carried, report).await {
                    Ok(id) => id,
                    Err(error) => {
                        return Launch {
                            container: None,
                            result: Err(error),
                        };
                    }
                },
            };
            if !start {
                return Launch {
                    container: Some(id),
                    result: Ok(()),
                };
            }
            report(UnitState::Starting);
            let result = flows.start(&id, &spec.name).await;
            Launch {
                container: Some(id),
                result,
            }
        }
    }

    pub(super) fn after_launch(&mut self, launch: Launch, started: bool) -> Result<(), UnitError> {
        if launch.container.is_some() {
            self.container = launch.container;
        }
        match &launch.result {
            Ok(()) if started => {
                self.started_at = Some(Instant::now());
                self.oom_seen = false;
                self.set_state(UnitState::Running, None);
            }
            Ok(()) => self.set_state(
                UnitState::Stopped,
                Some("created; stopped by request".into()),
            ),
            Err(error) => self.set_state(UnitState::Failed, Some(error.to_string())),
        }
        if let Some(waiter) = self.first_start.take() {
            let _ = waiter.send(launch.result.clone());
        }
        launch.result
    }

    /// Runs a launch inside `ctx.wait` and applies its result.
    fn launch_now(
        &mut self,
        ctx: &mut Context<Self>,
        carried: CarriedState,
        existing: Option<String>,
    ) {
        let launch = self.launch(carried, existing, true);
        ctx.wait(launch.into_actor(self).map(|launch, act, _| {
            let _ = act.after_launch(launch, true);
        }));
    }

    fn adopt(&mut self, snapshot: ContainerSnapshot, ctx: &mut Context<Self>) {
        let carried = labels::carried_state(&snapshot.labels);
        self.history.restart_count = carried.restart_count;
        self.history.quick_failures = carried.quick_failures;
        self.last_exit = carried.last_exit_code;
        // Restarts in place leave the labels at the count of the container's
        // creation; the phase record has the later one.
        if let Some((count, exit)) = self.recorded_restarts.take()
            && count > self.history.restart_count
        {
            self.history.restart_count = count;
            self.last_exit = exit.or(self.last_exit);
        }
        self.container = Some(snapshot.id.clone());
        match snapshot.state {
            state if state.is_alive() => {
                self.started_at = Some(Instant::now());
                self.set_state(UnitState::Running, Some("adopted".into()));
            }
            _ if self.manual_stop => {
                self.last_exit = snapshot.exit_code.or(self.last_exit);
                self.set_state(
                    UnitState::Stopped,
                    Some("stopped by request before the supervisor restarted".into()),
                );
            }
            // Created but never started: the supervisor stopped between the two.
            EngineState::Created => self.launch_now(ctx, carried, Some(snapshot.id)),
            _ => {
                self.state = UnitState::Running;
                self.on_exit(snapshot.exit_code.unwrap_or(-1), ctx);
            }
        }
    }

    /// The container exited on its own (or behind our back): ask the policy.
    fn on_exit(&mut self, exit_code: i64, ctx: &mut Context<Self>) {
        let facts = ExitFacts {
            exit_code,
            oom_killed: std::mem::take(&mut self.oom_seen),
            ran_for: self
                .started_at
                .take()
                .map(|at| at.elapsed())
                .unwrap_or_default(),
        };
        self.last_exit = Some(exit_code);
        if self.manual_stop || !matches!(self.state, UnitState::Running | UnitState::Starting) {
            return;
        }
        if self.signalled.take().is_some() {
            // Someone sent a polite signal before this exit: `docker stop`
            // (a manual stop, whose `stop` event follows) or `docker kill
            // -s` (an exit like any other). Wait briefly for the verdict.
            self.state = UnitState::Exited;
            let handle = ctx.run_later(STOP_EVENT_WAIT, move |act, ctx| {
                act.awaiting_stop = None;
                act.state = UnitState::Running;
                act.apply_exit(facts, ctx);
            });
            self.awaiting_stop = Some(handle);
            return;
        }
        self.apply_exit(facts, ctx);
    }

    /// Asks the policy what follows an exit, and carries it out.
    fn apply_exit(&mut self, facts: ExitFacts, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let spec = &self.spec;
        let decision = decide(
            spec.restart,
            &spec.backoff,
            &spec.intensity,
            &facts,
            &self.history,
            now,
            rand::random(),
        );
        match decision {
            Decision::RestartAfter {
                delay,
                attempt,
                reason,
            } => {
                self.history
                    .record_restart(now, attempt, &self.spec.intensity);
                self.schedule_restart(delay, reason, ctx);
            }
            Decision::Stay { reason } => self.set_state(UnitState::Exited, Some(reason)),
            Decision::GiveUp { reason } => self.set_state(UnitState::Failed, Some(reason)),
        }
    }

    /// Schedules the restart. In place: the same container is started again
    /// when the delay is over. Otherwise the dead container is replaced now,
    /// inside the delay, so that the new one carries the restart count in
    /// its labels and the restart itself is one start call.
    fn schedule_restart(&mut self, delay: Duration, reason: String, ctx: &mut Context<Self>) {
        let deadline = Instant::now() + delay;
        self.set_state_after(UnitState::BackingOff, Some(reason.clone()), Some(delay));
        if self.in_place_restarts {
            self.timer = Some(ctx.run_later(delay, |act, ctx| act.restart_now(ctx)));
            return;
        }
        let carried = self.carried(Some(reason));
        let old = self.container.take();
        let (flows, name) = (self.flows.clone(), self.spec.name.clone());
        let create = self.launch(carried, None, false);
        let replace = async move {
            if let Some(old) = old {
                flows.remove(&old, &name).await?;
            }
            let launch = create.await;
            launch.result.map(|()| launch.container)
        };
        ctx.wait(
            replace
                .into_actor(self)
                .map(move |replaced, act, ctx| match replaced {
                    Ok(container) => {
                        act.container = container;
                        if act.state == UnitState::BackingOff {
                            let wait = deadline.saturating_duration_since(Instant::now());
                            act.timer = Some(ctx.run_later(wait, |act, ctx| act.restart_now(ctx)));
                        }
                    }
                    Err(error) => act.set_state(
                        UnitState::Failed,
                        Some(format!("could not replace the container: {error}")),
                    ),
                }),
        );
    }

    fn restart_now(&mut self, ctx: &mut Context<Self>) {
        self.timer = None;
        if self.state != UnitState::BackingOff {
            return;
        }
        let existing = self.container.clone();
        let carried = self.carried(self.reason.clone());
        self.launch_now(ctx, carried, existing);
    }

    fn on_signal(&mut self, signal: ContainerSignal, ctx: &mut Context<Self>) {
        match signal {
            ContainerSignal::Event(event) => {
                if self.container.as_deref() != Some(event.id.as_str()) {
                    return; // an earlier container of this unit
                }
                match event.kind {
                    ContainerEventKind::OomKilled => self.oom_seen = true,
                    ContainerEventKind::Killed { signal } => {
                        if self.state == UnitState::Running && !is_sigkill(&signal) {
                            self.signalled = Some(signal);
                        }
                    }
                    ContainerEventKind::Died { exit_code } => self.on_exit(exit_code, ctx),
                    ContainerEventKind::Destroyed => self.container = None,
                    ContainerEventKind::Started => self.on_started_elsewhere(),
                    ContainerEventKind::Stopped => self.on_stopped_elsewhere(ctx),
                }
            }
            ContainerSignal::Observed(seen) => self.reconcile(seen, ctx),
        }
    }

    /// `docker stop` behind our back is a manual stop, as Docker itself
    /// counts it for every restart policy: a pending restart is cancelled.
    fn on_stopped_elsewhere(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.awaiting_stop.take() {
            ctx.cancel_future(handle);
        }
        if matches!(
            self.state,
            UnitState::BackingOff | UnitState::Exited | UnitState::Failed
        ) {
            self.cancel_timer(ctx);
            self.manual_stop = true;
            self.set_state(
                UnitState::Stopped,
                Some("stopped outside stevedore (docker stop)".into()),
            );
        }
    }

    fn on_started_elsewhere(&mut self) {
        if matches!(
            self.state,
            UnitState::Exited | UnitState::Stopped | UnitState::Failed
        ) {
            self.manual_stop = false;
            self.started_at = Some(Instant::now());
            self.set_state(UnitState::Running, Some("started outside stevedore".into()));
        }
    }

    /// After an events reconnect: catch up with what the engine shows.
    fn reconcile(&mut self, seen: Option<ContainerSnapshot>, ctx: &mut Context<Self>) {
        if self.state != UnitState::Running {
            return;
        }
        match seen {
            None => {
                self.container = None;
                self.on_exit(-1, ctx);
            }
            Some(snapshot)
                if Some(&snapshot.id) == self.container.as_ref() && !snapshot.state.is_alive() =>
            {
                self.on_exit(snapshot.exit_code.unwrap_or(-1), ctx)
            }
            Some(_) => {}
        }
    }
}

impl Actor for Unit {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        match self.adopted.take() {
            Some(snapshot) => self.adopt(snapshot, ctx),
            None => self.launch_now(ctx, CarriedState::default(), None),
        }
    }
}

impl Handler<ContainerSignal> for Unit {
    type Result = ();
    fn handle(&mut self, signal: ContainerSignal, ctx: &mut Context<Self>) {
        self.on_signal(signal, ctx);
    }
}

/// Ends the unit actor without touching its container (shutdown that leaves
/// containers running; the next supervisor adopts them).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Detach;

impl Handler<Detach> for Unit {
    type Result = ();
    fn handle(&mut self, _: Detach, ctx: &mut Context<Self>) {
        self.cancel_timer(ctx);
        ctx.stop();
    }
}

/// A unit as it knows itself, without asking the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitSnapshot {
    /// The declared spec.
    pub spec: UnitSpec,
    /// Its state.
    pub state: UnitState,
    /// Why it is in that state.
    pub reason: Option<String>,
    /// Its container id.
    pub container: Option<String>,
    /// Restarts so far.
    pub restart_count: u32,
    /// Exit code of the last run.
    pub last_exit_code: Option<i64>,
}

/// Asks a unit for its [`UnitSnapshot`].
#[derive(Debug, Message)]
#[rtype(result = "UnitSnapshot")]
pub struct GetSnapshot;

impl Handler<GetSnapshot> for Unit {
    type Result = MessageResult<GetSnapshot>;
    fn handle(&mut self, _: GetSnapshot, _: &mut Context<Self>) -> Self::Result {
        MessageResult(UnitSnapshot {
            spec: self.spec.clone(),
            state: self.state,
            reason: self.reason.clone(),
            container: self.container.clone(),
            restart_count: self.history.restart_count,
            last_exit_code: self.last_exit,
        })
    }
}
