//! The README's two commands are the ones that work on a brand-new machine:
//! the test command brings the engine up itself, and CI runs that same
//! command.

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The first line of the code block after the line containing `heading`.
fn command_after(text: &str, heading: &str) -> String {
    let from = text
        .find(heading)
        .unwrap_or_else(|| panic!("{heading:?} not in README"));
    let block = text[from..]
        .split("```sh\n")
        .nth(1)
        .expect("a sh block follows");
    block.lines().next().unwrap().to_string()
}

#[test]
fn the_readme_test_command_brings_the_engine_up_and_ci_runs_it() {
    let command = command_after(&readme(), "Run the tests");
    assert_eq!(command, "scripts/test.sh");
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test.sh")).unwrap();
    assert!(script.contains("bash scripts/engine-up.sh"), "{script}");
    assert!(script.contains("STEVEDORE_REQUIRE_ENGINE=1"), "{script}");
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(ci.contains("scripts/test.sh"), "{ci}");
}

#[test]
fn the_readme_run_command_brings_the_engine_up_before_up() {
    let command = command_after(&readme(), "Run the supervisor on the demo manifest");
    assert_eq!(
        command,
        "scripts/engine-up.sh && cargo run -- up -f examples/demo.toml"
    );
}
