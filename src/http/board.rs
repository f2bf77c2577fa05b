//! The API's live view of one namespace: every unit's last known state, kept
//! current by the unit events (so that no request calls the engine), the
//! recent events numbered for SSE replay, and the restart tallies.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::SystemTime;

use actix::WeakAddr;
use actix::prelude::*;
use tokio::sync::broadcast;

use super::view::{EventView, UnitView, restarting};
use crate::SupervisorHandle;
use crate::unit::{UnitEvent, UnitState};

/// Events kept for `Last-Event-ID` resume.
pub const REPLAY_EVENTS: usize = 4096;
/// Restarts kept for the status page's timeline.
pub const TIMELINE: usize = 50;

/// One numbered event, its JSON ready to send.
#[derive(Debug)]
pub struct Numbered {
    /// Its sequence number (the SSE `id`).
    pub id: u64,
    /// The event.
    pub event: UnitEvent,
    /// [`EventView`] as JSON.
    pub json: String,
}

/// One restart, for the timeline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestartEntry {
    /// Unit name.
    pub unit: String,
    /// Why (`unhealthy`, `exited with code 1`).
    pub reason: Option<String>,
    /// When it began (RFC 3339).
    pub at: String,
}

/// What the board holds; read under its lock.
#[derive(Debug, Default)]
pub struct BoardState {
    /// Every unit, by name.
    pub units: BTreeMap<String, UnitView>,
    /// The last [`REPLAY_EVENTS`] events, oldest first.
    pub recent: VecDeque<Arc<Numbered>>,
    /// Restarts by unit and by reason class (see [`reason_class`]).
    pub restarts: BTreeMap<(String, &'static str), u64>,
    /// The last [`TIMELINE`] restarts, oldest first.
    pub timeline: VecDeque<RestartEntry>,
    /// The id the next event gets.
    next_id: u64,
    /// `GET /v1/units`'s last answer: the board's version and the second
    /// (uptimes) it was made for, and its JSON.
    listed: Option<(u64, u64, actix_web::web::Bytes)>,
    /// One more for every change to `units`.
    version: u64,
}

impl BoardState {
    /// The id of the latest event (0: none yet).
    pub fn last_id(&self) -> u64 {
        self.next_id.saturating_sub(1)
    }

    /// The events after `id` still kept, or `None` when some of them are
    /// no longer kept (the client must re-read `/v1/units`).
    pub fn after(&self, id: u64) -> Option<Vec<Arc<Numbered>>> {
        if id > self.last_id() {
            return None; // an id of another process: cannot resume
        }
        let oldest = self.recent.front().map_or(self.next_id, |e| e.id);
        if id + 1 < oldest {
            return None;
        }
        Some(self.recent.iter().filter(|e| e.id > id).cloned().collect())
    }

    /// Takes one event in: numbers it, applies it to its unit and the
    /// tallies. Returns it numbered.
    pub fn record(&mut self, event: UnitEvent) -> Arc<Numbered> {
        let id = self.next_id.max(1);
        self.next_id = id + 1;
        self.version += 1;
        if event.state == UnitState::Removed {
            self.units.remove(&event.unit);
        } else if let Some(unit) = self.units.get_mut(&event.unit) {
            if restarting(&event) {
                let class = reason_class(event.reason.as_deref());
                *self
                    .restarts
                    .entry((event.unit.clone(), class))
                    .or_default() += 1;
                self.timeline.push_back(RestartEntry {
                    unit: event.unit.clone(),
                    reason: event.reason.clone(),
                    at: super::view::rfc3339(event.at),
                });
                if self.timeline.len() > TIMELINE {
                    self.timeline.pop_front();
                }
            }
            unit.apply(&event);
        }
        let json = serde_json::to_string(&EventView::of(id, &event)).unwrap_or_default();
        let numbered = Arc::new(Numbered { id, event, json });
        self.recent.push_back(numbered.clone());
        if self.recent.len() > REPLAY_EVENTS {
            self.recent.pop_front();
        }
        numbered
    }
}

/// What a restart's reason says, as the `reason` label of
/// `stevedore_unit_restarts_total`: `unhealthy`, `dependency` (a dependency
/// restarted) or `exit`.
pub fn reason_class(reason: Option<&str>) -> &'static str {
    match reason {
        Some(reason) if reason.contains("unhealthy") => "unhealthy",
        Some(reason) if reason.contains("dependency") => "dependency",
        _ => "exit",
    }
}

/// The board: shared by every request handler, written by its
/// [`BoardWriter`] actor.
#[derive(Debug, Clone)]
pub struct Board {
    state: Arc<RwLock<BoardState>>,
    live: broadcast::Sender<Arc<Numbered>>,
    namespace: Arc<str>,
    writer: Arc<OnceLock<WeakAddr<BoardWriter>>>,
}

impl Board {
    /// A board of `supervisor`'s namespace: filled from one `list` (the
    /// only engine call it makes), then kept current by the unit events.
    pub async fn start(supervisor: &SupervisorHandle) -> Board {
        let board = Board {
            state: Arc::default(),
            live: broadcast::channel(REPLAY_EVENTS).0,
            namespace: supervisor.namespace().into(),
            writer: Arc::default(),
        };
        // Subscribed first, so that nothing between the list and the
        // subscription is missed; events of units not listed yet are
        // applied once they are known.
        let writer = BoardWriter {
            board: board.clone(),
            supervisor: supervisor.clone(),
        }
        .start();
        let _ = board.writer.set(writer.downgrade());
        supervisor.subscribe(writer.recipient()).await;
        if let Ok(units) = supervisor.list().await {
            let mut state = board.state.write().unwrap();
            state.version += 1;
            for status in units {
                state
                    .units
                    .entry(status.name.clone())
                    .or_insert_with(|| UnitView::listed(&board.namespace, &status));
            }
        }
        board
    }

    /// Waits until every event published so far is on the board: after an
    /// answer from the handle (a unit added, started, stopped), the board
    /// shows what that answer did.
    pub async fn settle(&self) {
        let writer = self.writer.get().and_then(WeakAddr::upgrade);
        if let Some(writer) = writer {
            let _ = writer.send(Settle).await;
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Reads the board.
    pub fn read<T>(&self, read: impl FnOnce(&BoardState) -> T) -> T {
        read(&self.state.read().unwrap())
    }

    /// Every unit as of now, as the JSON of `GET /v1/units`. Made once per
    /// change of the board and second of uptime, however many ask: a
    /// dashboard polling it costs a copy of the bytes.
    pub fn units_json(&self) -> actix_web::web::Bytes {
        let now = SystemTime::now();
        let second = now
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        if let Some((version, at, json)) = &self.read(|state| state.listed.clone())
            && *version == self.read(|state| state.version)
            && *at == second
        {
            return json.clone();
        }
        let mut state = self.state.write().unwrap();
        let units: Vec<UnitView> = state.units.values().map(|unit| unit.at(now)).collect();
        let json = actix_web::web::Bytes::from(serde_json::to_vec(&units).unwrap_or_default());
        state.listed = Some((state.version, second, json.clone()));
        json
    }

    /// Every unit as of now, sorted by name.
    pub fn units(&self) -> Vec<UnitView> {
        let now = SystemTime::now();
        self.read(|state| state.units.values().map(|unit| unit.at(now)).collect())
    }

    /// One unit as of now.
    pub fn unit(&self, name: &str) -> Option<UnitView> {
        let now = SystemTime::now();
        self.read(|state| state.units.get(name).map(|unit| unit.at(now)))
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Numbered>> {
        self.live.subscribe()
    }
}

/// Applies the namespace's unit events to the board, one at a time in the
/// order they came (an actor, because an actor's mailbox never drops an
/// event, where a stream subscriber may lag).
#[derive(Debug)]
pub struct BoardWriter {
    board: Board,
    supervisor: SupervisorHandle,
}

impl Actor for BoardWriter {
    type Context = Context<Self>;
}

/// Answered once every event before it is applied.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Settle;

impl Handler<Settle> for BoardWriter {
    type Result = ();
    fn handle(&mut self, _: Settle, _: &mut Context<Self>) {}
}

impl Handler<UnitEvent> for BoardWriter {
    // Atomic: the next event waits until this one is applied, even when it
    // first reads the unit's spec.
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, event: UnitEvent, _: &mut Context<Self>) -> Self::Result {
        // A unit the board does not know yet, or one whose container is
        // being made anew (its spec may have changed), is read once.
        let known = self.board.read(|s| s.units.contains_key(&event.unit));
        let respec = !known || matches!(event.state, UnitState::Pending | UnitState::Creating);
        let supervisor = self.supervisor.clone();
        let name = event.unit.clone();
        let asked = name.clone();
        let removed = event.state == UnitState::Removed;
        AtomicResponse::new(Box::pin(
            async move {
                if respec && !removed {
                    supervisor.snapshot(&asked).await
                } else {
                    None
                }
            }
            .into_actor(self)
            .map(move |snapshot, writer, _| {
                let board = &writer.board;
                let numbered = {
                    let mut state = board.state.write().unwrap();
                    if let Some(snapshot) = snapshot {
                        let unit = state.units.entry(name).or_insert_with(|| {
                            UnitView::declared(&board.namespace, &snapshot.spec)
                        });
                        unit.respec(&board.namespace, &snapshot);
                    }
                    state.record(event)
                };
                let _ = board.live.send(numbered);
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UnitSpec;
    use std::time::Duration;

    fn event(state: UnitState, reason: Option<&str>) -> UnitEvent {
        UnitEvent {
            namespace: "demo".into(),
            unit: "web".into(),
            state,
            container_id: None,
            restart_count: 0,
            exit_code: None,
            reason: reason.map(str::to_string),
            health: None,
            delay: None,
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(5),
        }
    }

    fn board_with_web() -> BoardState {
        let mut state = BoardState::default();
        let spec = UnitSpec::new("web", "busybox:latest");
        state
            .units
            .insert("web".into(), UnitView::declared("demo", &spec));
        state
    }

    #[test]
    fn events_are_numbered_from_one() {
        let mut state = board_with_web();
        assert_eq!(state.record(event(UnitState::Running, None)).id, 1);
        assert_eq!(state.record(event(UnitState::Stopping, None)).id, 2);
        assert_eq!(state.last_id(), 2);
    }

    #[test]
    fn a_client_resumes_after_the_last_event_it_saw() {
        let mut state = board_with_web();
        for _ in 0..5 {
            state.record(event(UnitState::Running, None));
        }
        let ids: Vec<u64> = state.after(3).unwrap().iter().map(|e| e.id).collect();
        assert_eq!(ids, [4, 5]);
        assert!(state.after(5).unwrap().is_empty());
    }

    #[test]
    fn a_resume_from_before_the_kept_events_or_from_another_process_is_refused() {
        let mut state = board_with_web();
        for _ in 0..REPLAY_EVENTS + 10 {
            state.record(event(UnitState::Running, None));
        }
        assert!(state.after(5).is_none(), "events 6..=10 are no longer kept");
        assert!(state.after(10).is_some(), "11 is the oldest kept");
        assert!(state.after(1_000_000).is_none());
    }

    #[test]
    fn restarts_are_tallied_by_reason_and_kept_on_the_timeline() {
        let mut state = board_with_web();
        state.record(event(UnitState::BackingOff, Some("exited with code 1")));
        state.record(event(UnitState::Stopping, Some("unhealthy")));
        state.record(event(UnitState::Stopping, None)); // stopped by hand
        assert_eq!(state.restarts[&("web".to_string(), "exit")], 1);
        assert_eq!(state.restarts[&("web".to_string(), "unhealthy")], 1);
        assert_eq!(state.timeline.len(), 2);
    }

    #[test]
    fn a_removed_unit_leaves_the_board() {
        let mut state = board_with_web();
        state.record(event(UnitState::Removed, None));
        assert!(state.units.is_empty());
    }
}
