//! Compose files through the binary: `validate`, `convert`, `up`, `ps` and
//! `down` with `-f compose.yaml` on the real engine, and bad files refused
//! with file:line:column before anything is created (`convert` against
//! `docker-compose config` is tests/compose_corpus.rs).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::cli::{Up, have, run};
use common::{Cleanup, IMAGE, docker, engine, inspect};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `text` as `compose.yaml` in a fresh directory named `project`.
fn compose_file(project: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("stevedore-compose-{}", std::process::id()))
        .join(project);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("compose.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[actix::test]
async fn a_compose_file_runs_with_its_health_checks_and_dependencies_and_goes_down() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-compose-up");
    let file = compose_file(
        "t-compose-up",
        &format!(
            r#"
services:
  web:
    image: {IMAGE}
    command: httpd -f -p 8080 -h /www
    stop_grace_period: 1s
    restart: always
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 3
  worker:
    image: {IMAGE}
    command: ["sleep", "600"]
    stop_grace_period: 1s
    depends_on:
      web: {{ condition: service_healthy }}
"#
        ),
    );
    let path = file.display().to_string();
    let valid = run(&["validate", "-f", &path]);
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid.stderr));
    assert!(text(&valid.stdout).contains("valid, namespace t-compose-up, 2 unit(s)"));

    let mut up = Up::start(&file, &[]);
    up.wait_running(&["web", "worker"]);
    assert_eq!(
        inspect("t-compose-up--web", "{{.State.Health.Status}}"),
        "healthy"
    );
    assert_eq!(
        inspect("t-compose-up--worker", "{{json .Config.Cmd}}"),
        "[\"sleep\",\"600\"]"
    );
    let ps = run(&["ps", "-f", &path, "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&ps.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    // -p names the project, as in compose.
    let down = run(&["down", "-p", "t-compose-up"]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    let left = docker(&[
        "ps",
        "-aq",
        "--filter",
        "label=io.stevedore.namespace=t-compose-up",
    ]);
    assert_eq!(left, "");
}

#[test]
fn bad_compose_files_are_refused_at_their_line_and_column_and_nothing_is_created() {
    let cases = [
        ("services:\n  web: [\n", "compose.yaml:3:1"),
        (
            "services:\n  web:\n    image: busybox\n    nope: 1\n",
            "compose.yaml:4:5: unit \"web\": nope: is not a compose service key",
        ),
        (
            "services:\n  web:\n    image: \"x:${REQUIRED_BY_TEST:?give it}\"\n",
            "compose.yaml:3:12: unit \"web\": image:",
        ),
        (
            "services:\n  a: { image: busybox, depends_on: [b] }\n  b: { image: busybox, depends_on: [a] }\n",
            "dependency cycle",
        ),
        (
            "services:\n  web:\n    image: busybox\n    networks: [front]\n",
            "compose.yaml:4:16: unit \"web\": networks.front: refers to undefined network \"front\"",
        ),
        (
            "services:\n  web:\n    image: busybox\n    secrets: [token]\nsecrets:\n  token: { file: ./absent.txt }\n",
            "compose.yaml:6:18: secrets.token.file:",
        ),
        (
            "services:\n  a: { image: busybox, ports: [\"18123:80\"] }\n  b: { image: busybox, ports: [\"18123:81\"] }\n",
            "host port 18123/tcp",
        ),
        (
            "services:\n  web:\n    image: busybox\n    env_file: ./absent.env\n",
            "compose.yaml:4:15: unit \"web\": env_file[0]: cannot read",
        ),
    ];
    for (index, (body, expected)) in cases.iter().enumerate() {
        let project = format!("t-compose-bad{index}");
        let file = compose_file(&project, body);
        let output = run(&["up", "-f", &file.display().to_string()]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{body}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{body}: expected {expected:?} in {stderr}"
        );
        if std::env::var_os("CI").is_some() || have("docker") {
            let made = Command::new("docker")
                .args([
                    "ps",
                    "-aq",
                    "--filter",
                    &format!("label=io.stevedore.namespace={project}"),
                ])
                .output();
            if let Ok(made) = made {
                assert_eq!(text(&made.stdout).trim(), "", "nothing is created");
            }
        }
    }
}

#[test]
fn the_readme_compose_example_is_valid_and_converts() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/compose/compose.yaml");
    let valid = run(&["validate", "-f", file]);
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid.stderr));
    assert!(
        text(&valid.stdout).contains("namespace compose, 3 unit(s)"),
        "{}",
        text(&valid.stdout)
    );
    let converted = run(&["convert", "-f", file]);
    assert_eq!(
        converted.status.code(),
        Some(0),
        "{}",
        text(&converted.stderr)
    );
    let manifest =
        stevedore::manifest::parse_manifest(&text(&converted.stdout), "units.toml").unwrap();
    let names: Vec<&str> = manifest
        .resources
        .networks
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(names, ["compose_default"]);
    assert_eq!(manifest.resources.volumes[0].name, "compose_shared");
}
