//! What the API shows of a unit and of an event: pure functions from the
//! supervisor's own types to the JSON objects of `/v1/units` and `/v1/events`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::engine::Health;
use crate::spec::UnitSpec;
use crate::unit::{UnitEvent, UnitSnapshot, UnitState, UnitStatus};

/// One unit as `GET /v1/units` shows it: the keys of `stevedore ps --json`
/// (the declared container) and the live ones (phase, health, uptime, the
/// last exit and why it last restarted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitView {
    /// Unit name.
    pub name: String,
    /// Container name (`<namespace>--<unit>`).
    pub container: String,
    /// Container id, while it has one.
    pub id: Option<String>,
    /// `active` while its container runs, else `inactive`.
    pub state: &'static str,
    /// The engine's word for its container (`running`, `exited`,
    /// `created`), or `not created`.
    pub status: String,
    /// Image as declared.
    pub image: String,
    /// Command as declared (`null`: the image's).
    pub command: Option<Vec<String>>,
    /// Environment the unit sets.
    pub env: BTreeMap<String, String>,
    /// Published ports (an `external` of 0 is the port the engine picked,
    /// once known).
    pub ports: Vec<PortView>,
    /// Bind mounts.
    pub volumes: Vec<VolumeView>,
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// CPU shares.
    pub cpu_shares: Option<u64>,
    /// Restart policy.
    pub restart: String,
    /// Restarts so far.
    pub restart_count: u32,
    /// Exit code of the last run.
    pub last_exit_code: Option<i64>,
    /// The supervisor's live state of it (`running`, `backing-off`, …).
    pub phase: UnitState,
    /// Its health while it runs with a check; `null` otherwise.
    pub health: Option<Health>,
    /// Why it is in its phase, when known.
    pub reason: Option<String>,
    /// Why it last restarted (`unhealthy`, `exited with code 1`).
    pub last_restart_reason: Option<String>,
    /// When its current run started (RFC 3339), while it runs.
    pub started_at: Option<String>,
    /// Seconds since then, at the time of the answer.
    pub uptime_seconds: Option<u64>,
    /// When it last changed (RFC 3339).
    pub changed_at: Option<String>,
    #[serde(skip)]
    pub(crate) started: Option<SystemTime>,
}

/// A published port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortView {
    /// Container port.
    pub internal: u16,
    /// Host port (0: the engine picks, not known yet).
    pub external: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Host address it is bound to, when not every address.
    pub host_ip: Option<String>,
}

/// A bind mount or named volume.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumeView {
    /// Host path, or the named volume.
    pub source: String,
    /// Path in the container.
    pub container: String,
    /// Mounted read-only.
    pub read_only: bool,
}

impl UnitView {
    /// A unit from its declared spec, before anything is known of it.
    pub fn declared(namespace: &str, spec: &UnitSpec) -> UnitView {
        UnitView {
            name: spec.name.clone(),
            container: crate::labels::container_name(namespace, &spec.name),
            id: None,
            state: "inactive",
            status: "not created".into(),
            image: spec.image.clone(),
            command: spec.command.clone(),
            env: spec.env.clone(),
            ports: spec
                .ports
                .iter()
                .map(|p| PortView {
                    internal: p.internal,
                    external: p.external,
                    protocol: p.protocol.to_string(),
                    host_ip: p.host_ip.clone(),
                })
                .collect(),
            volumes: spec
                .volumes
                .iter()
                .map(|v| VolumeView {
                    source: v.source.display().to_string(),
                    container: v.container.display().to_string(),
                    read_only: v.read_only,
                })
                .collect(),
            memory: spec.memory,
            cpu_shares: spec.cpu_shares,
            restart: spec.restart.to_string(),
            restart_count: 0,
            last_exit_code: None,
            phase: UnitState::Pending,
            health: None,
            reason: None,
            last_restart_reason: None,
            started_at: None,
            uptime_seconds: None,
            changed_at: None,
            started: None,
        }
    }

    /// A unit as `list` reported it (the engine's view of its container).
    pub fn listed(namespace: &str, status: &UnitStatus) -> UnitView {
        let mut view = UnitView::declared(namespace, &status.spec);
        view.phase = status.state;
        view.reason = status.reason.clone();
        view.restart_count = status.restart_count;
        view.last_exit_code = status.last_exit_code;
        view.health = status.health;
        if let Some(details) = &status.container {
            view.id = Some(details.id.clone());
            view.status = details.status.clone();
            view.state = if details.status == "running" {
                "active"
            } else {
                "inactive"
            };
            // The engine's bindings tell the ports it picked.
            for (port, bound) in view.ports.iter_mut().zip(&details.ports) {
                if port.external == 0 {
                    port.external = bound.external;
                }
            }
            view.set_started(details.started_at);
        }
        view
    }

    /// The same unit after `event`.
    pub fn apply(&mut self, event: &UnitEvent) {
        let was_running = self.phase == UnitState::Running;
        self.phase = event.state;
        self.reason = event.reason.clone();
        if event.restart_count < self.restart_count {
            // A start by hand begins a new history, as `docker start` does.
            self.last_restart_reason = None;
        } else if event.restart_count > self.restart_count || restarting(event) {
            self.last_restart_reason = event.reason.clone().or(self.last_restart_reason.take());
        }
        self.restart_count = event.restart_count;
        if event.exit_code.is_some() {
            self.last_exit_code = event.exit_code;
        }
        self.health = event.health;
        if event.container_id.is_some() {
            self.id = event.container_id.clone();
        }
        self.status = status_word(event.state, self.id.is_some()).to_string();
        self.state = if event.state == UnitState::Running {
            "active"
        } else {
            "inactive"
        };
        match event.state {
            UnitState::Running if !was_running => self.set_started(Some(event.at)),
            UnitState::Running => {}
            _ => self.set_started(None),
        }
        self.changed_at = Some(rfc3339(event.at));
    }

    /// The same unit with a new spec (a reload or `update` replaced it).
    pub fn respec(&mut self, namespace: &str, snapshot: &UnitSnapshot) {
        let fresh = UnitView::declared(namespace, &snapshot.spec);
        self.image = fresh.image;
        self.command = fresh.command;
        self.env = fresh.env;
        self.ports = fresh.ports;
        self.volumes = fresh.volumes;
        self.memory = fresh.memory;
        self.cpu_shares = fresh.cpu_shares;
        self.restart = fresh.restart;
    }

    /// The same unit with what it knows of itself now: an action's answer,
    /// before the action's events reach the board.
    pub fn overlay(&mut self, snapshot: &UnitSnapshot) {
        self.phase = snapshot.state;
        self.reason = snapshot.reason.clone();
        self.restart_count = snapshot.restart_count;
        if snapshot.last_exit_code.is_some() {
            self.last_exit_code = snapshot.last_exit_code;
        }
        self.health = snapshot.health;
        self.id = snapshot.container.clone();
        self.status = status_word(snapshot.state, self.id.is_some()).to_string();
        let running = snapshot.state == UnitState::Running;
        self.state = if running { "active" } else { "inactive" };
        if !running {
            self.set_started(None);
        } else if self.started.is_none() {
            self.set_started(Some(SystemTime::now()));
        }
    }

    fn set_started(&mut self, at: Option<SystemTime>) {
        self.started = at;
        self.started_at = at.map(rfc3339);
    }

    /// The view as of `now`: its uptime filled in.
    pub fn at(&self, now: SystemTime) -> UnitView {
        let mut view = self.clone();
        view.uptime_seconds = self
            .started
            .map(|started| now.duration_since(started).unwrap_or_default().as_secs());
        view
    }
}

/// Whether an event is a restart beginning (its reason is the restart's):
/// backing off after an exit, or being stopped for a reason (unhealthy, a
/// dependency's restart).
pub fn restarting(event: &UnitEvent) -> bool {
    event.state == UnitState::BackingOff
        || (event.state == UnitState::Stopping && event.reason.is_some())
}

/// The engine's word for a container in a unit's phase.
pub fn status_word(phase: UnitState, has_container: bool) -> &'static str {
    match phase {
        _ if !has_container => "not created",
        UnitState::Running | UnitState::Stopping => "running",
        UnitState::Creating | UnitState::Waiting | UnitState::Pending | UnitState::Pulling => {
            "created"
        }
        UnitState::Starting => "created",
        UnitState::WaitingForEngine => "unknown",
        _ => "exited",
    }
}

/// One unit event as `GET /v1/events` sends it (the `data:` of the SSE
/// message whose `id:` is `id`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventView<'a> {
    /// Sequence number, also the SSE id: one more for every event.
    pub id: u64,
    /// Namespace.
    pub namespace: &'a str,
    /// Unit name.
    pub unit: &'a str,
    /// The state it entered.
    pub state: UnitState,
    /// Its container.
    pub container_id: Option<&'a str>,
    /// Restarts so far.
    pub restart_count: u32,
    /// Exit code of the last run, when it exited.
    pub exit_code: Option<i64>,
    /// Why.
    pub reason: Option<&'a str>,
    /// Its health.
    pub health: Option<Health>,
    /// For `backing-off`: milliseconds until the restart.
    pub delay_ms: Option<u128>,
    /// When it happened (RFC 3339).
    pub at: String,
}

impl<'a> EventView<'a> {
    /// The view of `event`, numbered `id`.
    pub fn of(id: u64, event: &'a UnitEvent) -> EventView<'a> {
        EventView {
            id,
            namespace: &event.namespace,
            unit: &event.unit,
            state: event.state,
            container_id: event.container_id.as_deref(),
            restart_count: event.restart_count,
            exit_code: event.exit_code,
            reason: event.reason.as_deref(),
            health: event.health,
            delay_ms: event.delay.map(|delay: Duration| delay.as_millis()),
            at: rfc3339(event.at),
        }
    }
}

/// A time as RFC 3339 in UTC, to the millisecond.
pub fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RestartPolicy;

    fn event(state: UnitState, restarts: u32, reason: Option<&str>) -> UnitEvent {
        UnitEvent {
            namespace: "demo".into(),
            unit: "web".into(),
            state,
            container_id: Some("abc".into()),
            restart_count: restarts,
            exit_code: None,
            reason: reason.map(str::to_string),
            health: None,
            delay: None,
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000),
        }
    }

    fn web() -> UnitView {
        UnitView::declared(
            "demo",
            &UnitSpec::new("web", "busybox:latest").restart(RestartPolicy::Always),
        )
    }

    #[test]
    fn a_declared_unit_shows_its_spec_and_no_container() {
        let view = web();
        assert_eq!(view.container, "demo--web");
        assert_eq!(view.status, "not created");
        assert_eq!(view.restart, "always");
        assert_eq!(view.uptime_seconds, None);
    }

    #[test]
    fn uptime_counts_from_the_event_that_saw_it_running() {
        let mut view = web();
        view.apply(&event(UnitState::Running, 0, None));
        let later = SystemTime::UNIX_EPOCH + Duration::from_secs(1_042);
        assert_eq!(view.at(later).uptime_seconds, Some(42));
        assert_eq!(view.state, "active");
        assert_eq!(view.started_at.as_deref(), Some("1970-01-01T00:16:40.000Z"));
    }

    #[test]
    fn a_restart_keeps_its_reason_after_the_unit_runs_again() {
        let mut view = web();
        view.apply(&event(UnitState::Running, 0, None));
        view.apply(&event(UnitState::Stopping, 0, Some("unhealthy")));
        view.apply(&event(UnitState::Starting, 1, None));
        view.apply(&event(UnitState::Running, 1, None));
        assert_eq!(view.last_restart_reason.as_deref(), Some("unhealthy"));
        assert_eq!(view.restart_count, 1);
        assert_eq!(view.status, "running");
    }

    #[test]
    fn a_start_by_hand_forgets_why_it_last_restarted() {
        let mut view = web();
        view.apply(&event(UnitState::BackingOff, 0, Some("exited with code 1")));
        view.apply(&event(UnitState::Running, 1, None));
        view.apply(&event(UnitState::Running, 0, None));
        assert_eq!(view.last_restart_reason, None);
    }

    #[test]
    fn a_unit_that_leaves_running_has_no_uptime() {
        let mut view = web();
        view.apply(&event(UnitState::Running, 0, None));
        view.apply(&event(UnitState::Exited, 0, Some("exited with code 0")));
        assert_eq!(view.at(SystemTime::now()).uptime_seconds, None);
        assert_eq!(view.status, "exited");
    }
}
