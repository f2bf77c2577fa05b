//! The values a command reads before it contacts the engine: the manifest,
//! and the namespace of `-n`, checked as a manifest's would be.

use std::path::{Path, PathBuf};

use stevedore::compose::{Compose, FILE_NAMES, Options, is_compose_file, read_compose_files};
use stevedore::manifest::{LoadError, Manifest, ManifestProblem, read_manifest};
use stevedore::spec::validate::is_valid_name;

use crate::Failure;

/// The override files compose reads after the file it finds, in its order
/// (compose-go `DefaultOverrideFileNames`): the first one present.
pub const OVERRIDE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// What a command reads: its `-f` files (clap's default is `units.toml`)
/// and the `--profile`s given.
#[derive(Debug, Clone, Default)]
pub struct Files {
    /// As given.
    pub files: Vec<PathBuf>,
    /// The active profiles (none: `COMPOSE_PROFILES`, read with the files'
    /// variables).
    pub profiles: Vec<String>,
}

impl Files {
    /// `-f` files and `--profile`s.
    pub fn new(files: Vec<PathBuf>, profiles: Vec<String>) -> Self {
        Files { files, profiles }
    }

    /// The files themselves: `-f` as given, else (with `-f` left at
    /// `units.toml` and none there) COMPOSE_FILE's list, else the
    /// directory's compose file and its override, as compose finds them.
    /// A TOML manifest is read alone.
    pub fn resolve(&self) -> Result<Vec<PathBuf>, Failure> {
        let defaulted = self.files.is_empty()
            || (self.files.len() == 1 && self.files[0] == Path::new("units.toml"));
        let files = if defaulted && !Path::new("units.toml").exists() {
            from_environment().unwrap_or_else(discover)
        } else if self.files.is_empty() {
            vec![PathBuf::from("units.toml")]
        } else {
            self.files.clone()
        };
        if files.len() > 1
            && let Some(manifest) = files.iter().find(|f| !is_compose_file(f))
        {
            return Err(Failure::input(format!(
                "{} is a stevedore manifest, which is read alone: several -f files are compose files, merged in order",
                manifest.display()
            )));
        }
        Ok(files)
    }
}

/// COMPOSE_FILE's files, split at COMPOSE_PATH_SEPARATOR (default `:`).
fn from_environment() -> Option<Vec<PathBuf>> {
    let list = std::env::var("COMPOSE_FILE")
        .ok()
        .filter(|l| !l.is_empty())?;
    let separator = std::env::var("COMPOSE_PATH_SEPARATOR")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| ":".to_string());
    Some(
        list.split(separator.as_str())
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .collect(),
    )
}

/// The directory's compose file and the first override file beside it;
/// `units.toml` (which then cannot be read) when there is none.
fn discover() -> Vec<PathBuf> {
    let Some(found) = FILE_NAMES.iter().find(|n| Path::new(n).exists()) else {
        return vec![PathBuf::from("units.toml")];
    };
    let mut files = vec![PathBuf::from(found)];
    if let Some(over) = OVERRIDE_NAMES.iter().find(|n| Path::new(n).exists()) {
        files.push(PathBuf::from(over));
    }
    files
}

/// The files as one name, for messages: `compose.yaml + override.yaml`.
pub fn label(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    names.join(" + ")
}

/// Loads a manifest (TOML) or a compose project (by its files' names);
/// every problem is listed, and the failure exits 2. A file that cannot be
/// read is one line with the system's words. A compose file's warnings go
/// to `warn`. `namespace` (`-n`/`-p`) replaces the file's; a compose
/// file's networks, volumes and built images are named after it.
pub fn load_with(
    files: &Files,
    namespace: Option<&str>,
    warn: impl Fn(&ManifestProblem),
) -> Result<Manifest, Failure> {
    load_project_with(files, namespace, warn).map(|project| project.manifest)
}

/// [`load_with`], with the images a compose file's services build (a TOML
/// manifest builds none).
pub fn load_project_with(
    files: &Files,
    namespace: Option<&str>,
    warn: impl Fn(&ManifestProblem),
) -> Result<Compose, Failure> {
    let paths = files.resolve()?;
    let first = paths[0].as_path();
    let read = if is_compose_file(first) {
        let options = Options {
            project: namespace.map(str::to_string),
            profiles: files.profiles.clone(),
        };
        read_compose_files(&paths, &options)
            .inspect(|compose| compose.warnings.iter().for_each(&warn))
    } else {
        read_manifest(first).map(|mut manifest| {
            if let Some(namespace) = namespace {
                manifest.namespace = namespace.to_string();
            }
            Compose {
                manifest,
                warnings: Vec::new(),
                builds: Vec::new(),
            }
        })
    };
    read.map_err(|error| match error {
        LoadError::Invalid(error) => {
            let count = error.problems.len();
            Failure::input(format!(
                "{} is invalid ({count} problem{}):",
                label(&paths),
                if count == 1 { "" } else { "s" }
            ))
            .with_problems(error.lines())
        }
        // Cannot read the file (`LoadError::Io`): one line, no position.
        other => Failure::input(other.to_string()),
    })
}

/// [`load_with`], warnings on stderr for a person.
pub fn load(files: &Files) -> Result<Manifest, Failure> {
    load_with(files, None, |warning| {
        eprintln!("stevedore: warning: {warning}")
    })
}

/// The namespace from `-n`, else from the files given with `-f`, else
/// from `units.toml` in the current directory (or the compose files found
/// as without `-f`).
pub fn namespace_of(namespace: Option<String>, files: &Files) -> Result<String, Failure> {
    if let Some(namespace) = namespace {
        check_namespace(&namespace)?;
        return Ok(namespace);
    }
    if !files.files.is_empty() {
        return Ok(load(files)?.namespace);
    }
    let default = Files {
        files: Vec::new(),
        profiles: files.profiles.clone(),
    };
    match default.resolve()?.first() {
        Some(first) if first.exists() => Ok(load(&default)?.namespace),
        _ => Err(Failure::input(
            "give the namespace with -n NAMESPACE or a manifest with -f FILE",
        )),
    }
}

/// Refuses a namespace that a manifest could not declare (exit 2): the
/// engine would take most of them and the containers would be unreachable
/// by name, or another namespace's.
pub fn check_namespace(namespace: &str) -> Result<(), Failure> {
    let problem = if !is_valid_name(namespace) {
        "it must start with a letter or digit and contain only letters, digits, '_', '.' and '-'"
    } else if namespace.contains("--") {
        "\"--\" separates the namespace from the unit in container names"
    } else {
        return Ok(());
    };
    Err(Failure::input(format!(
        "-n {namespace:?} is not a valid namespace: {problem}"
    )))
}
