//! Networks and named volumes on the engine: what the [`Engine`](super::Engine)
//! calls about them take and answer, and their bollard implementation.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{
    EndpointSettings, NetworkConnectRequest, NetworkCreateRequest, VolumeCreateRequest,
};
use bollard::query_parameters::{ListNetworksOptions, ListVolumesOptions, RemoveVolumeOptions};

use super::{EngineResult, Operation};

/// Networks or named volumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// A network.
    Network,
    /// A named volume.
    Volume,
}

impl ResourceKind {
    /// The word people use (`network`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Network => "network",
            ResourceKind::Volume => "volume",
        }
    }

    fn operations(self) -> ResourceOperations {
        match self {
            ResourceKind::Network => ResourceOperations {
                inspect: Operation::InspectNetwork,
                remove: Operation::RemoveNetwork,
                list: Operation::ListNetworks,
            },
            ResourceKind::Volume => ResourceOperations {
                inspect: Operation::InspectVolume,
                remove: Operation::RemoveVolume,
                list: Operation::ListVolumes,
            },
        }
    }

    /// The call that inspects one.
    pub fn inspect_operation(self) -> Operation {
        self.operations().inspect
    }

    /// The call that removes one.
    pub fn remove_operation(self) -> Operation {
        self.operations().remove
    }

    /// The call that lists them.
    pub fn list_operation(self) -> Operation {
        self.operations().list
    }
}

struct ResourceOperations {
    inspect: Operation,
    remove: Operation,
    list: Operation,
}

/// A network or volume as the engine has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// Its name.
    pub name: String,
    /// Its labels.
    pub labels: HashMap<String, String>,
}

/// The bollard calls behind the [`Engine`](super::Engine) methods.
pub(super) mod docker {
    use super::*;
    use crate::engine::docker::{failure, label_filters};

    pub async fn inspect(
        docker: Docker,
        kind: ResourceKind,
        name: String,
    ) -> EngineResult<ResourceInfo> {
        let fail = |e| failure(kind.inspect_operation(), &name, e);
        match kind {
            ResourceKind::Network => {
                let found = docker.inspect_network(&name, None).await.map_err(fail)?;
                Ok(ResourceInfo {
                    name: found.name.unwrap_or_else(|| name.clone()),
                    labels: found.labels.unwrap_or_default(),
                })
            }
            ResourceKind::Volume => {
                let found = docker.inspect_volume(&name).await.map_err(fail)?;
                Ok(ResourceInfo {
                    name: found.name,
                    labels: found.labels,
                })
            }
        }
    }

    pub async fn list(
        docker: Docker,
        kind: ResourceKind,
        label_filter: String,
    ) -> EngineResult<Vec<ResourceInfo>> {
        let fail = |e| failure(kind.list_operation(), "", e);
        let filters = Some(label_filters(label_filter));
        match kind {
            ResourceKind::Network => {
                let found = docker
                    .list_networks(Some(ListNetworksOptions { filters }))
                    .await
                    .map_err(fail)?;
                Ok(found
                    .into_iter()
                    .map(|n| ResourceInfo {
                        name: n.name.unwrap_or_default(),
                        labels: n.labels.unwrap_or_default(),
                    })
                    .collect())
            }
            ResourceKind::Volume => {
                let found = docker
                    .list_volumes(Some(ListVolumesOptions { filters }))
                    .await
                    .map_err(fail)?;
                Ok(found
                    .volumes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| ResourceInfo {
                        name: v.name,
                        labels: v.labels,
                    })
                    .collect())
            }
        }
    }

    pub async fn remove(docker: Docker, kind: ResourceKind, name: String) -> EngineResult<()> {
        let fail = |e| failure(kind.remove_operation(), &name, e);
        match kind {
            ResourceKind::Network => docker.remove_network(&name).await.map_err(fail),
            ResourceKind::Volume => docker
                .remove_volume(&name, None::<RemoveVolumeOptions>)
                .await
                .map_err(fail),
        }
    }

    pub async fn create_network(docker: Docker, body: NetworkCreateRequest) -> EngineResult<()> {
        let name = body.name.clone();
        docker
            .create_network(body)
            .await
            .map(drop)
            .map_err(|e| failure(Operation::CreateNetwork, &name, e))
    }

    pub async fn create_volume(docker: Docker, body: VolumeCreateRequest) -> EngineResult<()> {
        let name = body.name.clone().unwrap_or_default();
        docker
            .create_volume(body)
            .await
            .map(drop)
            .map_err(|e| failure(Operation::CreateVolume, &name, e))
    }

    pub async fn connect(
        docker: Docker,
        network: String,
        container: String,
        endpoint: EndpointSettings,
    ) -> EngineResult<()> {
        let request = NetworkConnectRequest {
            container,
            endpoint_config: Some(endpoint),
        };
        docker
            .connect_network(&network, request)
            .await
            .map_err(|e| failure(Operation::ConnectNetwork, &network, e))
    }
}
