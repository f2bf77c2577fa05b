//! Table tests of `extends`: in the same file, from another file (its paths
//! from its own directory), chains, and what is refused where.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::compose::{Compose, Options, parse_compose_files};
use crate::manifest::ManifestError;

/// A fresh directory holding `files` (`name`, text).
fn dir_with(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stevedore-extends-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// `text` as `dir`'s compose.yaml, named as `-f DIR/compose.yaml` names it.
fn read(dir: &Path, text: &str) -> Result<Compose, ManifestError> {
    let name = dir.join("compose.yaml").display().to_string();
    parse_compose_files(&[(&name, text)], dir, &HashMap::new(), &Options::default())
}

fn problems(dir: &Path, text: &str) -> Vec<String> {
    read(dir, text).unwrap_err().lines()
}

#[test]
fn a_service_extends_another_of_its_file_and_overrides_what_it_sets() {
    let text = r#"
services:
  base:
    image: busybox:1
    command: ["sleep", "60"]
    environment: { A: "1", B: "2" }
    restart: always
  web:
    extends: base
    command: ["sleep", "5"]
    environment: { B: "3" }
  worker:
    extends: { service: web }
    restart: "no"
"#;
    let compose = read(Path::new("/srv/app"), text).unwrap();
    let units = &compose.manifest.units;
    let web = units.iter().find(|u| u.name == "web").unwrap();
    assert_eq!(web.image, "busybox:1");
    assert_eq!(web.command.as_deref().unwrap(), ["sleep", "5"]);
    assert_eq!(web.env["A"], "1");
    assert_eq!(web.env["B"], "3");
    assert_eq!(web.restart, crate::RestartPolicy::Always);
    let worker = units.iter().find(|u| u.name == "worker").unwrap();
    assert_eq!(worker.env["B"], "3", "a chain applies in order");
    assert_eq!(worker.restart, crate::RestartPolicy::No);
    assert_eq!(units.len(), 3, "the base is a service too");
}

#[test]
fn a_service_from_another_file_keeps_its_paths_from_that_files_directory() {
    let dir = dir_with(
        "other",
        &[
            (
                "common/base.yaml",
                "services:\n  core:\n    image: busybox:1\n    volumes: [ \"./data:/data\" ]\n    env_file: base.env\n  base:\n    extends: core\n    labels: { from: base }\n",
            ),
            ("common/base.env", "FROM_FILE=yes\n"),
        ],
    );
    let text = "services:\n  web:\n    extends: { file: common/base.yaml, service: base }\n    volumes: [ \"./own:/own\" ]\n";
    let compose = read(&dir, text).unwrap();
    let web = &compose.manifest.units[0];
    assert_eq!(web.image, "busybox:1");
    assert_eq!(web.labels["from"], "base");
    assert_eq!(web.env["FROM_FILE"], "yes");
    let sources: Vec<&Path> = web.volumes.iter().map(|v| v.source.as_path()).collect();
    assert_eq!(
        sources,
        [dir.join("common/data").as_path(), dir.join("own").as_path()]
    );
    assert_eq!(
        compose.manifest.units.len(),
        1,
        "only this file's services run"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_problem_in_an_extended_file_names_that_file() {
    let dir = dir_with(
        "bad-base",
        &[(
            "base.yaml",
            "services:\n  base:\n    image: busybox\n    restart: sometimes\n",
        )],
    );
    let text = "services:\n  web:\n    extends: { file: base.yaml, service: base }\n";
    let found = problems(&dir, text);
    let base = dir.join("base.yaml").display().to_string();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(&format!("{base}:4:14: unit \"web\": restart:")),
        "{found:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_extends_are_refused_where_they_are_written() {
    let dir = dir_with(
        "refused",
        &[("other.yaml", "services:\n  there: { image: busybox }\n")],
    );
    let missing = dir.join("absent.yaml").display().to_string();
    let other = dir.join("other.yaml").display().to_string();
    let main = dir.join("compose.yaml").display().to_string();
    let cases: [(&str, String); 7] = [
        (
            "services:\n  a:\n    image: busybox\n    extends: b\n  b:\n    image: busybox\n    extends: { service: a }\n",
            format!(
                "{main}:4:5: unit \"a\": extends: makes a cycle: a ({main}) extends b ({main}) extends a ({main})"
            ),
        ),
        (
            "services:\n  a:\n    extends: a\n",
            format!(
                "{main}:3:5: unit \"a\": extends: makes a cycle: a ({main}) extends a ({main})"
            ),
        ),
        (
            "services:\n  a:\n    extends: nowhere\n",
            format!(
                "{main}:3:14: unit \"a\": extends: service \"nowhere\" is not defined in {main}"
            ),
        ),
        (
            "services:\n  a:\n    extends: { service: x, file: absent.yaml }\n",
            format!("{main}:3:34: unit \"a\": extends.file: cannot read {missing}: "),
        ),
        (
            "services:\n  a:\n    extends: { service: x, file: other.yaml }\n",
            format!(
                "{main}:3:25: unit \"a\": extends.service: service \"x\" is not defined in {other}"
            ),
        ),
        (
            "services:\n  a:\n    extends: { file: other.yaml }\n",
            format!("{main}:3:14: unit \"a\": extends.service: is missing"),
        ),
        (
            "services:\n  a:\n    extends: { service: there, file: other.yaml, nope: 1 }\n",
            format!("{main}:3:50: unit \"a\": extends.nope: is not an extends key (service, file)"),
        ),
    ];
    for (text, expected) in cases {
        let found = problems(&dir, text);
        assert!(
            found.first().is_some_and(|p| p.starts_with(&expected)),
            "{text}: expected {expected:?}, found {found:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cycle_through_another_file_names_both_files() {
    let dir = dir_with(
        "cycle",
        &[(
            "other.yaml",
            "services:\n  b:\n    extends: { file: compose.yaml, service: a }\n",
        )],
    );
    let text = "services:\n  a:\n    extends: { file: other.yaml, service: b }\n";
    std::fs::write(dir.join("compose.yaml"), text).unwrap();
    let found = problems(&dir, text);
    let other = dir.join("other.yaml").display().to_string();
    let main = dir.join("compose.yaml").display().to_string();
    assert!(
        found[0].contains(&format!(
            "a ({main}) extends b ({other}) extends a ({main})"
        )),
        "{found:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn extends_in_a_later_file_applies_before_the_files_merge_as_in_compose_v2() {
    // docker-compose 1.29 merges first, so its `web` keeps busybox:first.
    let base = "services:\n  web:\n    image: busybox:first\n";
    let over = "services:\n  web:\n    extends: core\n  core:\n    image: busybox:core\n";
    let compose = parse_compose_files(
        &[("compose.yaml", base), ("override.yaml", over)],
        Path::new("/srv/app"),
        &HashMap::new(),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(compose.manifest.units[0].image, "busybox:core");
}
