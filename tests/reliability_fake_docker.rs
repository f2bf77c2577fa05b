//! Reliability against the wire-protocol fake engine, through the real
//! bollard gateway: faults, lost answers, dropped event streams, an engine
//! that goes away, calls that hang, and a flood of adds. Deterministic
//! (seeded faults), no Docker needed.
#![cfg(feature = "test-util")]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use stevedore::engine::fake::FakeEngine;
use stevedore::engine::fake_http::{Endpoint, FakeDocker, Fault};
use stevedore::engine::{DockerEngine, Operation};
use stevedore::gateway::GatewayConfig;
use stevedore::{
    Backoff, RestartPolicy, Supervisor, SupervisorHandle, UnitEvent, UnitSpec, UnitState,
};

async fn fake() -> FakeDocker {
    FakeDocker::start(FakeEngine::new())
        .await
        .expect("the fake engine listens")
}

async fn supervisor_on(
    fake: &FakeDocker,
    namespace: &str,
    config: GatewayConfig,
) -> SupervisorHandle {
    let engine = DockerEngine::connect_host(&fake.docker_host())
        .await
        .expect("bollard connects to the fake");
    Supervisor::builder()
        .namespace(namespace)
        .engine(Arc::new(engine))
        .gateway_config(config)
        .start()
        .await
        .expect("supervisor starts")
}

fn quick() -> Backoff {
    Backoff {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
        jitter: 0.0,
        ..Backoff::default()
    }
}

fn sleeper(name: &str) -> UnitSpec {
    UnitSpec::new(name, "busybox:latest")
        .restart(RestartPolicy::Always)
        .backoff(quick())
}

/// Waits for events until `done` says every awaited thing happened.
async fn until(
    events: &mut (impl StreamExt<Item = UnitEvent> + Unpin),
    mut done: impl FnMut(&UnitEvent) -> bool,
) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = events.next().await {
            if done(&event) {
                return;
            }
        }
        panic!("event stream ended");
    })
    .await
    .expect("the awaited events never came");
}

fn containers_per_name(fake: &FakeDocker) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for container in fake.engine().containers() {
        *counts.entry(container.name).or_default() += 1;
    }
    counts
}

#[actix::test]
async fn the_whole_stack_runs_units_over_the_wire_protocol() {
    let fake = fake().await;
    let sup = supervisor_on(&fake, "wire", GatewayConfig::default()).await;
    let mut events = sup.events().await;
    sup.add(sleeper("web")).await.unwrap();
    fake.engine().crash("wire--web", 3);
    until(&mut events, |e| {
        e.state == UnitState::Running && e.restart_count == 1
    })
    .await;
    let listed = sup.list().await.unwrap();
    assert_eq!(listed[0].container.as_ref().unwrap().status, "running");
    assert_eq!(containers_per_name(&fake)["wire--web"], 1);
}

fn fast() -> GatewayConfig {
    GatewayConfig {
        rate: stevedore::gateway::Rate {
            per_second: 20_000.0,
            burst: 1_000,
        },
        ..GatewayConfig::default()
    }
}

/// Adds `count` units at once; returns when every add answered.
async fn add_many(sup: &SupervisorHandle, count: usize) {
    let adds = (0..count).map(|n| sup.add(sleeper(&format!("u{n:03}"))));
    for result in futures::future::join_all(adds).await {
        result.expect("every unit comes up");
    }
}

#[actix::test]
async fn twenty_percent_transient_faults_still_converge_200_units_without_duplicates() {
    let calm = fake().await;
    let sup = supervisor_on(&calm, "calm", fast()).await;
    add_many(&sup, 200).await;
    let fault_free_calls = calm.engine().total_calls();

    let stormy = fake().await;
    stormy.faults().random(0.2, 7);
    let sup = supervisor_on(&stormy, "storm", fast()).await;
    add_many(&sup, 200).await;
    stormy.faults().calm();
    let listed = sup.list().await.unwrap();
    assert_eq!(listed.len(), 200);
    assert!(listed.iter().all(|unit| unit.state == UnitState::Running));
    let counts = containers_per_name(&stormy);
    assert_eq!(counts.len(), 200);
    assert!(counts.values().all(|&n| n == 1), "no duplicates");
    let faulty_calls = stormy.engine().total_calls();
    println!(
        "200 units, 20% faults (seed 7): {faulty_calls} engine calls vs {fault_free_calls} fault-free ({:.2}x), {} faults injected",
        faulty_calls as f64 / fault_free_calls as f64,
        stormy.faults().injected()
    );
    assert!(faulty_calls <= 3 * fault_free_calls);
}

#[actix::test]
async fn lost_create_answers_never_duplicate_a_unit() {
    let fake = fake().await;
    for _ in 0..20 {
        fake.faults().script(Endpoint::Create, Fault::LoseResponse);
    }
    let sup = supervisor_on(&fake, "lost", fast()).await;
    add_many(&sup, 20).await;
    let counts = containers_per_name(&fake);
    assert_eq!(counts.len(), 20);
    assert!(
        counts.values().all(|&n| n == 1),
        "every unit exists exactly once: {counts:?}"
    );
    assert!(
        fake.engine().calls(Operation::Create) >= 40,
        "each create was answered only on its retry"
    );
}

#[actix::test]
async fn exits_missed_while_the_events_stream_is_down_are_handled_after_the_reconnect() {
    let fake = fake().await;
    let sup = supervisor_on(&fake, "drop", fast()).await;
    add_many(&sup, 10).await;
    let mut events = sup.events().await;
    fake.engine().drop_event_streams();
    for n in 0..10 {
        fake.engine().crash_unseen(&format!("drop--u{n:03}"), 1);
    }
    // A dropped stream may be an engine restart: every unit starts again
    // at once, uncounted.
    let mut back = std::collections::BTreeSet::new();
    until(&mut events, |e| {
        if e.state == UnitState::Running && e.restart_count == 0 {
            back.insert(e.unit.clone());
        }
        back.len() == 10
    })
    .await;
    assert!(sup.stats().await.resyncs >= 1);
    assert!(containers_per_name(&fake).values().all(|&n| n == 1));
}

#[actix::test]
async fn an_engine_down_for_five_seconds_fails_no_unit_and_counts_no_restart() {
    let fake = fake().await;
    let sup = supervisor_on(&fake, "down", fast()).await;
    add_many(&sup, 10).await;
    let mut events = sup.events().await;
    let before = sup.stats().await.total_calls();
    fake.faults().down_for(Duration::from_secs(5));
    // A container dies while the engine is away; nobody can see it until
    // it is back. An exit in an outage is the engine's (it may have been
    // restarted), so the unit starts again at once and no restart counts.
    fake.engine().crash_unseen("down--u000", 1);
    until(&mut events, |e| {
        e.unit == "u000" && e.state == UnitState::Starting
    })
    .await;
    until(&mut events, |e| {
        e.unit == "u000" && e.state == UnitState::Running
    })
    .await;
    let stats = sup.stats().await;
    let during = stats.total_calls() - before;
    println!(
        "engine down 5 s: {during} gateway calls until recovery, failures by kind {:?}",
        stats.failures
    );
    assert!(
        stats.failures.get("unavailable").copied().unwrap_or(0) > 0,
        "the outage was seen as unavailable"
    );
    assert!(during < 100, "no hot retry loop: {during} calls");
    let listed = sup.list().await.unwrap();
    assert!(
        listed.iter().all(|unit| unit.state == UnitState::Running),
        "{listed:?}"
    );
    let restarts: Vec<u32> = listed.iter().map(|unit| unit.restart_count).collect();
    assert_eq!(
        restarts.iter().sum::<u32>(),
        0,
        "the outage counted no restart: {restarts:?}"
    );
}

#[actix::test]
async fn calls_that_hang_end_at_their_deadline_and_are_retried() {
    let fake = fake().await;
    fake.faults().script(Endpoint::Start, Fault::Hang);
    fake.faults().script(Endpoint::Start, Fault::Hang);
    let config = GatewayConfig {
        call_deadline: Duration::from_millis(200),
        ..fast()
    };
    let sup = supervisor_on(&fake, "hang", config).await;
    sup.add(sleeper("web")).await.unwrap();
    let stats = sup.stats().await;
    assert_eq!(stats.retries.get(&Operation::Start), Some(&2));
    assert_eq!(stats.failures.get("deadline_exceeded"), Some(&2));
    // The unit answers at once afterwards: nothing is stuck.
    assert_eq!(sup.list().await.unwrap()[0].state, UnitState::Running);
}

#[actix::test]
async fn a_flood_of_1000_adds_holds_the_rate_limit_and_does_not_starve_removes() {
    let fake = fake().await;
    let config = GatewayConfig {
        rate: stevedore::gateway::Rate {
            per_second: 50.0,
            burst: 10,
        },
        ..GatewayConfig::default()
    };
    let sup = supervisor_on(&fake, "flood", config).await;
    sup.add(sleeper("victim")).await.unwrap();
    let calls_before = fake.engine().total_calls();
    let started = std::time::Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let adds: Vec<_> = (0..1000)
        .map(|n| {
            let (sup, done) = (sup.clone(), Arc::clone(&done));
            actix::spawn(async move {
                sup.add(sleeper(&format!("f{n:04}")))
                    .await
                    .expect("flooded unit comes up");
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            })
        })
        .collect();
    // Let the flood queue up behind the limit, then remove a unit.
    while fake.engine().total_calls() < calls_before + 20 {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sup.remove("victim").await.unwrap();
    let adds_done_at_remove = done.load(std::sync::atomic::Ordering::SeqCst);
    for add in adds {
        add.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let calls = fake.engine().total_calls() - calls_before;
    println!(
        "flood: {calls} calls in {elapsed:.1} s = {:.1} calls/s (limit 50/s, burst 10); the remove finished after {adds_done_at_remove} of 1000 adds",
        calls as f64 / elapsed
    );
    assert!(
        calls as f64 <= 10.0 + 50.0 * elapsed + 1.0,
        "the limit holds"
    );
    assert!(
        adds_done_at_remove < 100,
        "the remove overtook the queued creates"
    );
    assert!(fake.engine().container("flood--victim").is_none());
}

#[actix::test]
async fn malformed_engine_replies_are_errors_or_conservative_readings_never_panics() {
    let fake = fake().await;
    let sup = supervisor_on(&fake, "bad", fast()).await;
    sup.add(sleeper("web")).await.unwrap();
    let replies = [
        "{not json",
        "[{\"Id\": 42}]",
        "[{\"Id\": \"abc\", \"Names\": [\"/bad--web\"], \"State\": \"frozen\"}]",
        "[{\"Names\": [\"/bad--web\"], \"State\": \"stopping\"}]",
        "{\"message\": \"a list that is an object\"}",
    ];
    for body in replies {
        fake.faults()
            .script(Endpoint::List, Fault::Body(200, body.to_string()));
        // An error, or a list that reads what it can: either way, no panic and the supervisor answers.
        let listed = sup.list().await;
        if let Ok(units) = &listed {
            assert_eq!(units.len(), 1, "{body}: {listed:?}");
        }
    }
    fake.faults().script(
        Endpoint::Inspect,
        Fault::Body(
            200,
            "{\"Id\": \"x\", \"State\": {\"Status\": \"frozen\"}}".into(),
        ),
    );
    let _ = sup.list().await;
    fake.faults()
        .script(Endpoint::Start, Fault::Body(500, "not even json".into()));
    let failed = sup.add(sleeper("second")).await;
    assert!(
        failed.is_err(),
        "a 500 with an unreadable body is an error: {failed:?}"
    );
    assert!(sup.list().await.is_ok(), "the supervisor still answers");
}

#[actix::test]
async fn the_fake_refuses_a_held_host_port_in_dockers_words_and_answers_wait() {
    use stevedore::UnitError;
    use stevedore::engine::EngineError;
    let fake = fake().await;
    let sup = supervisor_on(&fake, "ports", fast()).await;
    let port: stevedore::PortMapping = "127.0.0.1:18099:80".parse().unwrap();
    sup.add(sleeper("first").port(port.clone())).await.unwrap();
    let refused = sup.add(sleeper("second").port(port)).await;
    assert!(
        matches!(
            refused,
            Err(UnitError::Engine(EngineError::AddressInUse {
                port: 18099,
                ..
            }))
        ),
        "{refused:?}"
    );

    // wait answers with the exit code once the container exits (whether the
    // crash comes before or after the wait reaches the engine).
    let docker = bollard::Docker::connect_with_unix(
        fake.socket().to_str().unwrap(),
        30,
        bollard::API_DEFAULT_VERSION,
    )
    .unwrap();
    let waiting =
        tokio::spawn(async move { docker.wait_container("ports--first", None).next().await });
    fake.engine().crash("ports--first", 0);
    let waited = waiting.await.unwrap().expect("wait answers");
    assert_eq!(waited.unwrap().status_code, 0);
}
