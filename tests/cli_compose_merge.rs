//! Compose projects of several files through the binary: `-f a -f b` merged
//! in order, the override file found beside the compose file, COMPOSE_FILE,
//! `--profile` and COMPOSE_PROFILES, `extends` from another file; bad ones
//! exit 2 naming the file, line and column; `convert` compared with what
//! Debian's `docker-compose config` makes of the same files.

mod common;
#[path = "compose_corpus/compare.rs"]
mod compare;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::cli::{binary, docker_compose, run};
use compare::{Config, compare, compare_resources};
use stevedore::compose::yaml::{self, Kind, Node};
use stevedore::manifest::{Manifest, parse_manifest};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory `name` holding `files` (`path`, text).
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("stevedore-merge-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (file, body) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    dir
}

/// `stevedore args…` run in `dir`, with `env` set and COMPOSE_* unset.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(binary());
    command.args(args).current_dir(dir);
    for name in ["COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME"] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn converted(output: &Output) -> Manifest {
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    parse_manifest(&text(&output.stdout), "converted.toml").unwrap()
}

fn names(manifest: &Manifest) -> Vec<&str> {
    manifest.units.iter().map(|u| u.name.as_str()).collect()
}

const BASE: &str = r#"
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "8080"]
    environment:
      GREETING: hello
      LEVEL: "1"
    ports:
      - "18080:8080"
  db:
    image: busybox:latest
    environment: [ "A=1" ]
"#;

const OVER: &str = r#"
services:
  web:
    command: ["httpd", "-f", "-p", "9090"]
    environment:
      - LEVEL=2
      - EXTRA=yes
    ports:
      - "18080:8080"
      - "19090:9090"
  tools:
    image: busybox:latest
    profiles: [ debug ]
"#;

#[test]
fn validate_and_convert_read_several_files_merged_in_order() {
    let dir = project("two", &[("compose.yaml", BASE), ("extra.yaml", OVER)]);
    let base = dir.join("compose.yaml").display().to_string();
    let over = dir.join("extra.yaml").display().to_string();
    let valid = run(&["validate", "-f", &base, "-f", &over]);
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid.stderr));
    assert_eq!(
        text(&valid.stdout),
        format!("{base} + {over}: valid, namespace two, 2 unit(s)\n")
    );
    let manifest = converted(&run(&["convert", "-f", &base, "-f", &over]));
    assert_eq!(names(&manifest), ["web", "db"]);
    let web = &manifest.units[0];
    assert_eq!(
        web.command.as_deref().unwrap(),
        ["httpd", "-f", "-p", "9090"]
    );
    assert_eq!(web.env["GREETING"], "hello");
    assert_eq!(web.env["LEVEL"], "2");
    assert_eq!(web.env["EXTRA"], "yes");
    let ports: Vec<(u16, u16)> = web.ports.iter().map(|p| (p.external, p.internal)).collect();
    assert_eq!(ports, [(18080, 8080), (19090, 9090)]);
    let with = converted(&run(&[
        "convert",
        "-f",
        &base,
        "-f",
        &over,
        "--profile",
        "debug",
    ]));
    assert_eq!(names(&with), ["web", "db", "tools"]);
}

#[test]
fn without_f_the_override_beside_the_compose_file_and_compose_file_are_read() {
    let dir = project(
        "found",
        &[
            ("compose.yaml", BASE),
            (
                "compose.override.yaml",
                "services:\n  web:\n    image: busybox:override\n",
            ),
            (
                "other.yaml",
                "services:\n  web:\n    image: busybox:other\n",
            ),
        ],
    );
    let manifest = converted(&run_in(&dir, &["convert"], &[]));
    assert_eq!(manifest.units[0].image, "busybox:override");
    let valid = run_in(&dir, &["validate"], &[]);
    assert_eq!(
        text(&valid.stdout),
        "compose.yaml + compose.override.yaml: valid, namespace found, 2 unit(s)\n"
    );
    let from_env = run_in(
        &dir,
        &["convert"],
        &[("COMPOSE_FILE", "compose.yaml:other.yaml")],
    );
    assert_eq!(converted(&from_env).units[0].image, "busybox:other");
    let separator = run_in(
        &dir,
        &["convert"],
        &[
            ("COMPOSE_FILE", "compose.yaml;other.yaml"),
            ("COMPOSE_PATH_SEPARATOR", ";"),
        ],
    );
    assert_eq!(converted(&separator).units[0].image, "busybox:other");
    // -f given: only what it names.
    let given = run_in(&dir, &["convert", "-f", "compose.yaml"], &[]);
    assert_eq!(converted(&given).units[0].image, "busybox:latest");
}

#[test]
fn profiles_come_from_the_flag_else_compose_profiles() {
    let dir = project("profiles", &[("compose.yaml", BASE), ("extra.yaml", OVER)]);
    let args = ["convert", "-f", "compose.yaml", "-f", "extra.yaml"];
    let none = converted(&run_in(&dir, &args, &[]));
    assert_eq!(names(&none), ["web", "db"]);
    let env = converted(&run_in(&dir, &args, &[("COMPOSE_PROFILES", "debug,other")]));
    assert_eq!(names(&env), ["web", "db", "tools"]);
    let mut flag = args.to_vec();
    flag.extend(["--profile", "other"]);
    let flagged = converted(&run_in(&dir, &flag, &[("COMPOSE_PROFILES", "debug")]));
    assert_eq!(
        names(&flagged),
        ["web", "db"],
        "--profile replaces the variable"
    );
    // `.env` holds COMPOSE_PROFILES too, as compose reads it.
    std::fs::write(dir.join(".env"), "COMPOSE_PROFILES=debug\n").unwrap();
    let dotenv = converted(&run_in(&dir, &args, &[]));
    assert_eq!(names(&dotenv), ["web", "db", "tools"]);
}

#[test]
fn extends_reads_a_service_of_another_file_with_its_paths() {
    let dir = project(
        "extends",
        &[
            (
                "shared/base.yaml",
                "services:\n  base:\n    image: busybox:latest\n    environment: { FROM: base }\n    volumes: [ \"./data:/data:ro\" ]\n",
            ),
            (
                "compose.yaml",
                "services:\n  web:\n    extends: { file: shared/base.yaml, service: base }\n    command: [\"sleep\", \"5\"]\n",
            ),
        ],
    );
    let manifest = converted(&run_in(&dir, &["convert"], &[]));
    let web = &manifest.units[0];
    assert_eq!(web.image, "busybox:latest");
    assert_eq!(web.env["FROM"], "base");
    let canonical = std::fs::canonicalize(&dir).unwrap();
    assert_eq!(web.volumes[0].source, canonical.join("shared/data"));
    assert!(web.volumes[0].read_only);
}

#[test]
fn bad_projects_exit_2_naming_the_file_line_and_column() {
    let dir = project(
        "bad",
        &[
            ("compose.yaml", BASE),
            ("other.yaml", "services:\n  there: { image: busybox }\n"),
            (
                "cycle.yaml",
                "services:\n  a:\n    extends: b\n    image: busybox\n  b:\n    extends: a\n",
            ),
            (
                "unknown.yaml",
                "services:\n  a:\n    extends: { file: other.yaml, service: nowhere }\n",
            ),
            (
                "missing.yaml",
                "services:\n  a:\n    extends: { file: absent.yaml, service: x }\n",
            ),
            (
                "needs.yaml",
                "services:\n  web:\n    depends_on: [ tools ]\n  tools:\n    image: busybox\n    profiles: [ debug ]\n",
            ),
            ("restart.yaml", "services:\n  db:\n    restart: sometimes\n"),
        ],
    );
    let cases: [(&[&str], &str); 6] = [
        (
            &["validate", "-f", "cycle.yaml"],
            "cycle.yaml:3:5: unit \"a\": extends: makes a cycle: a (cycle.yaml) extends b (cycle.yaml) extends a (cycle.yaml)",
        ),
        (
            &["validate", "-f", "unknown.yaml"],
            "unknown.yaml:3:43: unit \"a\": extends.service: service \"nowhere\" is not defined in other.yaml",
        ),
        (
            &["convert", "-f", "missing.yaml"],
            "missing.yaml:3:22: unit \"a\": extends.file: cannot read absent.yaml:",
        ),
        (
            &["validate", "-f", "compose.yaml", "-f", "needs.yaml"],
            "needs.yaml:3:19: unit \"web\": depends_on[0]: service \"tools\" is disabled: none of its profiles (debug) is active",
        ),
        (
            &["up", "-f", "compose.yaml", "-f", "restart.yaml"],
            "restart.yaml:3:14: unit \"db\": restart: \"sometimes\" is not a restart policy",
        ),
        (
            &["ps", "-f", "compose.yaml", "-f", "restart.yaml"],
            "restart.yaml:3:14: unit \"db\": restart:",
        ),
    ];
    for (args, expected) in cases {
        let output = run_in(&dir, args, &[]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in {stderr}"
        );
    }
    let fine = run_in(
        &dir,
        &[
            "validate",
            "-f",
            "compose.yaml",
            "-f",
            "needs.yaml",
            "--profile",
            "debug",
        ],
        &[],
    );
    assert_eq!(fine.status.code(), Some(0), "{}", text(&fine.stderr));
}

#[test]
fn a_toml_manifest_is_read_alone() {
    let dir = project(
        "toml",
        &[
            (
                "units.toml",
                "namespace = \"toml\"\n\n[[unit]]\nname = \"web\"\nimage = \"busybox\"\n",
            ),
            ("compose.yaml", BASE),
        ],
    );
    let alone = run_in(&dir, &["validate", "-f", "units.toml"], &[]);
    assert_eq!(alone.status.code(), Some(0), "{}", text(&alone.stderr));
    assert_eq!(
        text(&alone.stdout),
        "units.toml: valid, namespace toml, 1 unit(s)\n"
    );
    let default = run_in(&dir, &["validate"], &[("COMPOSE_FILE", "compose.yaml")]);
    assert_eq!(
        text(&default.stdout),
        "units.toml: valid, namespace toml, 1 unit(s)\n",
        "units.toml beats COMPOSE_FILE"
    );
    let mixed = run_in(
        &dir,
        &["validate", "-f", "units.toml", "-f", "compose.yaml"],
        &[],
    );
    assert_eq!(mixed.status.code(), Some(2));
    assert!(
        text(&mixed.stderr).contains("units.toml is a stevedore manifest, which is read alone"),
        "{}",
        text(&mixed.stderr)
    );
}

/// What `docker-compose -f … config` makes of the files, run in `dir`.
fn compose_config(dir: &Path, files: &[&str]) -> Node {
    let mut command = Command::new("docker-compose");
    for file in files {
        command.args(["-f", file]);
    }
    let output = command
        .arg("config")
        .current_dir(dir)
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "docker-compose config: {}",
        text(&output.stderr)
    );
    yaml::parse(&text(&output.stdout)).unwrap()
}

#[test]
fn convert_of_several_files_agrees_with_docker_compose_config() {
    if !docker_compose() {
        return;
    }
    // 1.29's subset: ports quoted, no booleans in environment; and no
    // `extends` in a later file on a service an earlier file has, which
    // 1.29 applies after merging the files and compose v2 before
    // (docs/design/compose-notes.md §5).
    let over = r#"
services:
  web:
    command: ["httpd", "-f", "-p", "9090"]
    environment:
      - LEVEL=2
      - EXTRA=yes
    ports:
      - "18080:8080"
      - "19090:9090/udp"
  db:
    image: busybox:1.36
    environment: { B: "2" }
  api:
    extends: { file: shared/base.yaml, service: base }
    environment: [ "LEVEL=3" ]
"#;
    let dir = project(
        "oracle",
        &[
            ("compose.yaml", BASE),
            ("extra.yaml", over),
            (
                "shared/base.yaml",
                "services:\n  base:\n    image: busybox:base\n    environment: { FROM: base, LEVEL: \"0\" }\n    ports: [ \"17070:7070\" ]\n",
            ),
        ],
    );
    let files = ["compose.yaml", "extra.yaml"];
    let manifest = converted(&run_in(
        &dir,
        &["convert", "-f", files[0], "-f", files[1]],
        &[],
    ));
    let config = Config {
        root: compose_config(&dir, &files),
        project: manifest.namespace.clone(),
    };
    let services = config.root.get("services").unwrap();
    let Kind::Map(entries) = &services.kind else {
        panic!("services")
    };
    assert_eq!(entries.len(), manifest.units.len(), "{entries:?}");
    // Field by field, as the corpus is compared (tests/compose_corpus).
    for unit in &manifest.units {
        let service = services
            .get(&unit.name)
            .unwrap_or_else(|| panic!("{} in config", unit.name));
        compare(&config, service, unit);
    }
    compare_resources(&config, &manifest);
}

#[actix::test]
async fn up_runs_the_merged_project_and_down_takes_it_down() {
    if common::engine().await.is_none() {
        return;
    }
    let _cleanup = common::Cleanup::new("t-merge-up");
    let image = common::IMAGE;
    let dir = project(
        "t-merge-up",
        &[
            (
                "compose.yaml",
                &format!(
                    "services:\n  web:\n    image: {image}\n    command: [\"sleep\", \"600\"]\n    stop_grace_period: 1s\n  tool:\n    image: {image}\n    command: [\"sleep\", \"600\"]\n    profiles: [tools]\n    stop_grace_period: 1s\n"
                ),
            ),
            (
                "prod.yaml",
                "services:\n  web:\n    command: [\"sleep\", \"900\"]\n    environment: { STAGE: prod }\n",
            ),
        ],
    );
    let (first, second) = (dir.join("compose.yaml"), dir.join("prod.yaml"));
    let second = second.display().to_string();
    let mut up = common::cli::Up::start(&first, &["-f", &second, "--profile", "tools"]);
    up.wait_running(&["web", "tool"]);
    let inspect = |format: &str| common::inspect("t-merge-up--web", format);
    assert_eq!(
        inspect("{{json .Config.Cmd}}"),
        "[\"sleep\",\"900\"]",
        "the later file wins"
    );
    assert!(inspect("{{json .Config.Env}}").contains("STAGE=prod"));
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    let first = first.display().to_string();
    let down = run(&["down", "-f", &first, "-f", &second]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    let filter = "label=io.stevedore.namespace=t-merge-up";
    assert_eq!(common::docker(&["ps", "-aq", "--filter", filter]), "");
    assert_eq!(
        common::docker(&["network", "ls", "-q", "--filter", filter]),
        ""
    );
}
