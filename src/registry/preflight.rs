//! Checks of a set of units against the engine before any is brought up:
//! settings the engine's API version would drop without a word, `healthy`
//! dependencies on units whose image has no check either, and a `platform`
//! the image present is not for.

use std::collections::HashMap;

use actix::prelude::*;

use super::Registry;
use crate::gateway::InspectImage;
use crate::spec::health::START_INTERVAL_API;
use crate::spec::{Condition, SpecProblem, UnitSpec};

/// One problem of one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitProblem {
    /// The unit.
    pub unit: String,
    /// What is wrong, and with which field.
    pub problem: SpecProblem,
}

/// The problems of `spec` that only the engine's API version shows.
pub(super) fn engine_problems(spec: &UnitSpec, api: Option<(u32, u32)>) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    let start_interval = spec
        .healthcheck
        .as_ref()
        .and_then(|check| check.start_interval);
    if let (Some(_), Some(api)) = (start_interval, api)
        && api < START_INTERVAL_API
    {
        let (major, minor) = START_INTERVAL_API;
        problems.push(SpecProblem {
            field: "healthcheck.start_interval".into(),
            message: format!(
                "needs Docker API {major}.{minor} or later; this engine speaks {}.{}, which would drop it without a word (leave it out)",
                api.0, api.1
            ),
        });
    }
    problems
}

/// Checks units about to be declared together (a manifest): what `add`
/// would refuse, plus `healthy` on a unit that declares no check and whose
/// image (when present) has none. Answers every problem; declares nothing.
#[derive(Debug, Message)]
#[rtype(result = "Vec<UnitProblem>")]
pub struct CheckUnits(pub Vec<UnitSpec>);

impl Handler<CheckUnits> for Registry {
    type Result = ResponseFuture<Vec<UnitProblem>>;

    fn handle(&mut self, CheckUnits(specs): CheckUnits, _: &mut Context<Self>) -> Self::Result {
        let mut problems = Vec::new();
        for spec in &specs {
            for problem in engine_problems(spec, self.api_version) {
                problems.push(UnitProblem {
                    unit: spec.name.clone(),
                    problem,
                });
            }
        }
        let by_name: HashMap<String, UnitSpec> = specs
            .iter()
            .map(|spec| (spec.name.clone(), spec.clone()))
            .collect();
        let gateway = self.gateway.clone();
        Box::pin(async move {
            let mut images: HashMap<String, Option<bool>> = HashMap::new();
            for spec in &specs {
                for (name, dependency) in &spec.depends_on {
                    let Some(other) = by_name.get(name) else {
                        continue;
                    };
                    if dependency.condition != Condition::Healthy
                        || other.declares_check().is_some()
                    {
                        continue;
                    }
                    if !images.contains_key(&other.image) {
                        let inspect = gateway
                            .send(InspectImage {
                                image: other.image.clone(),
                            })
                            .await;
                        // An image not here yet (to be pulled) cannot be asked.
                        let has_check = match inspect {
                            Ok(Ok(image)) => Some(image_has_check(&image)),
                            _ => None,
                        };
                        images.insert(other.image.clone(), has_check);
                    }
                    if images[&other.image] == Some(false) {
                        problems.push(UnitProblem {
                            unit: spec.name.clone(),
                            problem: SpecProblem {
                                field: format!("depends_on.{name}"),
                                message: format!(
                                    "waits for {name:?} to be healthy, but {name:?} declares no health check and its image {} has none",
                                    other.image
                                ),
                            },
                        });
                    }
                }
            }
            for spec in &specs {
                let Some(platform) = &spec.options.platform else {
                    continue;
                };
                // An image not here yet is pulled for the engine's own platform.
                let Ok(Ok(image)) = gateway
                    .send(InspectImage {
                        image: spec.image.clone(),
                    })
                    .await
                else {
                    continue;
                };
                if let Some(message) = platform_mismatch(platform, &image) {
                    problems.push(UnitProblem {
                        unit: spec.name.clone(),
                        problem: SpecProblem {
                            field: "platform".into(),
                            message,
                        },
                    });
                }
            }
            problems
        })
    }
}

/// Why an image present on the engine is not for `platform`
/// (`os/arch[/variant]`); `None` when it is.
pub fn platform_mismatch(platform: &str, image: &bollard::models::ImageInspect) -> Option<String> {
    let mut wanted = platform.split('/');
    let (os, arch, variant) = (wanted.next(), wanted.next(), wanted.next());
    let has = |want: Option<&str>, found: &Option<String>| {
        want.is_none_or(|w| found.as_deref().is_none_or(|f| f.eq_ignore_ascii_case(w)))
    };
    let matches =
        has(os, &image.os) && has(arch, &image.architecture) && has(variant, &image.variant);
    (!matches).then(|| {
        let found = [&image.os, &image.architecture, &image.variant]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join("/");
        format!("wants {platform}, but the engine's image is for {found}")
    })
}

/// Whether an image declares a HEALTHCHECK that is not `NONE`.
fn image_has_check(image: &bollard::models::ImageInspect) -> bool {
    image
        .config
        .as_ref()
        .and_then(|config| config.healthcheck.as_ref())
        .and_then(|check| check.test.as_ref())
        .and_then(|test| test.first())
        .is_some_and(|first| first != "NONE")
}

#[cfg(test)]
mod platform_tests {
    use super::platform_mismatch;
    use bollard::models::ImageInspect;

    #[test]
    fn an_image_for_another_architecture_does_not_match_the_platform() {
        let image = ImageInspect {
            os: Some("linux".into()),
            architecture: Some("amd64".into()),
            ..Default::default()
        };
        assert_eq!(platform_mismatch("linux/amd64", &image), None);
        assert_eq!(platform_mismatch("LINUX/AMD64", &image), None);
        let refused = platform_mismatch("linux/arm64/v8", &image).unwrap();
        assert_eq!(
            refused,
            "wants linux/arm64/v8, but the engine's image is for linux/amd64"
        );
    }
}
