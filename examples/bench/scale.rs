//! Scenario 5: the runtime itself against an instant in-process fake engine —
//! 10,000 units brought to running, RSS per unit, and what the gateway adds
//! to one call compared with calling the engine directly.

use std::sync::Arc;
use std::time::Instant;

use stevedore::engine::Engine;
use stevedore::engine::fake::FakeEngine;
use stevedore::gateway::{Gateway, GatewayConfig, InspectImage, Rate};
use stevedore::{Supervisor, UnitSpec};

use crate::heap::live_kib;
use crate::report::Row;
use crate::util::rss_kib;

pub async fn run(units: usize, runs: usize, rows: &mut Vec<Row>) {
    let mut up = Row::new(
        "scale: 10,000 units to running (fake engine)",
        "stevedore",
        "ms",
    );
    let mut rss = Row::new("scale: RSS per idle unit", "stevedore", "KiB");
    let mut heap = Row::new("scale: heap per idle unit", "stevedore", "KiB");
    let mut gateway_cost = Row::new(
        "scale: gateway overhead per call",
        "stevedore gateway",
        "µs",
    );
    let mut direct = Row::new(
        "scale: gateway overhead per call",
        "direct engine call",
        "µs",
    );
    for _ in 0..runs {
        let engine = FakeEngine::new();
        let unlimited = GatewayConfig {
            rate: Rate {
                per_second: f64::INFINITY,
                burst: 1,
            },
            max_in_flight: 1024,
            ..GatewayConfig::default()
        };
        // The fake engine's own share: the same containers made in a second
        // fake directly, kept alive so that its memory is not reused below.
        let alone = FakeEngine::new();
        let (before_fake, heap_before_fake) = (rss_kib(), live_kib());
        for n in 0..units {
            let spec = UnitSpec::new(format!("u{n:05}"), "busybox:latest");
            let hash = stevedore::spec::spec_hash(&spec);
            let body =
                stevedore::engine::mapping::create_body("scale", &spec, &hash, &Default::default());
            let id = alone
                .create_container(format!("scale--u{n:05}"), body)
                .await
                .expect("created");
            alone.start_container(id).await.expect("started");
        }
        let fake_share = rss_kib().saturating_sub(before_fake);
        let heap_fake_share = live_kib() - heap_before_fake;
        let (before, heap_before) = (rss_kib(), live_kib());
        let started = Instant::now();
        let supervisor = Supervisor::builder()
            .namespace("scale")
            .engine(Arc::new(engine.clone()))
            .gateway_config(unlimited)
            .start()
            .await
            .expect("supervisor on the fake engine");
        let adds =
            (0..units).map(|n| supervisor.add(UnitSpec::new(format!("u{n:05}"), "busybox:latest")));
        for result in futures::future::join_all(adds).await {
            result.expect("unit runs");
        }
        up.push_duration(started.elapsed());
        let after = rss_kib();
        let growth = after.saturating_sub(before).saturating_sub(fake_share);
        rss.samples.push(growth as f64 / units as f64);
        let heap_growth = live_kib() - heap_before - heap_fake_share;
        heap.samples.push(heap_growth / units as f64);

        // One call, many times: through the gateway's layers vs the engine itself.
        let calls = 20_000;
        let gateway = Gateway::start_with(Arc::new(engine.clone()), unlimited);
        let started = Instant::now();
        for _ in 0..calls {
            let _ = gateway
                .send(InspectImage {
                    image: "busybox:latest".into(),
                })
                .await;
        }
        let through = started.elapsed().as_secs_f64() * 1e6 / calls as f64;
        let started = Instant::now();
        for _ in 0..calls {
            let _ = engine.inspect_image("busybox:latest".into()).await;
        }
        let plain = started.elapsed().as_secs_f64() * 1e6 / calls as f64;
        gateway_cost.samples.push(through - plain);
        direct.samples.push(plain);
        supervisor.shutdown(stevedore::ShutdownMode::Leave).await;
        drop(alone);
    }
    up.note = format!("{units} units; target ≤ 1 s");
    rss.note = "(RSS growth − the fake engine's own share) / units; target ≤ 8 KiB".into();
    heap.note = "(live heap growth − the fake engine's own share) / units, counted by the allocator: exact where RSS is coarse".into();
    gateway_cost.note = "gateway round trip minus direct call; target ≤ 20 µs".into();
    rows.extend([up, rss, heap, gateway_cost, direct]);
}
