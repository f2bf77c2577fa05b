//! `extends`: a service written over another one, of the same file or of
//! another (`extends: base`, `extends: {service, file}`), merged as compose
//! merges files, recursively; a cycle, an unknown service and an unreadable
//! file are refused where they are written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::interpolate::{Variables, interpolate};
use super::merge::Merge;
use super::sources::{Sources, Unreadable};
use super::yaml::{At, Key, Kind, Node};
use crate::manifest::ManifestProblem;

/// Resolves `extends`, reading the files it names once each.
pub struct Extends<'a> {
    /// The files read, which this adds to.
    pub sources: &'a mut Sources,
    /// What `${…}` reads (`extends` is interpolated, as every value).
    pub vars: &'a dyn Variables,
    /// Problems at positions that carry their file's index.
    pub problems: Vec<ManifestProblem>,
    /// The services of each file read for `extends`, by its path.
    files: HashMap<PathBuf, (usize, Vec<(Key, Node)>)>,
}

/// One step of an `extends` chain: the service, its file, its `extends`.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    file: usize,
    service: String,
    at: At,
}

impl<'a> Extends<'a> {
    /// Nothing read yet.
    pub fn new(sources: &'a mut Sources, vars: &'a dyn Variables) -> Self {
        Extends {
            sources,
            vars,
            problems: Vec::new(),
            files: HashMap::new(),
        }
    }

    /// `root` (file `file`'s tree) with every service's `extends` applied
    /// and removed.
    pub fn apply(&mut self, root: &mut Node, file: usize) {
        let Kind::Map(top) = &mut root.kind else {
            return;
        };
        let Some((_, services)) = top.iter_mut().find(|(k, _)| k.text == "services") else {
            return;
        };
        let Kind::Map(entries) = &services.kind else {
            return;
        };
        let snapshot = entries.clone();
        // A file that `extends` names again (itself, in a cycle through
        // another file) is this one.
        if let Some(path) = self.sources.path(file) {
            self.files
                .entry(path.to_path_buf())
                .or_insert_with(|| (file, snapshot.clone()));
        }
        let resolved: Vec<(Key, Node)> = snapshot
            .iter()
            .map(|(key, node)| {
                let done = self
                    .resolve(&key.text, &snapshot, file, &mut Vec::new())
                    .unwrap_or_else(|| node.clone());
                (key.clone(), done)
            })
            .collect();
        services.kind = Kind::Map(resolved);
    }

    fn problem(&mut self, at: At, unit: &str, field: &str, message: String) {
        self.problems.push(ManifestProblem {
            file: String::new(),
            line: at.0,
            column: at.1,
            unit: Some(unit.to_string()),
            field: Some(field.to_string()),
            message,
        });
    }

    fn text(&mut self, node: &Node, unit: &str, field: &str) -> Option<String> {
        let Some(text) = node.text() else {
            let message = format!("expected a string, found {}", node.describe());
            self.problem(node.at, unit, field, message);
            return None;
        };
        match interpolate(text, self.vars) {
            Ok(done) => Some(done.text),
            Err(error) => {
                self.problem(node.at, unit, field, error.to_string());
                None
            }
        }
    }

    /// Service `name` of `services` (file `file`'s) with its `extends`
    /// applied; `None` when it cannot be (the problem is recorded).
    fn resolve(
        &mut self,
        name: &str,
        services: &[(Key, Node)],
        file: usize,
        chain: &mut Vec<Step>,
    ) -> Option<Node> {
        let (_, service) = services.iter().find(|(k, _)| k.text == name)?;
        let Kind::Map(entries) = &service.kind else {
            return Some(service.clone());
        };
        let Some((key, extends)) = entries.iter().find(|(k, _)| k.text == "extends") else {
            return Some(service.clone());
        };
        let step = Step {
            file,
            service: name.to_string(),
            at: key.at,
        };
        if let Some(start) = chain
            .iter()
            .position(|s| s.file == step.file && s.service == step.service)
        {
            let mut names: Vec<String> = chain[start..]
                .iter()
                .map(|s| format!("{} ({})", s.service, self.sources.name(s.file)))
                .collect();
            names.push(format!("{} ({})", name, self.sources.name(file)));
            let first = chain[start].clone();
            let message = format!("makes a cycle: {}", names.join(" extends "));
            self.problem(first.at, &first.service, "extends", message);
            return None;
        }
        let (reference, other, reference_at) = match &extends.kind {
            Kind::Map(_) => {
                let Some(service_node) = extends.get("service") else {
                    self.problem(extends.at, name, "extends.service", "is missing".into());
                    return None;
                };
                let reference = self.text(service_node, name, "extends.service")?;
                let other = match extends.get("file") {
                    Some(node) => Some((self.text(node, name, "extends.file")?, node.at)),
                    None => None,
                };
                if let Some((k, _)) = entries_of(extends).iter().find(|(k, _)| {
                    !matches!(k.text.as_str(), "service" | "file") && !k.text.starts_with("x-")
                }) {
                    let field = format!("extends.{}", k.text);
                    self.problem(
                        k.at,
                        name,
                        &field,
                        "is not an extends key (service, file)".into(),
                    );
                }
                (reference, other, service_node.at)
            }
            _ => (self.text(extends, name, "extends")?, None, extends.at),
        };
        chain.push(step);
        let base = match other {
            None => {
                if !services.iter().any(|(k, _)| k.text == reference) {
                    let message = format!(
                        "service {reference:?} is not defined in {}",
                        self.sources.name(file)
                    );
                    self.problem(reference_at, name, "extends", message);
                    chain.pop();
                    return None;
                }
                self.resolve(&reference, services, file, chain)
            }
            Some((path, at)) => {
                self.other_file(name, &reference, reference_at, file, &path, at, chain)
            }
        };
        chain.pop();
        let base = base?;
        let own = Node {
            at: service.at,
            kind: Kind::Map(
                entries
                    .iter()
                    .filter(|(k, _)| k.text != "extends")
                    .cloned()
                    .collect(),
            ),
        };
        let mut merge = Merge {
            vars: self.vars,
            problems: Vec::new(),
        };
        let merged = merge.service(name, base, own);
        self.problems.extend(merge.problems);
        Some(merged)
    }

    /// Service `reference` of the file at `path` (written in file `file`),
    /// resolved in that file.
    #[allow(clippy::too_many_arguments)]
    fn other_file(
        &mut self,
        name: &str,
        reference: &str,
        reference_at: At,
        file: usize,
        path: &str,
        at: At,
        chain: &mut Vec<Step>,
    ) -> Option<Node> {
        let full = self.sources.base(file).join(path);
        let full = std::fs::canonicalize(&full).unwrap_or(full);
        if !self.files.contains_key(&full) {
            let shown = self.sources.shown(file, path);
            match self.sources.read_extended(&full, &shown) {
                Ok((index, mut root)) => {
                    let services = match root.get("services").map(|s| &s.kind) {
                        Some(Kind::Map(_)) => {
                            rebase(&mut root, self.sources.base(index), self.vars);
                            match root.get("services").map(|s| s.kind.clone()) {
                                Some(Kind::Map(entries)) => entries,
                                _ => Vec::new(),
                            }
                        }
                        _ => Vec::new(),
                    };
                    self.files.insert(full.clone(), (index, services));
                }
                Err(Unreadable::Io(error)) => {
                    let message = format!("cannot read {shown}: {error}");
                    self.problem(at, name, "extends.file", message);
                    return None;
                }
                Err(Unreadable::Invalid(problem)) => {
                    self.problems.push(problem);
                    return None;
                }
            }
        }
        let (index, services) = self.files.get(&full).cloned()?;
        if !services.iter().any(|(k, _)| k.text == reference) {
            let message = format!(
                "service {reference:?} is not defined in {}",
                self.sources.name(index)
            );
            self.problem(reference_at, name, "extends.service", message);
            return None;
        }
        self.resolve(reference, &services, index, chain)
    }
}

/// A mapping's entries; none for anything else.
fn entries_of(node: &Node) -> &[(Key, Node)] {
    match &node.kind {
        Kind::Map(entries) => entries,
        _ => &[],
    }
}

/// The relative paths of `root`'s services made absolute from `dir`: the
/// walk reads every path from the project directory, and a file that
/// `extends` reads has its own (compose-go `ResolveRelativePaths`).
fn rebase(root: &mut Node, dir: &Path, vars: &dyn Variables) {
    let Kind::Map(top) = &mut root.kind else {
        return;
    };
    let Some((_, services)) = top.iter_mut().find(|(k, _)| k.text == "services") else {
        return;
    };
    let Kind::Map(services) = &mut services.kind else {
        return;
    };
    for (_, service) in services.iter_mut() {
        let Kind::Map(entries) = &mut service.kind else {
            continue;
        };
        for (key, value) in entries.iter_mut() {
            match key.text.as_str() {
                "build" => match &mut value.kind {
                    Kind::Scalar { .. } => absolute(value, dir, vars),
                    Kind::Map(build) => {
                        for (k, v) in build.iter_mut() {
                            if k.text == "context" {
                                absolute(v, dir, vars);
                            }
                        }
                    }
                    _ => {}
                },
                "env_file" | "label_file" => each(value, |item| match &mut item.kind {
                    Kind::Map(entries) => {
                        for (k, v) in entries.iter_mut() {
                            if k.text == "path" {
                                absolute(v, dir, vars);
                            }
                        }
                    }
                    _ => absolute(item, dir, vars),
                }),
                "volumes" => each(value, |item| match &mut item.kind {
                    Kind::Map(entries) => {
                        let bind = entries
                            .iter()
                            .any(|(k, v)| k.text == "type" && v.text() == Some("bind"));
                        for (k, v) in entries.iter_mut() {
                            if bind && k.text == "source" {
                                absolute(v, dir, vars);
                            }
                        }
                    }
                    _ => short_volume(item, dir, vars),
                }),
                _ => {}
            }
        }
    }
}

/// `f` on a list's items, or on the node itself.
fn each(node: &mut Node, mut f: impl FnMut(&mut Node)) {
    match &mut node.kind {
        Kind::List(items) => items.iter_mut().for_each(f),
        _ => f(node),
    }
}

/// `node`'s path (interpolated) from `dir` when relative; `$` doubled so
/// that the walk's interpolation leaves it as it is.
fn absolute(node: &mut Node, dir: &Path, vars: &dyn Variables) {
    let Some(text) = node.text() else {
        return;
    };
    let Ok(done) = interpolate(text, vars) else {
        return; // the walk says what is wrong with it
    };
    let path = Path::new(&done.text);
    if path.is_absolute() || done.text.starts_with('~') || done.text.contains("://") {
        return;
    }
    let joined: PathBuf = dir.join(path).components().collect();
    node.kind = Kind::Scalar {
        text: joined.display().to_string().replace('$', "$$"),
        quoted: true,
    };
}

/// A short volume `./src:/dst[:ro]` with its source from `dir`.
fn short_volume(node: &mut Node, dir: &Path, vars: &dyn Variables) {
    let Some(text) = node.text() else {
        return;
    };
    let Ok(done) = interpolate(text, vars) else {
        return;
    };
    let Some((source, rest)) = done.text.split_once(':') else {
        return;
    };
    if !source.starts_with('.') {
        return; // absolute, from home, or a named volume
    }
    let joined: PathBuf = dir.join(source).components().collect();
    node.kind = Kind::Scalar {
        text: format!("{}:{rest}", joined.display()).replace('$', "$$"),
        quoted: true,
    };
}

#[cfg(test)]
#[path = "extends_tests.rs"]
mod tests;
