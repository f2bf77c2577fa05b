//! `stevedore up`, `ps`, `down` as processes against the real engine:
//! bring-up, `ps --json`, shutdown modes, SIGHUP reload, the lease, kill -9
//! mid bring-up, and namespaces left alone by `down`.

mod common;

use std::collections::BTreeMap;

use common::cli::{Up, manifest, ps, ps_when, run};
use common::{Cleanup, IMAGE, docker, engine, inspect};
use serde_json::Value;

fn ids(namespace: &str) -> BTreeMap<String, String> {
    ps(namespace)
        .into_iter()
        .map(|row| {
            (
                row["name"].as_str().unwrap().to_string(),
                row["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn unit(name: &str, extra: &str) -> String {
    format!(
        "[[unit]]\nname = \"{name}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"1s\"\n{extra}\n"
    )
}

#[actix::test]
async fn up_brings_units_up_and_ps_json_reports_every_key() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-ps");
    let dir = std::env::temp_dir().join(format!("stevedore-cli-vol-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let full = unit(
        "full",
        &format!(
            "env = {{ GREETING = \"hello\" }}\nports = [\"127.0.0.1:{}:8080/udp\"]\nvolumes = [\"{}:/data:ro\"]\nmemory = \"64m\"\ncpu_shares = 512\nrestart = \"on-failure:3\"",
            common::free_port(),
            dir.display()
        ),
    );
    let plain = unit("plain", "restart = \"always\"");
    let default_cmd =
        format!("[[unit]]\nname = \"default-cmd\"\nimage = \"{IMAGE}\"\nrestart = \"no\"\n");
    let text = format!("namespace = \"t-cli-ps\"\n{full}{plain}{default_cmd}");
    let file = manifest("ps", &text);
    let mut up = Up::start(&file, &[]);
    up.wait_running(&["full", "plain"]);
    up.wait_for(&[" default-cmd ", "exited"]);

    let rows = ps_when("t-cli-ps", |rows| {
        rows.iter()
            .all(|row| row["phase"] == "running" || row["name"] == "default-cmd")
            && rows.iter().any(|row| row["phase"] == "exited")
    });
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["default-cmd", "full", "plain"], "sorted by name");
    let keys = [
        "name",
        "container",
        "id",
        "state",
        "status",
        "image",
        "command",
        "env",
        "ports",
        "volumes",
        "memory",
        "cpu_shares",
        "restart",
        "restart_count",
        "last_exit_code",
        "phase",
        "health",
    ];
    for row in &rows {
        let mut found: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        found.sort();
        let mut expected = keys.to_vec();
        expected.sort();
        assert_eq!(found, expected);
    }
    let full = &rows[1];
    assert_eq!(full["container"], "t-cli-ps--full");
    assert_eq!(
        (full["state"].as_str(), full["status"].as_str()),
        (Some("active"), Some("running"))
    );
    assert_eq!(full["image"], IMAGE);
    assert_eq!(full["command"], serde_json::json!(["sleep", "600"]));
    assert_eq!(full["env"], serde_json::json!({"GREETING": "hello"}));
    assert_eq!(full["ports"][0]["internal"], 8080);
    assert_eq!(full["ports"][0]["protocol"], "udp");
    assert_eq!(full["ports"][0]["host_ip"], "127.0.0.1");
    assert_eq!(full["volumes"][0]["container"], "/data");
    assert_eq!(full["volumes"][0]["read_only"], true);
    assert_eq!(full["memory"], 64 << 20);
    assert_eq!(full["cpu_shares"], 512);
    assert_eq!(full["restart"], "on-failure:3");
    assert_eq!(full["restart_count"], 0);
    assert_eq!(full["last_exit_code"], Value::Null);
    assert_eq!(full["phase"], "running");
    assert_eq!(full["health"], Value::Null, "no check, no health");

    let plain = &rows[2];
    assert_eq!(plain["env"], serde_json::json!({}));
    assert_eq!(plain["ports"], serde_json::json!([]));
    assert_eq!(plain["volumes"], serde_json::json!([]));
    assert_eq!(
        (plain["memory"].clone(), plain["cpu_shares"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(plain["restart"], "always");

    let once = &rows[0];
    assert_eq!(once["command"], Value::Null, "the image's own command");
    assert_eq!(once["state"], "inactive");
    assert_eq!(once["status"], "exited");
    assert_eq!(once["last_exit_code"], 0);
    assert_eq!(once["phase"], "exited");
    assert_eq!(once["restart"], "no");

    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[actix::test]
async fn sigterm_with_on_exit_stop_stops_everything() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-stop");
    let file = manifest(
        "stop",
        &format!(
            "namespace = \"t-cli-stop\"\n{}{}",
            unit("a", ""),
            unit("b", "restart = \"always\"")
        ),
    );
    let mut up = Up::start(&file, &["--on-exit", "stop"]);
    up.wait_running(&["a", "b"]);
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    for row in ps_when("t-cli-stop", |rows| {
        rows.iter().all(|row| row["phase"] == "stopped-by-shutdown")
    }) {
        assert_eq!(row["status"], "exited", "{row}");
    }
    // A shutdown's stop is not a stop by hand: the next `up` starts them.
    let mut again = Up::start(&file, &[]);
    again.wait_running(&["a", "b"]);
    assert!(
        ps("t-cli-stop")
            .iter()
            .all(|row| row["status"] == "running")
    );
    again.signal("INT");
    assert_eq!(again.wait_exit(), 0);
}

#[actix::test]
async fn the_demo_restarts_a_worker_that_exited_while_no_up_ran() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-demo");
    let demo = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo.toml"));
    let mut up = Up::start(demo, &["-n", "t-demo"]);
    up.wait_running(&["web", "worker"]);
    // Ctrl-C leaves the containers running, as the README says.
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
    // The worker crashes while no supervisor runs.
    docker(&["kill", "t-demo--worker"]);
    let mut again = Up::start(demo, &["-n", "t-demo"]);
    again.wait_for(&["adopted worker"]);
    again.mark();
    again.wait_for(&[" worker ", "running"]);
    let state = docker(&["inspect", "-f", "{{.State.Status}}", "t-demo--worker"]);
    assert_eq!(state.trim(), "running", "the worker runs again");
    again.signal("INT");
    assert_eq!(again.wait_exit(), 0);
}

#[actix::test]
async fn sigterm_with_leave_keeps_everything_running_for_the_next_up_to_adopt() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-leave");
    let file = manifest(
        "leave",
        &format!(
            "namespace = \"t-cli-leave\"\n{}{}",
            unit("a", ""),
            unit("b", "")
        ),
    );
    let mut up = Up::start(&file, &[]);
    up.wait_running(&["a", "b"]);
    let before = ids("t-cli-leave");
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    assert!(
        ps("t-cli-leave")
            .iter()
            .all(|row| row["status"] == "running")
    );

    let mut again = Up::start(&file, &[]);
    again.wait_for(&["adopted a"]);
    again.wait_for(&["adopted b"]);
    assert_eq!(
        ids("t-cli-leave"),
        before,
        "adopted containers keep their ids"
    );
    again.signal("INT");
    assert_eq!(again.wait_exit(), 0);
}

#[actix::test]
async fn sighup_touches_only_the_added_removed_and_changed_units() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-hup");
    let head = "namespace = \"t-cli-hup\"\n";
    let file = manifest(
        "hup",
        &format!(
            "{head}{}{}{}",
            unit("keep", ""),
            unit("change", ""),
            unit("drop", "")
        ),
    );
    let mut up = Up::start(&file, &[]);
    up.wait_running(&["keep", "change", "drop"]);
    let before = ids("t-cli-hup");

    std::fs::write(
        &file,
        format!(
            "{head}{}{}{}",
            unit("keep", ""),
            unit("change", "env = { NEW = \"1\" }"),
            unit("add", "")
        ),
    )
    .unwrap();
    up.signal("HUP");
    up.wait_for(&[" drop ", "removed"]);
    up.wait_for(&[" add ", "running"]);
    up.wait_for(&[" change ", "running"]);
    let after = ids("t-cli-hup");
    assert_eq!(after.keys().collect::<Vec<_>>(), ["add", "change", "keep"]);
    assert_eq!(after["keep"], before["keep"], "unchanged unit untouched");
    assert_ne!(after["change"], before["change"], "changed unit replaced");
    assert!(docker(&["exec", "t-cli-hup--change", "env"]).contains("NEW=1"));

    // A bad manifest on reload is reported and the running set is kept.
    std::fs::write(&file, format!("{head}[[unit]]\nname = \"x\"\n")).unwrap();
    up.mark();
    up.signal("HUP");
    up.wait_for(&["reload refused"]);
    assert_eq!(ids("t-cli-hup"), after);
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
}

#[actix::test]
async fn a_second_up_refuses_and_a_stale_lease_is_taken_over() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-lease");
    let file = manifest(
        "lease",
        &format!("namespace = \"t-cli-lease\"\n{}", unit("a", "")),
    );
    let mut first = Up::start(&file, &[]);
    first.wait_running(&["a"]);

    let second = run(&["up", "-f", &file.display().to_string()]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", first.child.id())),
        "names the holder: {stderr}"
    );

    first.signal("KILL");
    let _ = first.wait_exit();
    let mut third = Up::start(&file, &[]);
    third.wait_for(&["took over the lease", &format!("pid {}", first.child.id())]);
    third.wait_for(&["adopted a"]);
    third.signal("TERM");
    assert_eq!(third.wait_exit(), 0);
}

#[actix::test]
async fn kill_9_mid_bring_up_then_up_again_runs_every_unit_exactly_once() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-kill9");
    let units: String = (0..20)
        .map(|n| unit(&format!("u{n:02}"), "restart = \"always\""))
        .collect();
    let file = manifest("kill9", &format!("namespace = \"t-cli-kill9\"\n{units}"));
    let mut first = Up::start(&file, &[]);
    // Kill it once the bring-up is under way: some units exist, others not yet.
    first.wait_for(&["running"]);
    first.signal("KILL");
    let _ = first.wait_exit();
    let survivors = ids("t-cli-kill9");

    let mut second = Up::start(&file, &[]);
    let names: Vec<String> = (0..20).map(|n| format!("u{n:02}")).collect();
    for name in &names {
        if !survivors.contains_key(name) {
            second.wait_for(&[&format!(" {name} "), "running"]);
        }
    }
    let after = ids("t-cli-kill9");
    assert_eq!(
        after.keys().cloned().collect::<Vec<_>>(),
        names,
        "every unit exactly once"
    );
    for (name, id) in &survivors {
        if inspect(&format!("t-cli-kill9--{name}"), "{{.State.Status}}") == "running" {
            assert_eq!(&after[name], id, "{name} was adopted with its id");
        }
    }
    let all = docker(&[
        "ps",
        "-a",
        "--filter",
        "label=io.stevedore.namespace=t-cli-kill9",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(all.lines().count(), 20, "no duplicates or orphans: {all}");
    assert!(
        ps("t-cli-kill9")
            .iter()
            .all(|row| row["status"] == "running")
    );
    second.signal("TERM");
    assert_eq!(second.wait_exit(), 0);
}

#[actix::test]
async fn down_leaves_other_namespaces_and_unlabelled_containers_alone() {
    if engine().await.is_none() {
        return;
    }
    let _mine = Cleanup::new("t-cli-down");
    let mut other = Cleanup::new("t-cli-down-other");
    other.also("t-cli-down--stranger");
    let file = manifest(
        "down",
        &format!(
            "namespace = \"t-cli-down\"\n{}{}",
            unit("a", ""),
            unit("b", "")
        ),
    );
    let mut up = Up::start(&file, &[]);
    up.wait_running(&["a", "b"]);
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    let other_file = manifest(
        "down-other",
        &format!("namespace = \"t-cli-down-other\"\n{}", unit("a", "")),
    );
    let mut other_up = Up::start(&other_file, &[]);
    other_up.wait_running(&["a"]);
    other_up.signal("TERM");
    assert_eq!(other_up.wait_exit(), 0);
    let stranger = docker(&[
        "run",
        "-d",
        "--name",
        "t-cli-down--stranger",
        IMAGE,
        "sleep",
        "600",
    ]);

    for _ in 0..2 {
        let output = run(&["down", "-n", "t-cli-down"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(ps("t-cli-down").is_empty());
    assert_eq!(ps("t-cli-down-other").len(), 1);
    assert_eq!(
        inspect("t-cli-down--stranger", "{{.Id}} {{.State.Running}}"),
        format!("{stranger} true")
    );
}

#[actix::test]
async fn an_unreachable_engine_is_exit_1_with_a_one_line_reason() {
    let output = run(&["-H", "unix:///nonexistent/docker.sock", "ps", "-n", "x"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot reach the Docker engine"),
        "{stderr}"
    );
}

#[actix::test]
async fn up_restarts_the_same_container_and_the_next_up_keeps_its_restart_count() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-inplace");
    let crashing = format!(
        "[[unit]]\nname = \"crash\"\nimage = \"{IMAGE}\"\ncommand = [\"sh\", \"-c\", \"sleep 0.3; exit 3\"]\nrestart = \"on-failure:2\"\nbackoff = {{ initial = \"50ms\", jitter = 0.0 }}\n"
    );
    let file = manifest(
        "inplace",
        &format!("namespace = \"t-cli-inplace\"\n{crashing}"),
    );
    let mut up = Up::start(&file, &[]);
    up.wait_for(&[" crash ", "running"]);
    let id = inspect("t-cli-inplace--crash", "{{.Id}}");
    up.wait_for(&[" crash ", "failed", "on-failure:2"]);
    assert_eq!(
        inspect("t-cli-inplace--crash", "{{.Id}}"),
        id,
        "restarted in place, logs and id kept"
    );
    let logs = std::process::Command::new("docker")
        .args(["logs", "t-cli-inplace--crash"])
        .output()
        .unwrap();
    assert!(logs.status.success());
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    let row = ps_when("t-cli-inplace", |rows| {
        rows.iter().all(|r| r["phase"] == "failed")
    });
    assert_eq!(row[0]["restart_count"], 2, "{}", row[0]);
    assert_eq!(row[0]["last_exit_code"], 3);

    let mut again = Up::start(&file, &[]);
    again.wait_for(&["adopted crash"]);
    again.signal("TERM");
    assert_eq!(again.wait_exit(), 0);
    assert_eq!(
        ps("t-cli-inplace")[0]["restart_count"],
        2,
        "the count survived the supervisor"
    );
}
