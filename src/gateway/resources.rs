//! The gateway's messages about networks and named volumes: make sure a
//! declared one exists (creating it, adopting ours, refusing someone
//! else's), and remove those a namespace created.

use std::sync::Arc;

use actix::prelude::*;
use thiserror::Error;

use super::Gateway;
use crate::engine::mapping::project::{network_body, volume_body};
use crate::engine::{EngineError, Operation, ResourceInfo, ResourceKind};
use crate::labels;
use crate::spec::project::{NetworkSpec, Owner, Resources, VolumeSpec, owner};

/// A network or volume a namespace declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// A network.
    Network(NetworkSpec),
    /// A named volume.
    Volume(VolumeSpec),
}

impl Declared {
    /// Which kind it is.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Declared::Network(_) => ResourceKind::Network,
            Declared::Volume(_) => ResourceKind::Volume,
        }
    }

    /// Its engine name.
    pub fn name(&self) -> &str {
        match self {
            Declared::Network(spec) => &spec.name,
            Declared::Volume(spec) => &spec.name,
        }
    }

    fn external(&self) -> bool {
        match self {
            Declared::Network(spec) => spec.external,
            Declared::Volume(spec) => spec.external,
        }
    }
}

/// What making sure of a declared network or volume found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// It was created now, with the namespace's label.
    Created,
    /// It existed already with the namespace's label (an earlier `up`).
    Adopted,
    /// Declared external, and the engine has it.
    External,
}

/// Why a declared network or volume cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResourceError {
    /// Declared `external`, but the engine has none of that name.
    #[error("external {} {name:?} does not exist on the engine (create it, or drop `external`)", kind.as_str())]
    ExternalMissing {
        /// Network or volume.
        kind: ResourceKind,
        /// Its engine name.
        name: String,
    },
    /// The name is taken by one this namespace did not create; it is never
    /// touched (declare it `external` to use it).
    #[error("{} {name:?} exists and is not this namespace's (declare it external to use it)", kind.as_str())]
    Foreign {
        /// Network or volume.
        kind: ResourceKind,
        /// Its engine name.
        name: String,
    },
    /// The engine failed the call.
    #[error("{} {name:?}: {error}", kind.as_str())]
    Engine {
        /// Network or volume.
        kind: ResourceKind,
        /// Its engine name.
        name: String,
        /// What the engine said.
        error: EngineError,
    },
    /// The gateway has stopped.
    #[error("the engine gateway has stopped")]
    GatewayGone,
}

/// Makes sure one declared network or volume exists and may be used.
#[derive(Debug, Message)]
#[rtype(result = "Result<Ensured, ResourceError>")]
pub struct EnsureResource {
    /// The namespace that declares it.
    pub namespace: String,
    /// What it declares.
    pub declared: Declared,
}

impl Handler<EnsureResource> for Gateway {
    type Result = ResponseFuture<Result<Ensured, ResourceError>>;
    fn handle(&mut self, msg: EnsureResource, _: &mut Context<Self>) -> Self::Result {
        let layers = Arc::clone(&self.layers);
        let deadline = self.config.call_deadline;
        Box::pin(async move {
            let EnsureResource {
                namespace,
                declared,
            } = msg;
            let kind = declared.kind();
            let name = declared.name().to_string();
            let engine_error = |error| ResourceError::Engine {
                kind,
                name: name.clone(),
                error,
            };
            let inspect = || {
                layers.run(kind.inspect_operation(), deadline, |e| {
                    e.inspect_resource(kind, name.clone())
                })
            };
            let judge = |found: ResourceInfo, created: bool| match owner(
                &found.labels,
                &namespace,
                declared.external(),
            ) {
                Owner::External => Ok(Ensured::External),
                Owner::Ours if created => Ok(Ensured::Created),
                Owner::Ours => Ok(Ensured::Adopted),
                Owner::Foreign => Err(ResourceError::Foreign {
                    kind,
                    name: name.clone(),
                }),
            };
            match inspect().await {
                Ok(found) => return judge(found, false),
                Err(EngineError::ResourceNotFound(_)) if declared.external() => {
                    return Err(ResourceError::ExternalMissing { kind, name });
                }
                Err(EngineError::ResourceNotFound(_)) => {}
                Err(error) => return Err(engine_error(error)),
            }
            let created = match &declared {
                Declared::Network(spec) => {
                    let body = network_body(&namespace, spec);
                    layers
                        .run(Operation::CreateNetwork, deadline, |e| {
                            e.create_network(body.clone())
                        })
                        .await
                }
                Declared::Volume(spec) => {
                    let body = volume_body(&namespace, spec);
                    layers
                        .run(Operation::CreateVolume, deadline, |e| {
                            e.create_volume(body.clone())
                        })
                        .await
                }
            };
            match created {
                // Another create (an earlier attempt whose answer was lost,
                // or someone else) got there first: whose is it?
                Ok(()) | Err(EngineError::Conflict(_)) => {
                    let found = inspect().await.map_err(engine_error)?;
                    judge(found, created.is_ok())
                }
                Err(error) => Err(engine_error(error)),
            }
        })
    }
}

/// What [`RemoveResources`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// The names removed (or found gone already).
    pub removed: Vec<String>,
    /// Those the engine would not remove (in use by a container not of the
    /// namespace, say), with why.
    pub kept: Vec<(String, EngineError)>,
}

/// Removes every network or volume of a kind that carries the namespace's
/// label (those it created). One the engine will not remove is kept and
/// reported; the others are removed all the same.
#[derive(Debug, Message)]
#[rtype(result = "Result<Removed, ResourceError>")]
pub struct RemoveResources {
    /// The namespace.
    pub namespace: String,
    /// Networks or volumes.
    pub kind: ResourceKind,
}

impl Handler<RemoveResources> for Gateway {
    type Result = ResponseFuture<Result<Removed, ResourceError>>;
    fn handle(&mut self, msg: RemoveResources, _: &mut Context<Self>) -> Self::Result {
        let layers = Arc::clone(&self.layers);
        let deadline = self.config.call_deadline;
        Box::pin(async move {
            let RemoveResources { namespace, kind } = msg;
            let filter = labels::namespace_filter(&namespace);
            let listed = layers
                .run(kind.list_operation(), deadline, |e| {
                    e.list_resources(kind, filter.clone())
                })
                .await
                .map_err(|error| ResourceError::Engine {
                    kind,
                    name: String::new(),
                    error,
                })?;
            let mut done = Removed::default();
            for found in listed {
                // The engine's filter is a prefix-free label match; checked
                // again so that nothing unlabelled is ever removed.
                if !labels::belongs_to(&found.labels, &namespace) {
                    continue;
                }
                let name = found.name;
                match layers
                    .run(kind.remove_operation(), deadline, |e| {
                        e.remove_resource(kind, name.clone())
                    })
                    .await
                {
                    Ok(()) | Err(EngineError::ResourceNotFound(_)) => done.removed.push(name),
                    Err(error) => done.kept.push((name, error)),
                }
            }
            Ok(done)
        })
    }
}

/// Makes sure of every network, then every volume, `resources` declares,
/// in order; stops at the first that cannot be used.
pub async fn ensure_resources(
    gateway: &Addr<Gateway>,
    namespace: &str,
    resources: &Resources,
) -> Result<Vec<(Declared, Ensured)>, ResourceError> {
    let declared = resources
        .networks
        .iter()
        .cloned()
        .map(Declared::Network)
        .chain(resources.volumes.iter().cloned().map(Declared::Volume));
    let mut done = Vec::new();
    for declared in declared {
        let ensured = gateway
            .send(EnsureResource {
                namespace: namespace.to_string(),
                declared: declared.clone(),
            })
            .await
            .map_err(|_| ResourceError::GatewayGone)??;
        done.push((declared, ensured));
    }
    Ok(done)
}
