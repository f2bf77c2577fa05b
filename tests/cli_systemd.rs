//! `up` under a service manager, without one: the notify protocol against a
//! socket this test listens on (READY only once every unit runs, STATUS,
//! WATCHDOG pings, STOPPING), and the unit files `service print` writes and
//! the repository ships.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::cli::{binary, manifest};
use common::{Cleanup, docker, engine};

/// The next datagram from `up`, bounded so a regression fails.
fn next(socket: &UnixDatagram) -> String {
    let mut buffer = [0u8; 4096];
    let len = socket
        .recv(&mut buffer)
        .expect("up sends the next notification within 60 s");
    String::from_utf8_lossy(&buffer[..len]).into_owned()
}

fn state(container: &str) -> String {
    docker(&["inspect", "-f", "{{.State.Status}}", container])
}

#[actix::test]
async fn up_tells_the_service_manager_it_is_ready_only_once_every_unit_runs() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-notify");
    let dir = std::env::temp_dir().join(format!("stevedore-notify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notify.sock");
    let _ = std::fs::remove_file(&path);
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let file = manifest(
        "notify",
        r#"namespace = "t-notify"

[[unit]]
name = "db"
image = "stevedore-test:latest"
command = ["sleep", "600"]

[[unit]]
name = "web"
image = "stevedore-test:latest"
command = ["sleep", "600"]
depends_on = ["db"]
"#,
    );
    let mut up = Command::new(binary())
        .args(["up", "-f"])
        .arg(&file)
        .env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "400000")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Status lines may come first; READY comes once both run.
    let ready = loop {
        let message = next(&socket);
        if message.contains("READY=1") {
            break message;
        }
        assert!(message.starts_with("STATUS="), "{message:?}");
    };
    assert_eq!(state("t-notify--db"), "running");
    assert_eq!(state("t-notify--web"), "running");
    assert!(ready.contains("STATUS=2 units: 2 running"), "{ready:?}");
    let mut pings = 0;
    while pings < 2 {
        if next(&socket) == "WATCHDOG=1\n" {
            pings += 1;
        }
    }
    let pid = up.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    loop {
        if next(&socket).contains("STOPPING=1") {
            break;
        }
    }
    assert!(up.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn service_print_writes_a_notify_unit_for_the_manifest() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo.toml");
    let output = Command::new(binary())
        .args(["service", "print", "-f", demo])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let unit = String::from_utf8(output.stdout).unwrap();
    let absolute = std::fs::canonicalize(demo).unwrap();
    let exec = format!(
        "ExecStart={} up -f {} --on-exit leave",
        binary(),
        absolute.display()
    );
    for line in [
        exec.as_str(),
        "Type=notify",
        "Requires=docker.service",
        "Restart=on-failure",
        "WatchdogSec=30s",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line:?} in\n{unit}");
    }
}

#[test]
fn the_shipped_unit_file_runs_up_as_a_notify_service_after_docker() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/systemd/stevedore@.service"
    ))
    .unwrap();
    for line in [
        "Type=notify",
        "Requires=docker.service",
        "After=docker.service network-online.target",
        "Restart=on-failure",
        "WatchdogSec=30s",
        "ExecStart=/usr/local/bin/stevedore up -f /etc/stevedore/%i.toml --on-exit leave",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line:?} in\n{unit}");
    }
}
