//! What a namespace records on the engine itself, beside its units: a lease
//! (who supervises it) and the last phase of each unit. Both live in
//! never-started containers made from an empty image, so they need no
//! registry, survive the supervisor, and are shared by every host that
//! talks to the engine.

mod lease;
mod phases;
mod tar;

use std::collections::HashMap;

use actix::Addr;

pub use self::lease::{Holder, Lease, LeaseError, Verdict, format_utc, judge};
pub use self::phases::{FinishRecording, PhaseRecord, PhaseRecorder, read_phases, write_phases};
use crate::engine::{EngineError, EngineResult};
use crate::gateway::{CreateContainer, CreateOutcome, Gateway, ImportImage, InspectImage};

/// The image record containers are made from: an empty root filesystem.
pub const RECORD_IMAGE: &str = "stevedore-record:1";
/// Label on record containers naming their namespace. Record containers do
/// not carry the namespace label, so adoption and `list` never see them.
pub const RECORD_LABEL: &str = "io.stevedore.record";

/// The lease container's name. Unit containers are `<ns>--<unit>` and a
/// unit name cannot start with `-`, so `<ns>---…` never collides with one.
pub fn lease_container(namespace: &str) -> String {
    format!("{namespace}---lease")
}

/// The phase record container's name.
pub fn state_container(namespace: &str) -> String {
    format!("{namespace}---state")
}

pub(crate) fn gone(_: actix::MailboxError) -> EngineError {
    EngineError::Other("the gateway is not running".into())
}

/// Makes sure the record image exists (importing an empty tarball).
pub(crate) async fn ensure_record_image(gateway: &Addr<Gateway>) -> EngineResult<()> {
    let image = RECORD_IMAGE.to_string();
    match gateway
        .send(InspectImage {
            image: image.clone(),
        })
        .await
        .map_err(gone)?
    {
        Ok(_) => Ok(()),
        Err(EngineError::ImageNotFound(_)) => {
            let tar = vec![0u8; 1024];
            gateway
                .send(ImportImage { name: image, tar })
                .await
                .map_err(gone)?
        }
        Err(error) => Err(error),
    }
}

/// Creates a never-started record container `name` with `labels`.
pub(crate) async fn create_record(
    gateway: &Addr<Gateway>,
    name: &str,
    labels: HashMap<String, String>,
) -> EngineResult<CreateOutcome> {
    ensure_record_image(gateway).await?;
    let body = bollard::models::ContainerCreateBody {
        image: Some(RECORD_IMAGE.into()),
        cmd: Some(vec!["/record".into()]),
        labels: Some(labels),
        network_disabled: Some(true),
        ..Default::default()
    };
    gateway
        .send(CreateContainer {
            name: name.to_string(),
            body,
            // No namespace matches "", so a taken name always reads as Foreign.
            namespace: String::new(),
            spec_hash: String::new(),
            further_networks: Vec::new(),
        })
        .await
        .map_err(gone)?
}
