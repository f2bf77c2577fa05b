//! A service's `build:` (a context path, or `context`, `dockerfile`,
//! `target`, `args`, `labels`, `no_cache`, `pull`): what to build and the
//! image it makes, `image:` or compose's `<project>-<service>`.

use std::path::{Component, Path, PathBuf};

use super::Compose;
use super::services::Walk;
use super::yaml::{At, Kind, Node};
use crate::engine::BuildOptions;
use crate::labels::RESERVED_PREFIX;
use crate::spec::UnitSpec;

/// The `build:` keys stevedore carries out.
pub const BUILD_CARRIED: &[&str] = &[
    "context",
    "dockerfile",
    "target",
    "args",
    "labels",
    "no_cache",
    "pull",
];

/// `build:` keys that change nothing about the image built: a warning.
pub const BUILD_WARNED: &[&str] = &["cache_from", "cache_to", "provenance", "sbom"];

/// Every other `build:` key of the compose specification: refused by name.
pub const BUILD_NOT_YET: &[&str] = &[
    "additional_contexts",
    "dockerfile_inline",
    "entitlements",
    "extra_hosts",
    "isolation",
    "network",
    "platforms",
    "privileged",
    "secrets",
    "shm_size",
    "ssh",
    "tags",
    "ulimits",
];

/// One image to build for a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSpec {
    /// The unit (service) whose image it is.
    pub unit: String,
    /// The context directory (the compose file's directory joined).
    pub context: PathBuf,
    /// The Dockerfile (relative to the context), target, args, labels.
    pub options: BuildOptions,
    /// The image it is tagged with, which the unit runs.
    pub tag: String,
    /// Whether the tag is the service's `image:`; otherwise it is
    /// `<project>-<service>` and follows the project name.
    pub named: bool,
}

/// The image compose builds for a service without `image:` (compose v2's
/// `<project>-<service>`, lowercase as an image reference must be).
pub fn default_tag(project: &str, service: &str) -> String {
    format!("{project}-{service}").to_lowercase()
}

/// Gives each build without `image:` its default tag, and its unit that image.
pub(super) fn name_images(units: &mut [UnitSpec], builds: &mut [BuildSpec], project: &str) {
    for build in builds.iter_mut().filter(|b| !b.named) {
        build.tag = default_tag(project, &build.unit);
        if let Some(spec) = units.iter_mut().find(|spec| spec.name == build.unit) {
            spec.image = build.tag.clone();
        }
    }
}

impl Compose {
    /// The build that makes `unit`'s image, if one does.
    pub fn build_of(&self, unit: &str) -> Option<&BuildSpec> {
        self.builds.iter().find(|build| build.unit == unit)
    }
}

/// `dockerfile` relative to `context`, `/`-separated; `None` when it
/// leads out of the context.
fn inside(context: &Path, dockerfile: &str) -> Option<String> {
    let path = Path::new(dockerfile);
    let relative = if path.is_absolute() {
        path.strip_prefix(context).ok()?
    } else {
        path
    };
    let mut parts: Vec<String> = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

impl Walk<'_> {
    /// `build:` (the key at `key`) of `unit`; `image` is its `image:`, the
    /// tag when given.
    pub(super) fn build(&mut self, key: At, node: &Node, unit: &str, image: Option<String>) {
        let (context_node, context_field) = match &node.kind {
            Kind::Scalar { .. } => (Some(node), "build"),
            Kind::Map(_) => (node.get("context"), "build.context"),
            _ => {
                let message = format!(
                    "expected a context path or a mapping, found {}",
                    node.describe()
                );
                self.problem(node.at, Some(unit), Some("build"), message);
                return;
            }
        };
        let context_at = context_node.map_or(node.at, |n| n.at);
        let context = match context_node {
            Some(found) => self.text(found, Some(unit), context_field),
            // Compose's default: the compose file's directory.
            None => Some(".".to_string()),
        };
        let mut options = BuildOptions::default();
        let mut ok = true;
        // A Dockerfile not written is the `build` key's.
        let mut dockerfile_at = (key, "build");
        if let Kind::Map(entries) = &node.kind {
            for (key, value) in entries {
                let field = format!("build.{}", key.text);
                match key.text.as_str() {
                    "context" => {}
                    "dockerfile" => {
                        dockerfile_at = (value.at, "build.dockerfile");
                        match self.text(value, Some(unit), &field) {
                            Some(dockerfile) => options.dockerfile = dockerfile,
                            None => ok = false,
                        }
                    }
                    "target" => options.target = self.text(value, Some(unit), &field),
                    "args" => options.args = self.pairs(value, unit, &field),
                    "labels" => {
                        options.labels = self.pairs(value, unit, &field);
                        if options.labels.keys().any(|k| k.starts_with(RESERVED_PREFIX)) {
                            let message = format!("labels under {RESERVED_PREFIX} are stevedore's own: containers inherit their image's labels");
                            self.problem(value.at, Some(unit), Some(&field), message);
                        }
                    }
                    "no_cache" => {
                        options.no_cache = self.flag(value, Some(unit), &field).unwrap_or(false)
                    }
                    "pull" => options.pull = self.flag(value, Some(unit), &field).unwrap_or(false),
                    k if k.starts_with("x-") => {}
                    k if BUILD_WARNED.contains(&k) => self.warn(
                        key.at,
                        Some(unit),
                        Some(&field),
                        "changes nothing about the image built here; ignored",
                    ),
                    k if BUILD_NOT_YET.contains(&k) => self.problem(
                        key.at,
                        Some(unit),
                        Some(&field),
                        "is not carried out by stevedore yet; remove it or build the image beforehand",
                    ),
                    _ => self.problem(key.at, Some(unit), Some(&field), "is not a build key"),
                }
            }
        }
        let Some(context) = context else { return };
        if context.contains("://") || context.starts_with("git@") {
            let message = format!(
                "{context:?} is a remote context; only a local directory is carried out by stevedore yet"
            );
            self.problem(context_at, Some(unit), Some(context_field), message);
            return;
        }
        // Joined without its `./`s: the path is printed to people.
        let context = self.resolve(&context);
        if !context.is_dir() {
            let message = format!("the context directory {} does not exist", context.display());
            self.problem(context_at, Some(unit), Some(context_field), message);
            return;
        }
        if !ok {
            return;
        }
        let written = if options.dockerfile.is_empty() {
            "Dockerfile".to_string()
        } else {
            options.dockerfile.clone()
        };
        let (at, field) = dockerfile_at;
        match inside(&context, &written) {
            None => {
                let message = format!(
                    "{written:?} is outside the context {}; a Dockerfile outside it is not carried out yet",
                    context.display()
                );
                self.problem(at, Some(unit), Some(field), message);
            }
            Some(relative) if !context.join(&relative).is_file() => {
                let message = format!(
                    "there is no Dockerfile {}",
                    context.join(&relative).display()
                );
                self.problem(at, Some(unit), Some(field), message);
            }
            Some(relative) => {
                options.dockerfile = relative;
                self.builds.push(BuildSpec {
                    unit: unit.to_string(),
                    context,
                    options,
                    named: image.is_some(),
                    // Without `image:`, named once the project is known.
                    tag: image.unwrap_or_default(),
                });
            }
        }
    }
}
