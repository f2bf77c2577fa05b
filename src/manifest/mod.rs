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
//! `units.toml:12:10: unit "web": memory: "64q" is not a size …`. A
//! duplicate key or a number too large for TOML is one of them, not the end
//! of the reading (see `recover`); broken TOML syntax still is.
//!
//! A file that cannot be read at all (missing, a directory, not UTF-8) is
//! not a manifest with problems: [`read_manifest`] says so with
//! [`LoadError::Io`].
//!
//! A manifest read without problems keeps where each unit's fields were
//! written, so that a check made later (against the engine, say) can point
//! at them: [`Manifest::problem`] builds a [`ManifestProblem`] at the line and
//! column of a unit's field.

mod fields;
mod health;
mod locate;
mod options;
mod parse;
mod policy;
mod recover;
mod resources;
mod suggest;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bad;
#[cfg(test)]
mod tests_recover;

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::path::Path;

use self::fields::Found;
use self::locate::Lines;
pub use self::locate::{LINES_PER_FILE, Locations, in_file, of_file};
use crate::spec::{Resources, UnitSpec};

/// A manifest that was read without problems.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The namespace every unit belongs to.
    pub namespace: String,
    /// The units, in the order the manifest declares them, with the defaults applied.
    pub units: Vec<UnitSpec>,
    /// The networks and named volumes the units use, made sure of before
    /// any unit is added.
    pub resources: Resources,
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
#[error("{}", self.lines().join("\n"))]
pub struct ManifestError {
    /// The problems, ordered by their position in the file.
    pub problems: Vec<ManifestProblem>,
}

impl ManifestError {
    /// Each problem as the line a person reads (`units.toml:4:9: unit "web": …`).
    pub fn lines(&self) -> Vec<String> {
        self.problems.iter().map(ToString::to_string).collect()
    }
}

/// Why the manifest in a file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read: it is missing, a directory, not
    /// readable, or not UTF-8 text. Shown as one line: `cannot read
    /// units.toml: No such file or directory`.
    #[error("cannot read {file}: {}", describe(.error))]
    Io {
        /// The file as it was named to the reader.
        file: String,
        /// What the system said (for text that is not UTF-8: where it stops being).
        error: io::Error,
    },
    /// The file was read, and the manifest in it has problems.
    #[error(transparent)]
    Invalid(#[from] ManifestError),
}

/// The system's words for `error`, without the `(os error 2)` that follows them.
fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    match error.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .map_or_else(|| text.clone(), str::to_string),
        None => text,
    }
}

/// Reads a manifest from `text`; `file` names it in problems.
pub fn parse_manifest(text: &str, file: &str) -> Result<Manifest, ManifestError> {
    let recovered = recover::parse(text);
    let mut found = Vec::new();
    let manifest = match &recovered.document {
        Ok(document) => Some(parse::walk(document.raw(), document.as_table(), &mut found)),
        Err(error) => {
            let message = error.message().lines().next().unwrap_or("invalid TOML");
            found.push(Found {
                offset: error.span().map_or(0, |span| span.start),
                unit: None,
                field: None,
                message: message.to_string(),
            });
            None
        }
    };
    recovered.finish(&mut found);
    match manifest {
        Some(manifest) if found.is_empty() && !recovered.repaired() => Ok(Manifest {
            file: file.to_string(),
            ..manifest
        }),
        _ => Err(located(text, file, found)),
    }
}

/// Reads the manifest in the file at `path`: an I/O error when the file
/// cannot be read as text, else the manifest or its problems.
pub fn read_manifest(path: &Path) -> Result<Manifest, LoadError> {
    let file = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => return Err(LoadError::Io { file, error }),
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let bytes = error.as_bytes();
            // The valid prefix is text: where the bad byte is, in its terms.
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            let (line, column) = position(prefix, valid);
            let message = format!(
                "it is not UTF-8 text (byte {:#04x} at line {line}, column {column})",
                bytes[valid]
            );
            let error = io::Error::new(io::ErrorKind::InvalidData, message);
            return Err(LoadError::Io { file, error });
        }
    };
    parse_manifest(&text, &file).map_err(LoadError::Invalid)
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
