//! Commands to a unit (stop, start, restart, update, remove): each runs
//! atomically, after the engine work of the message before it.

use std::future::Future;

use actix::prelude::*;

use super::actor::{Launch, Unit};
use super::state::{UnitError, UnitState};
use crate::spec::{UnitSpec, spec_hash};

/// A command to one unit. Commands are atomic: the next message waits until
/// the engine work of this one is done.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), UnitError>")]
pub enum UnitCommand {
    /// Stop by hand (grace period, then kill); no policy undoes it.
    Stop,
    /// Start by hand; resets the restart history, as `docker start` does.
    Start,
    /// Stop, then start.
    Restart,
    /// Replace the container if the spec changed; leave it alone if not.
    Update(Box<UnitSpec>),
    /// Stop, remove the container, and end the unit.
    Remove,
}

impl Handler<UnitCommand> for Unit {
    type Result = AtomicResponse<Self, Result<(), UnitError>>;

    fn handle(&mut self, command: UnitCommand, ctx: &mut Context<Self>) -> Self::Result {
        self.cancel_timer(ctx);
        let stop = self.stop_future(&command);
        let work = match command {
            UnitCommand::Stop => stop
                .map(|stopped, act, _| {
                    stopped?;
                    act.set_state(UnitState::Stopped, Some("stopped by request".into()));
                    Ok(())
                })
                .boxed_local(),
            UnitCommand::Start | UnitCommand::Restart => stop
                .then(|stopped, act, _| {
                    act.manual_stop = false;
                    act.history.reset();
                    let existing = act.container.clone();
                    let launch = act.launch(act.carried(None), existing, true);
                    async move { stopped.map(|()| launch) }
                        .into_actor(act)
                        .then(|launch, act, _| launch_or_fail(launch, act, true))
                })
                .boxed_local(),
            UnitCommand::Update(spec) => self.update_future(*spec, stop),
            UnitCommand::Remove => stop
                .then(|stopped, act, _| {
                    let (flows, container, name) = (
                        act.flows.clone(),
                        act.container.take(),
                        act.spec.name.clone(),
                    );
                    async move {
                        stopped?;
                        match container {
                            Some(id) => flows.remove(&id, &name).await,
                            None => Ok(()),
                        }
                    }
                    .into_actor(act)
                })
                .map(|removed, act, ctx| {
                    removed?;
                    act.set_state(UnitState::Removed, None);
                    ctx.stop();
                    Ok(())
                })
                .boxed_local(),
        };
        AtomicResponse::new(work)
    }
}

/// Applies a launch that may not have been attempted because of an earlier error.
fn launch_or_fail(
    launch: Result<impl Future<Output = Launch> + 'static, UnitError>,
    act: &mut Unit,
    start: bool,
) -> ResponseActFuture<Unit, Result<(), UnitError>> {
    match launch {
        Ok(launch) => Box::pin(
            launch
                .into_actor(act)
                .map(move |launch, act, _| act.after_launch(launch, start)),
        ),
        Err(error) => Box::pin(actix::fut::ready(Err(error))),
    }
}

impl Unit {
    /// Stops the container when the command needs it stopped first; an
    /// unchanged update needs nothing.
    fn stop_future(
        &mut self,
        command: &UnitCommand,
    ) -> ResponseActFuture<Self, Result<(), UnitError>> {
        let needs_stop = match command {
            UnitCommand::Update(spec) => spec_hash(spec) != self.hash,
            UnitCommand::Start => false,
            _ => true,
        };
        let running = self.container.is_some()
            && !matches!(
                self.state,
                UnitState::Exited | UnitState::Stopped | UnitState::Failed
            );
        if !needs_stop || !running {
            if needs_stop && matches!(command, UnitCommand::Stop) {
                self.manual_stop = true;
            }
            return Box::pin(actix::fut::ready(Ok(())));
        }
        self.manual_stop = true;
        self.set_state(UnitState::Stopping, None);
        let (flows, spec) = (self.flows.clone(), self.spec.clone());
        let id = self.container.clone().expect("checked above");
        Box::pin(async move { flows.stop(&id, &spec).await }.into_actor(self))
    }

    fn update_future(
        &mut self,
        spec: UnitSpec,
        stop: ResponseActFuture<Self, Result<(), UnitError>>,
    ) -> ResponseActFuture<Self, Result<(), UnitError>> {
        let hash = spec_hash(&spec);
        if hash == self.hash {
            return stop;
        }
        let was_stopped_by_hand = self.manual_stop && self.state == UnitState::Stopped;
        Box::pin(stop.then(move |stopped, act, _| {
            let (flows, old, name) = (
                act.flows.clone(),
                act.container.take(),
                act.spec.name.clone(),
            );
            act.spec = spec;
            act.hash = hash;
            act.manual_stop = was_stopped_by_hand;
            let start = !was_stopped_by_hand;
            let launch = act.launch(act.carried(Some("spec changed".into())), None, start);
            async move {
                stopped?;
                if let Some(old) = old {
                    flows.remove(&old, &name).await?;
                }
                Ok(launch)
            }
            .into_actor(act)
            .then(move |launch, act, _| launch_or_fail(launch, act, start))
        }))
    }
}
