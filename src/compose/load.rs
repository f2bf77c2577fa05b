//! A compose project's files as the one tree the walk reads: each file
//! parsed and its `extends` applied, the files merged in order, then the
//! services whose profiles are not active left out — compose-go's order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::extends::Extends;
use super::merge::Merge;
use super::sources::Sources;
use super::yaml::Node;
use super::{Compose, profiles, variables, walk_tree};
use crate::manifest::{LoadError, ManifestError, ManifestProblem};

/// How a project is read beyond its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `-p`: the project name, over every name the files give.
    pub project: Option<String>,
    /// `--profile`: the active profiles (none given: `COMPOSE_PROFILES`).
    pub profiles: Vec<String>,
}

/// Reads the compose files at `paths`, merged in order (`-f a -f b`); the
/// first one's directory is the project's: its `.env`, its name, where
/// every file's relative paths start.
pub fn read_compose_files(paths: &[PathBuf], options: &Options) -> Result<Compose, LoadError> {
    let Some(first) = paths.first() else {
        return Err(LoadError::Invalid(ManifestError {
            problems: vec![ManifestProblem {
                file: String::new(),
                line: 1,
                column: 1,
                unit: None,
                field: None,
                message: "no compose file given".into(),
            }],
        }));
    };
    let mut files = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| LoadError::Io {
            file: name.clone(),
            error,
        })?;
        files.push((name, text));
    }
    let dir = first
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let vars = variables(&dir).map_err(|message| {
        LoadError::Invalid(ManifestError {
            problems: vec![ManifestProblem {
                file: files[0].0.clone(),
                line: 1,
                column: 1,
                unit: None,
                field: None,
                message,
            }],
        })
    })?;
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    parse_compose_files(&files, &dir, &vars, options).map_err(LoadError::Invalid)
}

/// Reads compose files given as `(name, text)`, merged in order; `dir` is
/// the project directory, `vars` what `${VAR}` reads (and where
/// `COMPOSE_PROFILES` is looked up when no profile is given).
pub fn parse_compose_files(
    files: &[(&str, &str)],
    dir: &Path,
    vars: &HashMap<String, String>,
    options: &Options,
) -> Result<Compose, ManifestError> {
    let first = files.first().map_or("", |(name, _)| *name);
    let mut sources = Sources::new(first, dir);
    let mut problems = Vec::new();
    let mut root: Option<Node> = None;
    for (index, (name, text)) in files.iter().enumerate() {
        let tree = match index {
            0 => sources.parse_as(0, text).map(|tree| (0, tree)),
            _ => sources.parse_more(text, name),
        };
        let (own, mut tree) = match tree {
            Ok(tree) => tree,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        // Extended services come from this file alone, as in compose-go.
        let mut extends = Extends::new(&mut sources, vars);
        extends.apply(&mut tree, own);
        problems.extend(extends.problems);
        root = Some(match root {
            None => tree,
            Some(base) => {
                let mut merge = Merge {
                    vars,
                    problems: Vec::new(),
                };
                let merged = merge.files(base, tree);
                problems.extend(merge.problems);
                merged
            }
        });
    }
    if let Some(root) = &mut root {
        let active = profiles::active(&options.profiles, vars);
        problems.extend(profiles::select(root, &active, vars));
    }
    match root {
        Some(root) if problems.is_empty() => {
            walk_tree(&root, &sources, dir, vars, options.project.as_deref())
        }
        _ => {
            problems.sort_by_key(|p| (p.line, p.column));
            for problem in &mut problems {
                sources.place(problem);
            }
            problems.dedup();
            Err(ManifestError { problems })
        }
    }
}
