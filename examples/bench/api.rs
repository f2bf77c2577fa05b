//! Scenario `api`: listing 200 supervised things under load from this
//! process — `GET /v1/units` of a `stevedore up -d` with 200 units, the
//! engine's own `GET /containers/json` of the same containers (what
//! `docker ps --format json` asks), and supervisord's XML-RPC
//! `getAllProcessInfo` over 200 sleeping processes — each at a fixed 1,000
//! requests/s; then `docker ps --format json` as a command, and wrk's
//! saturation throughput of `/v1/units`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bringup::stevedore_binary;
use crate::http_load::{Target, fixed_rate, quantile, sequential};
use crate::report::Row;
use crate::util::{IMAGE, docker, have, remove_prefixed};

const NAMESPACE: &str = "bench-api";
const UNITS: usize = 200;
const RATE: f64 = 1000.0;
const LOAD: Duration = Duration::from_secs(3);
const CONNECTIONS: usize = 4;
const API_PORT: u16 = 18787;
const SUPERVISOR_PORT: u16 = 19001;

fn dir() -> std::path::PathBuf {
    std::env::temp_dir().join("stevedore-bench-api")
}

fn manifest() -> std::path::PathBuf {
    let mut text = format!("namespace = \"{NAMESPACE}\"\n");
    for n in 0..UNITS {
        text.push_str(&format!(
            "[[unit]]\nname = \"u{n:03}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"3600\"]\nstop_timeout = \"1s\"\n"
        ));
    }
    let path = dir().join("units.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn supervisord() -> Child {
    let mut conf = format!(
        "[supervisord]\nlogfile={dir}/supervisord.log\npidfile={dir}/supervisord.pid\n\
         [inet_http_server]\nport=127.0.0.1:{SUPERVISOR_PORT}\n\
         [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        dir = dir().display()
    );
    for n in 0..UNITS {
        conf.push_str(&format!(
            "[program:p{n:03}]\ncommand=sleep 3600\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
        ));
    }
    let path = dir().join("supervisord.conf");
    std::fs::write(&path, conf).unwrap();
    Command::new("supervisord")
        .args(["-n", "-c"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("supervisord starts")
}

fn xml_rpc_request() -> Vec<u8> {
    let body = "<?xml version='1.0'?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params></params></methodCall>";
    format!(
        "POST /RPC2 HTTP/1.1\r\nHost: bench\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Waits (bounded) until supervisord runs all its programs.
fn await_supervisord() {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let out = Command::new("supervisorctl")
            .args([
                "-s",
                &format!("http://127.0.0.1:{SUPERVISOR_PORT}"),
                "status",
            ])
            .output();
        if let Ok(out) = out {
            let text = String::from_utf8_lossy(&out.stdout);
            if text.lines().filter(|l| l.contains("RUNNING")).count() == UNITS {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("supervisord never ran its {UNITS} programs");
}

fn load_row(scenario: &str, contender: &str, target: &Target, request: &[u8], runs: usize) -> Row {
    let mut row = Row::new(scenario, contender, "ms");
    let mut all = Vec::new();
    let mut seconds = 0.0;
    for _ in 0..runs {
        let began = Instant::now();
        let latencies = fixed_rate(target, request, RATE, LOAD, CONNECTIONS);
        seconds += began.elapsed().as_secs_f64();
        all.extend(latencies);
    }
    for latency in &all {
        row.push_duration(*latency);
    }
    let achieved = all.len() as f64 / seconds;
    row.note = format!(
        "p99 {:.2} ms; {achieved:.0} req/s achieved of {RATE:.0} asked, {CONNECTIONS} keep-alive connections",
        quantile(&all, 0.99).as_secs_f64() * 1000.0
    );
    row
}

/// `wrk`'s saturation run of `/v1/units`: requests/s, p50, p99.
fn wrk(token: &str) -> Option<String> {
    if !have("wrk") {
        return None;
    }
    let out = Command::new("wrk")
        .args(["-t2", "-c8", "-d5s", "--latency", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("http://127.0.0.1:{API_PORT}/v1/units"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let pick = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_string()
    };
    Some(format!(
        "wrk -t2 -c8 (saturation): {} req/s, p50 {}, p99 {}",
        pick("Requests/sec:"),
        pick("50%"),
        pick("99%")
    ))
}

pub async fn run(runs: usize, rows: &mut Vec<Row>) {
    let scenario = "api: list 200 units at 1,000 req/s (latency)";
    remove_prefixed(&format!("{NAMESPACE}--"));
    let _ = std::fs::remove_dir_all(dir());
    std::fs::create_dir_all(dir()).unwrap();
    let socket = dir().join("api.sock");
    let up = Command::new(stevedore_binary())
        .args(["up", "-d", "--wait-timeout", "600", "-f"])
        .arg(manifest())
        .arg("--socket")
        .arg(&socket)
        .args(["--listen", &format!("127.0.0.1:{API_PORT}")])
        .output()
        .expect("stevedore runs");
    assert!(
        up.status.success(),
        "up -d failed: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let token = std::fs::read_to_string(socket.with_extension("token")).unwrap();
    let token = token.trim().to_string();
    let supervisor = have("supervisord").then(supervisord);
    if supervisor.is_some() {
        await_supervisord();
    }

    let api = Target::Tcp(format!("127.0.0.1:{API_PORT}"));
    let units =
        format!("GET /v1/units HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n");
    let engine = Target::Unix("/var/run/docker.sock".into());
    let filter = format!("%7B%22label%22%3A%5B%22io.stevedore.namespace%3D{NAMESPACE}%22%5D%7D");
    let containers =
        format!("GET /v1.41/containers/json?filters={filter} HTTP/1.1\r\nHost: docker\r\n\r\n");
    let supervisor_target = Target::Tcp(format!("127.0.0.1:{SUPERVISOR_PORT}"));

    let mut ours = load_row(
        scenario,
        "stevedore GET /v1/units (TCP, token)",
        &api,
        units.as_bytes(),
        runs,
    );
    if let Some(wrk) = wrk(&token) {
        ours.note = format!("{}; {wrk}", ours.note);
    }
    let theirs = load_row(
        scenario,
        "engine GET /containers/json (what docker ps asks)",
        &engine,
        containers.as_bytes(),
        runs,
    );
    rows.push(ours);
    rows.push(theirs);
    if supervisor.is_some() {
        rows.push(load_row(
            scenario,
            "supervisord XML-RPC getAllProcessInfo (200 processes)",
            &supervisor_target,
            &xml_rpc_request(),
            runs,
        ));
    }

    // One call at a time: what each costs when nothing queues.
    let one = "api: list 200 units, one call at a time (per call)";
    for (contender, target, request) in [
        ("stevedore GET /v1/units", &api, units.as_bytes().to_vec()),
        (
            "engine GET /containers/json",
            &engine,
            containers.as_bytes().to_vec(),
        ),
        (
            "supervisord getAllProcessInfo",
            &supervisor_target,
            xml_rpc_request(),
        ),
    ] {
        if contender.starts_with("supervisord") && supervisor.is_none() {
            continue;
        }
        let mut row = Row::new(one, contender, "ms");
        let latencies = sequential(target, &request, 100 * runs);
        for latency in &latencies {
            row.push_duration(*latency);
        }
        row.note = format!(
            "p99 {:.2} ms; one keep-alive connection",
            quantile(&latencies, 0.99).as_secs_f64() * 1000.0
        );
        rows.push(row);
    }

    let mut cli = Row::new(one, "docker ps --format json (a command per call)", "ms");
    for _ in 0..10 * runs {
        let began = Instant::now();
        docker(&[
            "ps",
            "--filter",
            &format!("label=io.stevedore.namespace={NAMESPACE}"),
            "--format",
            "json",
        ]);
        cli.push_duration(began.elapsed());
    }
    cli.note = "sequential; includes starting the docker command".into();
    rows.push(cli);

    if let Some(mut child) = supervisor {
        let _ = child.kill();
        let _ = child.wait();
    }
    let down = Command::new(stevedore_binary())
        .args(["down", "-n", NAMESPACE, "--socket"])
        .arg(&socket)
        .output()
        .expect("stevedore down runs");
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
}
