//! A compose file's services as units: each key carried out, warned about
//! or refused by name, every problem at its line and column.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::interpolate::{Variables, interpolate};
use super::project::Project;
use super::words::split_command;
use super::yaml::{At, Key, Kind, Node};
use crate::RestartPolicy;
use crate::manifest::ManifestProblem;
use crate::spec::UnitSpec;
use crate::spec::text::{parse_duration, parse_size};

/// The service keys stevedore carries out.
pub const CARRIED: &[&str] = &[
    "image",
    "build",
    "command",
    "environment",
    "env_file",
    "ports",
    "volumes",
    "restart",
    "healthcheck",
    "depends_on",
    "labels",
    "stop_signal",
    "stop_grace_period",
    "mem_limit",
    "cpu_shares",
    "networks",
    "secrets",
    "configs",
    "tmpfs",
    // Both read before the walk (`extends.rs`, `profiles.rs`), which never
    // sees them.
    "extends",
    "profiles",
];

/// Keys that change nothing about how the container runs here: a warning.
pub const WARNED: &[&str] = &[
    "stdin_open",
    "tty",
    "attach",
    "develop",
    "pull_refresh_after",
];

/// Every other service key of the compose specification: refused by name
/// until stevedore carries it out.
pub const NOT_YET: &[&str] = &[
    "annotations",
    "blkio_config",
    "cgroup",
    "cpu_count",
    "cpu_percent",
    "credential_spec",
    "external_links",
    "gpus",
    "isolation",
    "label_file",
    "mac_address",
    "models",
    "post_start",
    "pre_start",
    "pre_stop",
    "provider",
    "scale",
    "use_api_socket",
    "volumes_from",
];

/// What the walk found, and where.
pub struct Walk<'a> {
    pub file: &'a str,
    pub dir: &'a Path,
    pub vars: &'a dyn Variables,
    pub problems: Vec<ManifestProblem>,
    pub warnings: Vec<ManifestProblem>,
    /// Each unit's service key and its fields' positions.
    pub locations: BTreeMap<String, (At, BTreeMap<String, At>)>,
    /// The top level's networks, volumes, secrets and configs, and which
    /// of them services use.
    pub project: Project,
    /// The images to build, from the services' `build:`.
    pub builds: Vec<super::build::BuildSpec>,
}

impl Walk<'_> {
    /// `path` from the compose file's directory, `.` and `..` taken out as
    /// compose takes them out (lexically, without asking the filesystem).
    pub(super) fn resolve(&self, path: &str) -> PathBuf {
        let mut resolved = PathBuf::new();
        for part in self.dir.join(path).components() {
            match part {
                Component::CurDir => {}
                Component::ParentDir => {
                    resolved.pop();
                }
                other => resolved.push(other),
            }
        }
        resolved
    }

    fn found(
        &self,
        at: At,
        unit: Option<&str>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> ManifestProblem {
        ManifestProblem {
            file: self.file.to_string(),
            line: at.0,
            column: at.1,
            unit: unit.map(str::to_string),
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    pub(super) fn problem(
        &mut self,
        at: At,
        unit: Option<&str>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        let problem = self.found(at, unit, field, message);
        self.problems.push(problem);
    }

    /// A warning about the file as a whole or one of its keys.
    pub fn warn(
        &mut self,
        at: At,
        unit: Option<&str>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        let warning = self.found(at, unit, field, message);
        self.warnings.push(warning);
    }

    /// A scalar's text, interpolated; `None` (with a problem) otherwise.
    pub fn text(&mut self, node: &Node, unit: Option<&str>, field: &str) -> Option<String> {
        match &node.kind {
            Kind::Scalar { text, .. } => match interpolate(text, self.vars) {
                Ok(done) => {
                    for name in done.unset {
                        let message = format!("the variable {name} is not set; it reads as \"\"");
                        self.warn(node.at, unit, Some(field), message);
                    }
                    Some(done.text)
                }
                Err(error) => {
                    self.problem(node.at, unit, Some(field), error.to_string());
                    None
                }
            },
            _ => {
                let message = format!("expected a string, found {}", node.describe());
                self.problem(node.at, unit, Some(field), message);
                None
            }
        }
    }

    pub(super) fn parsed<T>(
        &mut self,
        node: &Node,
        unit: &str,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let text = self.text(node, Some(unit), field)?;
        match parse(text.trim()) {
            Ok(value) => Some(value),
            Err(message) => {
                self.problem(node.at, Some(unit), Some(field), message);
                None
            }
        }
    }

    /// A list of strings, or a string split as compose splits a command.
    pub(super) fn words(&mut self, node: &Node, unit: &str, field: &str) -> Option<Vec<String>> {
        match &node.kind {
            Kind::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.text(item, Some(unit), &format!("{field}[{i}]")))
                .collect(),
            _ => self.parsed(node, unit, field, split_command),
        }
    }

    /// `KEY=VALUE` items or a mapping of strings; a `KEY` alone (or a null
    /// value) takes the variable from the environment, as compose does.
    pub(super) fn pairs(
        &mut self,
        node: &Node,
        unit: &str,
        field: &str,
    ) -> BTreeMap<String, String> {
        let unit = Some(unit).filter(|u| !u.is_empty());
        let mut pairs = BTreeMap::new();
        match &node.kind {
            Kind::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{field}[{i}]");
                    let Some(text) = self.text(item, unit, &path) else {
                        continue;
                    };
                    match text.split_once('=') {
                        Some((key, value)) => {
                            pairs.insert(key.to_string(), value.to_string());
                        }
                        None => {
                            if let Some(value) = self.vars.get(&text) {
                                pairs.insert(text, value);
                            }
                        }
                    }
                }
            }
            Kind::Map(entries) => {
                for (key, value) in entries {
                    let path = format!("{field}.{}", key.text);
                    let value = match &value.kind {
                        Kind::Null => self.vars.get(&key.text),
                        _ => self.text(value, unit, &path),
                    };
                    if let Some(value) = value {
                        pairs.insert(key.text.clone(), value);
                    }
                }
            }
            Kind::Null => {}
            _ => self.problem(
                node.at,
                unit,
                Some(field),
                "expected a list of KEY=VALUE or a mapping",
            ),
        }
        pairs
    }

    /// One service as a unit.
    pub fn service(&mut self, name: &Key, node: &Node) -> Option<UnitSpec> {
        let unit = name.text.as_str();
        let Kind::Map(entries) = &node.kind else {
            self.problem(
                node.at,
                Some(unit),
                None,
                format!("a service is a mapping, not {}", node.describe()),
            );
            return None;
        };
        let mut fields = BTreeMap::new();
        let image = match node.get("image") {
            Some(image) => self.text(image, Some(unit), "image"),
            // Named once the project is known (`build::name_images`).
            None if node.get("build").is_some() => None,
            None => {
                self.problem(
                    name.at,
                    Some(unit),
                    Some("image"),
                    "is missing (give image: or build:)",
                );
                None
            }
        };
        let mut spec = UnitSpec::new(unit, image.unwrap_or_default())
            // Compose's default is no restart, Docker's.
            .restart(RestartPolicy::No);
        for (key, value) in entries {
            fields.insert(key.text.clone(), key.at);
            let field = key.text.as_str();
            match field {
                "image" => {}
                "build" => {
                    let tag = node.get("image").map(|_| spec.image.clone());
                    self.build(key.at, value, unit, tag);
                }
                _ if field.starts_with("x-") => {}
                "command" => spec.command = self.words(value, unit, field),
                // env_file first: `environment` wins over it, as in compose.
                "environment" => {
                    let own = self.pairs(value, unit, field);
                    spec.env.extend(own);
                }
                "env_file" => {
                    let from_files = self.env_files(value, unit);
                    for (key, text) in from_files {
                        if node
                            .get("environment")
                            .is_none_or(|e| !super::env::declares(e, &key))
                        {
                            spec.env.insert(key, text);
                        }
                    }
                }
                "labels" => spec.labels = self.pairs(value, unit, field),
                "ports" => spec.ports = self.ports(value, unit),
                "volumes" => {
                    let (mounts, tmpfs) = self.volumes(value, unit);
                    spec.volumes.extend(mounts);
                    spec.tmpfs.extend(tmpfs);
                }
                "tmpfs" => {
                    let mounts = self.tmpfs(value, unit);
                    spec.tmpfs.extend(mounts);
                }
                "secrets" | "configs" => {
                    let mounts = self.mounted_files(value, unit, field);
                    spec.volumes.extend(mounts);
                }
                // Read below, once: a service without the key joins `default`.
                "networks" => {}
                "restart" => {
                    if let Some(policy) =
                        self.parsed(value, unit, field, str::parse::<RestartPolicy>)
                    {
                        spec.restart = policy;
                    }
                }
                "stop_signal" => {
                    if let Some(signal) = self.text(value, Some(unit), field) {
                        spec.stop_signal = signal;
                    }
                }
                "stop_grace_period" => {
                    if let Some(grace) = self.parsed(value, unit, field, parse_duration) {
                        spec.stop_timeout = grace;
                    }
                }
                "mem_limit" => spec.memory = self.parsed(value, unit, field, parse_size),
                "cpu_shares" => {
                    spec.cpu_shares = self.parsed(value, unit, field, |t| {
                        t.parse::<u64>()
                            .map_err(|_| format!("{t:?} is not a number of shares"))
                    })
                }
                "healthcheck" => {
                    if let Some(check) = self.healthcheck(value, unit) {
                        spec.healthcheck = Some(check);
                    }
                }
                "depends_on" => {
                    for (dependency, condition, at) in self.depends_on(value, unit) {
                        fields.insert(format!("depends_on.{dependency}"), at);
                        spec.depends_on.insert(dependency, condition);
                    }
                }
                _ if self.option(field, value, unit, &mut spec) => {}
                _ if WARNED.contains(&field) => {
                    self.warn(
                        key.at,
                        Some(unit),
                        Some(field),
                        "changes nothing for a supervised container; ignored",
                    );
                }
                _ if NOT_YET.contains(&field) => {
                    self.problem(key.at, Some(unit), Some(field), "is not carried out by stevedore yet; remove it or use a stevedore manifest");
                }
                _ => self.problem(
                    key.at,
                    Some(unit),
                    Some(field),
                    "is not a compose service key",
                ),
            }
        }
        // A network mode replaces the project's networks.
        if spec.options.network_mode.is_none() || node.get("networks").is_some() {
            spec.networks = self.service_networks(node.get("networks"), unit);
        }
        if let Some(alias) = self.project.aliases.get(unit).cloned() {
            for attachment in spec.networks.values_mut() {
                attachment.aliases.push(alias.clone());
            }
        }
        self.locations.insert(unit.to_string(), (name.at, fields));
        Some(spec)
    }
}
