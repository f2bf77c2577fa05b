//! Scenario: unhealthy → running again — from the engine's own
//! `health_status: unhealthy` event to the next `start` event of the same
//! container, both read from /events (`time_nano`, the engine's clock).
//! Contenders, one after the other, each on its own container with the same
//! image, command, check (`test -f /tmp/ok`, 250 ms, 1 retry) and 1 s stop
//! timeout: stevedore (restart always, default backoff; phases recorded as
//! `stevedore up` runs it, so it restarts in place), a raw bollard client
//! restarting on the unhealthy event, and an autoheal-style watcher listing
//! `health=unhealthy` every 5 s. Each round makes the check fail with an
//! exec of `rm -f /tmp/ok` once the container is healthy and has run past the
//! default backoff's `reset_after` (so each of stevedore's restarts is a first
//! one), then at a phase of the watcher's poll cycle that each round has to
//! itself (evenly spread over all rounds), so its figure is what polling
//! costs on average rather than a random draw.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, EventMessage, HealthConfig};
use bollard::query_parameters::{EventsOptions, ListContainersOptions, RestartContainerOptions};
use futures::{Stream, StreamExt};
use stevedore::{HealthCheck, RestartPolicy, ShutdownMode, Supervisor, UnitSpec};
use tokio::time::{Instant, sleep, timeout};

use crate::report::Row;
use crate::util::{IMAGE, create_and_start, docker, remove_prefixed};

/// stevedore's container is `<namespace>--<unit>`; every container of the
/// scenario starts with it.
const NAMESPACE: &str = "benchheal";
const UNIT: &str = "web";
const RAW: &str = "benchheal_raw";
const POLLED: &str = "benchheal_poll";
const AUTOHEAL_LABEL: &str = "benchheal.autoheal";
/// autoheal's AUTOHEAL_INTERVAL.
const POLL_EVERY: Duration = Duration::from_secs(5);
const STOP_TIMEOUT_SECS: u64 = 1;
/// Exits at once on SIGTERM (a trapped signal ends the shell's `wait`), and
/// makes the check pass again at every start.
const COMMAND: &str =
    "trap 'exit 0' TERM; rm -f /tmp/ok; touch /tmp/ok; while true; do sleep 600 & wait $!; done";
/// The check in the engine's words ([`HealthCheck::exec`] adds the `CMD`).
const CHECK: [&str; 4] = ["CMD", "test", "-f", "/tmp/ok"];
const INTERVAL: Duration = Duration::from_millis(250);
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);
const RETRIES: u32 = 1;
/// How long each container runs before its check is made to fail: past the
/// default backoff's `reset_after` (10 s), which also keeps the restarts far
/// below the default intensity limit (10 within 60 s).
const SETTLE: Duration = Duration::from_millis(10_500);
/// Longest wait for any one engine event before a round is given up.
const PATIENCE: Duration = Duration::from_secs(60);

type Events = std::pin::Pin<Box<dyn Stream<Item = Result<EventMessage, bollard::errors::Error>>>>;

/// Container events of `name`: its starts and health changes, from now on.
/// The stream sends its request only when first polled, so `since` makes it
/// replay what happened in between.
fn events_of(client: &Docker, name: &str) -> Events {
    let now = std::time::UNIX_EPOCH.elapsed().unwrap_or_default();
    let words = |words: &[&str]| words.iter().map(|w| w.to_string()).collect();
    let filters = HashMap::from([
        ("type".to_string(), words(&["container"])),
        ("container".to_string(), words(&[name])),
        ("event".to_string(), words(&["start", "health_status"])),
    ]);
    Box::pin(client.events(Some(EventsOptions {
        since: Some(format!("{}.{:09}", now.as_secs(), now.subsec_nanos())),
        filters: Some(filters),
        ..Default::default()
    })))
}

/// The engine's time (ns) of the next event whose action is `action` (the
/// stream has `name`'s alone); `None`, said, when none comes in [`PATIENCE`].
async fn next(events: &mut Events, name: &str, action: &str) -> Option<i64> {
    let wait = async {
        while let Some(Ok(event)) = events.next().await {
            if event.action.as_deref() == Some(action) {
                return event.time_nano;
            }
        }
        None
    };
    let at = timeout(PATIENCE, wait).await.ok().flatten();
    if at.is_none() {
        eprintln!("bench: no {action:?} event of {name}");
    }
    at
}

/// Makes the check fail: `rm -f /tmp/ok` in the container, through the CLI
/// on a thread of its own so that nothing here waits for it.
fn break_check(name: &str) {
    let name = name.to_string();
    std::thread::spawn(move || docker(&["exec", &name, "rm", "-f", "/tmp/ok"]));
}

/// One round on the container `name`, which started at `started`: once it
/// is healthy and has run long enough, its check fails; the gap from its
/// unhealthy event to its next start (which starts the next round).
async fn round(
    events: &mut Events,
    name: &str,
    started: &mut Instant,
    phase: Duration,
    polls: Option<&PollClock>,
) -> Option<Duration> {
    next(events, name, "health_status: healthy").await?;
    sleep((*started + SETTLE).saturating_duration_since(Instant::now())).await;
    // Against the watcher, fail at `phase` into its poll cycle, so that the
    // rounds sample the cycle evenly (what polling costs on average) rather
    // than at random; the others just wait as long.
    let wait = match polls.and_then(PollClock::last) {
        Some(last) => {
            let into =
                Instant::now().saturating_duration_since(last).as_nanos() % POLL_EVERY.as_nanos();
            let into = Duration::from_nanos(into as u64);
            if phase >= into {
                phase - into
            } else {
                POLL_EVERY - into + phase
            }
        }
        None => phase,
    };
    sleep(wait).await;
    break_check(name);
    let unhealthy = next(events, name, "health_status: unhealthy").await?;
    let start = next(events, name, "start").await?;
    *started = Instant::now();
    Some(Duration::from_nanos((start - unhealthy).max(0) as u64))
}

/// When the autoheal-style watcher last listed, shared with the rounds.
#[derive(Clone, Default)]
struct PollClock(Arc<Mutex<Option<Instant>>>);

impl PollClock {
    fn polled(&self) {
        *self.0.lock().unwrap() = Some(Instant::now());
    }

    fn last(&self) -> Option<Instant> {
        *self.0.lock().unwrap()
    }
}

/// One gap per phase of `phases` on the container `name`, whose contender
/// is already at work; `events` was subscribed before its first start.
async fn measure(
    events: &mut Events,
    name: &str,
    phases: &[Duration],
    polls: Option<&PollClock>,
) -> Vec<Duration> {
    let mut out = Vec::new();
    if next(events, name, "start").await.is_some() {
        let mut started = Instant::now();
        for &phase in phases {
            match round(events, name, &mut started, phase, polls).await {
                Some(gap) => out.push(gap),
                None => break,
            }
        }
    }
    out
}

/// A container like stevedore's unit, for the contenders that are not stevedore.
async fn create(client: &Docker, name: &str, labels: HashMap<String, String>) {
    let nanos = |d: Duration| d.as_nanos() as i64;
    let body = ContainerCreateBody {
        image: Some(IMAGE.into()),
        cmd: Some(vec!["sh".into(), "-c".into(), COMMAND.into()]),
        labels: Some(labels),
        stop_timeout: Some(STOP_TIMEOUT_SECS as i64),
        healthcheck: Some(HealthConfig {
            test: Some(CHECK.map(str::to_string).to_vec()),
            interval: Some(nanos(INTERVAL)),
            timeout: Some(nanos(CHECK_TIMEOUT)),
            retries: Some(RETRIES.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    create_and_start(client, name, body).await;
}

/// `docker restart -t 1`: the same grace period as stevedore's stop.
const RESTART: RestartContainerOptions = RestartContainerOptions {
    signal: None,
    t: Some(STOP_TIMEOUT_SECS as i32),
};

async fn stevedore_run(client: &Docker, phases: &[Duration]) -> Vec<Duration> {
    let name = format!("{NAMESPACE}--{UNIT}");
    let mut events = events_of(client, &name);
    let supervisor = Supervisor::builder()
        .namespace(NAMESPACE)
        .record_phases(true)
        .start()
        .await
        .expect("supervisor");
    let check = HealthCheck::exec(CHECK[1..].iter().copied())
        .interval(INTERVAL)
        .timeout(CHECK_TIMEOUT)
        .retries(RETRIES);
    let spec = UnitSpec::new(UNIT, IMAGE)
        .command(["sh", "-c", COMMAND])
        .restart(RestartPolicy::Always)
        .stop_timeout(Duration::from_secs(STOP_TIMEOUT_SECS))
        .healthcheck(check);
    supervisor.add(spec).await.expect("unit up");
    let gaps = measure(&mut events, &name, phases, None).await;
    let _ = supervisor.remove(UNIT).await;
    supervisor.shutdown(ShutdownMode::Leave).await;
    remove_prefixed(NAMESPACE);
    gaps
}

/// A contender that is not stevedore: its container, made like stevedore's
/// unit, and `contender` at work on it while the rounds last.
async fn rival_run(
    client: &Docker,
    name: &str,
    labels: HashMap<String, String>,
    contender: impl Future<Output = ()> + 'static,
    phases: &[Duration],
    polls: Option<&PollClock>,
) -> Vec<Duration> {
    let mut measured = events_of(client, name);
    let contender = actix::spawn(contender);
    create(client, name, labels).await;
    let gaps = measure(&mut measured, name, phases, polls).await;
    contender.abort();
    remove_prefixed(name);
    gaps
}

/// The least an events client can do: restart the container on its unhealthy event.
async fn restart_on_event(client: Docker) {
    let mut events = events_of(&client, RAW);
    while let Some(Ok(event)) = events.next().await {
        if event.action.as_deref() == Some("health_status: unhealthy") {
            let _ = client.restart_container(RAW, Some(RESTART)).await;
        }
    }
}

/// willfarrell/autoheal's loop: list the labelled unhealthy containers,
/// restart each, sleep AUTOHEAL_INTERVAL, again.
async fn autoheal(client: Docker, polls: PollClock) {
    let filters = HashMap::from([
        ("health".to_string(), vec!["unhealthy".to_string()]),
        ("label".to_string(), vec![format!("{AUTOHEAL_LABEL}=true")]),
    ]);
    loop {
        let options = ListContainersOptions {
            filters: Some(filters.clone()),
            ..Default::default()
        };
        polls.polled();
        let listed = client.list_containers(Some(options)).await;
        for id in listed.unwrap_or_default().into_iter().filter_map(|c| c.id) {
            let _ = client.restart_container(&id, Some(RESTART)).await;
        }
        sleep(POLL_EVERY).await;
    }
}

pub async fn run(rounds: usize, runs: usize, rows: &mut Vec<Row>) {
    let scenario = "unhealthy → running again: engine's unhealthy → next start";
    let client = Docker::connect_with_local_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    remove_prefixed(NAMESPACE);
    let mut contenders = [
        "stevedore (restart always, default backoff, in place)",
        "raw bollard: restart on the unhealthy event",
        "autoheal-style: list health=unhealthy every 5 s",
    ]
    .map(|contender| Row::new(scenario, contender, "ms"));
    let runs = runs.max(1);
    let per_run = rounds.max(1).div_ceil(runs);
    // Every round has its own phase of the poll cycle, evenly spread over
    // all rounds of all runs: round i of run r takes slot i × runs + r.
    let slots = per_run * runs;
    for run in 0..runs {
        let phases: Vec<Duration> = (0..per_run)
            .map(|i| POLL_EVERY.mul_f64(((i * runs + run) as f64 + 0.5) / slots as f64))
            .collect();
        for offset in 0..contenders.len() {
            let index = (run + offset) % contenders.len();
            let gaps = match index {
                0 => stevedore_run(&client, &phases).await,
                1 => {
                    let contender = restart_on_event(client.clone());
                    rival_run(&client, RAW, HashMap::new(), contender, &phases, None).await
                }
                _ => {
                    let labels = HashMap::from([(AUTOHEAL_LABEL.into(), "true".into())]);
                    let polls = PollClock::default();
                    let contender = autoheal(client.clone(), polls.clone());
                    rival_run(&client, POLLED, labels, contender, &phases, Some(&polls)).await
                }
            };
            for gap in gaps {
                contenders[index].push_duration(gap);
            }
        }
    }
    remove_prefixed(NAMESPACE);
    let [ours, raw, polled] = &mut contenders;
    let ratio = |a: f64, b: f64| format!("{:.2}×", a / b);
    ours.note = format!(
        "p90 {:.0} ms ({} the raw client's); stop (1 s grace, exits on TERM) + start; target median ≤ 1.05× raw",
        ours.p90(),
        ratio(ours.p90(), raw.p90())
    );
    raw.note = format!("p90 {:.0} ms; the floor for a client", raw.p90());
    polled.note = format!(
        "p90 {:.0} ms; stevedore's median {:.2} s below, p90 {:.2} s below (target ≥ 2 s); failures spread evenly over its 5 s poll cycle",
        polled.p90(),
        (polled.median() - ours.median()) / 1000.0,
        (polled.p90() - ours.p90()) / 1000.0
    );
    rows.extend(contenders);
}
