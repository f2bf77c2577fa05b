//! A service's place in its project: the networks it joins (with aliases
//! and fixed addresses), its secrets and configs (read-only files), and its
//! tmpfs mounts.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use super::project::DEFAULT_NETWORK;
use super::services::Walk;
use super::yaml::{Kind, Node};
use crate::spec::text::parse_tmpfs;
use crate::spec::{NetworkAttachment, VolumeMount};

impl Walk<'_> {
    /// A service's `networks:` (a list of keys, or a mapping of key to
    /// aliases and addresses), by engine name; `None` (no key) joins the
    /// project's default network.
    pub(super) fn service_networks(
        &mut self,
        node: Option<&Node>,
        unit: &str,
    ) -> BTreeMap<String, NetworkAttachment> {
        let mut wanted: Vec<(String, NetworkAttachment, (usize, usize))> = Vec::new();
        match node.map(|n| (n, &n.kind)) {
            None => wanted.push((DEFAULT_NETWORK.into(), NetworkAttachment::default(), (1, 1))),
            Some((_, Kind::List(items))) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(key) = self.text(item, Some(unit), &format!("networks[{i}]")) {
                        wanted.push((key, NetworkAttachment::default(), item.at));
                    }
                }
            }
            Some((_, Kind::Map(entries))) => {
                for (key, value) in entries {
                    let attachment =
                        self.attachment(value, unit, &format!("networks.{}", key.text));
                    wanted.push((key.text.clone(), attachment, key.at));
                }
            }
            Some((node, _)) => {
                self.problem(
                    node.at,
                    Some(unit),
                    Some("networks"),
                    "expected a list of networks or a mapping",
                );
            }
        }
        let mut joined = BTreeMap::new();
        for (key, attachment, at) in wanted {
            let name = match self.project.networks.get(&key) {
                Some(spec) => spec.name.clone(),
                None if key == DEFAULT_NETWORK => {
                    format!("{}_{DEFAULT_NETWORK}", self.project.name)
                }
                None => {
                    let message = format!(
                        "refers to undefined network {key:?}: declare it under the top-level networks:"
                    );
                    self.problem(at, Some(unit), Some(&format!("networks.{key}")), message);
                    continue;
                }
            };
            self.project.used_networks.insert(key);
            joined.insert(name, attachment);
        }
        joined
    }

    fn attachment(&mut self, node: &Node, unit: &str, field: &str) -> NetworkAttachment {
        let mut attachment = NetworkAttachment::default();
        let Kind::Map(entries) = &node.kind else {
            if !matches!(node.kind, Kind::Null) {
                self.problem(node.at, Some(unit), Some(field), "expected a mapping");
            }
            return attachment;
        };
        for (key, value) in entries {
            let path = format!("{field}.{}", key.text);
            let address = |walk: &mut Self| {
                walk.parsed(value, unit, &path, |t| {
                    t.parse::<IpAddr>()
                        .map_err(|_| format!("{t:?} is not an IP address"))
                })
            };
            match key.text.as_str() {
                "aliases" => match &value.kind {
                    Kind::List(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Some(alias) = self.text(item, Some(unit), &format!("{path}[{i}]")) {
                                attachment.aliases.push(alias);
                            }
                        }
                    }
                    _ => self.problem(value.at, Some(unit), Some(&path), "expected a list"),
                },
                "ipv4_address" => attachment.ipv4_address = address(self),
                "ipv6_address" => attachment.ipv6_address = address(self),
                "priority" | "gw_priority" => self.warn(key.at, Some(unit), Some(&path), "the order networks are joined in is not carried out; ignored"),
                k if k.starts_with("x-") => {}
                _ => self.problem(key.at, Some(unit), Some(&path), "is not carried out by stevedore (a service's network takes aliases, ipv4_address, ipv6_address)"),
            }
        }
        attachment
    }

    /// A service's `secrets:` or `configs:` (`section`): each a file
    /// mounted read-only, at `/run/secrets/<name>` (a secret) or `/<name>`
    /// (a config) unless `target` says where.
    pub(super) fn mounted_files(
        &mut self,
        node: &Node,
        unit: &str,
        section: &str,
    ) -> Vec<VolumeMount> {
        let Kind::List(items) = &node.kind else {
            self.problem(node.at, Some(unit), Some(section), "expected a list");
            return Vec::new();
        };
        let mut mounts = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = format!("{section}[{i}]");
            let (source, target) = match &item.kind {
                Kind::Map(entries) => {
                    let Some(source) = item
                        .get("source")
                        .and_then(|s| self.text(s, Some(unit), &field))
                    else {
                        self.problem(item.at, Some(unit), Some(&field), "source is missing");
                        continue;
                    };
                    let target = item
                        .get("target")
                        .and_then(|t| self.text(t, Some(unit), &field));
                    for (key, _) in entries {
                        let path = format!("{field}.{}", key.text);
                        match key.text.as_str() {
                            "source" | "target" => {}
                            "uid" | "gid" | "mode" => self.warn(key.at, Some(unit), Some(&path), "is not carried out for a file mounted from the host (as in compose without swarm); the file keeps its owner and mode"),
                            k if k.starts_with("x-") => {}
                            _ => self.problem(key.at, Some(unit), Some(&path), "is not a key here (source, target, uid, gid, mode)"),
                        }
                    }
                    (source, target)
                }
                _ => match self.text(item, Some(unit), &field) {
                    Some(source) => (source, None),
                    None => continue,
                },
            };
            let declared = if section == "secrets" {
                self.project.secrets.get(&source)
            } else {
                self.project.configs.get(&source)
            };
            let Some(host) = declared.cloned() else {
                let message = format!(
                    "refers to undefined {} {source:?}: declare it under the top-level {section}: with file:",
                    &section[..section.len() - 1]
                );
                self.problem(item.at, Some(unit), Some(&field), message);
                continue;
            };
            let target = target.unwrap_or_else(|| source.clone());
            let container = match (section, target.starts_with('/')) {
                (_, true) => PathBuf::from(target),
                ("secrets", false) => PathBuf::from("/run/secrets").join(target),
                (_, false) => PathBuf::from("/").join(target),
            };
            mounts.push(VolumeMount {
                source: host,
                container,
                read_only: true,
            });
        }
        mounts
    }

    /// A service's `tmpfs:`: a path or a list of `PATH[:OPTIONS]`.
    pub(super) fn tmpfs(&mut self, node: &Node, unit: &str) -> BTreeMap<PathBuf, String> {
        let mounts = self.strings(node, unit, "tmpfs");
        mounts.iter().map(|text| parse_tmpfs(text)).collect()
    }
}
