//! Chaos against the real engine: `up` killed with -9 at random points of a
//! bring-up, and `docker kill` / `docker stop` / `docker rm -f` behind the
//! supervisor's back, with foreign containers that must survive all of it.

mod common;

use std::collections::BTreeMap;

use common::cli::{Up, manifest};
use common::{Cleanup, IMAGE, docker, engine, event_where, inspect, supervisor};
use rand::{Rng, SeedableRng};
use stevedore::{Backoff, RestartPolicy, UnitSpec, UnitState};

/// Foreign containers: an unlabelled one with a unit's would-be name and one
/// of another namespace. Returns their ids by name.
fn foreigners(namespace: &str, cleanup: &mut Cleanup) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    let unlabelled = format!("{namespace}--u99");
    let other = format!("{namespace}-other--u00");
    for (name, labels) in [
        (&unlabelled, vec![]),
        (&other, vec!["--label", "io.stevedore.namespace=elsewhere"]),
    ] {
        cleanup.also(name);
        let mut args = vec!["run", "-d", "--name", name.as_str()];
        args.extend(labels);
        args.extend([IMAGE, "sleep", "600"]);
        ids.insert(name.clone(), docker(&args));
    }
    ids
}

fn assert_untouched(foreign: &BTreeMap<String, String>) {
    for (name, id) in foreign {
        assert_eq!(
            inspect(name, "{{.Id}} {{.State.Running}}"),
            format!("{id} true"),
            "{name} was touched"
        );
    }
}

fn unit_ids(namespace: &str) -> BTreeMap<String, (String, String)> {
    let filter = format!("label=io.stevedore.namespace={namespace}");
    docker(&[
        "ps",
        "-a",
        "--filter",
        &filter,
        "--format",
        "{{.Names}} {{.ID}} {{.State}}",
    ])
    .lines()
    .map(|line| {
        let parts: Vec<&str> = line.split_whitespace().collect();
        (
            parts[0].to_string(),
            (parts[1].to_string(), parts[2].to_string()),
        )
    })
    .collect()
}

#[actix::test]
async fn kill_9_of_up_at_random_points_of_five_bring_ups_leaves_every_unit_exactly_once() {
    if engine().await.is_none() {
        return;
    }
    let namespace = "t-chaos-k9";
    let mut cleanup = Cleanup::new(namespace);
    let foreign = foreigners(namespace, &mut cleanup);
    let units: String = (0..30)
        .map(|n| {
            format!(
                "[[unit]]\nname = \"u{n:02}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nrestart = \"always\"\nstop_timeout = \"1s\"\n"
            )
        })
        .collect();
    let file = manifest("chaos-k9", &format!("namespace = \"{namespace}\"\n{units}"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for round in 0..5 {
        let mut up = Up::start(&file, &[]);
        // A random point: after k lines of progress (a unit created,
        // running or adopted); adopted units print no running line.
        let k = rng.random_range(1..30);
        for _ in 0..k {
            up.wait_for_any(&["creating", "running", "adopted"]);
        }
        up.signal("KILL");
        let _ = up.wait_exit();
        println!(
            "round {round}: killed after {k} running; {} containers exist",
            unit_ids(namespace).len()
        );
    }
    let before = unit_ids(namespace);
    let mut last = Up::start(&file, &[]);
    for n in 0..30 {
        let name = format!("u{n:02}");
        let container = format!("{namespace}--{name}");
        if before
            .get(&container)
            .is_none_or(|(_, state)| state != "running")
        {
            last.wait_for(&[&format!(" {name} "), "running"]);
        }
    }
    let after = unit_ids(namespace);
    assert_eq!(
        after.len(),
        30,
        "every unit exactly once, no orphans: {after:?}"
    );
    assert!(
        after.values().all(|(_, state)| state == "running"),
        "{after:?}"
    );
    for (name, (id, state)) in &before {
        if state == "running" || state == "created" {
            assert_eq!(&after[name].0, id, "{name} was adopted with its id");
        }
    }
    assert_untouched(&foreign);
    last.signal("TERM");
    assert_eq!(last.wait_exit(), 0);
}

fn always(name: &str) -> UnitSpec {
    UnitSpec::new(name, IMAGE)
        .command(["sleep", "600"])
        .restart(RestartPolicy::Always)
        .stop_timeout(std::time::Duration::from_secs(1))
        .backoff(Backoff {
            initial: std::time::Duration::from_millis(300),
            jitter: 0.0,
            ..Backoff::default()
        })
}

#[actix::test]
async fn docker_kill_stop_and_rm_behind_our_back_follow_dockers_own_rules() {
    let Some((sup, mut cleanup)) = supervisor("t-chaos-behind").await else {
        return;
    };
    let foreign = foreigners("t-chaos-behind", &mut cleanup);
    let mut events = sup.events().await;
    for name in ["killed", "stopped", "removed"] {
        sup.add(always(name)).await.unwrap();
    }
    docker(&["kill", "t-chaos-behind--killed"]);
    docker(&["stop", "-t", "1", "t-chaos-behind--stopped"]);
    docker(&["rm", "-f", "t-chaos-behind--removed"]);

    // kill and rm -f are exits: the policy brings them back; docker stop is
    // a manual stop, as Docker itself counts it: no restart.
    let (mut killed_back, mut removed_back, mut stopped_reason) = (false, false, None);
    while !(killed_back && removed_back && stopped_reason.is_some()) {
        let event = event_where(&mut events, "", |_| true).await;
        let back = event.state == UnitState::Running && event.restart_count == 1;
        match event.unit.as_str() {
            "killed" => killed_back |= back,
            "removed" => removed_back |= back,
            "stopped" if event.state == UnitState::Stopped => stopped_reason = event.reason,
            "stopped" => assert!(!back, "docker stop was undone"),
            _ => {}
        }
    }
    assert!(stopped_reason.unwrap().contains("docker stop"));
    let listed = sup.list().await.unwrap();
    let state_of = |name: &str| listed.iter().find(|u| u.name == name).unwrap().state;
    assert_eq!(state_of("stopped"), UnitState::Stopped);
    assert_ne!(
        inspect("t-chaos-behind--stopped", "{{.State.Status}}"),
        "running"
    );
    // A start by hand brings it back, as `docker start` would.
    sup.start("stopped").await.unwrap();
    assert_eq!(
        inspect("t-chaos-behind--stopped", "{{.State.Running}}"),
        "true"
    );
    assert_untouched(&foreign);
}
