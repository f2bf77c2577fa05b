//! Compose files through the binary: `validate`, `convert`, `up`, `ps` and
//! `down` with `-f compose.yaml` on the real engine, bad files refused with
//! file:line:column before anything is created, and `convert`'s units
//! compared field by field with what Debian's `docker-compose config` makes
//! of the same file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cli::{Up, have, run};
use common::{Cleanup, IMAGE, docker, engine, inspect};
use stevedore::compose::yaml::{self, Kind, Node};

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

/// `docker-compose config`'s service `name`, parsed.
fn compose_config(file: &Path) -> Option<Node> {
    let output = Command::new("docker-compose")
        .arg("-f")
        .arg(file)
        .arg("config")
        .output()
        .ok()?;
    assert!(
        output.status.success(),
        "docker-compose config: {}",
        text(&output.stderr)
    );
    Some(yaml::parse(&text(&output.stdout)).unwrap())
}

#[test]
fn convert_yields_the_containers_docker_compose_config_describes() {
    if !have("docker-compose") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs docker-compose (scripts/tools-up.sh)"
        );
        eprintln!("SKIPPED: docker-compose is not installed");
        return;
    }
    let file = compose_file(
        "t-compose-diff",
        r#"
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "8080"]
    environment:
      GREETING: hello
      EMPTY: ""
    ports:
      - "127.0.0.1:18080:8080"
      - "9090/udp"
    restart: on-failure
    stop_signal: SIGINT
    labels: [ "team=web" ]
  db:
    image: busybox:latest
    environment: [ "A=1", "B=two words" ]
    restart: always
"#,
    );
    let converted = run(&["convert", "-f", &file.display().to_string()]);
    assert_eq!(
        converted.status.code(),
        Some(0),
        "{}",
        text(&converted.stderr)
    );
    let manifest =
        stevedore::manifest::parse_manifest(&text(&converted.stdout), "converted.toml").unwrap();
    let config = compose_config(&file).unwrap();
    let services = config.get("services").unwrap();
    for unit in &manifest.units {
        let service = services
            .get(&unit.name)
            .unwrap_or_else(|| panic!("{} in config", unit.name));
        assert_eq!(
            service.get("image").and_then(Node::text),
            Some(unit.image.as_str())
        );
        let restart = service.get("restart").and_then(Node::text).unwrap_or("no");
        assert_eq!(restart, unit.restart.to_string(), "{}", unit.name);
        let env: std::collections::BTreeMap<String, String> =
            match service.get("environment").map(|e| &e.kind) {
                Some(Kind::Map(entries)) => entries
                    .iter()
                    .map(|(k, v)| (k.text.clone(), v.text().unwrap_or_default().to_string()))
                    .collect(),
                _ => Default::default(),
            };
        assert_eq!(env, unit.env, "{}", unit.name);
        if let Some(Kind::List(command)) = service.get("command").map(|c| &c.kind) {
            let words: Vec<&str> = command.iter().filter_map(Node::text).collect();
            assert_eq!(
                Some(words.iter().map(|w| w.to_string()).collect()),
                unit.command
            );
        }
        let ports: Vec<(String, String, String)> = match service.get("ports").map(|p| &p.kind) {
            Some(Kind::List(items)) => items
                .iter()
                .map(|p| match p.text() {
                    // 1.29 keeps a mapping with a host address as written.
                    Some(short) => {
                        let port = stevedore::spec::text::parse_port(short).unwrap();
                        let published = if port.external == 0 {
                            String::new()
                        } else {
                            port.external.to_string()
                        };
                        (
                            port.internal.to_string(),
                            published,
                            port.protocol.to_string(),
                        )
                    }
                    None => {
                        let field = |k: &str| {
                            p.get(k)
                                .and_then(Node::text)
                                .unwrap_or_default()
                                .to_string()
                        };
                        (field("target"), field("published"), field("protocol"))
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        let ours: Vec<(String, String, String)> = unit
            .ports
            .iter()
            .map(|p| {
                let published = if p.external == 0 {
                    String::new()
                } else {
                    p.external.to_string()
                };
                (p.internal.to_string(), published, p.protocol.to_string())
            })
            .collect();
        assert_eq!(ours, ports, "{}", unit.name);
    }
}
