//! A service's `env_file`s: read as compose reads `.env` files, under what
//! its `environment` sets.

use std::collections::BTreeMap;

use super::services::Walk;
use super::yaml::{Kind, Node};

/// Whether an `environment` node (list or mapping) sets `key`.
pub(super) fn declares(environment: &Node, key: &str) -> bool {
    match &environment.kind {
        Kind::Map(entries) => entries.iter().any(|(k, _)| k.text == key),
        Kind::List(items) => items.iter().any(|item| {
            item.text()
                .is_some_and(|t| t.split_once('=').map_or(t, |(k, _)| k) == key)
        }),
        _ => false,
    }
}

impl Walk<'_> {
    /// `env_file`: a path, a list of paths, or `{path, required}` items,
    /// relative to the compose file; read as compose reads `.env` files,
    /// later files over earlier ones. A missing file is an error unless
    /// `required: false`.
    pub(super) fn env_files(&mut self, node: &Node, unit: &str) -> BTreeMap<String, String> {
        let items: Vec<&Node> = match &node.kind {
            Kind::List(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut env = BTreeMap::new();
        for (i, item) in items.into_iter().enumerate() {
            let field = format!("env_file[{i}]");
            let (path, required) = match &item.kind {
                Kind::Map(_) => {
                    let Some(path) = item.get("path") else {
                        self.problem(item.at, Some(unit), Some(&field), "path is missing");
                        continue;
                    };
                    let required = item
                        .get("required")
                        .and_then(|r| self.text(r, Some(unit), &format!("{field}.required")))
                        .is_none_or(|r| r != "false");
                    (self.text(path, Some(unit), &field), required)
                }
                _ => (self.text(item, Some(unit), &field), true),
            };
            let Some(path) = path else { continue };
            let file = self.resolve(&path);
            let text = match std::fs::read_to_string(&file) {
                Ok(text) => text,
                Err(_) if !required => continue,
                Err(error) => {
                    let message = format!("cannot read {}: {error}", file.display());
                    self.problem(item.at, Some(unit), Some(&field), message);
                    continue;
                }
            };
            match super::interpolate::parse_env_file_with(&text, self.vars) {
                Ok(pairs) => env.extend(pairs),
                Err(error) => {
                    let message = format!("{}: {error}", file.display());
                    self.problem(item.at, Some(unit), Some(&field), message);
                }
            }
        }
        env
    }
}
