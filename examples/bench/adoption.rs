//! Scenarios 3 and 4: adopting 200 existing containers (time and engine
//! calls, against a Flocker-style listing), then 200 idle units for a while
//! (engine calls, CPU, RSS).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bollard::query_parameters::ListContainersOptions;
use stevedore::{ShutdownMode, Supervisor, UnitSpec};

use crate::report::Row;
use crate::util::{IMAGE, cpu_seconds, remove_prefixed, rss_kib};

const NAMESPACE: &str = "bench-adopt";

async fn flocker_style(docker: &bollard::Docker) -> (Duration, usize) {
    let started = Instant::now();
    let filters = std::collections::HashMap::from([(
        "label".to_string(),
        vec![format!("io.stevedore.namespace={NAMESPACE}")],
    )]);
    let listed = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .unwrap();
    let mut calls = 1;
    let mut images = HashSet::new();
    for summary in &listed {
        let inspect = docker
            .inspect_container(summary.id.as_deref().unwrap(), None)
            .await
            .unwrap();
        calls += 1;
        let image = inspect.image.unwrap_or_default();
        if images.insert(image.clone()) {
            let _ = docker.inspect_image(&image).await;
            calls += 1;
        }
    }
    (started.elapsed(), calls)
}

pub async fn run(units: usize, runs: usize, idle: Duration, rows: &mut Vec<Row>) {
    let scenario = "adoption: 200 existing containers";
    remove_prefixed(NAMESPACE);
    let maker = Supervisor::builder()
        .namespace(NAMESPACE)
        .start()
        .await
        .expect("supervisor");
    let adds = (0..units)
        .map(|n| maker.add(UnitSpec::new(format!("u{n:03}"), IMAGE).command(["sleep", "3600"])));
    for result in futures::future::join_all(adds).await {
        result.expect("unit up");
    }
    maker.shutdown(ShutdownMode::Leave).await;

    let docker = bollard::Docker::connect_with_local_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    let mut ours = Row::new(scenario, "stevedore", "ms");
    let mut flocker = Row::new(scenario, "Flocker-style list + inspect each", "ms");
    let mut our_calls = 0;
    let mut their_calls = 0;
    for round in 0..runs {
        for turn in 0..2 {
            if (round + turn) % 2 == 0 {
                // Both sides start from a connected client, as the Flocker-style
                // listing does: the connect's version negotiation is left out.
                let engine = std::sync::Arc::new(stevedore::engine::DockerEngine::from_client(
                    docker.clone(),
                ));
                let started = Instant::now();
                let adopter = Supervisor::builder()
                    .namespace(NAMESPACE)
                    .engine(engine)
                    .start()
                    .await
                    .expect("adopts");
                ours.push_duration(started.elapsed());
                assert_eq!(adopter.adopted().adopted.len(), units);
                our_calls = adopter.stats().await.total_calls();
                adopter.shutdown(ShutdownMode::Leave).await;
            } else {
                let (elapsed, calls) = flocker_style(&docker).await;
                flocker.push_duration(elapsed);
                their_calls = calls;
            }
        }
    }
    ours.note = format!(
        "{our_calls} engine calls (events, list); target ≤ 2 + nothing per container, ≤ 0.2× Flocker-style"
    );
    flocker.note = format!("{their_calls} engine calls");
    rows.extend([ours, flocker]);

    // Idle: the adopted units, nothing happening.
    let idle_scenario = format!("idle: 200 units for {} s", idle.as_secs());
    let adopter = Supervisor::builder()
        .namespace(NAMESPACE)
        .start()
        .await
        .expect("adopts");
    let calls_before = adopter.stats().await.total_calls();
    let cpu_before = cpu_seconds();
    tokio::time::sleep(idle).await;
    let calls = adopter.stats().await.total_calls() - calls_before;
    let cpu = cpu_seconds() - cpu_before;
    let mut calls_row = Row::new(&idle_scenario, "stevedore: engine calls", "calls");
    calls_row.samples.push(calls as f64);
    calls_row.note = "target: none (no polling; one resync per events reconnect)".into();
    let mut cpu_row = Row::new(&idle_scenario, "stevedore: CPU, % of a core", "%");
    cpu_row.samples.push(cpu / idle.as_secs_f64() * 100.0);
    cpu_row.note = "target < 0.1 %".into();
    let mut rss_row = Row::new(
        &idle_scenario,
        "stevedore: RSS of the whole bench process",
        "KiB",
    );
    rss_row.samples.push(rss_kib() as f64);
    rows.extend([calls_row, cpu_row, rss_row]);
    adopter.shutdown(ShutdownMode::Leave).await;
    remove_prefixed(NAMESPACE);
}
