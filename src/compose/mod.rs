//! Compose files read as manifests: positioned YAML, compose's
//! interpolation, and each service a unit, every key carried out, warned
//! about or refused by name (never silently dropped).

mod attach;
pub mod build;
mod checks;
pub mod context;
pub mod convert;
mod convert_options;
mod env;
mod extends;
mod ignore;
pub mod interpolate;
mod load;
mod merge;
mod mounts;
mod options;
mod profiles;
mod project;
mod services;
mod sources;
pub mod words;
pub mod yaml;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub use self::build::BuildSpec;
pub use self::load::{Options, parse_compose_files, read_compose_files};
use self::services::Walk;
pub use self::services::{CARRIED, NOT_YET, WARNED};
use self::sources::Sources;
use self::yaml::{Kind, Node};
use crate::manifest::{LoadError, Locations, Manifest, ManifestError, ManifestProblem};
use crate::spec::graph::{self, Undeclared};
use crate::spec::validate::{host_ports_overlap, is_valid_name, validate};

/// The names compose looks for in a directory, in its order.
pub const FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// Whether `path` names a compose file (by its name or a `.yml`/`.yaml`
/// extension) rather than a TOML manifest.
pub fn is_compose_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    FILE_NAMES.contains(&name) || path.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

/// A compose file read as a manifest, with what it says that changes
/// nothing here (warnings).
#[derive(Debug, Clone, PartialEq)]
pub struct Compose {
    /// The units, the namespace (the project name) and their positions.
    pub manifest: Manifest,
    /// Keys ignored, variables not set, and what is not carried out yet
    /// without being an error.
    pub warnings: Vec<ManifestProblem>,
    /// The images its services' `build:` make, one per building service.
    pub builds: Vec<BuildSpec>,
}

/// A project name as compose normalises a directory's: lowercase, only
/// `a-z 0-9 _ -`, no leading `_` or `-`.
pub fn normalise_project_name(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

/// The variables of a compose file: its directory's `.env`, then the
/// process environment over it (compose's order).
pub fn variables(dir: &Path) -> Result<HashMap<String, String>, String> {
    let process: HashMap<String, String> = std::env::vars().collect();
    let mut vars = HashMap::new();
    let env_file = dir.join(".env");
    if let Ok(text) = std::fs::read_to_string(&env_file) {
        // The file's own `${…}` read the process environment first.
        let pairs = interpolate::parse_env_file_with(&text, &process)
            .map_err(|error| format!("{}: {error}", env_file.display()))?;
        vars.extend(pairs);
    }
    vars.extend(process);
    Ok(vars)
}

/// Reads the compose file at `path`.
pub fn read_compose(path: &Path) -> Result<Compose, LoadError> {
    read_compose_as(path, None)
}

/// Reads the compose file at `path` as project `project` when given (`-p`,
/// which beats every name the file and its environment give).
pub fn read_compose_as(path: &Path, project: Option<&str>) -> Result<Compose, LoadError> {
    let options = Options {
        project: project.map(str::to_string),
        profiles: Vec::new(),
    };
    read_compose_files(&[path.to_path_buf()], &options)
}

/// Reads a compose file's `text`; `file` names it in problems, `dir` is
/// where its relative paths start, `vars` what `${VAR}` reads.
pub fn parse_compose(
    text: &str,
    file: &str,
    dir: &Path,
    vars: &HashMap<String, String>,
) -> Result<Compose, ManifestError> {
    parse_compose_as(text, file, dir, vars, None)
}

/// [`parse_compose`] as project `project` when given.
pub fn parse_compose_as(
    text: &str,
    file: &str,
    dir: &Path,
    vars: &HashMap<String, String>,
    project: Option<&str>,
) -> Result<Compose, ManifestError> {
    let options = Options {
        project: project.map(str::to_string),
        profiles: Vec::new(),
    };
    parse_compose_files(&[(file, text)], dir, vars, &options)
}

/// The walk over a project's tree (its files merged, `extends` applied,
/// profiles chosen): every service a unit, every problem at its place in
/// the file of `sources` that wrote it.
fn walk_tree(
    root: &Node,
    sources: &Sources,
    dir: &Path,
    vars: &HashMap<String, String>,
    project: Option<&str>,
) -> Result<Compose, ManifestError> {
    let file = sources.name(0);
    let Kind::Map(top) = &root.kind else {
        unreachable!("Sources::parse_as reads only mappings")
    };
    let mut walk = Walk {
        file,
        dir,
        vars,
        problems: Vec::new(),
        warnings: Vec::new(),
        locations: BTreeMap::new(),
        project: Default::default(),
        builds: Vec::new(),
    };
    let mut name = None;
    let mut services: Option<&Node> = None;
    let mut sections = Vec::new();
    for (key, value) in top {
        match key.text.as_str() {
            "services" => services = Some(value),
            "name" => name = walk.text(value, None, "name").map(|n| (n, value.at)),
            "version" => walk.warn(key.at, None, Some("version"), "is obsolete and ignored, as compose ignores it"),
            k if k.starts_with("x-") => {}
            "networks" | "volumes" | "secrets" | "configs" => sections.push((key.text.as_str(), value)),
            "include" | "models" => {
                let empty = matches!(&value.kind, Kind::Null)
                    || matches!(&value.kind, Kind::Map(m) if m.is_empty());
                if !empty {
                    walk.problems.push(problem(file, key.at, &key.text, "top-level include and models are not carried out by stevedore yet"));
                }
            }
            other => walk.problems.push(problem(file, key.at, other, "is not a top-level compose key (services, name, networks, volumes, secrets, configs, x-…)")),
        }
    }
    // Compose's order: -p, then COMPOSE_PROJECT_NAME, then `name:`, then
    // the directory.
    let from_env = vars
        .get("COMPOSE_PROJECT_NAME")
        .filter(|n| !n.is_empty())
        .cloned();
    let namespace = match (project, &from_env, &name) {
        (Some(project), _, _) => project.to_string(),
        (None, Some(from_env), _) => from_env.clone(),
        (None, None, Some((name, _))) => name.clone(),
        (None, None, None) => normalise_project_name(
            &dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    };
    let at = name.as_ref().map_or((1, 1), |(_, at)| *at);
    if !is_valid_name(&namespace) || namespace.contains("--") {
        walk.problems.push(problem(file, at, "name", &format!("{namespace:?} cannot be a project name here: letters, digits, '_', '.' and '-', starting with a letter or digit, no \"--\"")));
    }
    // Resources are named after the project, and services refer to them.
    walk.project.name = namespace.clone();
    for (section, value) in sections {
        match section {
            "networks" => walk.networks(value),
            "volumes" => walk.volumes_section(value),
            other => walk.files_section(value, other),
        }
    }
    let mut units = Vec::new();
    match services.map(|s| &s.kind) {
        Some(Kind::Map(entries)) if !entries.is_empty() => {
            for (name, node) in entries {
                if name.text.starts_with("x-") {
                    continue;
                }
                if let Some(spec) = walk.service(name, node) {
                    units.push(spec);
                }
            }
        }
        _ => walk.problems.push(problem(
            file,
            (1, 1),
            "services",
            "a compose file needs at least one service",
        )),
    }
    build::name_images(&mut units, &mut walk.builds, &namespace);
    let locations = Locations::from_units(walk.locations.clone()).with_files(sources.others());
    let manifest = Manifest {
        namespace,
        units,
        resources: walk.project.resources(),
        file: file.to_string(),
        locations,
    };
    // What a spec itself gets wrong, at the key that says it.
    for spec in &manifest.units {
        if let Err(problems) = validate(spec) {
            for found in problems {
                if found.field == "image" && spec.image.is_empty() {
                    continue; // already said: image is missing
                }
                walk.problems
                    .push(manifest.problem(&spec.name, &found.field, found.message));
            }
        }
    }
    // Compose leaves a clash to the engine, after it created containers.
    let mut published: Vec<(&str, &crate::spec::PortMapping)> = Vec::new();
    for spec in &manifest.units {
        for (index, port) in spec.ports.iter().enumerate() {
            if port.external == 0 {
                continue;
            }
            let clash = published.iter().find(|(unit, other)| {
                *unit != spec.name
                    && other.external == port.external
                    && other.protocol == port.protocol
                    && host_ports_overlap(other, port)
            });
            if let Some((other, _)) = clash {
                let message = format!(
                    "host port {}/{} is already published by service {other:?}",
                    port.external, port.protocol
                );
                let field = format!("ports[{index}]");
                walk.problems
                    .push(manifest.problem(&spec.name, &field, message));
            }
            published.push((&spec.name, port));
        }
    }
    let specs: Vec<_> = manifest.units.iter().collect();
    for found in graph::problems(&specs, Undeclared::Refused) {
        let (unit, dependency) = found.location();
        let field = format!("depends_on.{dependency}");
        walk.problems
            .push(manifest.problem(unit, &field, found.to_string()));
    }
    if walk.problems.is_empty() {
        let mut warnings = walk.warnings;
        warnings.iter_mut().for_each(|w| sources.place(w));
        Ok(Compose {
            manifest,
            warnings,
            builds: walk.builds,
        })
    } else {
        let mut problems = walk.problems;
        problems.sort_by_key(|p| (p.line, p.column));
        problems.iter_mut().for_each(|p| sources.place(p));
        problems.dedup();
        Err(ManifestError { problems })
    }
}

fn problem(file: &str, at: (usize, usize), field: &str, message: &str) -> ManifestProblem {
    ManifestProblem {
        file: file.to_string(),
        line: at.0,
        column: at.1,
        unit: None,
        field: Some(field.to_string()),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod build_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_project;

#[cfg(test)]
mod tests_options;
