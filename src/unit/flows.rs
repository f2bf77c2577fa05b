//! The engine calls a unit's machine asks for ([`Work`]), each one message
//! to the gateway whose answer comes back as the machine's next input.

use actix::Addr;

use super::machine::{Done, Input, StoppedBy, Work};
use super::state::UnitError;
use crate::engine::mapping::create_body;
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

async fn ask<M>(gateway: &Addr<Gateway>, message: M) -> Result<M::Result, UnitError>
where
    M: actix::Message + Send + 'static,
    M::Result: Send,
    Gateway: actix::Handler<M>,
{
    gateway
        .send(message)
        .await
        .map_err(|_| UnitError::GatewayGone)
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
                };
                let created = ask(gateway, create).await.and_then(|r| Ok(r?));
                Input::Done(Done::Created(created))
            }
            Work::Pull => {
                let pull = PullImage { image: spec.image };
                Input::Done(Done::Pulled(ask(gateway, pull).await.and_then(|r| Ok(r?))))
            }
            Work::Start(id) => {
                let started = ask(gateway, StartContainer { id }).await;
                Input::Done(Done::Started(started.and_then(|r| Ok(r?))))
            }
            Work::Stop(id) => {
                // The stop signal was set at create; the engine kills after the grace period.
                let stop = StopContainer {
                    id,
                    grace: spec.stop_timeout,
                };
                Input::Done(Done::Stopped(ask(gateway, stop).await.and_then(|r| Ok(r?))))
            }
            Work::Remove(id) => {
                let remove = RemoveContainer { id, force: true };
                Input::Done(Done::Removed(
                    ask(gateway, remove).await.and_then(|r| Ok(r?)),
                ))
            }
            Work::Probe => match ask(gateway, ProbeEngine).await {
                Ok(Ok(())) => Input::StoppedBy(StoppedBy::User),
                // Refused, gone or mute: the engine is going down, and it made the stop.
                Ok(Err(error)) if error.is_retryable() => Input::StoppedBy(StoppedBy::Engine),
                Ok(Err(_)) => Input::StoppedBy(StoppedBy::User),
                Err(_) => Input::StoppedBy(StoppedBy::Engine),
            },
        }
    }
}
