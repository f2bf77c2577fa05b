//! Pure mappings between the unit model and the engine's data: spec → create
//! request, list entry → snapshot, event → container event, inspect → the
//! unit's engine-side details (with Flocker's `Unit` semantics).

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerSummary, EventMessage, HealthConfig,
    HostConfig, ImageInspect, PortBinding,
};
use serde::Serialize;

mod options;
pub mod project;

use super::{ContainerEvent, ContainerEventKind, ContainerSnapshot, EngineState, Health};
use crate::labels::{self, CarriedState};
use crate::spec::text::{format_volume, parse_volume};
use crate::spec::{HealthCheck, PortMapping, Protocol, UnitSpec, VolumeMount};

/// The create request for `spec`'s container in `namespace`.
///
/// The engine's own restart policy stays `no`: stevedore restarts. The stop
/// signal is set here because the stop call's `signal` needs API 1.42.
pub fn create_body(
    namespace: &str,
    spec: &UnitSpec,
    hash: &str,
    carried: &CarriedState,
) -> ContainerCreateBody {
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for port in &spec.ports {
        let binding = PortBinding {
            host_ip: port.host_ip.clone(),
            host_port: Some(if port.external == 0 {
                String::new()
            } else {
                port.external.to_string()
            }),
        };
        port_bindings
            .entry(format!("{}/{}", port.internal, port.protocol))
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(binding);
    }
    let mut exposed: Vec<String> = port_bindings.keys().cloned().collect();
    exposed.extend(options::exposed(&spec.options));
    exposed.sort();
    exposed.dedup();
    let network = project::first_network(spec);
    let host_config = HostConfig {
        binds: (!spec.volumes.is_empty()).then(|| spec.volumes.iter().map(format_volume).collect()),
        tmpfs: (!spec.tmpfs.is_empty()).then(|| {
            spec.tmpfs
                .iter()
                .map(|(path, options)| (path.display().to_string(), options.clone()))
                .collect()
        }),
        network_mode: network.as_ref().map(|(name, _)| name.clone()),
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        memory: spec.memory.map(saturating_i64),
        cpu_shares: spec.cpu_shares.map(saturating_i64),
        memory_swappiness: spec.swappiness,
        ..Default::default()
    };
    let mut body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: spec.command.clone(),
        env: (!spec.env.is_empty())
            .then(|| spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        labels: Some(labels::container_labels(namespace, spec, hash, carried)),
        stop_signal: Some(spec.stop_signal.clone()),
        stop_timeout: Some(saturating_i64(spec.stop_timeout.as_secs())),
        healthcheck: spec.healthcheck.as_ref().map(health_config),
        host_config: Some(host_config),
        networking_config: network.map(|(_, config)| config),
        ..Default::default()
    };
    options::apply(&spec.options, &mut body);
    if spec.options.network_mode.is_some() {
        // The mode replaces the networks (validation refuses both).
        body.networking_config = None;
    }
    body
}

/// `pairs` as the engine's optional map: left out when empty.
pub(crate) fn hash_map(pairs: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!pairs.is_empty()).then(|| pairs.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// `value` as the engine's signed integer; past `i64::MAX` (which
/// validation refuses) it is `i64::MAX`, never a wrapped negative.
fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The engine's form of a check: what is left out is 0, which the engine
/// reads as "the image's, else the default".
pub fn health_config(check: &HealthCheck) -> HealthConfig {
    let nanos = |duration: Option<std::time::Duration>| {
        duration.map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    };
    HealthConfig {
        test: Some(check.test.to_engine()),
        interval: nanos(check.interval),
        timeout: nanos(check.timeout),
        retries: check.retries.map(i64::from),
        start_period: nanos(check.start_period),
        start_interval: nanos(check.start_interval),
    }
}

/// Reads the health out of the list's status text: `"Up 3 seconds (healthy)"`,
/// `"Up 1 second (health: starting)"`.
pub fn health_from_status(status: &str) -> Option<Health> {
    let inside = status.strip_suffix(')')?.rsplit_once('(')?.1;
    Health::parse(inside.strip_prefix("health: ").unwrap_or(inside))
}

/// A list entry as a snapshot; entries without an id or name are skipped.
pub fn snapshot(summary: &ContainerSummary) -> Option<ContainerSnapshot> {
    let id = summary.id.clone()?;
    let name = summary
        .names
        .as_ref()?
        .first()?
        .trim_start_matches('/')
        .to_string();
    let state = summary
        .state
        .as_ref()
        .map(|state| EngineState::parse(state.as_ref()))
        .unwrap_or_else(|| EngineState::Unknown(String::new()));
    let exit_code = match state {
        EngineState::Exited => summary.status.as_deref().and_then(exit_code_from_status),
        _ => None,
    };
    let health = match state {
        EngineState::Running => summary.status.as_deref().and_then(health_from_status),
        _ => None,
    };
    Some(ContainerSnapshot {
        id,
        name,
        labels: summary.labels.clone().unwrap_or_default(),
        state,
        exit_code,
        image: summary.image.clone().unwrap_or_default(),
        health,
    })
}

/// Reads the exit code out of the list's status text: `"Exited (1) 3 seconds ago"`.
pub fn exit_code_from_status(status: &str) -> Option<i64> {
    let rest = status.strip_prefix("Exited (")?;
    rest[..rest.find(')')?].parse().ok()
}

/// A container event, when the message is one stevedore acts on.
pub fn container_event(message: &EventMessage) -> Option<ContainerEvent> {
    let actor = message.actor.as_ref()?;
    let attributes = actor.attributes.as_ref();
    let kind = match message.action.as_deref()? {
        "start" => ContainerEventKind::Started,
        "die" => ContainerEventKind::Died {
            exit_code: attributes
                .and_then(|a| a.get("exitCode"))
                .and_then(|code| code.parse().ok())
                .unwrap_or(-1),
        },
        "oom" => ContainerEventKind::OomKilled,
        "kill" => ContainerEventKind::Killed {
            signal: attributes
                .and_then(|a| a.get("signal"))
                .cloned()
                .unwrap_or_default(),
        },
        "stop" => ContainerEventKind::Stopped,
        "destroy" => ContainerEventKind::Destroyed,
        action => match action
            .strip_prefix("health_status: ")
            .and_then(Health::parse)
        {
            Some(health) => ContainerEventKind::HealthChanged(health),
            None => return None,
        },
    };
    let time_nanos = message
        .time_nano
        .or_else(|| message.time.map(|secs| secs.saturating_mul(1_000_000_000)))
        .unwrap_or(0);
    Some(ContainerEvent {
        id: actor.id.clone()?,
        name: attributes
            .and_then(|a| a.get("name"))
            .cloned()
            .unwrap_or_default(),
        kind,
        time_nanos,
    })
}

/// A unit's container as the engine has it, in the unit model's terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerDetails {
    /// Container id.
    pub id: String,
    /// The engine's state word.
    pub status: String,
    /// Image as asked for at create.
    pub image: String,
    /// Command line, `None` when it is the image's own.
    pub command: Option<Vec<String>>,
    /// Only the environment the unit set, not the image's.
    pub env: BTreeMap<String, String>,
    /// Published ports.
    pub ports: Vec<PortMapping>,
    /// Bind mounts.
    pub volumes: Vec<VolumeMount>,
    /// Memory limit, `None` when unlimited.
    pub memory: Option<u64>,
    /// CPU shares, `None` when the engine default.
    pub cpu_shares: Option<u64>,
    /// Exit code of the last run, when the container has exited.
    pub exit_code: Option<i64>,
    /// The OOM killer ended the last run.
    pub oom_killed: bool,
    /// Its health, when it runs with a health check.
    pub health: Option<Health>,
    /// When its current run started, while it runs.
    #[serde(skip)]
    pub started_at: Option<std::time::SystemTime>,
}

/// Reads a container's details. `image` is the image's own config when the
/// image still exists; without it (image deleted) the spec stored in the
/// container's labels tells which environment and command the unit set.
pub fn container_details(
    inspect: &ContainerInspectResponse,
    image: Option<&ImageInspect>,
) -> ContainerDetails {
    let config = inspect.config.clone().unwrap_or_default();
    let host = inspect.host_config.clone().unwrap_or_default();
    let state = inspect.state.clone().unwrap_or_default();
    let image_config = image.and_then(|image| image.config.clone());
    let stored = config.labels.as_ref().and_then(labels::stored_spec);

    let image_env: Vec<String> = image_config
        .as_ref()
        .and_then(|c| c.env.clone())
        .unwrap_or_default();
    let env = config
        .env
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| {
            let (key, value) = entry.split_once('=')?;
            let set_by_unit = match (&image_config, &stored) {
                (Some(_), _) => !image_env.contains(&entry),
                (None, Some(spec)) => spec.env.contains_key(key),
                (None, None) => true,
            };
            set_by_unit.then(|| (key.to_string(), value.to_string()))
        })
        .collect();

    let command = match (&image_config, &stored) {
        (Some(image_config), _) if image_config.cmd == config.cmd => None,
        (Some(_), _) => config.cmd.clone(),
        (None, Some(spec)) => spec.command.clone(),
        (None, None) => config.cmd.clone(),
    };

    let mut ports: Vec<PortMapping> = host
        .port_bindings
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(key, bindings)| {
            let (internal, protocol) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
            let internal: u16 = internal.parse().unwrap_or(0);
            let protocol = if protocol == "udp" {
                Protocol::Udp
            } else {
                Protocol::Tcp
            };
            bindings
                .unwrap_or_default()
                .into_iter()
                .map(move |binding| PortMapping {
                    internal,
                    external: binding.host_port.and_then(|p| p.parse().ok()).unwrap_or(0),
                    protocol,
                    host_ip: binding.host_ip.filter(|ip| !ip.is_empty()),
                })
        })
        .collect();
    ports.sort_by(|a, b| {
        (a.internal, a.protocol, a.external).cmp(&(b.internal, b.protocol, b.external))
    });

    let running = state.running.unwrap_or(false);
    ContainerDetails {
        id: inspect.id.clone().unwrap_or_default(),
        status: state
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "unknown".into()),
        image: config.image.unwrap_or_default(),
        command,
        env,
        ports,
        volumes: host
            .binds
            .unwrap_or_default()
            .iter()
            .filter_map(|b| parse_volume(b).ok())
            .collect(),
        memory: host.memory.filter(|m| *m > 0).map(|m| m as u64),
        cpu_shares: host.cpu_shares.filter(|c| *c > 0).map(|c| c as u64),
        exit_code: (!running).then_some(state.exit_code).flatten(),
        oom_killed: state.oom_killed.unwrap_or(false),
        health: state
            .health
            .and_then(|health| health.status)
            .filter(|_| running)
            .and_then(|status| Health::parse(status.as_ref())),
        started_at: state
            .started_at
            .filter(|_| running)
            .and_then(|at| engine_time(&at)),
    }
}

/// One of the engine's RFC 3339 timestamps; its zero time
/// (`0001-01-01T00:00:00Z`, "never") and anything unreadable are `None`.
pub fn engine_time(text: &str) -> Option<std::time::SystemTime> {
    humantime::parse_rfc3339_weak(text)
        .ok()
        .filter(|at| *at > std::time::UNIX_EPOCH)
}

#[cfg(test)]
mod tests;
