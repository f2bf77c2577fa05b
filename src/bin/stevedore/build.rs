//! `up`'s images from compose `build:` keys: each built when the engine
//! lacks it or `--build` asks, before any unit is declared; then every unit
//! running it is labelled with the image's id, so that a rebuilt image
//! changes the unit's spec and replaces its container (as compose does).

use std::collections::BTreeSet;

use actix::Addr;
use stevedore::UnitSpec;
use stevedore::compose::BuildSpec;
use stevedore::compose::context::context_tar;
use stevedore::engine::EngineError;
use stevedore::gateway::{BuildImage, Gateway, InspectImage};

use crate::Failure;
use crate::output::Line;

/// The label compose puts on a container: the id of the image it runs.
pub const IMAGE_ID: &str = "com.docker.compose.image";

/// Makes sure each build's image is on the engine (building it when
/// missing, or always with `rebuild`), then labels the units that run it
/// with its id. The first failure ends it: nothing is declared after it.
pub async fn ensure(
    gateway: &Addr<Gateway>,
    builds: &[BuildSpec],
    units: &mut [UnitSpec],
    rebuild: bool,
) -> Result<(), Failure> {
    let mut done = BTreeSet::new();
    for build in builds {
        // Services that share an image build it once.
        if !done.insert(build.tag.clone()) {
            continue;
        }
        let present = match inspect(gateway, &build.tag).await? {
            Some(id) if !rebuild => Some(id),
            _ => None,
        };
        let id = match present {
            Some(id) => {
                Line::info(format!(
                    "image {} of {} is present (up --build builds it again)",
                    build.tag, build.unit
                ))
                .with("unit", build.unit.clone())
                .with("image", build.tag.clone())
                .emit();
                id
            }
            None => {
                run(gateway, build).await?;
                inspect(gateway, &build.tag).await?.ok_or_else(|| {
                    Failure::runtime(format!(
                        "unit {}: the image {} is not on the engine after its build",
                        build.unit, build.tag
                    ))
                })?
            }
        };
        for spec in units.iter_mut().filter(|spec| spec.image == build.tag) {
            spec.labels.insert(IMAGE_ID.to_string(), id.clone());
        }
    }
    Ok(())
}

/// The image's id, or `None` when the engine does not have it.
async fn inspect(gateway: &Addr<Gateway>, tag: &str) -> Result<Option<String>, Failure> {
    let found = gateway
        .send(InspectImage {
            image: tag.to_string(),
        })
        .await
        .map_err(Failure::runtime)?;
    match found {
        Ok(image) => Ok(Some(image.id.unwrap_or_default())),
        Err(EngineError::ImageNotFound(_)) => Ok(None),
        Err(error) => Err(Failure::runtime(format!("cannot inspect {tag}: {error}"))),
    }
}

/// Builds one image, each line of the builder's output a line of `up`'s.
async fn run(gateway: &Addr<Gateway>, build: &BuildSpec) -> Result<(), Failure> {
    let unit = build.unit.clone();
    let tag = build.tag.clone();
    let context = build.context.display().to_string();
    Line::info(format!("building {tag} for {unit} from {context}"))
        .with("unit", unit.clone())
        .with("image", tag.clone())
        .with("context", context)
        .emit();
    // Unreadable context files are the person's to fix, as a bad file is.
    let tar = context_tar(&build.context, &build.options.dockerfile)
        .map_err(|error| Failure::input(format!("unit {unit}: {error}")))?;
    let (progress_unit, progress_tag) = (unit.clone(), tag.clone());
    let progress = Box::new(move |line: String| {
        Line::info(format!("build {progress_unit}: {line}"))
            .with("unit", progress_unit.clone())
            .with("image", progress_tag.clone())
            .emit();
    });
    let built = gateway
        .send(BuildImage {
            tag: tag.clone(),
            options: build.options.clone(),
            context_tar: tar,
            progress,
        })
        .await
        .map_err(Failure::runtime)?;
    match built {
        Ok(()) => {
            Line::info(format!("built {tag} for {unit}"))
                .with("unit", unit)
                .with("image", tag)
                .emit();
            Ok(())
        }
        Err(error) => Err(Failure::runtime(format!("unit {unit}: {error}"))),
    }
}
