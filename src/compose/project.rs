//! A compose file's top-level `networks`, `volumes`, `secrets` and
//! `configs`: named as compose names them on the engine, each key carried
//! out or refused by name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::services::Walk;
use super::yaml::{At, Kind, Node};
use crate::spec::project::{NetworkSpec, Resources, Shared, Subnet, VolumeSpec};

/// The network every service without `networks:` joins.
pub const DEFAULT_NETWORK: &str = "default";

/// What the top level declares, by the keys services use.
#[derive(Debug, Default)]
pub struct Project {
    /// The project name (the namespace).
    pub name: String,
    /// Declared networks by key (their spec holds the engine name).
    pub networks: BTreeMap<String, NetworkSpec>,
    /// Declared volumes by key.
    pub volumes: BTreeMap<String, VolumeSpec>,
    /// File-based secrets by key: the file on the host.
    pub secrets: BTreeMap<String, PathBuf>,
    /// File-based configs by key.
    pub configs: BTreeMap<String, PathBuf>,
    /// The network keys some service joins, and volume keys some mounts:
    /// only those are made, as compose makes only what is used.
    pub used_networks: BTreeSet<String>,
    /// See `used_networks`.
    pub used_volumes: BTreeSet<String>,
    /// Each service's `container_name`, a DNS name on its networks.
    pub aliases: BTreeMap<String, String>,
}

impl Project {
    /// The engine name of a resource declared under `key`: its `name:`,
    /// else the key itself when external, else `<project>_<key>`.
    fn engine_name(&self, key: &str, name: Option<String>, external: bool) -> String {
        match name {
            Some(name) => name,
            None if external => key.to_string(),
            None => format!("{}_{key}", self.name),
        }
    }

    /// The networks and volumes some service uses, in key order; the
    /// implicit `default` network when a service joins it undeclared.
    pub fn resources(&self) -> Resources {
        let networks = self
            .used_networks
            .iter()
            .map(|key| match self.networks.get(key) {
                Some(spec) => spec.clone(),
                None => NetworkSpec::new(format!("{}_{key}", self.name)),
            })
            .collect();
        let volumes = self
            .used_volumes
            .iter()
            .filter_map(|key| self.volumes.get(key).cloned())
            .collect();
        Resources { networks, volumes }
    }
}

const NETWORK_KEYS: &str =
    "driver, driver_opts, attachable, enable_ipv6, internal, ipam, labels, external, name";
const VOLUME_KEYS: &str = "driver, driver_opts, labels, external, name";

impl Walk<'_> {
    /// `true`/`false` as YAML writes them.
    pub(super) fn flag(&mut self, node: &Node, unit: Option<&str>, field: &str) -> Option<bool> {
        match self.text(node, unit, field)?.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            other => {
                let message = format!("expected true or false, found {other:?}");
                self.problem(node.at, unit, Some(field), message);
                None
            }
        }
    }

    /// The entries of a top-level section, or none (with a problem) when it
    /// is not a mapping.
    fn section<'n>(&mut self, node: &'n Node, field: &str) -> Vec<(&'n str, At, &'n Node)> {
        match &node.kind {
            Kind::Map(entries) => entries
                .iter()
                .filter(|(key, _)| !key.text.starts_with("x-"))
                .map(|(key, value)| (key.text.as_str(), key.at, value))
                .collect(),
            Kind::Null => Vec::new(),
            _ => {
                self.problem(node.at, None, Some(field), "expected a mapping");
                Vec::new()
            }
        }
    }

    /// `external: true`, or the legacy `external: {name: …}`; the name given there.
    fn external(&mut self, node: &Node, field: &str) -> (bool, Option<String>) {
        match &node.kind {
            Kind::Map(_) => {
                let name = node.get("name").and_then(|n| self.text(n, None, field));
                (true, name)
            }
            _ => (self.flag(node, None, field).unwrap_or(false), None),
        }
    }

    /// Reads a key networks and volumes share (`name:` into `name`); false
    /// when `key` is not one.
    fn shared_key(
        &mut self,
        key: &str,
        item: &Node,
        path: &str,
        shared: Shared<'_>,
        name: &mut Option<String>,
    ) -> bool {
        match key {
            "driver" => *shared.driver = self.text(item, None, path),
            "driver_opts" => *shared.options = self.pairs(item, "", path),
            "labels" => *shared.labels = self.pairs(item, "", path),
            "name" => *name = self.text(item, None, path).or(name.take()),
            "external" => {
                let (is, legacy) = self.external(item, path);
                *shared.external = is;
                if name.is_none() {
                    *name = legacy;
                }
            }
            _ => return false,
        }
        true
    }

    /// The keys of one top-level entry (`networks.front`): each offered
    /// to `read` (true: it took it); an `x-` key is skipped, any other
    /// refused, saying what the entry takes.
    fn entry_keys(
        &mut self,
        value: &Node,
        field: &str,
        takes: &str,
        mut read: impl FnMut(&mut Self, &str, &Node, &str) -> bool,
    ) {
        match &value.kind {
            Kind::Map(entries) => {
                for (entry, item) in entries {
                    let path = format!("{field}.{}", entry.text);
                    if !read(self, &entry.text, item, &path) && !entry.text.starts_with("x-") {
                        let message = format!("is not carried out by stevedore ({takes})");
                        self.problem(entry.at, None, Some(&path), message);
                    }
                }
            }
            Kind::Null => {}
            _ => self.problem(value.at, None, Some(field), "expected a mapping"),
        }
    }

    /// Top-level `networks:`.
    pub(super) fn networks(&mut self, node: &Node) {
        for (key, at, value) in self.section(node, "networks") {
            let field = format!("networks.{key}");
            let mut spec = NetworkSpec::default();
            let mut name = None;
            let takes = format!("a network takes {NETWORK_KEYS}");
            self.entry_keys(value, &field, &takes, |walk, key, item, path| {
                if walk.shared_key(key, item, path, spec.shared(), &mut name) {
                    return true;
                }
                let flag = |walk: &mut Self| walk.flag(item, None, path).unwrap_or(false);
                match key {
                    "attachable" => spec.attachable = flag(walk),
                    "internal" => spec.internal = flag(walk),
                    "enable_ipv6" => spec.enable_ipv6 = flag(walk),
                    "ipam" => walk.ipam(item, path, &mut spec),
                    _ => return false,
                }
                true
            });
            if spec.external && (spec.driver.is_some() || !spec.subnets.is_empty()) {
                self.problem(
                    at,
                    None,
                    Some(&field),
                    "an external network takes no driver or ipam: it is used as it is",
                );
            }
            spec.name = self.project.engine_name(key, name, spec.external);
            self.project.networks.insert(key.to_string(), spec);
        }
    }

    fn ipam(&mut self, node: &Node, field: &str, spec: &mut NetworkSpec) {
        let Kind::Map(entries) = &node.kind else {
            self.problem(node.at, None, Some(field), "expected a mapping");
            return;
        };
        for (entry, item) in entries {
            let path = format!("{field}.{}", entry.text);
            match entry.text.as_str() {
                "driver" => spec.ipam_driver = self.text(item, None, &path),
                "config" => {
                    let Kind::List(pools) = &item.kind else {
                        self.problem(item.at, None, Some(&path), "expected a list");
                        continue;
                    };
                    for (i, pool) in pools.iter().enumerate() {
                        let at = format!("{path}[{i}]");
                        let read = |walk: &mut Self, key: &str| {
                            pool.get(key)
                                .and_then(|n| walk.text(n, None, &format!("{at}.{key}")))
                        };
                        let Some(subnet) = read(self, "subnet") else {
                            self.problem(pool.at, None, Some(&at), "subnet is missing");
                            continue;
                        };
                        spec.subnets.push(Subnet {
                            subnet,
                            ip_range: read(self, "ip_range"),
                            gateway: read(self, "gateway"),
                        });
                        if let Kind::Map(keys) = &pool.kind {
                            for (k, _) in keys {
                                if !matches!(k.text.as_str(), "subnet" | "ip_range" | "gateway") {
                                    self.problem(k.at, None, Some(&format!("{at}.{}", k.text)), "is not carried out by stevedore (a pool takes subnet, ip_range, gateway)");
                                }
                            }
                        }
                    }
                }
                _ => self.problem(
                    entry.at,
                    None,
                    Some(&path),
                    "is not carried out by stevedore (ipam takes driver and config)",
                ),
            }
        }
    }

    /// Top-level `volumes:`.
    pub(super) fn volumes_section(&mut self, node: &Node) {
        for (key, _, value) in self.section(node, "volumes") {
            let field = format!("volumes.{key}");
            let mut spec = VolumeSpec::default();
            let mut name = None;
            let takes = format!("a volume takes {VOLUME_KEYS}");
            self.entry_keys(value, &field, &takes, |walk, key, item, path| {
                walk.shared_key(key, item, path, spec.shared(), &mut name)
            });
            spec.name = self.project.engine_name(key, name, spec.external);
            self.project.volumes.insert(key.to_string(), spec);
        }
    }

    /// Top-level `secrets:` or `configs:` (`section`): file-based only.
    pub(super) fn files_section(&mut self, node: &Node, section: &str) {
        for (key, at, value) in self.section(node, section) {
            let field = format!("{section}.{key}");
            let Some(file) = value.get("file") else {
                let message = match &value.kind {
                    Kind::Map(_) => {
                        "only file-based entries are carried out (file: PATH); environment, content and external are not"
                    }
                    _ => "expected a mapping with file: PATH",
                };
                self.problem(at, None, Some(&field), message);
                continue;
            };
            if let Kind::Map(entries) = &value.kind {
                for (entry, _) in entries {
                    if !matches!(entry.text.as_str(), "file" | "name")
                        && !entry.text.starts_with("x-")
                    {
                        let path = format!("{field}.{}", entry.text);
                        self.problem(
                            entry.at,
                            None,
                            Some(&path),
                            "is not carried out by stevedore (only file: and name:)",
                        );
                    }
                }
            }
            let Some(path) = self.text(file, None, &format!("{field}.file")) else {
                continue;
            };
            let host = self.resolve(&path);
            if !host.is_file() {
                let message = format!("{} does not exist or is not a file", host.display());
                self.problem(file.at, None, Some(&format!("{field}.file")), message);
                continue;
            }
            let files = if section == "secrets" {
                &mut self.project.secrets
            } else {
                &mut self.project.configs
            };
            files.insert(key.to_string(), host);
        }
    }
}
