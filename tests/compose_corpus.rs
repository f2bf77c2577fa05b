//! The compose corpus (tests/compose_corpus): every good file is read by
//! `stevedore convert` and by Debian's `docker-compose config` (1.29), and
//! each service's containers are compared field by field: image, command,
//! entrypoint, environment, labels, ports, volumes, tmpfs, secrets,
//! networks, limits, restart, the runtime options, health checks and
//! dependencies. A key the comparison does not know fails the test, so
//! that nothing in the corpus goes unchecked. Every bad file is refused by
//! `validate` (exit 2) at the line and column its first line names.

mod common;
#[path = "compose_corpus/compare.rs"]
mod compare;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cli::{docker_compose, have, run};
use compare::{Config, compare, compare_resources};
use stevedore::compose::yaml::{self, Kind};
use stevedore::manifest::parse_manifest;

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compose_corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    files
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_corpus_converts_to_the_containers_docker_compose_describes() {
    if !docker_compose() {
        return;
    }
    let mut compared = 0;
    for file in corpus("good") {
        let shown = file.display().to_string();
        // -p names the project for both, and so its networks and volumes.
        let converted = run(&["convert", "-p", "corpus", "-f", &shown]);
        assert_eq!(
            converted.status.code(),
            Some(0),
            "{shown}: {}",
            text(&converted.stderr)
        );
        let manifest = parse_manifest(&text(&converted.stdout), "converted.toml")
            .unwrap_or_else(|e| panic!("{shown}: {e}"));
        let output = Command::new("docker-compose")
            .args(["-p", "corpus", "-f"])
            .arg(&file)
            .arg("config")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{shown}: docker-compose config: {}",
            text(&output.stderr)
        );
        assert_eq!(manifest.namespace, "corpus", "{shown}");
        let config = Config {
            root: yaml::parse(&text(&output.stdout)).unwrap(),
            project: manifest.namespace.clone(),
        };
        let services = config.root.get("services").unwrap();
        let Kind::Map(listed) = &services.kind else {
            panic!("{shown}")
        };
        assert_eq!(
            listed.len(),
            manifest.units.len(),
            "{shown}: the same services"
        );
        for unit in &manifest.units {
            let service = services
                .get(&unit.name)
                .unwrap_or_else(|| panic!("{shown}: {}", unit.name));
            compare(&config, service, unit);
            compared += 1;
        }
        compare_resources(&config, &manifest);
    }
    assert!(compared >= 19, "only {compared} services compared");
}

#[test]
fn every_bad_file_of_the_corpus_is_refused_where_its_first_line_says() {
    for file in corpus("bad") {
        let source = std::fs::read_to_string(&file).unwrap();
        let expected = source
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: the first line is # expect: …", file.display()));
        let shown = file.display().to_string();
        let name = file.file_name().unwrap().to_string_lossy();
        // `up` refuses it the same way, before it asks the engine anything.
        for command in ["validate", "up"] {
            let output = run(&[command, "-p", PROJECT, "-f", &shown]);
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{command} {shown}: {stderr}");
            assert!(
                stderr
                    .lines()
                    .any(|l| l.contains(&format!("{name}:")) && l.contains(expected)),
                "{command} {shown}: expected {expected:?} in\n{stderr}"
            );
        }
    }
    if have("docker") {
        let filter = format!("label=io.stevedore.namespace={PROJECT}");
        assert_eq!(
            common::docker(&["ps", "-aq", "--filter", &filter]),
            "",
            "no container"
        );
        assert_eq!(
            common::docker(&["network", "ls", "-q", "--filter", &filter]),
            "",
            "no network"
        );
        assert_eq!(
            common::docker(&["volume", "ls", "-q", "--filter", &filter]),
            "",
            "no volume"
        );
    }
}

/// The project every bad file is tried as.
const PROJECT: &str = "t-corpus-bad";
