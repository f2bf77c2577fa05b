//! Table tests of several compose files merged as compose merges them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::compose::{Compose, Options, parse_compose_files};
use crate::manifest::ManifestError;
use crate::spec::{Condition, HealthTest, Protocol, UnitSpec};

fn merged(files: &[(&str, &str)]) -> Result<Compose, ManifestError> {
    let vars = HashMap::from([("PORT".to_string(), "8080".to_string())]);
    parse_compose_files(files, Path::new("/srv/app"), &vars, &Options::default())
}

fn unit<'c>(compose: &'c Compose, name: &str) -> &'c UnitSpec {
    compose
        .manifest
        .units
        .iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("{name} in {:?}", compose.manifest.units))
}

fn problems(files: &[(&str, &str)]) -> Vec<String> {
    merged(files).unwrap_err().lines()
}

const BASE: &str = r#"
services:
  web:
    image: busybox:1
    command: ["httpd", "-f"]
    environment: { A: "1", B: "2" }
    labels: [ "team=web" ]
    ports: [ "${PORT}:80", "9000:90" ]
    volumes: [ "./a:/data", "./logs:/logs:ro" ]
    healthcheck: { test: ["CMD", "true"], interval: 5s }
    depends_on: [ db ]
  db:
    image: busybox:1
"#;

#[test]
fn a_later_file_replaces_scalars_and_commands_and_merges_the_rest_by_key() {
    let over = r#"
services:
  web:
    image: busybox:2
    command: ["sleep", "1"]
    environment: [ "B=3", "C=4" ]
    labels: { team: api, tier: front }
    ports: [ "8080:80", "7000:70" ]
    volumes: [ "./b:/data" ]
    healthcheck: { test: ["CMD", "false"] }
    depends_on: { db: { condition: service_healthy } }
  db:
    healthcheck: { test: ["CMD", "true"] }
  cache:
    image: busybox:3
"#;
    let compose = merged(&[("compose.yaml", BASE), ("override.yaml", over)]).unwrap();
    let web = unit(&compose, "web");
    assert_eq!(web.image, "busybox:2");
    assert_eq!(web.command.as_deref().unwrap(), ["sleep", "1"], "replaced");
    let env: Vec<(&str, &str)> = web
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(env, [("A", "1"), ("B", "3"), ("C", "4")]);
    assert_eq!(web.labels["team"], "api");
    assert_eq!(web.labels["tier"], "front");
    // `${PORT}:80` and `8080:80` are one port; the others append.
    let ports: Vec<(u16, u16)> = web.ports.iter().map(|p| (p.external, p.internal)).collect();
    assert_eq!(ports, [(8080, 80), (9000, 90), (7000, 70)]);
    let mounts: Vec<(PathBuf, PathBuf)> = web
        .volumes
        .iter()
        .map(|v| (v.source.clone(), v.container.clone()))
        .collect();
    assert_eq!(
        mounts,
        [
            ("/srv/app/b".into(), "/data".into()),
            ("/srv/app/logs".into(), "/logs".into())
        ],
        "one mount per target, the later in the earlier's place"
    );
    let check = web.healthcheck.as_ref().unwrap();
    assert_eq!(check.interval, Some(std::time::Duration::from_secs(5)));
    assert_eq!(
        check.test,
        HealthTest::Exec(vec!["false".into()]),
        "replaced"
    );
    assert_eq!(web.depends_on["db"].condition, Condition::Healthy);
    assert_eq!(unit(&compose, "db").image, "busybox:1", "kept");
    assert_eq!(unit(&compose, "cache").image, "busybox:3", "added");
}

#[test]
fn files_merge_in_the_order_given_the_last_one_winning() {
    let second = "services:\n  web:\n    image: busybox:2\n";
    let third = "services:\n  web:\n    image: busybox:3\n    ports: [ { target: 80, published: 8080, protocol: udp } ]\n";
    let compose = merged(&[
        ("compose.yaml", BASE),
        ("two.yaml", second),
        ("three.yaml", third),
    ])
    .unwrap();
    let web = unit(&compose, "web");
    assert_eq!(web.image, "busybox:3");
    assert_eq!(web.ports.len(), 3, "udp is another port: {:?}", web.ports);
    assert_eq!(web.ports[2].protocol, Protocol::Udp);
}

#[test]
fn the_project_name_and_directory_are_the_first_files() {
    let over = "name: other\nservices:\n  web: { image: busybox }\n";
    let compose = merged(&[
        ("compose.yaml", "services:\n  web: { image: busybox }\n"),
        ("o.yaml", over),
    ])
    .unwrap();
    assert_eq!(
        compose.manifest.namespace, "other",
        "name: merges as any key"
    );
    let compose = merged(&[
        ("compose.yaml", "services:\n  web: { image: busybox }\n"),
        ("o.yaml", "services: {}\n"),
    ])
    .unwrap();
    assert_eq!(compose.manifest.namespace, "app");
    assert_eq!(compose.manifest.file, "compose.yaml");
}

#[test]
fn a_problem_in_a_later_file_names_that_file_and_its_line() {
    let over = "services:\n  web:\n    restart: sometimes\n";
    let found = problems(&[("compose.yaml", BASE), ("override.yaml", over)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("override.yaml:3:14: unit \"web\": restart:"),
        "{found:?}"
    );
    let over = "services:\n  web:\n    image: busybox\n    nope: 1\n";
    let found = problems(&[("compose.yaml", BASE), ("override.yaml", over)]);
    assert!(
        found[0].starts_with("override.yaml:4:5: unit \"web\": nope: is not a compose service key"),
        "{found:?}"
    );
}

#[test]
fn a_problem_found_after_the_walk_names_the_file_of_the_key() {
    // Two services publishing one host port: checked once the units exist.
    let over = "services:\n  db:\n    ports: [ \"9000:91\" ]\n";
    let found = problems(&[("compose.yaml", BASE), ("override.yaml", over)]);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("override.yaml:3:") && p.contains("host port 9000/tcp")),
        "{found:?}"
    );
}

#[test]
fn a_list_over_a_mapping_cannot_be_merged_and_says_where() {
    let over = "services:\n  web:\n    healthcheck: [ nope ]\n";
    let found = problems(&[("compose.yaml", BASE), ("override.yaml", over)]);
    assert_eq!(
        found,
        [
            "override.yaml:3:18: unit \"web\": healthcheck: cannot override services.web.healthcheck: a list over a mapping"
        ]
    );
}

#[test]
fn a_syntax_error_in_a_later_file_names_it() {
    let found = problems(&[("compose.yaml", BASE), ("override.yaml", "services: [\n")]);
    assert!(found[0].starts_with("override.yaml:2:"), "{found:?}");
}
