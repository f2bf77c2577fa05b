//! Two compose trees as one, by compose's merge rules (spec 13-merge.md,
//! compose-go `override/merge.go` and `uncity.go`): used for several `-f`
//! files and for `extends`.
//!
//! Mappings merge key by key, the later value winning; sequences append and
//! then keep one item per unique key (a port's address, a mount's target, an
//! environment variable's name), the later item in the earlier one's place;
//! `command`, `entrypoint` and `healthcheck.test` are replaced whole. The
//! nodes keep their positions, so what the walk finds wrong in a merged
//! value names the file and line that wrote it.

use super::interpolate::{Variables, interpolate};
use super::yaml::{Key, Kind, Node};
use crate::manifest::ManifestProblem;
use crate::spec::text::parse_port;

/// How a path's values merge when compose has a rule of its own for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// The later value replaces the earlier one whole.
    Replace,
    /// Both become `KEY=VALUE` lists (a mapping sorted by key), appended.
    Sequence,
    /// Both become mappings (a list's items as keys), merged.
    Mapping,
    /// `depends_on`: a list's items become `{condition: service_started}`.
    DependsOn,
    /// `build`: a string is `{context: …}`.
    Build,
    /// `logging`: options merge only under the same (or an unset) driver.
    Logging,
    /// `extra_hosts`: appended, items already there left out.
    Hosts,
}

/// What makes two items of a merged list the same item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unique {
    /// The text before `=`.
    KeyValue,
    /// The whole item.
    Whole,
    /// An `env_file`'s path.
    Path,
    /// A port's host address, published port, target and protocol.
    Port,
    /// A mount's (or a device's) target.
    Target,
    /// A secret's or config's target, else its source under this directory.
    Mount(&'static str),
}

fn rule(path: &[&str]) -> Option<Rule> {
    Some(match path {
        ["services", _, "command" | "entrypoint"] => Rule::Replace,
        ["services", _, "healthcheck", "test"] => Rule::Replace,
        ["services", _, "ulimits", _] => Rule::Replace,
        ["services", _, "build"] => Rule::Build,
        [
            "services",
            _,
            "build",
            "args" | "labels" | "additional_contexts",
        ] => Rule::Sequence,
        ["services", _, "build", "extra_hosts"] | ["services", _, "extra_hosts"] => Rule::Hosts,
        ["services", _, "depends_on"] => Rule::DependsOn,
        ["services", _, "networks" | "models"] => Rule::Mapping,
        ["services", _, "logging"] => Rule::Logging,
        [
            "services",
            _,
            "annotations" | "dns" | "dns_opt" | "dns_search" | "env_file" | "label_file"
            | "environment" | "labels" | "sysctls" | "tmpfs",
        ] => Rule::Sequence,
        ["services", _, "deploy", "labels"] | ["networks" | "volumes", _, "labels"] => {
            Rule::Sequence
        }
        _ => return None,
    })
}

fn unique(path: &[&str]) -> Option<Unique> {
    Some(match path {
        [
            "services",
            _,
            "environment" | "labels" | "annotations" | "sysctls" | "tmpfs" | "dns" | "dns_opt"
            | "dns_search" | "cap_add" | "cap_drop" | "links" | "profiles",
        ] => Unique::KeyValue,
        [
            "services",
            _,
            "build",
            "args" | "labels" | "additional_contexts" | "tags" | "platforms",
        ] => Unique::KeyValue,
        ["services", _, "deploy", "labels"] | ["networks", _, "labels"] => Unique::KeyValue,
        ["services", _, "networks", _, "aliases" | "link_local_ips"] => Unique::KeyValue,
        ["services", _, "expose"] => Unique::Whole,
        ["services", _, "env_file"] => Unique::Path,
        ["services", _, "ports"] => Unique::Port,
        ["services", _, "volumes" | "devices"] => Unique::Target,
        ["services", _, "secrets"] => Unique::Mount("/run/secrets"),
        ["services", _, "configs"] => Unique::Mount(""),
        _ => return None,
    })
}

/// Merges trees, gathering what cannot be merged (a list over a mapping).
pub struct Merge<'a> {
    /// What `${…}` reads, for the unique keys of list items.
    pub vars: &'a dyn Variables,
    /// Problems, at positions that still carry their file's index.
    pub problems: Vec<ManifestProblem>,
}

impl Merge<'_> {
    /// `over` merged over `base`, both whole files.
    pub fn files(&mut self, base: Node, over: Node) -> Node {
        self.value(base, over, &mut Vec::new())
    }

    /// Service `name`'s `over` merged over its `base` (what `extends` does).
    pub fn service(&mut self, name: &str, base: Node, over: Node) -> Node {
        let mut path = vec!["services".to_string(), name.to_string()];
        self.value(base, over, &mut path)
    }

    fn value(&mut self, base: Node, over: Node, path: &mut Vec<String>) -> Node {
        let names: Vec<&str> = path.iter().map(String::as_str).collect();
        let special = rule(&names);
        let unique = unique(&names);
        let merged = match special {
            Some(Rule::Replace) => return over,
            Some(Rule::Sequence) => {
                let at = over.at;
                let mut items = sequence(base);
                items.extend(sequence(over));
                Node {
                    at,
                    kind: Kind::List(items),
                }
            }
            Some(Rule::Mapping) => {
                let (base, over) = (mapping(base, None), mapping(over, None));
                self.maps(base, over, path)
            }
            Some(Rule::DependsOn) => {
                let (base, over) = (mapping(base, Some(())), mapping(over, Some(())));
                self.maps(base, over, path)
            }
            Some(Rule::Build) => {
                let (base, over) = (build(base), build(over));
                self.maps(base, over, path)
            }
            Some(Rule::Logging) => {
                let driver = |n: &Node| n.get("driver").and_then(Node::text).map(str::to_string);
                match (driver(&base), driver(&over)) {
                    (Some(a), Some(b)) if a != b => return over,
                    _ => self.generic(base, over, path),
                }
            }
            Some(Rule::Hosts) => {
                let at = over.at;
                let mut items = sequence(base);
                for item in sequence(over) {
                    if !items.iter().any(|i| i.text() == item.text()) {
                        items.push(item);
                    }
                }
                Node {
                    at,
                    kind: Kind::List(items),
                }
            }
            None => self.generic(base, over, path),
        };
        match (unique, merged.kind) {
            (Some(unique), Kind::List(items)) => Node {
                at: merged.at,
                kind: Kind::List(self.unicity(items, unique)),
            },
            (_, kind) => Node {
                at: merged.at,
                kind,
            },
        }
    }

    fn generic(&mut self, base: Node, over: Node, path: &mut Vec<String>) -> Node {
        match (&base.kind, &over.kind) {
            // An empty override keeps what was there, as compose-go does.
            (_, Kind::Null) => base,
            (Kind::Map(_), Kind::Map(_)) => self.maps(base, over, path),
            (Kind::List(_), Kind::List(_)) => {
                let at = over.at;
                let (Kind::List(mut items), Kind::List(more)) = (base.kind, over.kind) else {
                    unreachable!("matched above")
                };
                items.extend(more);
                Node {
                    at,
                    kind: Kind::List(items),
                }
            }
            (Kind::Map(_) | Kind::List(_), _) => {
                let message = format!(
                    "cannot override {}: {} over {}",
                    path.join("."),
                    over.describe(),
                    base.describe()
                );
                self.problems.push(ManifestProblem {
                    file: String::new(),
                    line: over.at.0,
                    column: over.at.1,
                    unit: service_of(path),
                    field: Some(path.iter().skip(2).cloned().collect::<Vec<_>>().join("."))
                        .filter(|f| !f.is_empty()),
                    message,
                });
                over
            }
            _ => over,
        }
    }

    fn maps(&mut self, base: Node, over: Node, path: &mut Vec<String>) -> Node {
        if !matches!((&base.kind, &over.kind), (Kind::Map(_), Kind::Map(_))) {
            // A string for a mapping, say: refused, or kept, as elsewhere.
            return self.generic(base, over, path);
        }
        let at = over.at;
        let (Kind::Map(mut entries), Kind::Map(more)) = (base.kind, over.kind) else {
            unreachable!("both are mappings")
        };
        for (key, value) in more {
            match entries.iter().position(|(k, _)| k.text == key.text) {
                None => entries.push((key, value)),
                Some(index) => {
                    let (_, earlier) = entries.remove(index);
                    path.push(key.text.clone());
                    let merged = self.value(earlier, value, path);
                    path.pop();
                    // The later key's place, for problems in what it set.
                    entries.insert(index, (key, merged));
                }
            }
        }
        Node {
            at,
            kind: Kind::Map(entries),
        }
    }

    fn unicity(&self, items: Vec<Node>, unique: Unique) -> Vec<Node> {
        let mut kept: Vec<(Option<String>, Node)> = Vec::new();
        for item in items {
            let key = self.key(&item, unique);
            match kept.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
                Some(slot) => slot.1 = item,
                None => kept.push((key, item)),
            }
        }
        kept.into_iter().map(|(_, item)| item).collect()
    }

    /// The text of `node`, interpolated when it can be (the walk reports
    /// what cannot be, where it reads it).
    fn text(&self, node: Option<&Node>) -> Option<String> {
        let text = node?.text()?;
        Some(interpolate(text, self.vars).map_or_else(|_| text.to_string(), |done| done.text))
    }

    /// What makes `item` the same as another; `None` for an item that
    /// has no such key (it is kept, for the walk to judge).
    fn key(&self, item: &Node, unique: Unique) -> Option<String> {
        let map = matches!(item.kind, Kind::Map(_));
        Some(match unique {
            Unique::KeyValue => {
                let whole = self.text(Some(item))?;
                whole
                    .split_once('=')
                    .map_or(whole.clone(), |(k, _)| k.into())
            }
            Unique::Whole => self.text(Some(item))?,
            Unique::Path if map => self.text(item.get("path"))?,
            Unique::Path => self.text(Some(item))?,
            Unique::Port if map => {
                let field = |k: &str, default: &str| match item.get(k) {
                    Some(node) => self.text(Some(node)).unwrap_or_default(),
                    None => default.to_string(),
                };
                format!(
                    "{}:{}:{}/{}",
                    field("host_ip", "0.0.0.0"),
                    field("published", ""),
                    self.text(item.get("target"))?,
                    field("protocol", "tcp")
                )
            }
            Unique::Port => {
                let whole = self.text(Some(item))?;
                match parse_port(whole.trim()) {
                    Ok(port) => format!(
                        "{}:{}:{}/{}",
                        port.host_ip.as_deref().unwrap_or("0.0.0.0"),
                        match port.external {
                            0 => String::new(),
                            published => published.to_string(),
                        },
                        port.internal,
                        port.protocol
                    ),
                    Err(_) => whole,
                }
            }
            Unique::Target if map => clean(&self.text(item.get("target"))?),
            Unique::Target => {
                let whole = self.text(Some(item))?;
                let parts: Vec<&str> = whole.split(':').collect();
                clean(parts.get(1).copied().unwrap_or(&whole))
            }
            Unique::Mount(dir) if map => match item.get("target") {
                Some(target) => self.text(Some(target))?,
                None => format!("{dir}/{}", self.text(item.get("source"))?),
            },
            Unique::Mount(dir) => format!("{dir}/{}", self.text(Some(item))?),
        })
    }
}

/// A path without a trailing `/`, as compose-go cleans mount targets.
fn clean(path: &str) -> String {
    match path.trim_end_matches('/') {
        "" if path.starts_with('/') => "/".to_string(),
        trimmed => trimmed.to_string(),
    }
}

fn service_of(path: &[String]) -> Option<String> {
    match path {
        [services, name, ..] if services == "services" => Some(name.clone()),
        _ => None,
    }
}

/// `$` doubled, so that a key written as a mapping key (which compose
/// never interpolates) reads the same once it is a list item's text.
fn escaped(text: &str) -> String {
    text.replace('$', "$$")
}

/// A `KEY=VALUE` list of a mapping (sorted by key, as compose-go sorts it;
/// a null value is the bare key), a string's one item, or the list itself.
fn sequence(node: Node) -> Vec<Node> {
    match node.kind {
        Kind::List(items) => items,
        Kind::Null => Vec::new(),
        Kind::Scalar { .. } => vec![node],
        Kind::Map(entries) => {
            let mut items: Vec<Node> = Vec::new();
            for (key, value) in entries {
                let name = escaped(&key.text);
                let texts: Vec<(String, (usize, usize))> = match value.kind {
                    Kind::Null => vec![(name, key.at)],
                    Kind::Scalar { text, .. } => vec![(format!("{name}={text}"), value.at)],
                    Kind::List(values) => values
                        .into_iter()
                        .map(|v| (format!("{name}={}", v.text().unwrap_or_default()), v.at))
                        .collect(),
                    // Left for the walk to refuse, at its place.
                    Kind::Map(_) => {
                        items.push(Node {
                            at: value.at,
                            kind: value.kind,
                        });
                        continue;
                    }
                };
                for (text, at) in texts {
                    items.push(Node {
                        at,
                        kind: Kind::Scalar { text, quoted: true },
                    });
                }
            }
            items.sort_by(|a, b| a.text().cmp(&b.text()));
            items
        }
    }
}

/// A mapping of a list's names (`depends_on` items get compose's default
/// condition when `depends` is given), or the mapping itself.
fn mapping(node: Node, depends: Option<()>) -> Node {
    let Kind::List(items) = node.kind else {
        return node;
    };
    let entries = items
        .into_iter()
        .map(|item| {
            let at = item.at;
            let text = item.text().unwrap_or_default().to_string();
            let value = match depends {
                None => Node {
                    at,
                    kind: Kind::Null,
                },
                Some(()) => {
                    let plain = |text: &str| Node {
                        at,
                        kind: Kind::Scalar {
                            text: text.to_string(),
                            quoted: false,
                        },
                    };
                    let key = |text: &str| Key {
                        text: text.to_string(),
                        at,
                    };
                    Node {
                        at,
                        kind: Kind::Map(vec![
                            (key("condition"), plain("service_started")),
                            (key("required"), plain("true")),
                        ]),
                    }
                }
            };
            (Key { text, at }, value)
        })
        .collect();
    Node {
        at: node.at,
        kind: Kind::Map(entries),
    }
}

/// `build: dir` as `build: {context: dir}`.
fn build(node: Node) -> Node {
    match node.kind {
        Kind::Scalar { .. } => Node {
            at: node.at,
            kind: Kind::Map(vec![(
                Key {
                    text: "context".into(),
                    at: node.at,
                },
                node,
            )]),
        },
        _ => node,
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
