//! Micro-benchmarks of the runtime: registry add/remove throughput against
//! the instant in-process fake engine, and routing one engine event to its
//! unit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use criterion::{Criterion, criterion_group, criterion_main};
use stevedore::engine::fake::FakeEngine;
use stevedore::engine::{ContainerEvent, ContainerEventKind};
use stevedore::gateway::{ContainerSignal, EventRouter, GatewayConfig, Rate};
use stevedore::{Supervisor, UnitSpec};

struct Sink;

impl Actor for Sink {
    type Context = Context<Self>;
}

impl Handler<ContainerSignal> for Sink {
    type Result = ();
    fn handle(&mut self, _: ContainerSignal, _: &mut Context<Self>) {}
}

fn registry_add_remove(c: &mut Criterion) {
    let system = actix::System::new();
    let supervisor = system.block_on(async {
        let config = GatewayConfig {
            rate: Rate {
                per_second: f64::INFINITY,
                burst: 1,
            },
            max_in_flight: 1024,
            ..GatewayConfig::default()
        };
        Supervisor::builder()
            .namespace("bench")
            .engine(Arc::new(FakeEngine::new()))
            .gateway_config(config)
            .start()
            .await
            .unwrap()
    });
    c.bench_function("registry_add_then_remove_100_units", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                total += system.block_on(async {
                    let started = Instant::now();
                    let adds = (0..100)
                        .map(|n| supervisor.add(UnitSpec::new(format!("u{n}"), "busybox:latest")));
                    futures::future::join_all(adds).await;
                    let removes = (0..100).map(|n| {
                        let name = format!("u{n}");
                        let supervisor = supervisor.clone();
                        async move { supervisor.remove(&name).await }
                    });
                    futures::future::join_all(removes).await;
                    started.elapsed()
                });
            }
            total
        })
    });
}

fn event_routing(c: &mut Criterion) {
    let system = actix::System::new();
    let router = EventRouter::default();
    let sink = system.block_on(async { Sink.start() });
    for n in 0..10_000 {
        router.insert(format!("ns--u{n}"), sink.clone().recipient());
    }
    let event = ContainerEvent {
        id: "abc".into(),
        name: "ns--u5000".into(),
        kind: ContainerEventKind::Died { exit_code: 1 },
        time_nanos: 1,
    };
    c.bench_function("route_one_event_among_10k_units", |b| {
        b.iter_custom(|iterations| {
            system.block_on(async {
                let started = Instant::now();
                for _ in 0..iterations {
                    router.route(event.clone());
                }
                let elapsed = started.elapsed();
                // Let the sink drain so the mailbox does not grow across samples.
                tokio::task::yield_now().await;
                elapsed
            })
        })
    });
}

criterion_group!(benches, registry_add_remove, event_routing);
criterion_main!(benches);
