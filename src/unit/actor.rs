//! The Unit actor: holds one unit's [`Machine`] and carries out its effects.
//! It decides nothing itself: every input goes through `Machine::step`.
//!
//! Engine calls run one at a time inside `ctx.wait`, so commands, container
//! events and timers never interleave with a call in flight; they wait in
//! the mailbox and see its result (kube-runtime's "never two reconciles of
//! one object at once").

use std::sync::Arc;
use std::time::SystemTime;

use actix::prelude::*;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::bus::EventBus;
use super::flows::Flows;
use super::machine::{
    Adoption, Command, Effect, Input, Machine, Now, Readiness, RestartMode, Timer,
};
use super::state::{UnitError, UnitEvent, UnitState};
use crate::engine::Health;
use crate::gateway::ContainerSignal;
use crate::spec::UnitSpec;

/// Where a unit comes from.
pub enum Origin {
    /// Declared now: bring it up and answer `reply` once it runs (or why not).
    Fresh {
        /// Told the outcome of the first launch.
        reply: oneshot::Sender<Result<(), UnitError>>,
    },
    /// A container found at start, taken over as it is.
    Adopted(Box<Adoption>),
}

/// Everything a unit actor starts from.
pub struct UnitInit {
    pub(crate) flows: Flows,
    pub(crate) bus: Arc<EventBus>,
    pub(crate) spec: UnitSpec,
    pub(crate) origin: Origin,
    pub(crate) mode: RestartMode,
    /// Whether its dependencies' conditions hold when it starts.
    pub(crate) readiness: Readiness,
}

/// The Unit actor.
pub struct Unit {
    machine: Machine,
    flows: Flows,
    bus: Arc<EventBus>,
    origin: Option<Origin>,
    readiness: Option<Readiness>,
    timers: Vec<(Timer, SpawnHandle)>,
    /// The command being carried out, answered by the machine's `Answer`.
    reply: Option<oneshot::Sender<Result<(), UnitError>>>,
}

impl Unit {
    /// A unit that will bring its container up, or adopt one.
    pub fn new(init: UnitInit) -> Self {
        let machine = Machine::new(init.spec, init.flows.container_name.clone(), init.mode);
        Unit {
            machine,
            flows: init.flows,
            bus: init.bus,
            origin: Some(init.origin),
            readiness: Some(init.readiness),
            timers: Vec::new(),
            reply: None,
        }
    }

    /// Steps the machine and carries out what it says.
    fn feed(&mut self, input: Input, ctx: &mut Context<Self>) {
        let now = Now {
            at: Instant::now(),
            wall_nanos: crate::engine::unix_nanos(),
            jitter: rand::random(),
        };
        for effect in self.machine.step(input, now) {
            self.carry_out(effect, ctx);
        }
    }

    fn carry_out(&mut self, effect: Effect, ctx: &mut Context<Self>) {
        match effect {
            Effect::Engine(work) => {
                let (spec, hash) = (self.machine.spec().clone(), self.machine.hash().to_string());
                let flows = self.flows.clone();
                let call = async move { flows.run(work, spec, hash).await };
                ctx.wait(
                    call.into_actor(self)
                        .map(|input, act, ctx| act.feed(input, ctx)),
                );
            }
            Effect::Publish {
                state,
                reason,
                health,
                delay,
            } => self.publish(state, reason, health, delay),
            Effect::Arm(timer, after) => {
                self.cancel(timer, ctx);
                let handle = ctx.run_later(after, move |act, ctx| {
                    act.timers.retain(|(armed, _)| *armed != timer);
                    act.feed(Input::Timer(timer), ctx);
                });
                self.timers.push((timer, handle));
            }
            Effect::Cancel(timer) => self.cancel(timer, ctx),
            Effect::Answer(result) => {
                if let Some(reply) = self.reply.take() {
                    let _ = reply.send(result);
                }
            }
            Effect::End => ctx.stop(),
        }
    }

    fn cancel(&mut self, timer: Timer, ctx: &mut Context<Self>) {
        self.timers.retain(|(armed, handle)| {
            if *armed == timer {
                ctx.cancel_future(*handle);
            }
            *armed != timer
        });
    }

    fn publish(
        &self,
        state: UnitState,
        reason: Option<String>,
        health: Option<Health>,
        delay: Option<std::time::Duration>,
    ) {
        self.bus.publish(UnitEvent {
            namespace: self.flows.namespace.clone(),
            unit: self.machine.spec().name.clone(),
            state,
            container_id: self.machine.container().map(str::to_string),
            restart_count: self.machine.restart_count(),
            exit_code: self.machine.last_exit(),
            reason,
            health,
            delay,
            at: SystemTime::now(),
        });
    }

    /// Feeds one input that answers nobody.
    pub(super) fn input(&mut self, input: Input, ctx: &mut Context<Self>) {
        self.feed(input, ctx);
    }

    /// The unit's name.
    pub(super) fn name(&self) -> &str {
        &self.machine.spec().name
    }

    /// Feeds a command whose answer goes to the returned receiver.
    pub(super) fn command(
        &mut self,
        command: Command,
        ctx: &mut Context<Self>,
    ) -> oneshot::Receiver<Result<(), UnitError>> {
        let (reply, answer) = oneshot::channel();
        // One command at a time: the previous one was answered before the
        // mailbox let this one in (its engine calls ran under `ctx.wait`).
        self.reply = Some(reply);
        self.feed(Input::Command(command), ctx);
        answer
    }
}

impl Actor for Unit {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if let Some(readiness) = self.readiness.take() {
            self.feed(Input::Dependencies(readiness), ctx);
        }
        let begin = match self.origin.take() {
            Some(Origin::Fresh { reply }) => {
                self.reply = Some(reply);
                Input::Begin(None)
            }
            Some(Origin::Adopted(adoption)) => Input::Begin(Some(adoption)),
            None => return,
        };
        self.feed(begin, ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Err(UnitError::Gone(self.machine.spec().name.clone())));
        }
    }
}

impl Handler<ContainerSignal> for Unit {
    type Result = ();
    fn handle(&mut self, signal: ContainerSignal, ctx: &mut Context<Self>) {
        let input = match signal {
            ContainerSignal::Event(event) => Input::Event(event),
            ContainerSignal::Observed(seen) => Input::Observed(seen),
            ContainerSignal::EngineAvailable(available) => Input::EngineAvailable(available),
        };
        self.feed(input, ctx);
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
        for (_, handle) in self.timers.drain(..) {
            ctx.cancel_future(handle);
        }
        ctx.stop();
    }
}

/// A unit as it knows itself, without asking the engine.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
    /// Its health, while it runs with a check.
    pub health: Option<Health>,
}

/// Asks a unit for its [`UnitSnapshot`].
#[derive(Debug, Message)]
#[rtype(result = "UnitSnapshot")]
pub struct GetSnapshot;

impl Handler<GetSnapshot> for Unit {
    type Result = MessageResult<GetSnapshot>;
    fn handle(&mut self, _: GetSnapshot, _: &mut Context<Self>) -> Self::Result {
        let (state, reason) = self.machine.view();
        MessageResult(UnitSnapshot {
            spec: self.machine.spec().clone(),
            state,
            reason,
            container: self.machine.container().map(str::to_string),
            restart_count: self.machine.restart_count(),
            last_exit_code: self.machine.last_exit(),
            health: self.machine.health(),
        })
    }
}
