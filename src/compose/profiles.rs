//! `profiles`: a service that lists profiles runs only when one of them is
//! active (`--profile`, else `COMPOSE_PROFILES`; `*` is every profile); the
//! others always run. An enabled service that needs a disabled one is an
//! error, as compose makes it (spec 15-profiles.md).

use super::interpolate::{Variables, interpolate};
use super::yaml::{At, Kind, Node};
use crate::manifest::ManifestProblem;

/// The active profiles: those given, else `COMPOSE_PROFILES`
/// (comma-separated), as compose reads them.
pub fn active(given: &[String], vars: &dyn Variables) -> Vec<String> {
    if !given.is_empty() {
        return given.to_vec();
    }
    vars.get("COMPOSE_PROFILES")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// A disabled service's name and its profiles.
struct Disabled {
    name: String,
    profiles: Vec<String>,
}

/// Takes the services none of whose profiles is active out of `root`, and
/// the `profiles` key out of the others; what is wrong, at its place.
pub fn select(root: &mut Node, active: &[String], vars: &dyn Variables) -> Vec<ManifestProblem> {
    let mut problems = Vec::new();
    let Kind::Map(top) = &mut root.kind else {
        return problems;
    };
    let Some((services_key, services)) = top.iter_mut().find(|(k, _)| k.text == "services") else {
        return problems;
    };
    let services_at = services_key.at;
    let Kind::Map(entries) = &mut services.kind else {
        return problems;
    };
    let mut disabled = Vec::new();
    let mut kept = Vec::new();
    for (key, mut service) in std::mem::take(entries) {
        let profiles = match &mut service.kind {
            Kind::Map(fields) => match fields.iter().position(|(k, _)| k.text == "profiles") {
                Some(index) => {
                    let (_, node) = fields.remove(index);
                    names(&node, &key.text, vars, &mut problems)
                }
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        let on = profiles.is_empty()
            || active
                .iter()
                .any(|a| a == "*" || profiles.iter().any(|p| p == a));
        if on {
            kept.push((key, service));
        } else {
            disabled.push(Disabled {
                name: key.text,
                profiles,
            });
        }
    }
    if kept.is_empty() && !disabled.is_empty() {
        let all: Vec<&str> = disabled
            .iter()
            .flat_map(|d| d.profiles.iter().map(String::as_str))
            .collect();
        problems.push(found(
            services_at,
            None,
            "services",
            format!(
                "no service is enabled: each has profiles, and none of them ({}) is active (--profile NAME or COMPOSE_PROFILES)",
                unique(all).join(", ")
            ),
        ));
    }
    for (key, service) in &kept {
        for (dependency, field, at) in references(service) {
            if let Some(off) = disabled.iter().find(|d| d.name == dependency) {
                let message = format!(
                    "service {:?} is disabled: none of its profiles ({}) is active (--profile NAME or COMPOSE_PROFILES)",
                    off.name,
                    off.profiles.join(", ")
                );
                problems.push(found(at, Some(&key.text), &field, message));
            }
        }
    }
    *entries = kept;
    problems
}

fn found(at: At, unit: Option<&str>, field: &str, message: String) -> ManifestProblem {
    ManifestProblem {
        file: String::new(),
        line: at.0,
        column: at.1,
        unit: unit.map(str::to_string),
        field: Some(field.to_string()),
        message,
    }
}

fn unique(mut names: Vec<&str>) -> Vec<&str> {
    names.sort_unstable();
    names.dedup();
    names
}

/// A `profiles` list's names, interpolated.
fn names(
    node: &Node,
    unit: &str,
    vars: &dyn Variables,
    problems: &mut Vec<ManifestProblem>,
) -> Vec<String> {
    let Kind::List(items) = &node.kind else {
        let message = format!(
            "expected a list of profile names, found {}",
            node.describe()
        );
        problems.push(found(node.at, Some(unit), "profiles", message));
        return Vec::new();
    };
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("profiles[{i}]");
        let Some(text) = item.text() else {
            let message = format!("expected a profile name, found {}", item.describe());
            problems.push(found(item.at, Some(unit), &field, message));
            continue;
        };
        match interpolate(text, vars) {
            Ok(done) if !done.text.trim().is_empty() => names.push(done.text.trim().to_string()),
            Ok(_) => problems.push(found(item.at, Some(unit), &field, "is empty".into())),
            Err(error) => problems.push(found(item.at, Some(unit), &field, error.to_string())),
        }
    }
    names
}

/// The services `service` needs: `depends_on`, `links`, `volumes_from`
/// and `service:NAME` in `network_mode`, `ipc`, `pid` and `cgroup`; with
/// the field that names each and where.
fn references(service: &Node) -> Vec<(String, String, At)> {
    let mut found = Vec::new();
    let Kind::Map(fields) = &service.kind else {
        return found;
    };
    for (key, value) in fields {
        let field = key.text.as_str();
        match (field, &value.kind) {
            ("depends_on", Kind::Map(entries)) => {
                for (name, _) in entries {
                    found.push((
                        name.text.clone(),
                        format!("depends_on.{}", name.text),
                        name.at,
                    ));
                }
            }
            ("depends_on" | "links" | "volumes_from", Kind::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let Some(text) = item.text() else { continue };
                    // `links: [db:alias]`, `volumes_from: [db:ro]`; a
                    // `container:x` is no service.
                    let name = text.split(':').next().unwrap_or_default();
                    if field == "volumes_from" && name == "container" {
                        continue;
                    }
                    found.push((name.to_string(), format!("{field}[{i}]"), item.at));
                }
            }
            ("network_mode" | "ipc" | "pid" | "cgroup", Kind::Scalar { text, .. }) => {
                if let Some(name) = text.strip_prefix("service:") {
                    found.push((name.to_string(), field.to_string(), value.at));
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
#[path = "profiles_tests.rs"]
mod tests;
