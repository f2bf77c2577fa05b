//! `list`: every unit of the namespace with its container as the engine has
//! it — one list call, then one inspect per container and per image.

use std::collections::HashMap;

use actix::prelude::*;
use futures::future::join_all;

use super::Registry;
use crate::engine::EngineError;
use bollard::models::ImageInspect;

use crate::engine::mapping::{ContainerDetails, container_details};
use crate::gateway::{Gateway, InspectContainer, InspectImage, ListContainers};
use crate::labels;
use crate::unit::{GetSnapshot, UnitError, UnitSnapshot, UnitStatus};

/// Lists every unit, sorted by name, dead ones included. Containers that
/// vanish mid-list read as no container; a deleted image is tolerated.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<UnitStatus>, UnitError>")]
pub struct ListUnits;

impl Handler<ListUnits> for Registry {
    type Result = ResponseFuture<Result<Vec<UnitStatus>, UnitError>>;

    fn handle(&mut self, _: ListUnits, _: &mut Context<Self>) -> Self::Result {
        let gateway = self.gateway.clone();
        let namespace = self.namespace.clone();
        let units: Vec<_> = self.units.values().cloned().collect();
        let gone = |_| UnitError::GatewayGone;
        Box::pin(async move {
            let listed = gateway
                .send(ListContainers {
                    namespace: namespace.clone(),
                })
                .await
                .map_err(gone)??;
            let snapshots = join_all(units.iter().map(|unit| unit.send(GetSnapshot))).await;
            let mut image_configs = ImageCache::new();
            let mut statuses = Vec::new();
            for snapshot in snapshots.into_iter().flatten() {
                let container_name = labels::container_name(&namespace, &snapshot.spec.name);
                let listed_id = listed
                    .iter()
                    .find(|c| c.name == container_name)
                    .map(|c| c.id.clone());
                let details = match listed_id {
                    None => None,
                    Some(id) => describe_container(&gateway, id, &mut image_configs).await?,
                };
                statuses.push(UnitStatus {
                    name: snapshot.spec.name.clone(),
                    container_name,
                    state: snapshot.state,
                    reason: snapshot.reason,
                    restart_count: snapshot.restart_count,
                    last_exit_code: details
                        .as_ref()
                        .and_then(|d| d.exit_code)
                        .or(snapshot.last_exit_code),
                    health: snapshot.health,
                    spec: snapshot.spec,
                    container: details,
                });
            }
            statuses.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(statuses)
        })
    }
}

/// One unit as it knows itself, without asking the engine; `None` when the
/// namespace has no unit of that name (or it is going away).
#[derive(Debug, Message)]
#[rtype(result = "Option<UnitSnapshot>")]
pub struct SnapshotUnit(pub String);

impl Handler<SnapshotUnit> for Registry {
    type Result = ResponseFuture<Option<UnitSnapshot>>;

    fn handle(&mut self, SnapshotUnit(name): SnapshotUnit, _: &mut Context<Self>) -> Self::Result {
        let unit = self.units.get(&name).cloned();
        Box::pin(async move { unit?.send(GetSnapshot).await.ok() })
    }
}

/// Image configs already read during one listing, by image id (`None`: the
/// image is gone).
pub type ImageCache = HashMap<String, Option<ImageInspect>>;

/// A container's details as the engine has them (one inspect, plus one per
/// image not in `images`); `None` when the container vanished meanwhile.
pub async fn describe_container(
    gateway: &Addr<Gateway>,
    id: String,
    images: &mut ImageCache,
) -> Result<Option<ContainerDetails>, UnitError> {
    let gone = |_| UnitError::GatewayGone;
    let inspect = match gateway.send(InspectContainer { id }).await.map_err(gone)? {
        Ok(inspect) => inspect,
        Err(EngineError::ContainerNotFound(_)) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let image_id = inspect.image.clone().unwrap_or_default();
    if !images.contains_key(&image_id) {
        let image = gateway
            .send(InspectImage {
                image: image_id.clone(),
            })
            .await
            .map_err(gone)?;
        images.insert(image_id.clone(), image.ok());
    }
    Ok(Some(container_details(
        &inspect,
        images[&image_id].as_ref(),
    )))
}
