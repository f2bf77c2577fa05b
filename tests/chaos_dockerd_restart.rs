//! The Docker daemon killed and restarted under a running supervisor. This
//! kills the machine's dockerd, so it runs only in CI or with
//! STEVEDORE_CHAOS=1, alone in its own test binary (cargo runs test binaries
//! one after another).

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::{EngineBack, IMAGE, docker, event_where, supervisor};
use stevedore::{Backoff, RestartPolicy, UnitSpec, UnitState};

#[actix::test]
async fn a_supervisor_outlives_a_dockerd_restart_and_brings_every_unit_back_once() {
    if std::env::var_os("CI").is_none() && std::env::var_os("STEVEDORE_CHAOS").is_none() {
        eprintln!("SKIPPED: kills dockerd; set STEVEDORE_CHAOS=1 to run it outside CI");
        return;
    }
    let Some((sup, _cleanup)) = supervisor("t-chaos-dockerd").await else {
        return;
    };
    for n in 0..20 {
        let spec = UnitSpec::new(format!("u{n:02}"), IMAGE)
            .command(["sleep", "600"])
            .restart(RestartPolicy::Always)
            .stop_timeout(Duration::from_secs(1))
            .backoff(Backoff {
                initial: Duration::from_millis(200),
                ..Backoff::default()
            });
        sup.add(spec).await.unwrap();
    }

    let mut events = sup.events().await;
    let back = EngineBack;
    let killed = Command::new("pkill")
        .args(["-9", "-x", "dockerd"])
        .status()
        .unwrap();
    assert!(killed.success(), "dockerd was running");
    drop(back); // restarts dockerd; the containers did not survive it

    let mut restarted = BTreeSet::new();
    while restarted.len() < 20 {
        let event = event_where(&mut events, "", |e| e.state == UnitState::Running).await;
        restarted.insert(event.unit);
    }
    let listed = sup
        .list()
        .await
        .expect("the supervisor survived and answers");
    assert_eq!(listed.len(), 20);
    assert!(
        listed.iter().all(|unit| unit.is_active()),
        "every unit runs again"
    );
    assert!(
        listed.iter().all(|unit| unit.restart_count == 0),
        "the engine's restart counts no restart against any unit"
    );
    let names = docker(&[
        "ps",
        "-a",
        "--filter",
        "label=io.stevedore.namespace=t-chaos-dockerd",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(names.lines().count(), 20, "no duplicates: {names}");
    let stats = sup.stats().await;
    println!(
        "dockerd restart: {} event reconnects, {} resyncs, failures {:?}",
        stats.event_connects, stats.resyncs, stats.failures
    );
    assert!(stats.resyncs >= 1);
}
