//! The namespace lease: at most one supervisor per namespace per engine.
//!
//! Taking the lease is creating the container `<ns>---lease`; the engine
//! makes names unique, so of two supervisors racing for it exactly one
//! create succeeds, on one host or many. Its labels name the holder (host,
//! pid, since). A holder on this host whose pid is gone is stale and is
//! replaced; `take_over` replaces any holder. Releasing is removing it.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use actix::Addr;
use thiserror::Error;

use super::{RECORD_LABEL, create_record, gone, lease_container};
use crate::engine::EngineError;
use crate::gateway::{CreateOutcome, Gateway, InspectContainer, RemoveContainer};

const HOST: &str = "io.stevedore.lease.host";
const PID: &str = "io.stevedore.lease.pid";
const SINCE: &str = "io.stevedore.lease.since";

/// Who holds a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Host name of the holder.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// When it took the lease, in Unix seconds.
    pub since: u64,
}

impl Holder {
    /// This process.
    pub fn this_process() -> Self {
        Holder {
            host: this_host(),
            pid: std::process::id(),
            since: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }

    fn labels(&self, namespace: &str) -> HashMap<String, String> {
        HashMap::from([
            (RECORD_LABEL.to_string(), namespace.to_string()),
            (HOST.to_string(), self.host.clone()),
            (PID.to_string(), self.pid.to_string()),
            (SINCE.to_string(), self.since.to_string()),
        ])
    }

    fn from_labels(labels: &HashMap<String, String>) -> Option<Holder> {
        Some(Holder {
            host: labels.get(HOST)?.clone(),
            pid: labels.get(PID)?.parse().ok()?,
            since: labels.get(SINCE).and_then(|s| s.parse().ok()).unwrap_or(0),
        })
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on host {} since {}",
            self.pid,
            self.host,
            format_utc(self.since)
        )
    }
}

/// What to do about a lease someone else holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It is live (or may be): refuse.
    Refuse,
    /// It is stale or forced: remove it and take the lease.
    Replace,
}

/// Judges a lease held by `holder` (`None`: unreadable labels) for `me`.
/// `pid_alive` answers for pids on this host.
pub fn judge(
    holder: Option<&Holder>,
    me: &Holder,
    take_over: bool,
    pid_alive: impl Fn(u32) -> bool,
) -> Verdict {
    match holder {
        _ if take_over => Verdict::Replace,
        Some(holder) if holder.host == me.host && holder.pid == me.pid => Verdict::Replace,
        Some(holder) if holder.host == me.host && !pid_alive(holder.pid) => Verdict::Replace,
        _ => Verdict::Refuse,
    }
}

/// Why the lease could not be taken.
#[derive(Debug, Error)]
pub enum LeaseError {
    /// Another supervisor holds it.
    #[error(
        "namespace {namespace} is already supervised by {holder} (use --take-over if it is gone)"
    )]
    Held {
        /// The namespace.
        namespace: String,
        /// Who holds it (`None` when its labels are unreadable).
        holder: String,
    },
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A held lease.
pub struct Lease {
    gateway: Addr<Gateway>,
    id: String,
    /// Who holds it (this process).
    pub holder: Holder,
    /// Who held it before, when a stale lease was taken over.
    pub replaced: Option<Holder>,
}

impl Lease {
    /// Takes the lease of `namespace`, replacing a stale one (or any, with `take_over`).
    pub async fn acquire(
        gateway: &Addr<Gateway>,
        namespace: &str,
        take_over: bool,
    ) -> Result<Lease, LeaseError> {
        let me = Holder::this_process();
        let name = lease_container(namespace);
        let mut replaced = None;
        for _ in 0..3 {
            let existing = match create_record(gateway, &name, me.labels(namespace)).await? {
                CreateOutcome::Created(id) | CreateOutcome::Adopted(id) => {
                    return Ok(Lease {
                        gateway: gateway.clone(),
                        id,
                        holder: me,
                        replaced,
                    });
                }
                CreateOutcome::Foreign(id) | CreateOutcome::Stale(id) => id,
            };
            let inspect = match gateway
                .send(InspectContainer {
                    id: existing.clone(),
                })
                .await
                .map_err(gone)?
            {
                Ok(inspect) => inspect,
                Err(EngineError::ContainerNotFound(_)) => continue, // released meanwhile
                Err(error) => return Err(error.into()),
            };
            let labels = inspect.config.and_then(|c| c.labels).unwrap_or_default();
            let holder = Holder::from_labels(&labels);
            match judge(holder.as_ref(), &me, take_over, pid_alive) {
                Verdict::Refuse => {
                    return Err(LeaseError::Held {
                        namespace: namespace.to_string(),
                        holder: holder
                            .map_or_else(|| "an unknown holder".to_string(), |h| h.to_string()),
                    });
                }
                Verdict::Replace => {
                    // By id: if another taker replaced it first, this removes nothing of theirs.
                    let remove = RemoveContainer {
                        id: existing,
                        force: true,
                    };
                    gateway.send(remove).await.map_err(gone)??;
                    replaced = holder;
                }
            }
        }
        Err(LeaseError::Held {
            namespace: namespace.to_string(),
            holder: "another supervisor taking it at the same moment".into(),
        })
    }

    /// Gives the lease back.
    pub async fn release(self) -> Result<(), EngineError> {
        let remove = RemoveContainer {
            id: self.id,
            force: true,
        };
        self.gateway.send(remove).await.map_err(gone)?
    }
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown-host".into())
}

/// Whether a process with `pid` exists on this host.
fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(host: &str, pid: u32) -> Holder {
        Holder {
            host: host.into(),
            pid,
            since: 0,
        }
    }

    #[test]
    fn a_live_holder_on_this_host_is_refused() {
        assert_eq!(
            judge(Some(&holder("a", 1)), &holder("a", 2), false, |_| true),
            Verdict::Refuse
        );
    }

    #[test]
    fn a_holder_on_this_host_whose_pid_is_gone_is_replaced() {
        assert_eq!(
            judge(Some(&holder("a", 1)), &holder("a", 2), false, |_| false),
            Verdict::Replace
        );
    }

    #[test]
    fn a_holder_on_another_host_is_refused_unless_taken_over() {
        let other = holder("b", 1);
        assert_eq!(
            judge(Some(&other), &holder("a", 2), false, |_| false),
            Verdict::Refuse
        );
        assert_eq!(
            judge(Some(&other), &holder("a", 2), true, |_| true),
            Verdict::Replace
        );
    }

    #[test]
    fn an_unreadable_lease_is_refused_unless_taken_over() {
        assert_eq!(
            judge(None, &holder("a", 2), false, |_| false),
            Verdict::Refuse
        );
        assert_eq!(
            judge(None, &holder("a", 2), true, |_| false),
            Verdict::Replace
        );
    }

    #[test]
    fn utc_times_are_formatted_like_docker() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_795_464_000), "2026-11-23T20:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
