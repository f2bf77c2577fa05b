//! The unit model: what one supervised container is declared to be.
//!
//! A [`UnitSpec`] is built in Rust with its builder methods or read from a
//! manifest with serde; either way it is checked by [`validate()`] before any
//! engine call is made.
//!
//! ```
//! use stevedore::{RestartPolicy, UnitSpec};
//! let spec = UnitSpec::new("web", "busybox:latest")
//!     .command(["httpd", "-f", "-p", "8080"])
//!     .env("GREETING", "hello")
//!     .port("127.0.0.1:18080:8080".parse().unwrap())
//!     .memory(64 << 20)
//!     .restart(RestartPolicy::Always);
//! assert!(stevedore::spec::validate(&spec).is_ok());
//! ```

pub mod graph;
mod hash;
pub mod health;
pub mod options;
pub mod project;
pub mod text;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use self::hash::spec_hash;
pub use self::health::{Condition, Dependencies, Dependency, HealthCheck, HealthTest, OnUnhealthy};
pub use self::options::{ContainerOptions, Logging, PullPolicy, Ulimit};
pub use self::project::{NetworkAttachment, NetworkSpec, Resources, VolumeSpec};
pub use self::validate::{SpecProblem, validate};
use crate::policy::{Backoff, IntensityLimit, RestartPolicy};

/// One declared container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSpec {
    /// Unit name, unique in its namespace; the container is `<namespace>--<name>`.
    pub name: String,
    /// Image reference as the user wrote it (`busybox:latest`).
    pub image: String,
    /// Command line; `None` runs the image's own command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Environment the unit sets (the image's own environment is not listed here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Published ports, one mapping per port (a range as written reads as
    /// one per port of it).
    #[serde(
        default,
        deserialize_with = "text::ports_serde::deserialize",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ports: Vec<PortMapping>,
    /// Bind mounts and named volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeMount>,
    /// Empty in-memory filesystems: container path → mount options
    /// (`size=64m,mode=1777`, or empty), as `docker run --tmpfs` takes them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tmpfs: BTreeMap<PathBuf, String>,
    /// The networks the unit joins, by their engine names; empty is the
    /// engine's default bridge. On each, the unit's name is a DNS name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, NetworkAttachment>,
    /// Memory limit in bytes; `None` is unlimited.
    #[serde(
        default,
        with = "text::size_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub memory: Option<u64>,
    /// Relative CPU weight (Docker's `--cpu-shares`); `None` is the engine default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<u64>,
    /// Memory swappiness 0–100; `None` inherits the host's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swappiness: Option<i64>,
    /// Extra labels put on the container (keys under `io.stevedore.` are reserved).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// What to do when the container exits.
    #[serde(default)]
    pub restart: RestartPolicy,
    /// Delays between restarts.
    #[serde(default)]
    pub backoff: Backoff,
    /// How many restarts within a window before the unit is failed.
    #[serde(default)]
    pub intensity: IntensityLimit,
    /// Grace period between the stop signal and a kill.
    #[serde(default = "default_stop_timeout", with = "text::duration_serde")]
    pub stop_timeout: Duration,
    /// Signal that asks the container to stop.
    #[serde(default = "default_stop_signal")]
    pub stop_signal: String,
    /// The health check the engine runs; `None` keeps the image's, as
    /// `docker run` does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthCheck>,
    /// What an unhealthy container means; `None` is the default: restart
    /// when the unit declares a check (and its policy restarts), report only
    /// a check of the image's (see [`UnitSpec::unhealthy_action`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_unhealthy: Option<OnUnhealthy>,
    /// The units this one waits for before it starts, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub depends_on: Dependencies,
    /// The less common `docker run` options (entrypoint, user,
    /// capabilities, DNS, ulimits, logging…).
    #[serde(default, skip_serializing_if = "ContainerOptions::is_default")]
    pub options: ContainerOptions,
}

fn default_stop_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_stop_signal() -> String {
    "SIGTERM".to_string()
}

impl UnitSpec {
    /// A unit running `image` with its own command and every default:
    /// restart policy `no`, Docker's 10 s grace period and SIGTERM, the
    /// image's health check, no dependencies.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stevedore::{Condition, HealthCheck, RestartPolicy, UnitSpec};
    /// let web = UnitSpec::new("web", "busybox:latest")
    ///     .command(["httpd", "-f", "-p", "8080"])
    ///     .restart(RestartPolicy::Always)
    ///     .healthcheck(HealthCheck::exec(["wget", "-q", "-O-", "http://127.0.0.1:8080/"]).interval(Duration::from_secs(5)))
    ///     .depends_on("db", Condition::Healthy);
    /// assert!(stevedore::spec::validate(&web).is_ok());
    /// ```
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        UnitSpec {
            name: name.into(),
            image: image.into(),
            command: None,
            env: BTreeMap::new(),
            ports: Vec::new(),
            volumes: Vec::new(),
            tmpfs: BTreeMap::new(),
            networks: BTreeMap::new(),
            memory: None,
            cpu_shares: None,
            swappiness: None,
            labels: BTreeMap::new(),
            restart: RestartPolicy::default(),
            backoff: Backoff::default(),
            intensity: IntensityLimit::default(),
            stop_timeout: default_stop_timeout(),
            stop_signal: default_stop_signal(),
            healthcheck: None,
            on_unhealthy: None,
            depends_on: BTreeMap::new(),
            options: ContainerOptions::default(),
        }
    }

    /// Runs this command line instead of the image's.
    pub fn command<I, S>(mut self, argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.command = Some(argv.into_iter().map(Into::into).collect());
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Publishes one port.
    pub fn port(mut self, port: PortMapping) -> Self {
        self.ports.push(port);
        self
    }

    /// Mounts one host path or named volume.
    pub fn volume(mut self, volume: VolumeMount) -> Self {
        self.volumes.push(volume);
        self
    }

    /// Mounts an empty in-memory filesystem at `path` with `options`
    /// (`size=64m`, or empty).
    pub fn tmpfs(mut self, path: impl Into<PathBuf>, options: impl Into<String>) -> Self {
        self.tmpfs.insert(path.into(), options.into());
        self
    }

    /// Joins the network called `name` on the engine (declared in the
    /// namespace's [`Resources`]), answering there to its own name and to
    /// the attachment's aliases.
    pub fn network(mut self, name: impl Into<String>, attachment: NetworkAttachment) -> Self {
        self.networks.insert(name.into(), attachment);
        self
    }

    /// Limits memory to `bytes`.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = Some(bytes);
        self
    }

    /// Sets the relative CPU weight.
    pub fn cpu_shares(mut self, shares: u64) -> Self {
        self.cpu_shares = Some(shares);
        self
    }

    /// Sets memory swappiness (0–100).
    pub fn swappiness(mut self, swappiness: i64) -> Self {
        self.swappiness = Some(swappiness);
        self
    }

    /// Adds one container label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Sets the restart policy.
    pub fn restart(mut self, policy: RestartPolicy) -> Self {
        self.restart = policy;
        self
    }

    /// Sets the backoff between restarts.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets the restart intensity limit.
    pub fn intensity(mut self, intensity: IntensityLimit) -> Self {
        self.intensity = intensity;
        self
    }

    /// Sets the grace period of a stop.
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Sets the signal a stop sends first.
    pub fn stop_signal(mut self, signal: impl Into<String>) -> Self {
        self.stop_signal = signal.into();
        self
    }

    /// Sets the health check ([`HealthCheck::disabled`] turns off the image's).
    pub fn healthcheck(mut self, check: HealthCheck) -> Self {
        self.healthcheck = Some(check);
        self
    }

    /// Sets what an unhealthy container means.
    pub fn on_unhealthy(mut self, action: OnUnhealthy) -> Self {
        self.on_unhealthy = Some(action);
        self
    }

    /// Waits for unit `name` to meet `dependency` (a [`Condition`], or a
    /// [`Dependency`] that also restarts this unit with it) before starting.
    pub fn depends_on(
        mut self,
        name: impl Into<String>,
        dependency: impl Into<Dependency>,
    ) -> Self {
        self.depends_on.insert(name.into(), dependency.into());
        self
    }

    /// Sets the less common `docker run` options.
    pub fn options(mut self, options: ContainerOptions) -> Self {
        self.options = options;
        self
    }

    /// Whether the unit has a health check of its own (`Some(true)`), turns
    /// the image's off (`Some(false)`), or leaves it to the image (`None`).
    pub fn declares_check(&self) -> Option<bool> {
        match self.healthcheck.as_ref().map(|check| &check.test) {
            None | Some(HealthTest::Inherit) => None,
            Some(HealthTest::Disabled) => Some(false),
            Some(HealthTest::Exec(_) | HealthTest::Shell(_)) => Some(true),
        }
    }

    /// What an unhealthy container means to this unit. Left unset:
    /// restart when the unit declares a check and its policy restarts
    /// anything; a check only the image declares, or a policy of `no`
    /// (which would stop the container for good), is only reported.
    pub fn unhealthy_action(&self) -> OnUnhealthy {
        let restarts = self.restart != RestartPolicy::No;
        self.on_unhealthy.unwrap_or(match self.declares_check() {
            Some(true) if restarts => OnUnhealthy::Restart,
            _ => OnUnhealthy::Ignore,
        })
    }
}

/// Transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        })
    }
}

/// One published port: container port `internal` on host port `external`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PortMapping {
    /// Port inside the container.
    pub internal: u16,
    /// Port on the host; `0` lets the engine pick a free one.
    pub external: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Host address to bind; `None` binds every address.
    pub host_ip: Option<String>,
}

impl PortMapping {
    /// TCP `internal` published on host port `external` on every address.
    pub fn tcp(internal: u16, external: u16) -> Self {
        PortMapping {
            internal,
            external,
            protocol: Protocol::Tcp,
            host_ip: None,
        }
    }
}

impl FromStr for PortMapping {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        text::parse_port(text)
    }
}

impl TryFrom<String> for PortMapping {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text::parse_port(&text)
    }
}

impl From<PortMapping> for String {
    fn from(port: PortMapping) -> String {
        text::format_port(&port)
    }
}

impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::format_port(self))
    }
}

/// One mount into the container: a host path (a bind mount) or a named
/// volume, as Docker's `-v SOURCE:TARGET[:ro]` reads them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VolumeMount {
    /// An absolute path on the host, or the engine name of a named volume
    /// (anything not starting with `/`).
    pub source: PathBuf,
    /// Absolute path inside the container.
    pub container: PathBuf,
    /// Mounted read-only.
    pub read_only: bool,
}

impl VolumeMount {
    /// The named volume mounted, when it is not a host path.
    pub fn volume_name(&self) -> Option<&str> {
        (!self.source.has_root())
            .then(|| self.source.to_str())
            .flatten()
    }
}

impl FromStr for VolumeMount {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        text::parse_volume(text)
    }
}

impl TryFrom<String> for VolumeMount {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text::parse_volume(&text)
    }
}

impl From<VolumeMount> for String {
    fn from(volume: VolumeMount) -> String {
        text::format_volume(&volume)
    }
}

impl fmt::Display for VolumeMount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::format_volume(self))
    }
}

#[cfg(test)]
mod tests;
