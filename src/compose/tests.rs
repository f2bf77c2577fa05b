//! Table tests of compose files read as manifests.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::RestartPolicy;
use crate::spec::{Condition, HealthTest, Protocol};

fn read(text: &str) -> Result<Compose, ManifestError> {
    let vars = HashMap::from([("TAG".to_string(), "1.36".to_string())]);
    parse_compose(text, "compose.yaml", Path::new("/srv/My_Project"), &vars)
}

fn problems(text: &str) -> Vec<String> {
    read(text).unwrap_err().lines()
}

#[test]
fn a_service_becomes_a_unit_with_its_keys() {
    let compose = read(
        r#"
services:
  web:
    image: "busybox:${TAG}"
    command: httpd -f -p 8080
    environment:
      - GREETING=hello
    ports: ["127.0.0.1:18080:8080", { target: 53, published: 5353, protocol: udp }]
    volumes: ["./data:/data:ro"]
    restart: unless-stopped
    stop_grace_period: 1m30s
    stop_signal: SIGINT
    mem_limit: 64m
    labels: { team: web }
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/"]
      interval: 5s
      retries: 3
  worker:
    image: busybox
    depends_on:
      web: { condition: service_healthy, restart: true }
"#,
    )
    .unwrap();
    let manifest = compose.manifest;
    assert_eq!(manifest.namespace, "my_project");
    let web = &manifest.units[0];
    assert_eq!(web.image, "busybox:1.36");
    assert_eq!(
        web.command.as_deref().unwrap(),
        ["httpd", "-f", "-p", "8080"]
    );
    assert_eq!(web.env["GREETING"], "hello");
    assert_eq!(web.ports[0].external, 18080);
    assert_eq!(web.ports[1].protocol, Protocol::Udp);
    assert_eq!(web.volumes[0].source, Path::new("/srv/My_Project/data"));
    assert!(web.volumes[0].read_only);
    assert_eq!(web.restart, RestartPolicy::UnlessStopped);
    assert_eq!(web.stop_timeout, Duration::from_secs(90));
    assert_eq!(web.memory, Some(64 << 20));
    assert_eq!(web.labels["team"], "web");
    let check = web.healthcheck.as_ref().unwrap();
    assert!(matches!(check.test, HealthTest::Exec(_)));
    assert_eq!(check.interval, Some(Duration::from_secs(5)));
    let worker = &manifest.units[1];
    assert_eq!(worker.restart, RestartPolicy::No, "compose's default");
    assert_eq!(worker.depends_on["web"].condition, Condition::Healthy);
    assert!(worker.depends_on["web"].restart);
    // Both join the project's network, where each answers to its name.
    assert_eq!(
        web.networks.keys().collect::<Vec<_>>(),
        ["my_project_default"]
    );
    assert_eq!(worker.networks, web.networks);
    assert_eq!(manifest.resources.networks.len(), 1);
    assert_eq!(manifest.resources.networks[0].name, "my_project_default");
}

#[test]
fn the_project_name_is_the_files_name_else_the_directorys_normalised() {
    assert_eq!(normalise_project_name("My_Project.v2"), "my_projectv2");
    assert_eq!(normalise_project_name("-_app"), "app");
    let named = read("name: shop\nservices:\n  web: { image: busybox }\n").unwrap();
    assert_eq!(named.manifest.namespace, "shop");
}

#[test]
fn keys_not_carried_out_are_refused_by_name_at_their_position() {
    let found =
        problems("services:\n  web:\n    image: busybox\n    volumes_from: [db]\n    bogus: 1\n");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("compose.yaml:4:5: unit \"web\": volumes_from: is not carried out"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("compose.yaml:5:5: unit \"web\": bogus: is not a compose service key"),
        "{found:?}"
    );
}

#[test]
fn keys_that_change_nothing_are_warnings_and_x_keys_are_ignored() {
    let compose = read("x-common: &c { image: busybox }\nservices:\n  web:\n    <<: *c\n    tty: true\n    x-note: hi\n").unwrap();
    assert_eq!(compose.manifest.units[0].image, "busybox");
    assert!(
        compose
            .warnings
            .iter()
            .any(|w| w.field.as_deref() == Some("tty"))
    );
}

#[test]
fn a_required_variable_that_is_unset_is_an_error_at_its_value() {
    let found = problems("services:\n  web:\n    image: \"busybox:${MISSING:?set MISSING}\"\n");
    assert!(
        found[0].starts_with("compose.yaml:3:12: unit \"web\": image:"),
        "{found:?}"
    );
    assert!(found[0].contains("set MISSING"), "{found:?}");
}

#[test]
fn a_dependency_cycle_is_named_in_full() {
    let found = problems(
        "services:\n  a: { image: busybox, depends_on: [b] }\n  b: { image: busybox, depends_on: [a] }\n",
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("a -> b -> a") || p.contains("b -> a -> b")),
        "{found:?}"
    );
}

#[test]
fn bad_values_name_the_service_and_key() {
    let found = problems(
        "services:\n  web:\n    image: busybox\n    ports: [\"99999:80\"]\n    restart: sometimes\n    command: echo a; echo b\n",
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].contains("ports[0]"), "{found:?}");
    assert!(found[1].contains("restart"), "{found:?}");
    assert!(found[2].contains("unquoted ';'"), "{found:?}");
}

#[test]
fn a_missing_image_a_named_volume_and_syntax_errors_are_refused() {
    let found = problems("services:\n  web:\n    volumes: [\"data:/data\"]\n");
    assert!(
        found.iter().any(|p| p.contains("image: is missing")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p
                .contains("3:15: unit \"web\": volumes[0]: refers to undefined volume \"data\"")),
        "{found:?}"
    );
    let found = problems("services:\n  web: [\n");
    assert!(found[0].starts_with("compose.yaml:"), "{found:?}");
}

#[test]
fn compose_files_are_told_apart_by_name() {
    assert!(is_compose_file(Path::new("docker-compose.yml")));
    assert!(is_compose_file(Path::new("/x/stack.yaml")));
    assert!(!is_compose_file(Path::new("units.toml")));
}

#[test]
fn the_env_file_beside_the_compose_file_gives_variables_and_the_process_environment_wins() {
    let dir = std::env::temp_dir().join(format!("stevedore-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".env"),
        "TAG=from-file\nPATH=not-this\n# a comment\n",
    )
    .unwrap();
    let vars = variables(&dir).unwrap();
    assert_eq!(vars["TAG"], "from-file");
    assert_ne!(vars["PATH"], "not-this", "the process environment wins");
    std::fs::write(dir.join(".env"), "BAD KEY=1\n").unwrap();
    assert!(variables(&dir).unwrap_err().contains(".env"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn env_files_give_variables_under_what_environment_sets() {
    let dir = std::env::temp_dir().join(format!("stevedore-envfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("web.env"), "A=from-file\nB=from-file\n").unwrap();
    let text = "services:\n  web:\n    image: busybox\n    environment: { B: own }\n    env_file: [web.env, { path: missing.env, required: false }]\n";
    let compose = parse_compose(text, "compose.yaml", &dir, &HashMap::new()).unwrap();
    let env = &compose.manifest.units[0].env;
    assert_eq!(env["A"], "from-file");
    assert_eq!(env["B"], "own", "environment wins over env_file");
    let missing = "services:\n  web:\n    image: busybox\n    env_file: nope.env\n";
    let found = parse_compose(missing, "compose.yaml", &dir, &HashMap::new()).unwrap_err();
    assert!(
        found.problems[0]
            .to_string()
            .starts_with("compose.yaml:4:15: unit \"web\": env_file[0]: cannot read"),
        "{found}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compose_project_name_in_the_environment_names_the_project() {
    let vars = HashMap::from([("COMPOSE_PROJECT_NAME".to_string(), "from-env".to_string())]);
    let compose = parse_compose(
        "name: in-file\nservices:\n  web: { image: busybox }\n",
        "compose.yaml",
        Path::new("/srv"),
        &vars,
    )
    .unwrap();
    assert_eq!(compose.manifest.namespace, "from-env");
}
