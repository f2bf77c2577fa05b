//! The engine calls a unit's machine asks for ([`Work`]), each one message
//! to the gateway whose answer comes back as the machine's next input.

use actix::Addr;

use super::machine::{Done, Input, StoppedBy, Work};
use super::state::UnitError;
use crate::engine::EngineResult;
use crate::engine::mapping::create_body;
use crate::engine::mapping::project::further_networks;
use crate::gateway::{
    CreateContainer, Gateway, ProbeEngine, PullImage, RemoveContainer, StartContainer,
    StopContainer,
};
use crate::spec::UnitSpec;

/// What a unit needs to talk to the engine about its container.
#[derive(Clone)]
pub(crate) struct Flows {
    pub(crate) gateway: Addr<Gateway>,
    pub(crate) namespace: String,
    pub(crate) container_name: String,
}

/// Sends one engine call to the gateway; a gateway gone and the engine's
/// own error come back as one [`UnitError`].
async fn ask<M, T>(gateway: &Addr<Gateway>, message: M) -> Result<T, UnitError>
where
    M: actix::Message<Result = EngineResult<T>> + Send + 'static,
    T: Send + 'static,
    Gateway: actix::Handler<M>,
{
    match gateway.send(message).await {
        Ok(answer) => Ok(answer?),
        Err(_) => Err(UnitError::GatewayGone),
    }
}

impl Flows {
    /// Carries out one engine call for `spec` (whose hash is `hash`) and
    /// returns its result as the machine's next input.
    pub(crate) async fn run(&self, work: Work, spec: UnitSpec, hash: String) -> Input {
        let gateway = &self.gateway;
        match work {
            Work::Create(carried) => {
                let create = CreateContainer {
                    name: self.container_name.clone(),
                    body: create_body(&self.namespace, &spec, &hash, &carried),
                    namespace: self.namespace.clone(),
                    spec_hash: hash,
                    further_networks: further_networks(&spec),
                };
                Input::Done(Done::Created(ask(gateway, create).await))
            }
            Work::Pull => {
                let pull = PullImage { image: spec.image };
                Input::Done(Done::Pulled(ask(gateway, pull).await))
            }
            Work::Start(id) => {
                Input::Done(Done::Started(ask(gateway, StartContainer { id }).await))
            }
            Work::Stop(id) => {
                // The stop signal was set at create; the engine kills after the grace period.
                let stop = StopContainer {
                    id,
                    grace: spec.stop_timeout,
                };
                Input::Done(Done::Stopped(ask(gateway, stop).await))
            }
            Work::Remove(id) => {
                let remove = RemoveContainer { id, force: true };
                Input::Done(Done::Removed(ask(gateway, remove).await))
            }
            Work::Probe => match ask(gateway, ProbeEngine).await {
                // Refused, mute or gone: the engine is going down, and it made the stop.
                Err(UnitError::GatewayGone) => Input::StoppedBy(StoppedBy::Engine),
                Err(error) if error.is_engine_unavailable() => Input::StoppedBy(StoppedBy::Engine),
                Ok(()) | Err(_) => Input::StoppedBy(StoppedBy::User),
            },
        }
    }
}
