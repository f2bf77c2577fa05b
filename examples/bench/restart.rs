//! Scenario 2: restart overhead — from the engine's `die` event to the next
//! `start` event of the same unit, minus the configured delay. stevedore with
//! a 1 ms backoff against the engine's own `--restart always` (its delay is
//! 100 ms · 2ⁿ, known from its restart manager).

use std::collections::HashMap;
use std::time::Duration;

use bollard::query_parameters::EventsOptions;
use futures::StreamExt;
use stevedore::{Backoff, IntensityLimit, RestartPolicy, Supervisor, UnitSpec};

use crate::report::Row;
use crate::util::{IMAGE, docker, remove_prefixed};

const CRASH: &str = "sleep 0.3; exit 1";

/// die→start gaps of containers named `name`, in order, `count` of them.
async fn gaps(
    events: &mut (
             impl StreamExt<Item = Result<bollard::models::EventMessage, bollard::errors::Error>> + Unpin
         ),
    name: &str,
    count: usize,
) -> Vec<Duration> {
    let mut died_at: Option<i64> = None;
    let mut out = Vec::new();
    while out.len() < count {
        let Some(Ok(event)) = events.next().await else {
            break;
        };
        let attributes: HashMap<String, String> =
            event.actor.and_then(|a| a.attributes).unwrap_or_default();
        if attributes.get("name").map(String::as_str) != Some(name) {
            continue;
        }
        let at = event.time_nano.unwrap_or(0);
        match event.action.as_deref() {
            Some("die") => died_at = Some(at),
            Some("start") => {
                if let Some(died) = died_at.take() {
                    out.push(Duration::from_nanos((at - died).max(0) as u64));
                }
            }
            _ => {}
        }
    }
    out
}

fn container_events(
    docker: &bollard::Docker,
) -> impl StreamExt<Item = Result<bollard::models::EventMessage, bollard::errors::Error>> + Unpin {
    let filters = HashMap::from([
        ("type".to_string(), vec!["container".to_string()]),
        (
            "event".to_string(),
            vec!["die".to_string(), "start".to_string()],
        ),
    ]);
    docker.events(Some(EventsOptions {
        filters: Some(filters),
        ..Default::default()
    }))
}

pub async fn run(restarts: usize, engine_restarts: usize, rows: &mut Vec<Row>) {
    let scenario = "restart overhead: die → next start, minus the delay";
    let client = bollard::Docker::connect_with_local_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    remove_prefixed("bench-rs");

    let mut ours = Row::new(scenario, "stevedore (always, 1 ms backoff)", "ms");
    let mut events = container_events(&client);
    let supervisor = Supervisor::builder()
        .namespace("bench-rs")
        .start()
        .await
        .expect("supervisor");
    let delay = Duration::from_millis(1);
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
    for gap in gaps(&mut events, "bench-rs--crash", restarts).await {
        ours.samples
            .push((gap.saturating_sub(delay)).as_secs_f64() * 1000.0);
    }
    supervisor.remove("crash").await.expect("removed");
    supervisor.shutdown(stevedore::ShutdownMode::Leave).await;
    ours.note = format!(
        "{} restarts; target ≤ 1.05× the engine's own",
        ours.samples.len()
    );

    let mut engine = Row::new(scenario, "docker --restart always", "ms");
    let mut events = container_events(&client);
    docker(&[
        "run",
        "-d",
        "--restart",
        "always",
        "--name",
        "bench-rs-docker",
        IMAGE,
        "sh",
        "-c",
        CRASH,
    ]);
    for (n, gap) in gaps(&mut events, "bench-rs-docker", engine_restarts)
        .await
        .into_iter()
        .enumerate()
    {
        let backoff = Duration::from_millis(100 * (1 << n.min(9))).min(Duration::from_secs(60));
        engine
            .samples
            .push((gap.saturating_sub(backoff)).as_secs_f64() * 1000.0);
    }
    engine.note = format!(
        "{} restarts (its backoff doubles from 100 ms, so fewer)",
        engine.samples.len()
    );
    remove_prefixed("bench-rs");
    rows.extend([ours, engine]);
}
