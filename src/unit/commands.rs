//! Commands to a unit (stop, start, restart, update, remove, and the
//! shutdown's stop): each is an input of the unit's machine, answered when
//! the machine says it is done.

use actix::prelude::*;

use super::actor::Unit;
use super::machine::{Command, Input, Readiness};
use super::state::UnitError;
use crate::spec::UnitSpec;

/// A command to one unit. The next message waits until the engine work of
/// this one is done.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), UnitError>")]
pub enum UnitCommand {
    /// Stop by hand (grace period, then kill); no policy undoes it.
    Stop,
    /// Start by hand; resets the restart history, as `docker start` does.
    Start,
    /// Stop, then start.
    Restart,
    /// Replace the container if the spec changed; leave it alone (and any
    /// pending restart pending) if not.
    Update(Box<UnitSpec>),
    /// Stop, remove the container, and end the unit.
    Remove,
}

impl From<UnitCommand> for Command {
    fn from(command: UnitCommand) -> Command {
        match command {
            UnitCommand::Stop => Command::Stop,
            UnitCommand::Start => Command::Start,
            UnitCommand::Restart => Command::Restart,
            UnitCommand::Update(spec) => Command::Update(spec),
            UnitCommand::Remove => Command::Remove,
        }
    }
}

fn answered(
    answer: tokio::sync::oneshot::Receiver<Result<(), UnitError>>,
    name: String,
) -> ResponseFuture<Result<(), UnitError>> {
    Box::pin(async move { answer.await.unwrap_or(Err(UnitError::Gone(name))) })
}

impl Handler<UnitCommand> for Unit {
    type Result = ResponseFuture<Result<(), UnitError>>;

    fn handle(&mut self, command: UnitCommand, ctx: &mut Context<Self>) -> Self::Result {
        let name = self.name().to_string();
        answered(self.command(command.into(), ctx), name)
    }
}

/// Stops the unit because its supervisor shuts down: recorded as its own
/// phase, so that the next supervisor starts it again (a stop by hand stays).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), UnitError>")]
pub struct StopForShutdown;

impl Handler<StopForShutdown> for Unit {
    type Result = ResponseFuture<Result<(), UnitError>>;

    fn handle(&mut self, _: StopForShutdown, ctx: &mut Context<Self>) -> Self::Result {
        let name = self.name().to_string();
        answered(self.command(Command::Shutdown, ctx), name)
    }
}

/// What the registry tells a unit about its dependencies.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum DependencySignal {
    /// Whether their conditions hold now.
    Readiness(Readiness),
    /// A dependency declared with `restart = true` restarted.
    Restarted(String),
}

impl Handler<DependencySignal> for Unit {
    type Result = ();

    fn handle(&mut self, signal: DependencySignal, ctx: &mut Context<Self>) {
        let input = match signal {
            DependencySignal::Readiness(readiness) => Input::Dependencies(readiness),
            DependencySignal::Restarted(name) => Input::DependencyRestarted(name),
        };
        self.input(input, ctx);
    }
}
