//! Scripted and random faults of the wire-protocol fake engine.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The endpoints of the Docker Engine API the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /_ping`, `GET /version`.
    System,
    /// `GET /containers/json`.
    List,
    /// `POST /containers/create`.
    Create,
    /// `POST /containers/{id}/start`.
    Start,
    /// `POST /containers/{id}/stop`.
    Stop,
    /// `POST /containers/{id}/kill`.
    Kill,
    /// `POST /containers/{id}/wait`.
    Wait,
    /// `GET /containers/{id}/json`.
    Inspect,
    /// `DELETE /containers/{id}`.
    Remove,
    /// `GET /events`.
    Events,
    /// `POST /images/create` (pull or import).
    ImageCreate,
    /// `GET /images/{name}/json`.
    ImageInspect,
    /// `PUT` or `GET /containers/{id}/archive`.
    Archive,
}

impl Endpoint {
    /// Every endpoint a random fault may hit (events streams are dropped
    /// with [`crate::engine::fake::FakeEngine::drop_event_streams`] instead).
    pub const CALLS: [Endpoint; 11] = [
        Endpoint::List,
        Endpoint::Create,
        Endpoint::Start,
        Endpoint::Stop,
        Endpoint::Kill,
        Endpoint::Wait,
        Endpoint::Inspect,
        Endpoint::Remove,
        Endpoint::ImageCreate,
        Endpoint::ImageInspect,
        Endpoint::Archive,
    ];
}

/// One fault of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and message instead.
    Status(u16, String),
    /// Answer with this status and this raw body (malformed JSON, missing
    /// fields, unknown state words…).
    Body(u16, String),
    /// Answer normally, this much later.
    Delay(Duration),
    /// Never answer (the client's deadline has to end it).
    Hang,
    /// Close the connection without answering, before doing anything.
    Reset,
    /// Do the work, then close the connection without answering (a create
    /// that happened but whose answer was lost).
    LoseResponse,
}

/// The faults to inject; shared by every connection.
#[derive(Default)]
pub struct Faults {
    scripted: Mutex<HashMap<Endpoint, VecDeque<Fault>>>,
    random: Mutex<Option<(f64, StdRng)>>,
    down_until: Mutex<Option<Instant>>,
    pub(crate) down_changed: Notify,
    injected: Mutex<u64>,
}

impl Faults {
    /// Queues `fault` for the next request to `endpoint`.
    pub fn script(&self, endpoint: Endpoint, fault: Fault) {
        self.scripted
            .lock()
            .unwrap()
            .entry(endpoint)
            .or_default()
            .push_back(fault);
    }

    /// Makes `rate` (0–1) of all calls fail transiently (a 500 "Unknown
    /// device" or a 503, or a reset connection), drawn from `seed` so a
    /// failing run can be replayed.
    pub fn random(&self, rate: f64, seed: u64) {
        *self.random.lock().unwrap() = Some((rate, StdRng::seed_from_u64(seed)));
    }

    /// Stops random faults.
    pub fn calm(&self) {
        *self.random.lock().unwrap() = None;
    }

    /// Takes the engine down for `window`: its socket disappears, as when
    /// dockerd is stopped, and comes back after.
    pub fn down_for(&self, window: Duration) {
        *self.down_until.lock().unwrap() = Some(Instant::now() + window);
        self.down_changed.notify_waiters();
    }

    /// Until when the engine is down, if it is.
    pub(crate) fn down_until(&self) -> Option<Instant> {
        let mut down = self.down_until.lock().unwrap();
        match *down {
            Some(until) if until > Instant::now() => Some(until),
            _ => {
                *down = None;
                None
            }
        }
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        *self.injected.lock().unwrap()
    }

    /// The fault for the next request to `endpoint`, if any.
    pub(crate) fn next(&self, endpoint: Endpoint) -> Option<Fault> {
        let scripted = self
            .scripted
            .lock()
            .unwrap()
            .get_mut(&endpoint)
            .and_then(VecDeque::pop_front);
        let fault = scripted.or_else(|| {
            if !Endpoint::CALLS.contains(&endpoint) {
                return None;
            }
            let mut random = self.random.lock().unwrap();
            let (rate, rng) = random.as_mut()?;
            if !rng.random_bool(rate.clamp(0.0, 1.0)) {
                return None;
            }
            Some(match rng.random_range(0..3) {
                0 => Fault::Status(500, "devmapper: Unknown device 4f2e".into()),
                1 => Fault::Status(503, "the engine is busy".into()),
                _ => Fault::Reset,
            })
        });
        if fault.is_some() {
            *self.injected.lock().unwrap() += 1;
        }
        fault
    }
}
