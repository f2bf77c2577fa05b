//! The phase record: each unit's last state as the supervisor saw it, kept
//! in `/phases.json` of the never-started container `<ns>---state`, so that
//! `stevedore ps` shows it without a running supervisor and a new
//! supervisor knows which units were stopped by hand.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix::clock::Instant;
use actix::prelude::*;
use serde::{Deserialize, Serialize};

use super::tar::{first_file, single_file};
use super::{RECORD_LABEL, create_record, gone, state_container};
use crate::engine::{EngineError, EngineResult};
use crate::gateway::{CreateOutcome, Gateway, GetArchive, PutArchive};
use crate::unit::{UnitEvent, UnitState};

const FILE: &str = "phases.json";

/// One unit's last recorded phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// The state's name (`running`, `backing-off`, `stopped`, `failed`…).
    pub phase: String,
    /// Why, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was recorded, in Unix seconds.
    pub at: u64,
    /// Restarts so far (restarts in place do not change container labels).
    #[serde(default)]
    pub restart_count: u32,
    /// Exit code of the last run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_exit_code: Option<i64>,
    /// Why the unit last restarted (`unhealthy`, `exited with code 1`);
    /// restarts in place do not change container labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart_reason: Option<String>,
}

/// Reads the namespace's phase record; none yet reads as empty.
pub async fn read_phases(
    gateway: &Addr<Gateway>,
    namespace: &str,
) -> EngineResult<BTreeMap<String, PhaseRecord>> {
    let read = GetArchive {
        id: state_container(namespace),
        path: format!("/{FILE}"),
    };
    match gateway.send(read).await.map_err(gone)? {
        Ok(tar) => Ok(first_file(&tar)
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default()),
        Err(EngineError::ContainerNotFound(_)) => Ok(BTreeMap::new()),
        Err(error) => Err(error),
    }
}

/// Replaces the namespace's phase record.
pub async fn write_phases(
    gateway: &Addr<Gateway>,
    namespace: &str,
    phases: &BTreeMap<String, PhaseRecord>,
) -> EngineResult<()> {
    let name = state_container(namespace);
    let json = serde_json::to_vec_pretty(phases).expect("phase records always serialize");
    let tar = single_file(FILE, &json, unix_now());
    let put = || PutArchive {
        id: name.clone(),
        path: "/".into(),
        tar: tar.clone(),
    };
    match gateway.send(put()).await.map_err(gone)? {
        Err(EngineError::ContainerNotFound(_)) => {
            let labels = [(RECORD_LABEL.to_string(), namespace.to_string())].into();
            // Whoever made it, a container of that name now exists to write into.
            let _: CreateOutcome = create_record(gateway, &name, labels).await?;
            gateway.send(put()).await.map_err(gone)?
        }
        other => other,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// How soon a stop or a removal is written: a new supervisor acts on those.
const URGENT_WRITE: Duration = Duration::from_millis(200);
/// How soon any other change is written. Each write costs the engine ~40 ms
/// of CPU (it unpacks the archive in a re-executed dockerd), which a bring-up
/// needs for its containers; a second keeps `ps` fresh enough.
const LAZY_WRITE: Duration = Duration::from_secs(1);

/// An actor that keeps the phase record up to date from unit events,
/// writing a while after a change (many changes, one write) and never when
/// nothing changed (an idle supervisor wakes for nothing).
pub struct PhaseRecorder {
    gateway: Addr<Gateway>,
    namespace: String,
    /// The record as the events have made it, shared with the writes.
    latest: Arc<std::sync::Mutex<Latest>>,
    /// The generation last written. Writes take this lock, so they land one
    /// at a time, and each copies `latest` only once it holds the lock: an
    /// older record never lands after a newer one, and writes queued behind
    /// a slow one find the newest already written and do nothing.
    written: Arc<tokio::sync::Mutex<u64>>,
    /// When the next write is due, and its timer.
    flush_due: Option<(Instant, SpawnHandle)>,
}

/// The record and its change count (bumped on every change).
#[derive(Default)]
struct Latest {
    generation: u64,
    phases: BTreeMap<String, PhaseRecord>,
}

impl PhaseRecorder {
    /// A recorder starting from `phases` (what was recorded before).
    pub fn new(
        gateway: Addr<Gateway>,
        namespace: String,
        phases: BTreeMap<String, PhaseRecord>,
    ) -> Self {
        PhaseRecorder {
            gateway,
            namespace,
            latest: Arc::new(std::sync::Mutex::new(Latest {
                generation: 0,
                phases,
            })),
            written: Arc::default(),
            flush_due: None,
        }
    }

    /// Writes the newest record, unless it has been written already. Runs
    /// outside the actor, so that stopping the actor never cuts a write in
    /// the middle.
    fn write(&self) -> impl Future<Output = EngineResult<()>> + use<> {
        let (gateway, namespace) = (self.gateway.clone(), self.namespace.clone());
        let (latest, written) = (Arc::clone(&self.latest), Arc::clone(&self.written));
        async move {
            let mut last_written = written.lock().await;
            let (generation, phases) = {
                let latest = latest
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                (latest.generation, latest.phases.clone())
            };
            if *last_written >= generation {
                return Ok(());
            }
            write_phases(&gateway, &namespace, &phases).await?;
            *last_written = generation;
            Ok(())
        }
    }

    /// Writes `after` from now, or sooner if a write is already due sooner.
    fn schedule_flush(&mut self, after: Duration, ctx: &mut Context<Self>) {
        let due = Instant::now() + after;
        if let Some((scheduled, timer)) = self.flush_due {
            if scheduled <= due {
                return;
            }
            ctx.cancel_future(timer);
        }
        let timer = ctx.run_later(after, |act, ctx| {
            act.flush_due = None;
            let (write, recorder) = (act.write(), ctx.address());
            actix::spawn(async move {
                if let Err(error) = write.await {
                    tracing::warn!(%error, "could not record unit phases; trying again");
                    recorder.do_send(RetryFlush);
                }
            });
        });
        self.flush_due = Some((due, timer));
    }
}

impl Actor for PhaseRecorder {
    type Context = Context<Self>;
}

impl Handler<UnitEvent> for PhaseRecorder {
    type Result = ();

    fn handle(&mut self, event: UnitEvent, ctx: &mut Context<Self>) {
        let urgent = matches!(event.state, UnitState::Stopped | UnitState::Removed);
        {
            let mut latest = self
                .latest
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if event.state == UnitState::Removed {
                latest.phases.remove(&event.unit);
            } else {
                // A restart is decided as the unit backs off (or, when the
                // stop of an unhealthy container outlasted the delay, as it
                // stops); its reason is kept beyond that phase.
                let restarting = event.state == UnitState::BackingOff
                    || (event.state == UnitState::Stopping && event.reason.is_some());
                let last_restart_reason = if restarting {
                    event.reason.clone()
                } else {
                    latest
                        .phases
                        .get(&event.unit)
                        .and_then(|record| record.last_restart_reason.clone())
                };
                latest.phases.insert(
                    event.unit,
                    PhaseRecord {
                        phase: event.state.as_str().to_string(),
                        reason: event.reason,
                        at: unix_now(),
                        restart_count: event.restart_count,
                        last_exit_code: event.exit_code,
                        last_restart_reason,
                    },
                );
            }
            latest.generation += 1;
        }
        self.schedule_flush(if urgent { URGENT_WRITE } else { LAZY_WRITE }, ctx);
    }
}

/// A write failed: try again a while later.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct RetryFlush;

impl Handler<RetryFlush> for PhaseRecorder {
    type Result = ();
    fn handle(&mut self, _: RetryFlush, ctx: &mut Context<Self>) {
        self.schedule_flush(LAZY_WRITE, ctx);
    }
}

/// Writes what is pending, after any write in flight, and stops the
/// recorder; answers when the record is written.
#[derive(Debug, Message)]
#[rtype(result = "EngineResult<()>")]
pub struct FinishRecording;

impl Handler<FinishRecording> for PhaseRecorder {
    type Result = ResponseFuture<EngineResult<()>>;

    fn handle(&mut self, _: FinishRecording, ctx: &mut Context<Self>) -> Self::Result {
        let write = self.write();
        ctx.stop();
        Box::pin(write)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::Operation;
    use crate::engine::fake::FakeEngine;
    use crate::gateway::GatewayConfig;

    fn change(recorder: &PhaseRecorder, phase: &str) {
        let mut latest = recorder.latest.lock().unwrap();
        let record = PhaseRecord {
            phase: phase.into(),
            reason: None,
            at: 0,
            restart_count: 0,
            last_exit_code: None,
            last_restart_reason: None,
        };
        latest.phases.insert("web".into(), record);
        latest.generation += 1;
    }

    #[actix::test]
    async fn writes_queued_together_land_once_with_the_newest_record() {
        let engine = FakeEngine::new();
        let gateway = Gateway::start_with(Arc::new(engine.clone()), GatewayConfig::default());
        write_phases(&gateway, "ns", &BTreeMap::new())
            .await
            .unwrap();
        let puts_before = engine.calls(Operation::PutArchive);

        let recorder = PhaseRecorder::new(gateway.clone(), "ns".into(), BTreeMap::new());
        let mut writes = Vec::new();
        for phase in ["starting", "running", "stopped"] {
            change(&recorder, phase);
            writes.push(recorder.write());
        }
        for written in futures::future::join_all(writes).await {
            written.unwrap();
        }

        assert_eq!(engine.calls(Operation::PutArchive) - puts_before, 1);
        let recorded = read_phases(&gateway, "ns").await.unwrap();
        assert_eq!(recorded["web"].phase, "stopped");
    }
}
