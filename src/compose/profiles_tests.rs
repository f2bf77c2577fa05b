//! Table tests of profiles: which services a project runs, and the
//! services that need a disabled one.

use std::collections::HashMap;
use std::path::Path;

use crate::compose::{Compose, Options, parse_compose_files};
use crate::manifest::ManifestError;

/// The spec's own example (15-profiles.md).
const SPEC: &str = r#"
services:
  foo:
    image: foo
  bar:
    image: bar
    profiles:
      - test
  baz:
    image: baz
    depends_on:
      - bar
    profiles:
      - test
  zot:
    image: zot
    depends_on:
      - bar
    profiles:
      - debug
"#;

fn read(profiles: &[&str], vars: &[(&str, &str)]) -> Result<Compose, ManifestError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let options = Options {
        project: None,
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
    };
    parse_compose_files(
        &[("compose.yaml", SPEC)],
        Path::new("/srv/app"),
        &vars,
        &options,
    )
}

fn units(profiles: &[&str], vars: &[(&str, &str)]) -> Vec<String> {
    read(profiles, vars)
        .unwrap()
        .manifest
        .units
        .iter()
        .map(|u| u.name.clone())
        .collect()
}

/// Profiles given, variables, the units that run.
type Case = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

#[test]
fn services_without_profiles_always_run_and_the_others_only_when_one_is_active() {
    let cases: &[Case] = &[
        (&[], &[], &["foo"]),
        (&["test"], &[], &["foo", "bar", "baz"]),
        (&["test", "debug"], &[], &["foo", "bar", "baz", "zot"]),
        (&["*"], &[], &["foo", "bar", "baz", "zot"]),
        (&[], &[("COMPOSE_PROFILES", "test")], &["foo", "bar", "baz"]),
        (
            &[],
            &[("COMPOSE_PROFILES", " debug , test ")],
            &["foo", "bar", "baz", "zot"],
        ),
        // --profile replaces COMPOSE_PROFILES, as compose's flag does.
        (
            &["test"],
            &[("COMPOSE_PROFILES", "debug")],
            &["foo", "bar", "baz"],
        ),
        (&["nothing-here"], &[], &["foo"]),
    ];
    for (profiles, vars, expected) in cases {
        assert_eq!(units(profiles, vars), *expected, "{profiles:?} {vars:?}");
    }
}

#[test]
fn an_enabled_service_that_depends_on_a_disabled_one_is_refused_at_the_dependency() {
    let found = read(&["debug"], &[]).unwrap_err();
    let lines = found.lines();
    assert_eq!(
        lines,
        [
            "compose.yaml:18:9: unit \"zot\": depends_on[0]: service \"bar\" is disabled: none of its profiles (test) is active (--profile NAME or COMPOSE_PROFILES)"
        ]
    );
}

#[test]
fn a_project_whose_every_service_is_disabled_says_which_profiles_would_enable_one() {
    let text = "services:\n  a: { image: busybox, profiles: [x] }\n  b: { image: busybox, profiles: [\"${P}\", y] }\n";
    let vars = HashMap::from([("P".to_string(), "z".to_string())]);
    let found = parse_compose_files(
        &[("compose.yaml", text)],
        Path::new("/srv/app"),
        &vars,
        &Options::default(),
    )
    .unwrap_err();
    assert_eq!(
        found.problems[0].to_string(),
        "compose.yaml:1:1: services: no service is enabled: each has profiles, and none of them (x, y, z) is active (--profile NAME or COMPOSE_PROFILES)"
    );
}

#[test]
fn profiles_must_be_a_list_of_names() {
    let text = "services:\n  a: { image: busybox, profiles: x }\n  b: { image: busybox, profiles: [[x]] }\n";
    let found = parse_compose_files(
        &[("compose.yaml", text)],
        Path::new("/srv/app"),
        &HashMap::new(),
        &Options::default(),
    )
    .unwrap_err();
    let lines = found.lines();
    assert_eq!(
        lines,
        [
            "compose.yaml:2:34: unit \"a\": profiles: expected a list of profile names, found a scalar",
            "compose.yaml:3:35: unit \"b\": profiles[0]: expected a profile name, found a list"
        ]
    );
}

#[test]
fn profiles_merge_across_files_as_a_set() {
    let over = "services:\n  bar:\n    profiles: [ other ]\n";
    let compose = parse_compose_files(
        &[("compose.yaml", SPEC), ("override.yaml", over)],
        Path::new("/srv/app"),
        &HashMap::new(),
        &Options {
            project: None,
            profiles: vec!["other".into()],
        },
    )
    .unwrap();
    let names: Vec<&str> = compose
        .manifest
        .units
        .iter()
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(names, ["foo", "bar"]);
}
