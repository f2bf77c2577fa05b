//! Table tests of `build:` read from compose files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

/// A project directory with `app/Dockerfile` and `app/docker/Other`.
fn project(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("stevedore-build-parse-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(dir.join("app/docker")).unwrap();
    std::fs::write(dir.join("app/Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(dir.join("app/docker/Other"), "FROM scratch\n").unwrap();
    dir
}

fn read(dir: &Path, text: &str) -> Result<Compose, ManifestError> {
    let vars = HashMap::from([("VERSION".to_string(), "1.2".to_string())]);
    parse_compose(text, "compose.yaml", dir, &vars)
}

fn problems(dir: &Path, text: &str) -> Vec<String> {
    read(dir, text).unwrap_err().lines()
}

#[test]
fn a_build_string_is_the_context_and_the_image_is_named_after_the_project() {
    let dir = project("Shop");
    let compose = read(&dir, "services:\n  web:\n    build: ./app\n").unwrap();
    let build = &compose.builds[0];
    assert_eq!(build.unit, "web");
    assert_eq!(build.context, dir.join("./app"));
    assert_eq!(build.options.dockerfile, "Dockerfile");
    assert_eq!(build.tag, "shop-web");
    assert!(!build.named);
    assert_eq!(compose.manifest.units[0].image, "shop-web");
}

#[test]
fn the_long_syntax_carries_dockerfile_target_args_and_labels() {
    let dir = project("long");
    let compose = read(
        &dir,
        r#"
services:
  web:
    image: shop/web:${VERSION}
    build:
      context: app
      dockerfile: docker/Other
      target: runtime
      args: [ "VERSION=${VERSION}", "FROM_ENV" ]
      labels: { team: web }
      no_cache: true
      cache_from: [ "shop/web:cache" ]
"#,
    )
    .unwrap();
    let build = &compose.builds[0];
    assert_eq!(
        build.tag, "shop/web:1.2",
        "compose tags the build with image:"
    );
    assert!(build.named);
    assert_eq!(build.options.dockerfile, "docker/Other");
    assert_eq!(build.options.target.as_deref(), Some("runtime"));
    assert_eq!(build.options.args["VERSION"], "1.2");
    assert!(
        !build.options.args.contains_key("FROM_ENV"),
        "an unset variable is left out"
    );
    assert_eq!(build.options.labels["team"], "web");
    assert!(build.options.no_cache);
    assert!(
        compose
            .warnings
            .iter()
            .any(|w| w.to_string().contains("build.cache_from: changes nothing")),
        "{:?}",
        compose.warnings
    );
}

#[test]
fn the_default_image_follows_the_project_name_given_on_the_command_line() {
    let dir = project("renamed");
    let text = "services:\n  web:\n    build: app\n  db:\n    image: own\n    build: app\n";
    let compose =
        parse_compose_as(text, "compose.yaml", &dir, &HashMap::new(), Some("other")).unwrap();
    assert_eq!(compose.manifest.namespace, "other");
    assert_eq!(compose.build_of("web").unwrap().tag, "other-web");
    assert_eq!(compose.manifest.units[0].image, "other-web");
    assert_eq!(compose.build_of("db").unwrap().tag, "own", "image: stays");
}

#[test]
fn bad_builds_are_refused_at_their_key_naming_the_service() {
    let dir = project("bad");
    let cases = [
        (
            "services:\n  web:\n    build: ./nope\n",
            "compose.yaml:3:12: unit \"web\": build: the context directory",
        ),
        (
            "services:\n  web:\n    build: { context: app, dockerfile: Missing }\n",
            "compose.yaml:3:40: unit \"web\": build.dockerfile: there is no Dockerfile",
        ),
        (
            "services:\n  web:\n    build:\n      context: .\n",
            "compose.yaml:3:5: unit \"web\": build: there is no Dockerfile",
        ),
        (
            "services:\n  web:\n    build: { context: app, dockerfile: ../../x }\n",
            "build.dockerfile: \"../../x\" is outside the context",
        ),
        (
            "services:\n  web:\n    build: { context: app, ssh: [default] }\n",
            "compose.yaml:3:28: unit \"web\": build.ssh: is not carried out by stevedore yet",
        ),
        (
            "services:\n  web:\n    build: { context: app, nope: 1 }\n",
            "build.nope: is not a build key",
        ),
        (
            "services:\n  web:\n    build: https://github.com/x/y.git\n",
            "build: \"https://github.com/x/y.git\" is a remote context",
        ),
        (
            "services:\n  web:\n    build: [app]\n",
            "build: expected a context path or a mapping",
        ),
        (
            "services:\n  web:\n    build: { context: app, no_cache: maybe }\n",
            "build.no_cache: expected true or false, found \"maybe\"",
        ),
        (
            "services:\n  web:\n    build: { context: app, labels: { io.stevedore.unit: x } }\n",
            "build.labels: labels under io.stevedore. are stevedore's own",
        ),
        (
            "services:\n  web:\n    command: [sh]\n",
            "image: is missing (give image: or build:)",
        ),
    ];
    for (text, expected) in cases {
        let found = problems(&dir, text);
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "{text}: expected {expected:?} in {found:#?}"
        );
    }
}
