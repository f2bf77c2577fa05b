//! The files a compose project is read from (its `-f` files and the files
//! `extends` names), each tree's positions marked with its file's index so
//! that a problem found anywhere names the file that wrote it.

use std::path::{Path, PathBuf};

use super::yaml::{self, Kind, Node};
use crate::manifest::{ManifestProblem, in_file, of_file};

/// Why a file `extends` names gives no tree.
#[derive(Debug)]
pub enum Unreadable {
    /// It cannot be read.
    Io(std::io::Error),
    /// It is not YAML, or not a mapping (the problem names it).
    Invalid(ManifestProblem),
}

/// One file read.
#[derive(Debug, Clone)]
struct Source {
    /// As problems name it: as given, or joined to its includer's directory.
    name: String,
    /// Where its relative paths start (compose: the project directory for
    /// every `-f` file, a file's own directory for one `extends` reads).
    base: PathBuf,
    /// `base` as the user would write it, to name the files it refers to.
    shown: PathBuf,
    /// Its canonical path when known: a file `extends` names again is the
    /// same file (and the same services, for cycles).
    path: Option<PathBuf>,
}

/// The files read so far, by index (0 is the first `-f` file).
#[derive(Debug, Clone)]
pub struct Sources {
    files: Vec<Source>,
}

impl Sources {
    /// The project's first file, named `name`, its paths from `dir`.
    pub fn new(name: &str, dir: &Path) -> Self {
        let mut sources = Sources { files: Vec::new() };
        sources.add(name, dir.to_path_buf());
        // `dir` is the first file's directory, canonical.
        let file = Path::new(name).file_name().map(|f| dir.join(f));
        sources.files[0].path = file.and_then(|f| std::fs::canonicalize(f).ok());
        sources
    }

    /// The canonical path of file `index`, when known.
    pub fn path(&self, index: usize) -> Option<&Path> {
        self.files[index].path.as_deref()
    }

    fn add(&mut self, name: &str, base: PathBuf) -> usize {
        let shown = Path::new(name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        self.files.push(Source {
            name: name.to_string(),
            base,
            shown,
            path: std::fs::canonicalize(name).ok(),
        });
        self.files.len() - 1
    }

    /// The name of file `index`.
    pub fn name(&self, index: usize) -> &str {
        &self.files[index].name
    }

    /// Where file `index`'s relative paths start.
    pub fn base(&self, index: usize) -> &Path {
        &self.files[index].base
    }

    /// The name of `path` written in file `index`, for problems.
    pub fn shown(&self, index: usize, path: &str) -> String {
        let shown = &self.files[index].shown;
        // A `-f` file's names start where the first file is, as its paths do.
        let shown = if self.files[index].base == self.files[0].base {
            &self.files[0].shown
        } else {
            shown
        };
        shown.join(path).display().to_string()
    }

    /// The names of the files after the first, for the manifest's
    /// positions (see [`crate::manifest::Locations::with_files`]).
    pub fn others(&self) -> Vec<String> {
        self.files.iter().skip(1).map(|f| f.name.clone()).collect()
    }

    /// `text` as file `name` (a `-f` file after the first: its paths start
    /// where the first file's do), its positions marked.
    pub fn parse_more(&mut self, text: &str, name: &str) -> Result<(usize, Node), ManifestProblem> {
        let base = self.files[0].base.clone();
        let index = self.add(name, base);
        Ok((index, self.parse_as(index, text)?))
    }

    /// The file at `path` read for `extends`, named `name`: its own
    /// directory is where its paths start. Its index, and its tree.
    pub fn read_extended(&mut self, path: &Path, name: &str) -> Result<(usize, Node), Unreadable> {
        let text = std::fs::read_to_string(path).map_err(Unreadable::Io)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let index = self.add(name, dir);
        self.files[index].path = Some(path.to_path_buf());
        let root = self.parse_as(index, &text).map_err(Unreadable::Invalid)?;
        Ok((index, root))
    }

    /// File `index`'s `text`, a mapping, every position marked.
    pub fn parse_as(&self, index: usize, text: &str) -> Result<Node, ManifestProblem> {
        let problem = |at: (usize, usize), message: String| ManifestProblem {
            file: self.name(index).to_string(),
            line: at.0,
            column: at.1,
            unit: None,
            field: None,
            message,
        };
        let mut root = yaml::parse(text).map_err(|e| problem(e.at, e.message))?;
        if !matches!(root.kind, Kind::Map(_)) {
            return Err(problem(root.at, "a compose file is a mapping".into()));
        }
        mark(&mut root, index);
        Ok(root)
    }

    /// `problem` naming the file its position is in, at its line there.
    pub fn place(&self, problem: &mut ManifestProblem) {
        let (index, (line, column)) = of_file((problem.line, problem.column));
        if let Some(file) = self.files.get(index)
            && (index > 0 || problem.file.is_empty())
        {
            problem.file = file.name.clone();
        }
        problem.line = line;
        problem.column = column;
    }
}

/// Every position in `node` marked as file `index`'s.
fn mark(node: &mut Node, index: usize) {
    if index == 0 {
        return;
    }
    node.at = in_file(index, node.at);
    match &mut node.kind {
        Kind::List(items) => items.iter_mut().for_each(|item| mark(item, index)),
        Kind::Map(entries) => {
            for (key, value) in entries {
                key.at = in_file(index, key.at);
                mark(value, index);
            }
        }
        Kind::Scalar { .. } | Kind::Null => {}
    }
}
