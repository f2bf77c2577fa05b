//! A service's `ports` and `volumes`, short and long syntax, as the unit's
//! port mappings and bind mounts.

use super::services::Walk;
use super::yaml::{Kind, Node};
use crate::spec::text::parse_port;
use crate::spec::{PortMapping, Protocol, VolumeMount};

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
                _ => {
                    if let Some(port) = self.parsed(item, unit, &path, parse_port) {
                        ports.push(port);
                    }
                }
            }
        }
        ports
    }

    pub(super) fn volumes(&mut self, node: &Node, unit: &str) -> Vec<VolumeMount> {
        let Kind::List(items) = &node.kind else {
            self.problem(node.at, Some(unit), Some("volumes"), "expected a list");
            return Vec::new();
        };
        let mut volumes = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("volumes[{i}]");
            let (source, target, read_only) = match &item.kind {
                Kind::Map(_) => {
                    let kind = item
                        .get("type")
                        .and_then(|t| self.text(t, Some(unit), &path));
                    if kind.as_deref() != Some("bind") {
                        self.problem(
                            item.at,
                            Some(unit),
                            Some(&path),
                            "only type: bind is carried out yet (named volumes and tmpfs are not)",
                        );
                        continue;
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
                        self.problem(
                            item.at,
                            Some(unit),
                            Some(&path),
                            "an anonymous volume is not carried out yet; give host:container",
                        );
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
                self.problem(
                    item.at,
                    Some(unit),
                    Some(&path),
                    format!("{source:?} is a named volume; named volumes are not carried out yet"),
                );
                continue;
            }
            let host = match source.strip_prefix("~/") {
                Some(rest) => std::env::var_os("HOME")
                    .map(std::path::PathBuf::from)
                    .unwrap_or_default()
                    .join(rest),
                None if source.starts_with('.') => self.dir.join(&source),
                None => source.clone().into(),
            };
            volumes.push(VolumeMount {
                host,
                container: target.into(),
                read_only,
            });
        }
        volumes
    }
}
