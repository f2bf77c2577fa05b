//! The engine sequences a unit performs (create with pull, start, stop,
//! remove), as plain async functions over the gateway. The unit actor runs
//! one at a time and applies the result to its state.

use actix::Addr;

use crate::engine::EngineError;
use crate::engine::mapping::create_body;
use crate::gateway::{
    CreateContainer, CreateOutcome, Gateway, PullImage, RemoveContainer, StartContainer,
    StopContainer,
};
use crate::labels::CarriedState;
use crate::spec::UnitSpec;

use super::state::{UnitError, UnitState};

/// What a unit needs to talk to the engine about its container.
#[derive(Clone)]
pub(crate) struct Flows {
    pub(crate) gateway: Addr<Gateway>,
    pub(crate) namespace: String,
    pub(crate) container_name: String,
}

async fn ask<M>(gateway: &Addr<Gateway>, message: M, unit: &str) -> Result<M::Result, UnitError>
where
    M: actix::Message + Send + 'static,
    M::Result: Send,
    Gateway: actix::Handler<M>,
{
    gateway
        .send(message)
        .await
        .map_err(|_| UnitError::Gone(unit.to_string()))
}

impl Flows {
    /// Creates the unit's container, pulling the image once if it is
    /// missing. `report` is told of the pulling and creating states.
    pub(crate) async fn create(
        &self,
        spec: &UnitSpec,
        hash: &str,
        carried: &CarriedState,
        report: impl Fn(UnitState),
    ) -> Result<String, UnitError> {
        report(UnitState::Creating);
        let mut pulled = false;
        let mut replaced_stale = false;
        loop {
            let body = create_body(&self.namespace, spec, hash, carried);
            let created = ask(
                &self.gateway,
                CreateContainer {
                    name: self.container_name.clone(),
                    body,
                    namespace: self.namespace.clone(),
                    spec_hash: hash.to_string(),
                },
                &spec.name,
            )
            .await?;
            match created {
                Ok(CreateOutcome::Created(id) | CreateOutcome::Adopted(id)) => return Ok(id),
                Ok(CreateOutcome::Foreign(_)) => {
                    return Err(UnitError::NameTaken(self.container_name.clone()));
                }
                Ok(CreateOutcome::Stale(id)) if !replaced_stale => {
                    // An older container of this unit that was not cleaned up.
                    replaced_stale = true;
                    self.remove(&id, &spec.name).await?;
                }
                Err(EngineError::ImageNotFound(_)) if !pulled => {
                    pulled = true;
                    report(UnitState::Pulling);
                    ask(
                        &self.gateway,
                        PullImage {
                            image: spec.image.clone(),
                        },
                        &spec.name,
                    )
                    .await??;
                    report(UnitState::Creating);
                }
                Ok(CreateOutcome::Stale(id)) => {
                    return Err(UnitError::Engine(EngineError::Conflict(format!(
                        "container {id} keeps taking the name {}",
                        self.container_name
                    ))));
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Starts the container.
    pub(crate) async fn start(&self, id: &str, unit: &str) -> Result<(), UnitError> {
        Ok(ask(&self.gateway, StartContainer { id: id.to_string() }, unit).await??)
    }

    /// Stops the container with the unit's grace period (its stop signal was
    /// set at create); the engine kills it after the grace period.
    pub(crate) async fn stop(&self, id: &str, spec: &UnitSpec) -> Result<(), UnitError> {
        let stop = StopContainer {
            id: id.to_string(),
            grace: spec.stop_timeout,
        };
        Ok(ask(&self.gateway, stop, &spec.name).await??)
    }

    /// Removes the container (a missing one counts as removed).
    pub(crate) async fn remove(&self, id: &str, unit: &str) -> Result<(), UnitError> {
        let remove = RemoveContainer {
            id: id.to_string(),
            force: true,
        };
        Ok(ask(&self.gateway, remove, unit).await??)
    }
}
