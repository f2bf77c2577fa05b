//! Manifests: a namespace's units declared in TOML, read with every problem reported at once.
//!
//! The format speaks Docker's vocabulary (the strings of [`crate::spec::text`]):
//!
//! ```
//! let manifest = stevedore::manifest::parse_manifest(
//!     r#"
//! namespace = "demo"
//!
//! [defaults]
//! restart = "on-failure:5"
//!
//! [[unit]]
//! name = "web"
//! image = "busybox:latest"
//! command = ["httpd", "-f", "-p", "8080"]
//! ports = ["127.0.0.1:18080:8080"]
//! memory = "64m"
//! "#,
//!     "units.toml",
//! )
//! .unwrap();
//! assert_eq!(manifest.units[0].memory, Some(64 << 20));
//! ```
//!
//! A manifest with problems is refused with all of them, each with its file,
//! line and column, unit and field:
//! `units.toml:12:10: unit "web": memory: "64q" is not a size …`.
//!
//! A manifest read without problems keeps where each unit's fields were
//! written, so that a check made later (against the engine, say) can point
//! at them: [`Manifest::problem`] builds a [`ManifestProblem`] at the line and
//! column of a unit's field.

mod fields;
mod health;
mod locate;
mod parse;
mod policy;
mod suggest;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bad;

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use toml_edit::Document;

use self::fields::Found;
use self::locate::Lines;
pub use self::locate::Locations;
use crate::spec::UnitSpec;

/// A manifest that was read without problems.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The namespace every unit belongs to.
    pub namespace: String,
    /// The units, in the order the manifest declares them, with the defaults applied.
    pub units: Vec<UnitSpec>,
    /// The file as it was named to the reader, for `file:line:column`.
    pub file: String,
    /// Where each unit's fields were written ([`Manifest::locate`],
    /// [`Manifest::problem`]); empty for a manifest built in code.
    pub locations: Locations,
}

/// One thing wrong with a manifest, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestProblem {
    /// The file as it was named to the reader.
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// The unit the problem is in: its name, or `#3` for the third unit when
    /// its name could not be read; `None` outside units.
    pub unit: Option<String>,
    /// The key path: `memory`, `ports[1]`, `backoff.factor`, `defaults.restart`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(unit) = &self.unit {
            write!(f, "unit \"{unit}\": ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A manifest that cannot be used, with every problem found in it, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", lines(.problems))]
pub struct ManifestError {
    /// The problems, ordered by their position in the file.
    pub problems: Vec<ManifestProblem>,
}

fn lines(problems: &[ManifestProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// Reads a manifest from `text`; `file` names it in problems.
pub fn parse_manifest(text: &str, file: &str) -> Result<Manifest, ManifestError> {
    let mut found = Vec::new();
    let manifest = match Document::parse(text) {
        Ok(document) => parse::walk(text, &document, &mut found),
        Err(error) => {
            let message = error.message().lines().next().unwrap_or("invalid TOML");
            found.push(Found {
                offset: error.span().map_or(0, |span| span.start),
                unit: None,
                field: None,
                message: message.to_string(),
            });
            return Err(located(text, file, found));
        }
    };
    if found.is_empty() {
        Ok(Manifest {
            file: file.to_string(),
            ..manifest
        })
    } else {
        Err(located(text, file, found))
    }
}

/// Reads the manifest in the file at `path`. A file that cannot be read is
/// one problem at line 1, column 1, naming the file and the system's error.
pub fn load_manifest(path: &Path) -> Result<Manifest, ManifestError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_manifest(&text, &file),
        Err(error) => Err(ManifestError {
            problems: vec![ManifestProblem {
                message: format!("cannot read {file}: {error}"),
                file,
                line: 1,
                column: 1,
                unit: None,
                field: None,
            }],
        }),
    }
}

/// The problems in file order, each once, with lines and columns.
fn located(text: &str, file: &str, mut found: Vec<Found>) -> ManifestError {
    found.sort_by_key(|problem| problem.offset);
    let mut seen = HashSet::new();
    found.retain(|problem| seen.insert(problem.clone()));
    let lines = Lines::new(text);
    let problems = found
        .into_iter()
        .map(|problem| {
            let (line, column) = lines.position(problem.offset);
            ManifestProblem {
                file: file.to_string(),
                line,
                column,
                unit: problem.unit,
                field: problem.field,
                message: problem.message,
            }
        })
        .collect();
    ManifestError { problems }
}

/// Line and column (in characters), both from 1, of the byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    Lines::new(text).position(offset)
}
