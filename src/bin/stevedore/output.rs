//! Reading the manifest for a command, and printing unit events.

use std::path::Path;

use stevedore::UnitEvent;
use stevedore::manifest::{LoadError, Manifest, read_manifest};
use stevedore::record::format_utc;

use crate::{Failure, LogFormat};

/// Loads a manifest; every problem is printed, and the failure exits 2. A
/// file that cannot be read is one line with the system's words.
pub fn load(file: &Path) -> Result<Manifest, Failure> {
    read_manifest(file).map_err(|error| match error {
        LoadError::Invalid(error) => {
            let count = error.problems.len();
            Failure::input(format!(
                "{} is invalid ({count} problem{}):\n{error}",
                file.display(),
                if count == 1 { "" } else { "s" }
            ))
        }
        // Cannot read the file (`LoadError::Io`): one line, no position.
        other => Failure::input(other.to_string()),
    })
}

/// The namespace from `-n`, else from the manifest given with `-f`, else
/// from `units.toml` in the current directory.
pub fn namespace_of(namespace: Option<String>, file: Option<&Path>) -> Result<String, Failure> {
    if let Some(namespace) = namespace {
        return Ok(namespace);
    }
    let default = Path::new("units.toml");
    match file {
        Some(file) => Ok(load(file)?.namespace),
        None if default.exists() => Ok(load(default)?.namespace),
        None => Err(Failure::input(
            "give the namespace with -n NAMESPACE or a manifest with -f FILE",
        )),
    }
}

/// One line for one unit event.
pub fn event_line(event: &UnitEvent, format: LogFormat) -> String {
    let at = event
        .at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match format {
        LogFormat::Json => serde_json::json!({
            "time": format_utc(at),
            "namespace": event.namespace,
            "unit": event.unit,
            "state": event.state,
            "container": event.container_id,
            "restart_count": event.restart_count,
            "exit_code": event.exit_code,
            "reason": event.reason,
            "health": event.health,
            "delay_ms": event.delay.map(|d| d.as_millis() as u64),
        })
        .to_string(),
        LogFormat::Text => {
            let mut line = format!("{} {:<20} {}", format_utc(at), event.unit, event.state);
            if let Some(health) = event.health {
                line.push_str(&format!(" ({health})"));
            }
            if let Some(delay) = event.delay {
                line.push_str(&format!(" in {}ms", delay.as_millis()));
            }
            if event.restart_count > 0 {
                line.push_str(&format!(" (restarts: {})", event.restart_count));
            }
            if let Some(reason) = &event.reason {
                line.push_str(&format!(": {reason}"));
            }
            line
        }
    }
}
