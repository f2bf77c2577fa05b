//! A service's `ports` and `volumes`, short and long syntax, as the unit's
//! port mappings, bind mounts, named volumes and tmpfs mounts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::services::Walk;
use super::yaml::{At, Kind, Node};
use crate::spec::text::parse_ports;
use crate::spec::{PortMapping, Protocol, VolumeMount, VolumeSpec};

impl Walk<'_> {
    pub(super) fn ports(&mut self, node: &Node, unit: &str) -> Vec<PortMapping> {
        let Kind::List(items) = &node.kind else {
            self.problem(node.at, Some(unit), Some("ports"), "expected a list");
            return Vec::new();
        };
        let mut ports = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("ports[{i}]");
            match &item.kind {
                Kind::Map(_) => {
                    let number = |walk: &mut Self, key: &str| {
                        let node = item.get(key)?;
                        walk.parsed(node, unit, &format!("{path}.{key}"), |t| {
                            t.parse::<u16>().map_err(|_| format!("{t:?} is not a port"))
                        })
                    };
                    let Some(internal) = number(self, "target") else {
                        if item.get("target").is_none() {
                            self.problem(item.at, Some(unit), Some(&path), "target is missing");
                        }
                        continue;
                    };
                    let external = number(self, "published").unwrap_or(0);
                    let protocol = match item
                        .get("protocol")
                        .and_then(|p| self.text(p, Some(unit), &path))
                    {
                        Some(p) if p == "udp" => Protocol::Udp,
                        _ => Protocol::Tcp,
                    };
                    let host_ip = item
                        .get("host_ip")
                        .and_then(|h| self.text(h, Some(unit), &path));
                    ports.push(PortMapping {
                        internal,
                        external,
                        protocol,
                        host_ip,
                    });
                }
                // A range is one mapping per port of it.
                _ => ports.extend(
                    self.parsed(item, unit, &path, parse_ports)
                        .unwrap_or_default(),
                ),
            }
        }
        ports
    }

    /// The mounts of `volumes:`, and its `type: tmpfs` items.
    pub(super) fn volumes(
        &mut self,
        node: &Node,
        unit: &str,
    ) -> (Vec<VolumeMount>, BTreeMap<PathBuf, String>) {
        let mut tmpfs = BTreeMap::new();
        let Kind::List(items) = &node.kind else {
            self.problem(node.at, Some(unit), Some("volumes"), "expected a list");
            return (Vec::new(), tmpfs);
        };
        let mut volumes = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("volumes[{i}]");
            let (source, target, read_only) = match &item.kind {
                Kind::Map(_) => {
                    let kind = item
                        .get("type")
                        .and_then(|t| self.text(t, Some(unit), &path));
                    match kind.as_deref() {
                        Some("bind" | "volume") => {}
                        Some("tmpfs") => {
                            if let Some((target, options)) = self.tmpfs_item(item, unit, &path) {
                                tmpfs.insert(target, options);
                            }
                            continue;
                        }
                        _ => {
                            self.problem(
                                item.at,
                                Some(unit),
                                Some(&path),
                                "type must be bind, volume or tmpfs",
                            );
                            continue;
                        }
                    }
                    if let Some(options) = item.get("volume")
                        && options.get("nocopy").and_then(|n| {
                            self.flag(n, Some(unit), &format!("{path}.volume.nocopy"))
                        }) == Some(true)
                    {
                        self.problem(
                            options.at,
                            Some(unit),
                            Some(&format!("{path}.volume.nocopy")),
                            "nocopy is not carried out by stevedore",
                        );
                    }
                    let source = item
                        .get("source")
                        .and_then(|s| self.text(s, Some(unit), &path));
                    let target = item
                        .get("target")
                        .and_then(|t| self.text(t, Some(unit), &path));
                    let read_only = item
                        .get("read_only")
                        .and_then(|r| self.text(r, Some(unit), &path))
                        .is_some_and(|r| r == "true");
                    match (source, target) {
                        (Some(source), Some(target)) => (source, target, read_only),
                        (None, Some(target)) if kind.as_deref() == Some("volume") => {
                            volumes.push(self.anonymous(unit, &target, read_only, item.at, &path));
                            continue;
                        }
                        _ => {
                            self.problem(
                                item.at,
                                Some(unit),
                                Some(&path),
                                "needs source and target",
                            );
                            continue;
                        }
                    }
                }
                _ => {
                    let Some(text) = self.text(item, Some(unit), &path) else {
                        continue;
                    };
                    let mut parts = text.splitn(3, ':');
                    let source = parts.next().unwrap_or_default().to_string();
                    let Some(target) = parts.next() else {
                        volumes.push(self.anonymous(unit, &source, false, item.at, &path));
                        continue;
                    };
                    let mode = parts.next().unwrap_or("rw");
                    (
                        source,
                        target.to_string(),
                        mode.split(',').any(|m| m == "ro"),
                    )
                }
            };
            let is_path =
                source.starts_with('/') || source.starts_with('.') || source.starts_with('~');
            if !is_path {
                let Some(declared) = self.project.volumes.get(&source) else {
                    let message = format!(
                        "refers to undefined volume {source:?}: declare it under the top-level volumes:"
                    );
                    self.problem(item.at, Some(unit), Some(&path), message);
                    continue;
                };
                let name = declared.name.clone();
                self.project.used_volumes.insert(source);
                volumes.push(VolumeMount {
                    source: name.into(),
                    container: target.into(),
                    read_only,
                });
                continue;
            }
            let host = match source.strip_prefix("~/") {
                Some(rest) => std::env::var_os("HOME")
                    .map(std::path::PathBuf::from)
                    .unwrap_or_default()
                    .join(rest),
                None if source.starts_with('.') => self.resolve(&source),
                None => source.clone().into(),
            };
            volumes.push(VolumeMount {
                source: host,
                container: target.into(),
                read_only,
            });
        }
        (volumes, tmpfs)
    }

    /// An anonymous volume (`- /data`, or `type: volume` without a source).
    /// Compose keeps it across a recreate by handing the old container's to
    /// the new one; here it is a named volume of the unit's own,
    /// `<project>_<service>_<path>`, labelled as the project's: kept across
    /// recreates, removed by `down -v`.
    fn anonymous(
        &mut self,
        unit: &str,
        target: &str,
        read_only: bool,
        at: At,
        path: &str,
    ) -> VolumeMount {
        let slug: String = target
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = format!("{}_{unit}_{}", self.project.name, slug.trim_matches('_'));
        let message = format!(
            "an anonymous volume: stevedore names it {name}, so that it outlives a recreate as compose's does; down -v removes it"
        );
        self.warn(at, Some(unit), Some(path), message);
        // Not a key a file can write (`:`), so it never meets a declared one.
        let key = format!("{unit}:{target}");
        self.project
            .volumes
            .insert(key.clone(), VolumeSpec::new(name.clone()));
        self.project.used_volumes.insert(key);
        VolumeMount {
            source: name.into(),
            container: target.into(),
            read_only,
        }
    }

    /// A `type: tmpfs` item: its target and options (`size=…,mode=…`).
    fn tmpfs_item(&mut self, item: &Node, unit: &str, path: &str) -> Option<(PathBuf, String)> {
        let Some(target) = item
            .get("target")
            .and_then(|t| self.text(t, Some(unit), path))
        else {
            self.problem(item.at, Some(unit), Some(path), "target is missing");
            return None;
        };
        let mut options = Vec::new();
        if let Some(settings) = item.get("tmpfs") {
            if let Some(size) = settings.get("size") {
                let field = format!("{path}.tmpfs.size");
                if let Some(bytes) = self.parsed(size, unit, &field, crate::spec::text::parse_size)
                {
                    options.push(format!("size={bytes}"));
                }
            }
            if let Some(mode) = settings.get("mode") {
                let field = format!("{path}.tmpfs.mode");
                if let Some(mode) = self.parsed(mode, unit, &field, |t| {
                    u32::from_str_radix(t, 8)
                        .map(|_| t.to_string())
                        .map_err(|_| format!("{t:?} is not an octal mode"))
                }) {
                    options.push(format!("mode={mode}"));
                }
            }
        }
        Some((PathBuf::from(target), options.join(",")))
    }
}
