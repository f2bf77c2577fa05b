//! The control API that `stevedore up` serves on its unix socket, and the
//! verbs that use it, as processes against the real engine: the socket's
//! mode, units and actions, malformed requests, events with resume,
//! metrics, reload and down.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use common::api::{Events, get, post, request, socket_path};
use common::cli::{Up, manifest, run};
use common::{Cleanup, IMAGE, docker, engine, inspect};

fn unit(name: &str, extra: &str) -> String {
    format!(
        "[[unit]]\nname = \"{name}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"1s\"\nrestart = \"always\"\nbackoff = {{ initial = \"100ms\", max = \"100ms\" }}\n{extra}\n"
    )
}

fn up_with_socket(namespace: &str, units: &str) -> (Up, std::path::PathBuf, std::path::PathBuf) {
    let file = manifest(namespace, &format!("namespace = \"{namespace}\"\n{units}"));
    let socket = socket_path(namespace);
    let up = Up::start(&file, &["--socket", &socket.display().to_string()]);
    (up, socket, file)
}

fn verb(args: &[&str], socket: &Path) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    let socket = socket.display().to_string();
    all.extend(["--socket", &socket]);
    run(&all)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[actix::test]
async fn the_socket_is_private_and_lists_units_with_their_live_phase() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-list");
    let (mut up, socket, _) = up_with_socket("t-api-list", &(unit("web", "") + &unit("db", "")));
    up.wait_running(&["web", "db"]);
    up.wait_for(&["control API on", &socket.display().to_string()]);

    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only its owner may talk to the supervisor");
    let dir_mode = std::fs::metadata(socket.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);

    let units = get(&socket, "/v1/units");
    assert_eq!(units.status, 200, "{}", units.body);
    let units = units.json();
    let names: Vec<&str> = units
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["db", "web"]);
    let web = get(&socket, "/v1/units/web").json();
    assert_eq!(web["phase"], "running");
    assert_eq!(web["state"], "active");
    assert_eq!(web["container"], "t-api-list--web");
    assert_eq!(web["restart"], "always");
    assert!(web["uptime_seconds"].is_u64(), "{web}");
    assert_eq!(
        web["id"].as_str().unwrap(),
        inspect("t-api-list--web", "{{.Id}}")
    );

    let health = get(&socket, "/v1/health");
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.json()["engine_reachable"], true);

    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    assert!(!socket.exists(), "up removes its socket when it ends");
}

#[actix::test]
async fn actions_answer_once_done_and_malformed_requests_change_nothing() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-act");
    let (mut up, socket, _) = up_with_socket("t-api-act", &unit("web", ""));
    up.wait_running(&["web"]);
    let id = inspect("t-api-act--web", "{{.Id}}");

    // Malformed requests first: none of them touches the unit.
    let unknown = post(&socket, "/v1/units/nope/restart");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"], "unknown_unit");
    let bad_action = post(&socket, "/v1/units/web/explode");
    assert_eq!(bad_action.status, 404);
    let wrong_method = get(&socket, "/v1/units/web/restart");
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    let tricked = post(&socket, "/v1/units/..%2f..%2fweb/stop");
    assert_eq!(tricked.status, 404, "{}", tricked.body);
    let huge = request(
        &socket,
        "POST",
        "/v1/units/web/stop",
        &[],
        &vec![b'x'; 1 << 20],
    );
    assert_eq!(huge.status, 413, "{}", huge.body);
    let from_another_site = request(
        &socket,
        "POST",
        "/v1/units/web/stop",
        &[("Origin", "http://elsewhere.example")],
        b"",
    );
    assert_eq!(from_another_site.status, 403);
    let bad_resume = request(
        &socket,
        "GET",
        "/v1/events",
        &[("Last-Event-ID", "yesterday")],
        b"",
    );
    assert_eq!(bad_resume.status, 400);
    assert_eq!(get(&socket, "/v2/anything").status, 404);
    assert_eq!(inspect("t-api-act--web", "{{.State.Status}}"), "running");
    assert_eq!(inspect("t-api-act--web", "{{.Id}}"), id);
    assert_eq!(inspect("t-api-act--web", "{{.RestartCount}}"), "0");

    let stopped = post(&socket, "/v1/units/web/stop");
    assert_eq!(stopped.status, 200, "{}", stopped.body);
    assert_eq!(stopped.json()["phase"], "stopped");
    assert_eq!(inspect("t-api-act--web", "{{.State.Status}}"), "exited");

    let started = post(&socket, "/v1/units/web/start");
    assert_eq!(started.json()["phase"], "running");
    assert_eq!(inspect("t-api-act--web", "{{.State.Status}}"), "running");

    let before = inspect("t-api-act--web", "{{.State.StartedAt}}");
    let restarted = post(&socket, "/v1/units/web/restart");
    assert_eq!(restarted.status, 200, "{}", restarted.body);
    assert_eq!(restarted.json()["phase"], "running");
    assert_ne!(inspect("t-api-act--web", "{{.State.StartedAt}}"), before);
}

#[actix::test]
async fn the_verbs_act_on_the_running_up_and_say_so_when_none_runs() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-verbs");
    let (mut up, socket, _) = up_with_socket("t-api-verbs", &(unit("web", "") + &unit("db", "")));
    up.wait_running(&["web", "db"]);

    let stop = verb(&["stop", "web", "db"], &socket);
    assert_eq!(stop.status.code(), Some(0), "{}", text(&stop.stderr));
    assert_eq!(text(&stop.stdout), "web: stopped\ndb: stopped\n");
    // ps asks the running up: the phase is live, not the record's.
    let ps = verb(&["ps", "-n", "t-api-verbs", "--json"], &socket);
    let rows: serde_json::Value = serde_json::from_slice(&ps.stdout).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["phase"] == "stopped"),
        "{rows}"
    );

    let start = verb(&["start", "web"], &socket);
    assert_eq!(text(&start.stdout), "web: running\n");
    let restart = verb(&["restart", "web", "nope"], &socket);
    assert_eq!(restart.status.code(), Some(1));
    assert_eq!(text(&restart.stdout), "web: running\n");
    let stderr = text(&restart.stderr);
    assert!(stderr.contains("nope: no unit named nope"), "{stderr}");
    assert!(stderr.contains("could not restart nope"), "{stderr}");

    let nobody = std::env::temp_dir().join("stevedore-no-such-up.sock");
    let alone = verb(&["restart", "web"], &nobody);
    assert_eq!(alone.status.code(), Some(1));
    assert!(
        text(&alone.stderr).contains("no stevedore up is running"),
        "{}",
        text(&alone.stderr)
    );
}

#[actix::test]
async fn a_killed_unit_shows_in_the_events_and_a_resumed_stream_loses_none() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-events");
    let (mut up, socket, _) = up_with_socket("t-api-events", &unit("web", ""));
    up.wait_running(&["web"]);

    // The bring-up's own `running` may still be on its way to the API's
    // board: the restart is what follows a `backing-off`.
    let mut events = Events::open(&socket, None);
    docker(&["kill", "t-api-events--web"]);
    let mut seen = events.until(|e| e["state"] == "backing-off");
    seen.extend(events.until(|e| e["state"] == "running"));
    let last = seen.last().unwrap().id.unwrap();
    drop(events); // the connection drops

    // Events happen while nobody listens…
    docker(&["kill", "t-api-events--web"]);
    let stop = verb(&["stop", "web"], &socket);
    assert_eq!(stop.status.code(), Some(0));
    // …and a client that resumes after its last id gets every one, in order.
    let mut resumed = Events::open(&socket, Some(last));
    let missed = resumed.until(|e| e["state"] == "stopped");
    let ids: Vec<u64> = missed.iter().map(|m| m.id.unwrap()).collect();
    let expected: Vec<u64> = (last + 1..=last + ids.len() as u64).collect();
    assert_eq!(ids, expected, "no gap, no repeat");
    assert!(missed.iter().any(|m| m.json()["state"] == "backing-off"));
    assert!(missed.iter().all(|m| m.json()["unit"] == "web"));

    let from_elsewhere = Events::open(&socket, Some(10_000_000)).next();
    assert_eq!(from_elsewhere.event.as_deref(), Some("reset"));
}

#[actix::test]
async fn metrics_show_units_and_engine_calls_in_the_prometheus_format() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-metrics");
    let (mut up, socket, _) = up_with_socket("t-api-metrics", &unit("web", ""));
    up.wait_running(&["web"]);
    let mut events = Events::open(&socket, None);
    docker(&["kill", "t-api-metrics--web"]);
    events.until(|e| e["state"] == "backing-off");
    events.until(|e| e["state"] == "running");

    let metrics = get(&socket, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        metrics.headers
    );
    let text = metrics.body;
    for line in [
        "stevedore_unit_up{namespace=\"t-api-metrics\",unit=\"web\"} 1",
        "stevedore_unit_restarts_total{namespace=\"t-api-metrics\",unit=\"web\",reason=\"exit\"} 1",
        "stevedore_unit_state{namespace=\"t-api-metrics\",unit=\"web\",state=\"running\"} 1",
        "stevedore_unit_health{namespace=\"t-api-metrics\",unit=\"web\",status=\"none\"} 1",
        "stevedore_unit_last_exit_code{namespace=\"t-api-metrics\",unit=\"web\"} 137",
    ] {
        assert!(text.contains(line), "missing {line}:\n{text}");
    }
    for name in [
        "stevedore_unit_start_time_seconds{",
        "stevedore_engine_calls_total{namespace=\"t-api-metrics\",call=\"create\",outcome=\"ok\"}",
        "stevedore_engine_call_duration_seconds_bucket{",
        "stevedore_engine_rate_limited_seconds_total{",
        "stevedore_events_reconnects_total{",
        "stevedore_build_info{",
    ] {
        assert!(text.contains(name), "missing {name}:\n{text}");
    }
    if common::cli::have("promtool") || std::env::var_os("CI").is_some() {
        let checked = common::cli::pipe("promtool", &["check", "metrics"], &text);
        assert!(
            checked.status.success(),
            "promtool: {}",
            String::from_utf8_lossy(&checked.stderr)
        );
    }
}

#[actix::test]
async fn reload_through_the_api_applies_the_manifest_or_lists_its_problems() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-reload");
    let (mut up, socket, file) = up_with_socket("t-api-reload", &unit("web", ""));
    up.wait_running(&["web"]);
    let web_id = inspect("t-api-reload--web", "{{.Id}}");

    let edited = format!(
        "namespace = \"t-api-reload\"\n{}{}",
        unit("web", ""),
        unit("extra", "")
    );
    std::fs::write(&file, edited).unwrap();
    let reload = verb(&["reload", "-n", "t-api-reload"], &socket);
    assert_eq!(reload.status.code(), Some(0), "{}", text(&reload.stderr));
    assert_eq!(text(&reload.stdout), "added: extra\nunchanged: web\n");
    up.wait_running(&["extra"]);

    std::fs::write(
        &file,
        "namespace = \"t-api-reload\"\n[[unit]]\nname = \"web\"\n",
    )
    .unwrap();
    let refused = verb(&["reload", "-n", "t-api-reload"], &socket);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("reload refused"), "{stderr}");
    assert!(
        stderr.contains("image"),
        "names the missing field: {stderr}"
    );
    assert_eq!(inspect("t-api-reload--web", "{{.Id}}"), web_id);
    assert_eq!(
        inspect("t-api-reload--extra", "{{.State.Status}}"),
        "running"
    );
}

#[actix::test]
async fn down_asks_the_running_up_to_stop_its_units_and_exit() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-down");
    let (mut up, socket, _) = up_with_socket("t-api-down", &unit("web", ""));
    up.wait_running(&["web"]);
    let down = verb(&["down", "-n", "t-api-down"], &socket);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    assert_eq!(up.wait_exit(), 0, "up exits once asked");
    assert!(
        up.seen
            .iter()
            .any(|l| l.contains("shutting down (stopping units)"))
    );
    let left = docker(&[
        "ps",
        "-aq",
        "--filter",
        "label=io.stevedore.namespace=t-api-down",
    ]);
    assert_eq!(left, "");
}

#[actix::test]
async fn a_restart_through_the_cli_while_docker_kills_the_unit_ends_with_one_running_container() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-race");
    let (mut up, socket, _) = up_with_socket("t-api-race", &unit("web", ""));
    up.wait_running(&["web"]);
    let mut events = Events::open(&socket, None);
    let socket_text = socket.display().to_string();
    let restart = std::thread::spawn(move || run(&["restart", "web", "--socket", &socket_text]));
    let killed_at = std::time::SystemTime::now();
    docker(&["kill", "t-api-race--web"]);
    let restart = restart.join().unwrap();
    assert_eq!(restart.status.code(), Some(0), "{}", text(&restart.stderr));
    // Whatever order the two arrived in, the last run starts after the
    // kill: a restart that came first is killed and restarted by policy.
    events.until(|e| {
        let at = humantime::parse_rfc3339_weak(e["at"].as_str().unwrap()).unwrap();
        e["state"] == "running" && at > killed_at
    });
    assert_eq!(get(&socket, "/v1/units/web").json()["phase"], "running");
    let running = docker(&[
        "ps",
        "-q",
        "--filter",
        "label=io.stevedore.namespace=t-api-race",
    ]);
    assert_eq!(running.lines().count(), 1, "one container runs: {running}");
}

#[actix::test]
async fn logs_come_through_the_api_prefixed_per_unit_and_from_the_engine_without_an_up() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-logs");
    let talker = |name: &str, words: &str| {
        format!(
            "[[unit]]\nname = \"{name}\"\nimage = \"{IMAGE}\"\ncommand = [\"sh\", \"-c\", \"for w in {words}; do echo $w; done; echo oops >&2; exec sleep 600\"]\nstop_timeout = \"1s\"\n"
        )
    };
    let (mut up, socket, _) = up_with_socket(
        "t-api-logs",
        &(talker("a", "one two three") + &talker("b", "four")),
    );
    up.wait_running(&["a", "b"]);
    // The unit runs once its process started; its words may still be on
    // their way: follow until the last one.
    let socket_text = socket.display().to_string();
    let mut follow = std::process::Command::new(common::cli::binary())
        .args([
            "logs",
            "-f",
            "--socket",
            &socket_text,
            "-n",
            "t-api-logs",
            "a",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(follow.stdout.take().unwrap()));
    let mut seen: Vec<String> = Vec::new();
    // Standard output and error are read apart by the engine: only each
    // one's own order is kept.
    while !(seen.iter().any(|l| l == "oops") && seen.iter().any(|l| l == "three")) {
        seen.push(lines.next().expect("logs -f goes on").unwrap());
    }
    let _ = follow.kill();
    let _ = follow.wait();
    let stdout: Vec<&String> = seen.iter().filter(|l| *l != "oops").collect();
    assert_eq!(stdout, ["one", "two", "three"], "{seen:?}");

    let tail = verb(&["logs", "-n", "t-api-logs", "--tail", "2", "a"], &socket);
    assert_eq!(tail.status.code(), Some(0), "{}", text(&tail.stderr));
    let tail = text(&tail.stdout);
    // The last two of the four lines, whichever order the engine kept
    // between the two streams.
    assert_eq!(tail.lines().count(), 2, "{tail:?}");
    assert!(
        tail.lines()
            .all(|l| ["one", "two", "three", "oops"].contains(&l)),
        "{tail:?}"
    );
    let all = verb(&["logs", "-n", "t-api-logs", "a"], &socket);
    assert_eq!(text(&all.stdout).lines().count(), 4);

    let both = verb(&["logs", "-n", "t-api-logs", "a", "b"], &socket);
    let both = text(&both.stdout);
    assert!(both.contains("a | two\n"), "{both}");
    assert!(both.contains("b | four\n"), "{both}");

    assert_eq!(get(&socket, "/v1/units/a/logs?tail=lots").status, 400);
    assert_eq!(get(&socket, "/v1/units/nope/logs").status, 404);

    // Without an up, the engine answers.
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    let direct = run(&["logs", "-n", "t-api-logs", "--socket", &socket_text, "b"]);
    assert_eq!(direct.status.code(), Some(0), "{}", text(&direct.stderr));
    let direct = text(&direct.stdout);
    assert!(
        direct.contains("four\n") && direct.contains("oops\n"),
        "{direct:?}"
    );
    let missing = run(&["logs", "-n", "t-api-logs", "--socket", &socket_text, "nope"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[actix::test]
async fn two_hundred_event_clients_each_get_every_event_of_the_restarts() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-api-crowd");
    let (mut up, socket, _) = up_with_socket("t-api-crowd", &unit("web", ""));
    up.wait_running(&["web"]);
    // A read settles the API's board: the bring-up's own events are on it
    // before anyone listens, so every listener starts from the same place.
    assert_eq!(get(&socket, "/v1/units").status, 200);
    let mut watcher = Events::open(&socket, None);
    let clients: Vec<Events> = (0..200).map(|_| Events::open(&socket, None)).collect();
    let mut ids = Vec::new();
    for _ in 0..2 {
        docker(&["kill", "t-api-crowd--web"]);
        for state in ["backing-off", "running"] {
            let read = watcher.until(|e| e["state"] == state);
            ids.extend(read.iter().filter_map(|m| m.id));
        }
    }
    let last = *ids.last().unwrap();
    // The restarts went on with 200 listeners; each heard all of them.
    std::thread::scope(|scope| {
        for mut client in clients {
            let ids = &ids;
            scope.spawn(move || {
                let mut heard = Vec::new();
                while heard.last() != Some(&last) {
                    heard.extend(client.next().id);
                }
                assert_eq!(&heard, ids);
            });
        }
    });
}
