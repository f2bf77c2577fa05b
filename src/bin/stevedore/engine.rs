//! Connecting to the engine the way the docker CLI does, for every command.

use std::sync::Arc;

use actix::Addr;
use stevedore::engine::{ContainerSnapshot, DockerEngine, Engine};
use stevedore::gateway::{AwaitEvents, Gateway, GatewayConfig, ListContainers};

use crate::Failure;

/// Connects (`-H`, then `DOCKER_HOST`, then the local socket), checks the
/// engine answers, and starts a gateway over it.
pub async fn gateway(host: Option<&str>) -> Result<Addr<Gateway>, Failure> {
    let engine = match host {
        Some(host) => DockerEngine::connect_host(host).await,
        None => DockerEngine::connect().await,
    }
    .map_err(|e| Failure::runtime(format!("cannot reach the Docker engine: {e}")))?;
    engine
        .ping()
        .await
        .map_err(|e| Failure::runtime(format!("cannot reach the Docker engine: {e}")))?;
    let gateway = Gateway::start_with(Arc::new(engine), GatewayConfig::default());
    gateway.send(AwaitEvents).await.map_err(Failure::runtime)?;
    Ok(gateway)
}

/// Every container of the namespace (one list call).
pub async fn containers(
    gateway: &Addr<Gateway>,
    namespace: &str,
) -> Result<Vec<ContainerSnapshot>, Failure> {
    gateway
        .send(ListContainers {
            namespace: namespace.to_string(),
        })
        .await
        .map_err(Failure::runtime)?
        .map_err(|e| Failure::runtime(format!("cannot list containers: {e}")))
}
