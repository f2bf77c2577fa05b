//! Micro-benchmarks of the pure decisions: restart decision, backoff step,
//! error classification, spec validation and spec → create request mapping.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use stevedore::engine::mapping::create_body;
use stevedore::engine::{Operation, RawFailure, classify};
use stevedore::labels::CarriedState;
use stevedore::policy::{ExitFacts, RestartHistory, decide};
use stevedore::spec::{spec_hash, validate};
use stevedore::{Backoff, IntensityLimit, RestartPolicy, UnitSpec};

fn web() -> UnitSpec {
    UnitSpec::new("web", "busybox:latest")
        .command(["httpd", "-f", "-p", "8080"])
        .env("GREETING", "hello")
        .port("127.0.0.1:18080:8080".parse().unwrap())
        .volume("/srv/data:/data:ro".parse().unwrap())
        .memory(64 << 20)
        .cpu_shares(512)
        .restart(RestartPolicy::Always)
}

fn decisions(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let backoff = Backoff::default();
    let intensity = IntensityLimit::default();
    let history = RestartHistory::default();
    let facts = ExitFacts {
        exit_code: 1,
        oom_killed: false,
        ran_for: Duration::from_millis(300),
        unhealthy: false,
    };
    let now = tokio::time::Instant::now();
    c.bench_function("restart_decision", |b| {
        b.iter(|| {
            decide(
                RestartPolicy::Always,
                &backoff,
                &intensity,
                black_box(&facts),
                &history,
                now,
                0.5,
            )
        })
    });
    c.bench_function("backoff_step", |b| {
        b.iter(|| backoff.delay(black_box(5), 0.3))
    });
    let failure = RawFailure::Status {
        code: 500,
        message: "driver failed programming external connectivity on endpoint demo--web: Bind for 0.0.0.0:18080 failed: port is already allocated".into(),
    };
    c.bench_function("error_classification", |b| {
        b.iter(|| classify(Operation::Start, "demo--web", black_box(&failure)))
    });
    let spec = web();
    c.bench_function("spec_validation", |b| b.iter(|| validate(black_box(&spec))));
    let hash = spec_hash(&spec);
    let carried = CarriedState::default();
    c.bench_function("spec_to_create_request", |b| {
        b.iter(|| create_body("demo", black_box(&spec), &hash, &carried))
    });
}

criterion_group!(benches, decisions);
criterion_main!(benches);
