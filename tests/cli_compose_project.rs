//! A compose project on the real engine: three services on the project's
//! network reaching each other by name, a named volume two of them share, a
//! secret, an external network, an image the project builds, an anonymous
//! volume that outlives a recreate; `docker kill` restarts the web server;
//! `down` removes the containers and the network and keeps the volume,
//! `down -v` removes it; networks and volumes not of the project are never
//! touched.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::cli::{Up, run};
use common::{Cleanup, IMAGE, docker, engine};

const PROJECT: &str = "t-trio";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits (bounded) for a line of `container`'s output containing `needle`,
/// printed at or after `since` (Unix seconds), following its log as it is
/// written.
fn wait_for_output(container: &str, since: f64, needle: &str) -> String {
    let since = format!("{since:.3}");
    let mut child = Command::new("docker")
        .args(["logs", "-f", "--since", &since, container])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker logs runs");
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let found = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    found.unwrap_or_else(|| panic!("{container} never printed {needle:?}; it printed {seen:?}"))
}

/// The names of the engine's networks or volumes (`kind`) starting with `prefix`.
fn names(kind: &str, prefix: &str) -> Vec<String> {
    let mut found: Vec<String> = docker(&[kind, "ls", "--format", "{{.Name}}"])
        .lines()
        .filter(|name| name.starts_with(prefix))
        .map(str::to_string)
        .collect();
    found.sort();
    found
}

/// Removes what the test made outside the project, now and at the end.
struct Foreign;

impl Foreign {
    fn make() -> Foreign {
        Foreign::remove();
        for args in [
            ["network", "create", "t-trio_foreign"],
            ["network", "create", "t-trio-outside"],
            ["volume", "create", "t-trio_kept"],
        ] {
            let made = Command::new("docker").args(args).output().unwrap();
            assert!(made.status.success(), "{}", text(&made.stderr));
        }
        Foreign
    }

    fn remove() {
        for (kind, name) in [
            ("network", "t-trio_foreign"),
            ("network", "t-trio-outside"),
            ("volume", "t-trio_kept"),
        ] {
            let _ = Command::new("docker").args([kind, "rm", name]).output();
        }
    }
}

impl Drop for Foreign {
    fn drop(&mut self) {
        Foreign::remove();
    }
}

/// Removes the image the project builds at the end.
struct BuiltImage(&'static str);

impl Drop for BuiltImage {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", self.0]).output();
    }
}

fn project_file() -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("stevedore-trio-{}", std::process::id()))
        .join(PROJECT);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("token.txt"), "s3cret\n").unwrap();
    // The one-shot job runs an image the project builds.
    let job = dir.join("job");
    std::fs::create_dir_all(&job).unwrap();
    std::fs::write(job.join("seed.sh"), "echo seeded > /data/seed\n").unwrap();
    std::fs::write(
        job.join("Dockerfile"),
        format!("FROM {IMAGE}\nCOPY seed.sh /seed.sh\nCMD [\"sh\", \"/seed.sh\"]\n"),
    )
    .unwrap();
    let path = dir.join("compose.yaml");
    let text = format!(
        r#"
services:
  web:
    image: {IMAGE}
    command: ["sh", "-c", "mkdir -p /www && cp /run/secrets/token /www/index.html && exec httpd -f -p 8080 -h /www"]
    secrets: [token]
    restart: always
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 3
  job:
    build: ./job
    volumes: ["shared:/data"]
  worker:
    image: {IMAGE}
    command: ["sh", "-c", "while true; do echo \"got $$(wget -q -O- http://web:8080/) $$(cat /data/seed)\"; sleep 1; done"]
    volumes: ["shared:/data:ro"]
    networks: [default, outside]
    tmpfs: /scratch
    stop_grace_period: 1s
    restart: always
    depends_on:
      web: {{ condition: service_healthy }}
      job: {{ condition: service_completed_successfully }}
volumes:
  shared:
networks:
  outside:
    external: true
    name: t-trio-outside
secrets:
  token:
    file: ./token.txt
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[actix::test]
async fn a_three_service_project_runs_on_its_network_and_down_keeps_its_volume_until_asked() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new(PROJECT);
    let _foreign = Foreign::make();
    let _image = BuiltImage("t-trio-job");
    let file = project_file();

    let mut up = Up::start(&file, &[]);
    up.wait_for(&["network t-trio_default created"]);
    up.wait_for(&["volume t-trio_shared created"]);
    up.wait_for(&["network t-trio-outside found (external)"]);
    up.wait_running(&["web", "worker"]);
    // By name, on the project's network: the secret the web server serves
    // and what the one-shot job left in the shared volume.
    wait_for_output("t-trio--worker", 0.0, "got s3cret seeded");
    assert_eq!(
        docker(&["inspect", "-f", "{{.Config.Image}}", "t-trio--job"]),
        "t-trio-job",
        "the job runs the image built for it"
    );
    let aliases = docker(&[
        "inspect",
        "-f",
        "{{json (index .NetworkSettings.Networks \"t-trio_default\").Aliases}}",
        "t-trio--web",
    ]);
    assert!(aliases.contains("\"web\""), "{aliases}");
    let on = docker(&[
        "inspect",
        "-f",
        "{{len .NetworkSettings.Networks}}",
        "t-trio--worker",
    ]);
    assert_eq!(
        on, "2",
        "the worker is on the default and the external network"
    );

    // The engine kills web; stevedore starts it again and the worker reaches it anew.
    up.mark();
    let killed = docker(&["kill", "t-trio--web"]);
    up.wait_for(&[" web ", "exited"]);
    assert_eq!(killed, "t-trio--web");
    up.wait_running(&["web"]);
    let restarted = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    wait_for_output("t-trio--worker", restarted, "got s3cret seeded");

    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);

    let down = run(&["down", "-f", &file.display().to_string()]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    let said = text(&down.stderr);
    assert!(said.contains("removed network t-trio_default"), "{said}");
    let filter = format!("label=io.stevedore.namespace={PROJECT}");
    assert_eq!(docker(&["ps", "-aq", "--filter", &filter]), "");
    assert_eq!(
        names("network", "t-trio"),
        ["t-trio-outside", "t-trio_foreign"],
        "the project's network is gone, the others are untouched"
    );
    assert_eq!(
        names("volume", "t-trio"),
        ["t-trio_kept", "t-trio_shared"],
        "down keeps volumes"
    );

    let down = run(&["down", "-v", "-f", &file.display().to_string()]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    assert_eq!(
        names("volume", "t-trio"),
        ["t-trio_kept"],
        "only ours is removed"
    );
    assert_eq!(
        names("network", "t-trio"),
        ["t-trio-outside", "t-trio_foreign"]
    );
}

#[actix::test]
async fn a_network_someone_else_made_under_the_projects_name_is_refused_and_left_alone() {
    if engine().await.is_none() {
        return;
    }
    let project = "t-squat";
    let _cleanup = Cleanup::new(project);
    let _ = Command::new("docker")
        .args(["network", "rm", "t-squat_default"])
        .output();
    let made = Command::new("docker")
        .args(["network", "create", "t-squat_default"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made.stderr));
    let dir = std::env::temp_dir()
        .join(format!("stevedore-squat-{}", std::process::id()))
        .join(project);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("compose.yaml");
    std::fs::write(
        &file,
        format!("services:\n  web: {{ image: {IMAGE}, command: sleep 60 }}\n"),
    )
    .unwrap();
    let output = run(&["up", "-f", &file.display().to_string()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("network \"t-squat_default\" exists and is not this namespace's"),
        "{stderr}"
    );
    let filter = format!("label=io.stevedore.namespace={project}");
    assert_eq!(
        docker(&["ps", "-aq", "--filter", &filter]),
        "",
        "no container was created"
    );
    let down = run(&["down", "-p", project]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    assert_eq!(
        names("network", "t-squat"),
        ["t-squat_default"],
        "never removed"
    );
    let _ = Command::new("docker")
        .args(["network", "rm", "t-squat_default"])
        .output();
}

#[actix::test]
async fn an_anonymous_volume_outlives_the_recreate_of_its_container() {
    if engine().await.is_none() {
        return;
    }
    let project = "t-anon";
    let _cleanup = Cleanup::new(project);
    let dir = std::env::temp_dir()
        .join(format!("stevedore-anon-{}", std::process::id()))
        .join(project);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("compose.yaml");
    let write = |pause: &str| {
        let body = format!(
            "services:\n  app:\n    image: {IMAGE}\n    command: [\"sh\", \"-c\", \"date >> /data/runs; echo runs=$$(wc -l < /data/runs); exec sleep {pause}\"]\n    volumes: [/data]\n    stop_grace_period: 1s\n"
        );
        std::fs::write(&file, body).unwrap();
    };
    write("600");
    let mut up = Up::start(&file, &[]);
    up.wait_for(&["volumes[0]: an anonymous volume: stevedore names it t-anon_app_data"]);
    up.wait_running(&["app"]);
    wait_for_output("t-anon--app", 0.0, "runs=1");
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    // A new command is a new container; the volume is the same.
    write("601");
    let mut up = Up::start(&file, &[]);
    up.wait_for(&["volume t-anon_app_data adopted"]);
    // The adopted container runs the old command: wait for its replacement.
    up.wait_for(&[" app ", "creating"]);
    up.mark();
    up.wait_running(&["app"]);
    wait_for_output("t-anon--app", 0.0, "runs=2");
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    let down = run(&["down", "-v", "-f", &file.display().to_string()]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    assert_eq!(names("volume", "t-anon"), Vec::<String>::new());
}
