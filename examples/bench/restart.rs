//! Scenario 2: restart overhead — from the engine's `die` event to the next
//! `start` event of the same unit, minus the configured delay. stevedore (as
//! `stevedore up` runs it: restarts in place, phases recorded) at the engine's
//! own first delay and at no delay, a raw bollard client that starts the
//! container again on `die`, and the engine's own `--restart always` (its
//! delay is 100 ms · 2ⁿ, known from its restart manager). Rounds interleave
//! the contenders, each round on a fresh container.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, EventMessage};
use bollard::query_parameters::EventsOptions;
use futures::{Stream, StreamExt};
use stevedore::{Backoff, IntensityLimit, RestartPolicy, Supervisor, UnitSpec};

use crate::report::Row;
use crate::util::{IMAGE, create_and_start, docker, remove_prefixed};

const CRASH: &str = "sleep 0.3; exit 1";
/// The engine's first restart delay, and the delay of the like-for-like contenders.
const ENGINE_FIRST_DELAY: Duration = Duration::from_millis(100);

type Events = std::pin::Pin<Box<dyn Stream<Item = Result<EventMessage, bollard::errors::Error>>>>;

fn name_of(event: &EventMessage) -> Option<&str> {
    event
        .actor
        .as_ref()?
        .attributes
        .as_ref()?
        .get("name")
        .map(String::as_str)
}

/// Overheads of the next `count` restarts of the container named `name`:
/// each die → start gap minus `delay(n)`, the delay configured before the
/// n-th restart.
async fn overheads(
    events: &mut Events,
    name: &str,
    count: usize,
    delay: impl Fn(usize) -> Duration,
) -> Vec<Duration> {
    let mut died_at: Option<i64> = None;
    let mut out = Vec::new();
    while out.len() < count {
        let Some(Ok(event)) = events.next().await else {
            break;
        };
        if name_of(&event) != Some(name) {
            continue;
        }
        let at = event.time_nano.unwrap_or(0);
        match event.action.as_deref() {
            Some("die") => died_at = Some(at),
            Some("start") => {
                if let Some(died) = died_at.take() {
                    let gap = Duration::from_nanos((at - died).max(0) as u64);
                    out.push(gap.saturating_sub(delay(out.len())));
                }
            }
            _ => {}
        }
    }
    out
}

fn container_events(client: &Docker) -> Events {
    let filters = HashMap::from([
        ("type".to_string(), vec!["container".to_string()]),
        (
            "event".to_string(),
            vec!["die".to_string(), "start".to_string()],
        ),
    ]);
    Box::pin(client.events(Some(EventsOptions {
        filters: Some(filters),
        ..Default::default()
    })))
}

/// A crash-looping unit under stevedore with a constant `delay`, as `up` runs it.
async fn stevedore_round(client: &Docker, delay: Duration, restarts: usize) -> Vec<Duration> {
    let mut events = container_events(client);
    let supervisor = Supervisor::builder()
        .namespace("bench-rs")
        .record_phases(true)
        .start()
        .await
        .expect("supervisor");
    let spec = UnitSpec::new("crash", IMAGE)
        .command(["sh", "-c", CRASH])
        .restart(RestartPolicy::Always)
        .backoff(Backoff {
            initial: delay,
            factor: 1.0,
            max: delay,
            jitter: 0.0,
            ..Backoff::default()
        })
        .intensity(IntensityLimit {
            max_restarts: 10_000,
            within: Duration::from_secs(60),
        });
    supervisor.add(spec).await.expect("unit up");
    let overheads = overheads(&mut events, "bench-rs--crash", restarts, |_| delay).await;
    supervisor.remove("crash").await.expect("removed");
    supervisor.shutdown(stevedore::ShutdownMode::Leave).await;
    remove_prefixed("bench-rs");
    overheads
}

/// The least any API client can do: start the container again `delay` after its `die`.
async fn raw_round(client: &Docker, delay: Duration, restarts: usize) -> Vec<Duration> {
    let name = "bench-rs-raw";
    let mut measured = container_events(client);
    let mut watched = container_events(client);
    let body = ContainerCreateBody {
        image: Some(IMAGE.into()),
        cmd: Some(vec!["sh".into(), "-c".into(), CRASH.into()]),
        ..Default::default()
    };
    create_and_start(client, name, body).await;
    let restarter = {
        let client = client.clone();
        actix::spawn(async move {
            while let Some(Ok(event)) = watched.next().await {
                if name_of(&event) == Some(name) && event.action.as_deref() == Some("die") {
                    tokio::time::sleep(delay).await;
                    let _ = client.start_container(name, None).await;
                }
            }
        })
    };
    let overheads = overheads(&mut measured, name, restarts, |_| delay).await;
    restarter.abort();
    remove_prefixed(name);
    overheads
}

/// The engine's own restart policy; its n-th delay is 100 ms · 2ⁿ.
async fn engine_round(client: &Docker, restarts: usize) -> Vec<Duration> {
    let name = "bench-rs-docker";
    let mut events = container_events(client);
    docker(&[
        "run",
        "-d",
        "--restart",
        "always",
        "--name",
        name,
        IMAGE,
        "sh",
        "-c",
        CRASH,
    ]);
    let overheads = overheads(&mut events, name, restarts, |n| {
        ENGINE_FIRST_DELAY * (1 << n.min(9))
    })
    .await;
    remove_prefixed(name);
    overheads
}

pub async fn run(restarts: usize, engine_restarts: usize, runs: usize, rows: &mut Vec<Row>) {
    let scenario = "restart overhead: die → next start, minus the delay";
    let client = Docker::connect_with_local_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    remove_prefixed("bench-rs");
    let mut contenders = [
        Row::new(
            scenario,
            "stevedore, 100 ms delay (the engine's first)",
            "ms",
        ),
        Row::new(scenario, "raw bollard: start on die, 100 ms delay", "ms"),
        Row::new(scenario, "docker --restart always", "ms"),
        Row::new(scenario, "stevedore, no delay", "ms"),
        Row::new(scenario, "raw bollard: start on die, no delay", "ms"),
    ];
    let rounds = runs.max(1);
    let per_round = restarts.div_ceil(rounds);
    let engine_per_round = engine_restarts.div_ceil(rounds);
    for round in 0..rounds {
        for offset in 0..contenders.len() {
            let index = (round + offset) % contenders.len();
            let overheads = match index {
                0 => stevedore_round(&client, ENGINE_FIRST_DELAY, per_round).await,
                1 => raw_round(&client, ENGINE_FIRST_DELAY, per_round).await,
                2 => engine_round(&client, engine_per_round).await,
                3 => stevedore_round(&client, Duration::ZERO, per_round).await,
                _ => raw_round(&client, Duration::ZERO, per_round).await,
            };
            for overhead in overheads {
                contenders[index].push_duration(overhead);
            }
        }
    }
    let [ours, raw, engine, undelayed, raw_undelayed] = &mut contenders;
    ours.note = format!(
        "{} restarts in {rounds} rounds, in place; target ≤ 1.05× the engine's own",
        ours.samples.len()
    );
    raw.note = "the floor for any client restarting through the API".into();
    engine.note = format!(
        "{} restarts, delays 100·2ⁿ ms taken off (the first {engine_per_round} of each round)",
        engine.samples.len()
    );
    undelayed.note = "die → start itself: includes the engine's exit cleanup, which a delay ≥ the cleanup hides (see the notes)".into();
    raw_undelayed.note = "the same for any API client: the cleanup is the engine's".into();
    rows.extend(contenders);
}
