//! How a unit's container runs beyond image, command and limits: the
//! `docker run` options people set less often (user, capabilities, DNS,
//! ulimits, logging…), all defaulting to the engine's own behaviour.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::SpecProblem;

/// The less common `docker run` options of a unit; each left at its
/// default is the engine's own behaviour and is not stored in the spec, so
/// that a spec that sets none hashes as it always did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerOptions {
    /// Replaces the image's entrypoint (`docker run --entrypoint`, all words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `USER[:GROUP]` the command runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Directory the command starts in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<PathBuf>,
    /// The container's host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The container's domain name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// Runs the engine's init as PID 1 (reaps zombies, forwards signals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    /// Every capability and device of the host.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// Kernel capabilities added (`NET_ADMIN`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// Kernel capabilities dropped (`ALL`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// Security options (`no-new-privileges:true`, `seccomp=unconfined`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    /// Namespaced kernel parameters (`net.core.somaxconn = "1024"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    /// Resource limits by name (`nofile`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, Ulimit>,
    /// Host devices, as `docker run --device` takes them
    /// (`/dev/fuse[:/dev/fuse[:rwm]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// DNS servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    /// DNS search domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    /// Resolver options (`ndots:2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    /// Extra `/etc/hosts` lines as `HOST:IP`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    /// Size of `/dev/shm` in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<u64>,
    /// The root filesystem is read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Ports exposed to other containers without publishing (`8080`, `53/udp`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    /// Log driver and its options; `None` is the engine's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// `host`, `none`, `bridge` or `container:NAME` instead of networks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// CPUs the container may use (`1.5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Memory plus swap in bytes; `-1` is unlimited swap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<i64>,
    /// Memory the container is guaranteed (a soft limit), in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_reservation: Option<u64>,
    /// Processes the container may run at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    /// Groups the command's user also belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// The platform the image must be for (`linux/amd64`); the engine
    /// refuses an image of another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// When the image is pulled.
    #[serde(default, skip_serializing_if = "PullPolicy::is_missing")]
    pub pull_policy: PullPolicy,
    /// IPC namespace: `private`, `shareable`, `host`, `none` or `container:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc: Option<String>,
    /// PID namespace: `host` or `container:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// User namespace mode (`host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userns_mode: Option<String>,
    /// UTS namespace (`host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uts: Option<String>,
    /// Parent cgroup of the container's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_parent: Option<String>,
    /// OOM killer preference, -1000 to 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i64>,
    /// Keeps the OOM killer away from the container.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub oom_kill_disable: bool,
    /// CPUs it may run on (`0-3,5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    /// CFS quota in microseconds per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    /// CFS period in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<i64>,
    /// Real-time runtime in microseconds per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_rt_runtime: Option<i64>,
    /// Real-time period in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_rt_period: Option<i64>,
    /// OCI runtime (`runc`, `runsc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Storage driver options (`size = "20G"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage_opt: BTreeMap<String, String>,
    /// Device cgroup rules (`c 1:3 mr`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_cgroup_rules: Vec<String>,
    /// Legacy links on the unit's networks, as `CONTAINER:ALIAS`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// When a unit's image is pulled, in compose's words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    /// Only when the engine does not have it (Docker's and compose's default).
    #[default]
    Missing,
    /// Before every new container, so that a moved tag is followed.
    Always,
    /// Never: a missing image fails the unit.
    Never,
}

impl PullPolicy {
    fn is_missing(&self) -> bool {
        *self == PullPolicy::Missing
    }

    /// Its word (`always`).
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Missing => "missing",
            PullPolicy::Always => "always",
            PullPolicy::Never => "never",
        }
    }
}

impl std::str::FromStr for PullPolicy {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "missing" | "if_not_present" => Ok(PullPolicy::Missing),
            "always" => Ok(PullPolicy::Always),
            "never" => Ok(PullPolicy::Never),
            other => Err(format!(
                "{other:?} is not a pull policy (missing, always, never)"
            )),
        }
    }
}

impl ContainerOptions {
    /// Whether every option is left to the engine.
    pub fn is_default(&self) -> bool {
        *self == ContainerOptions::default()
    }

    /// Whether the container is made into other containers' namespaces or
    /// linked to them (`container:NAME`, `links`): the engine refuses its
    /// create until those exist, so it is created only once its
    /// dependencies are ready, not beforehand.
    pub fn joins_containers(&self) -> bool {
        let joins =
            |mode: &Option<String>| mode.as_deref().is_some_and(|m| m.starts_with("container:"));
        joins(&self.network_mode) || joins(&self.ipc) || joins(&self.pid) || !self.links.is_empty()
    }
}

/// One resource limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ulimit {
    /// The soft limit.
    pub soft: i64,
    /// The hard limit.
    pub hard: i64,
}

/// A log driver and its options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    /// Driver name (`json-file`, `local`, `none`…); `None` keeps the engine's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options (`max-size = "10m"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// What is wrong with a unit's options (fields under `options.`, as
/// manifests spell them without the prefix).
pub(super) fn check(options: &ContainerOptions, networks: bool) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| {
        problems.push(SpecProblem {
            field: field.to_string(),
            message,
        })
    };
    if let Some(dir) = &options.working_dir
        && !dir.is_absolute()
    {
        problem("working_dir", format!("{dir:?} is not an absolute path"));
    }
    for (field, name) in [
        ("hostname", &options.hostname),
        ("domainname", &options.domainname),
    ] {
        if let Some(name) = name
            && (name.is_empty()
                || name.len() > 253
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.')))
        {
            problem(
                field,
                format!("{name:?} is not a host name (letters, digits, '-', '.')"),
            );
        }
    }
    for (field, list) in [
        ("cap_add", &options.cap_add),
        ("cap_drop", &options.cap_drop),
    ] {
        for (index, cap) in list.iter().enumerate() {
            let bare = cap.strip_prefix("CAP_").unwrap_or(cap);
            if bare.is_empty() || !bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                problem(
                    &format!("{field}[{index}]"),
                    format!("{cap:?} is not a capability (NET_ADMIN, SYS_PTRACE, ALL…)"),
                );
            }
        }
    }
    for (name, limit) in &options.ulimits {
        if limit.soft > limit.hard && limit.hard >= 0 {
            problem(
                &format!("ulimits.{name}"),
                format!(
                    "soft limit {} is above hard limit {}",
                    limit.soft, limit.hard
                ),
            );
        }
    }
    for (index, device) in options.devices.iter().enumerate() {
        if !device.starts_with('/') {
            problem(
                &format!("devices[{index}]"),
                format!("{device:?} does not start with a host path"),
            );
        }
    }
    for (index, server) in options.dns.iter().enumerate() {
        if server.parse::<std::net::IpAddr>().is_err() {
            problem(
                &format!("dns[{index}]"),
                format!("{server:?} is not an IP address"),
            );
        }
    }
    for (index, line) in options.extra_hosts.iter().enumerate() {
        match line.split_once(':') {
            Some((host, ip))
                if !host.is_empty()
                    && (ip == "host-gateway" || ip.parse::<std::net::IpAddr>().is_ok()) => {}
            _ => problem(
                &format!("extra_hosts[{index}]"),
                format!("{line:?} is not HOST:IP"),
            ),
        }
    }
    for (index, port) in options.expose.iter().enumerate() {
        let (number, protocol) = port.split_once('/').unwrap_or((port, "tcp"));
        let numbers_ok = number.split_once('-').map_or_else(
            || number.parse::<u16>().is_ok(),
            |(a, b)| a.parse::<u16>().is_ok() && b.parse::<u16>().is_ok(),
        );
        if !numbers_ok || !matches!(protocol, "tcp" | "udp" | "sctp") {
            problem(
                &format!("expose[{index}]"),
                format!("{port:?} is not PORT[/tcp|udp|sctp]"),
            );
        }
    }
    if let Some(mode) = &options.network_mode {
        let known = matches!(mode.as_str(), "host" | "none" | "bridge")
            || mode
                .strip_prefix("container:")
                .is_some_and(|name| !name.is_empty());
        if !known {
            problem(
                "network_mode",
                format!("{mode:?} is not host, none, bridge or container:NAME"),
            );
        } else if networks {
            problem(
                "network_mode",
                "cannot be set together with networks".into(),
            );
        }
    }
    if let Some(cpus) = options.cpus
        && !(cpus > 0.0 && cpus <= 1024.0)
    {
        problem("cpus", format!("{cpus} is not a number of CPUs above 0"));
    }
    if let Some(swap) = options.memory_swap
        && swap < -1
    {
        problem(
            "memory_swap",
            format!("{swap} is neither a size nor -1 (unlimited)"),
        );
    }
    for (field, mode, extra) in [
        (
            "ipc",
            &options.ipc,
            &["private", "shareable", "host", "none"][..],
        ),
        ("pid", &options.pid, &["host"][..]),
        ("userns_mode", &options.userns_mode, &["host"][..]),
        ("uts", &options.uts, &["host"][..]),
    ] {
        if let Some(mode) = mode {
            let named = mode
                .strip_prefix("container:")
                .is_some_and(|n| !n.is_empty());
            if !named && !extra.contains(&mode.as_str()) {
                problem(
                    field,
                    format!("{mode:?} is not {} or container:NAME", extra.join(", ")),
                );
            }
        }
    }
    if let Some(score) = options.oom_score_adj
        && !(-1000..=1000).contains(&score)
    {
        problem(
            "oom_score_adj",
            format!("{score} is not between -1000 and 1000"),
        );
    }
    if let Some(cpuset) = &options.cpuset
        && !cpuset
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ',' | '-'))
    {
        problem(
            "cpuset",
            format!("{cpuset:?} is not a CPU list such as \"0-3,5\""),
        );
    }
    for (index, link) in options.links.iter().enumerate() {
        if link.is_empty() || link.split(':').count() > 2 {
            problem(
                &format!("links[{index}]"),
                format!("{link:?} is not CONTAINER[:ALIAS]"),
            );
        }
    }
    if let Some(platform) = &options.platform {
        let parts: Vec<&str> = platform.split('/').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            problem(
                "platform",
                format!("{platform:?} is not OS/ARCH[/VARIANT] (linux/amd64)"),
            );
        }
    }
    problems
}
