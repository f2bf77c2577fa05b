//! The values a command reads before it contacts the engine: the manifest,
//! and the namespace of `-n`, checked as a manifest's would be.

use std::path::Path;

use stevedore::compose::{Compose, FILE_NAMES, is_compose_file, read_compose_as};
use stevedore::manifest::{LoadError, Manifest, ManifestProblem, read_manifest};
use stevedore::spec::validate::is_valid_name;

use crate::Failure;

/// The file a command reads when `-f` is left at `units.toml` and there is
/// none: the compose file of the directory, as compose finds it.
pub fn discover(file: &Path) -> std::path::PathBuf {
    if file == Path::new("units.toml") && !file.exists() {
        for name in FILE_NAMES {
            if Path::new(name).exists() {
                return Path::new(name).to_path_buf();
            }
        }
    }
    file.to_path_buf()
}

/// Loads a manifest (TOML) or a compose file (by its name); every problem
/// is listed, and the failure exits 2. A file that cannot be read is one
/// line with the system's words. A compose file's warnings go to `warn`.
/// `namespace` (`-n`/`-p`) replaces the file's; a compose file's networks,
/// volumes and built images are named after it.
pub fn load_with(
    file: &Path,
    namespace: Option<&str>,
    warn: impl Fn(&ManifestProblem),
) -> Result<Manifest, Failure> {
    load_project_with(file, namespace, warn).map(|project| project.manifest)
}

/// [`load_with`], with the images a compose file's services build (a TOML
/// manifest builds none).
pub fn load_project_with(
    file: &Path,
    namespace: Option<&str>,
    warn: impl Fn(&ManifestProblem),
) -> Result<Compose, Failure> {
    let file = discover(file);
    let file = file.as_path();
    let read = if is_compose_file(file) {
        read_compose_as(file, namespace).inspect(|compose| compose.warnings.iter().for_each(&warn))
    } else {
        read_manifest(file).map(|mut manifest| {
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
                file.display(),
                if count == 1 { "" } else { "s" }
            ))
            .with_problems(error.problems.iter().map(ToString::to_string).collect())
        }
        // Cannot read the file (`LoadError::Io`): one line, no position.
        other => Failure::input(other.to_string()),
    })
}

/// [`load_with`], warnings on stderr for a person.
pub fn load(file: &Path) -> Result<Manifest, Failure> {
    load_with(file, None, |warning| {
        eprintln!("stevedore: warning: {warning}")
    })
}

/// [`load_project_with`], warnings on stderr for a person.
pub fn load_project(file: &Path) -> Result<Compose, Failure> {
    load_project_with(file, None, |warning| {
        eprintln!("stevedore: warning: {warning}")
    })
}

/// The namespace from `-n`, else from the manifest given with `-f`, else
/// from `units.toml` in the current directory.
pub fn namespace_of(namespace: Option<String>, file: Option<&Path>) -> Result<String, Failure> {
    if let Some(namespace) = namespace {
        check_namespace(&namespace)?;
        return Ok(namespace);
    }
    let default = discover(Path::new("units.toml"));
    match file {
        Some(file) => Ok(load(file)?.namespace),
        None if default.exists() => Ok(load(&default)?.namespace),
        None => Err(Failure::input(
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
