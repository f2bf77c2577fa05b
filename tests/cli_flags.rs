//! The command line's values checked before the engine is contacted: `-n`
//! (a namespace like a manifest's), `-n` with `-f`, `-H`; and what an
//! unreachable TCP engine prints.

mod common;

use common::cli::{manifest, run, run_env};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_bad_namespace_given_with_n_is_exit_2_on_every_command_before_the_engine() {
    let file = manifest(
        "flags-ns",
        "namespace = \"t-cli-flags\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\n",
    );
    let file = file.display().to_string();
    for namespace in ["a--b", "_a", "a b", "ab$", "-a", ""] {
        let with_n = format!("--namespace={namespace}");
        for args in [
            vec!["ps", &with_n],
            vec!["down", &with_n],
            vec!["up", "-f", &file, &with_n],
        ] {
            // Nothing listens on port 1: reaching for the engine would exit 1.
            let mut full = vec!["-H", "tcp://127.0.0.1:1"];
            full.extend(&args);
            let output = run(&full);
            let stderr = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains("is not a valid namespace"),
                "{args:?}: {stderr}"
            );
            assert!(!stderr.contains("cannot reach"), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn n_and_f_together_are_refused_by_the_commands_that_read_a_namespace_from_either() {
    let file = manifest("flags-both", "namespace = \"t-cli-flags\"\n");
    let file = file.display().to_string();
    for command in ["ps", "down"] {
        let output = run(&[command, "-n", "x", "-f", &file]);
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("cannot be used with"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn an_unsupported_or_garbled_host_is_exit_2_listing_the_accepted_forms() {
    for host in [
        "ssh://user@example",
        "garbage",
        "tcp://",
        "tcp://host:port",
        "tcp://host:99999",
        "http://[::1",
        "unix://relative/path",
        "unix://",
        "https://host:2376",
        "npipe:////./pipe/docker_engine",
    ] {
        for args in [
            vec!["-H", host, "ps", "-n", "x"],
            vec!["-H", host, "down", "-n", "x"],
        ] {
            let output = run(&args);
            let stderr = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{host}: {stderr}");
            for form in ["unix:///path", "tcp://host:port", "http://host:port"] {
                assert!(stderr.contains(form), "{host}: {stderr}");
            }
            assert!(stderr.contains(host), "names what it was given: {stderr}");
        }
    }
    // DOCKER_HOST is read the same way.
    let output = run_env(&["ps", "-n", "x"], &[("DOCKER_HOST", "ssh://user@example")]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("DOCKER_HOST"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreachable_tcp_engine_is_exit_1_naming_the_address_and_the_os_error() {
    for args in [
        vec!["-H", "tcp://127.0.0.1:1", "ps", "-n", "x"],
        vec!["-H", "http://127.0.0.1:1", "down", "-n", "x"],
    ] {
        let output = run(&args);
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!(
                "stevedore: cannot reach the Docker engine at {}: connection refused",
                args[1]
            ),
        );
    }
}

#[test]
fn a_missing_engine_socket_is_exit_1_naming_the_socket_and_the_os_error() {
    let output = run(&["-H", "unix:///nonexistent/docker.sock", "ps", "-n", "x"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "stevedore: cannot reach the Docker engine at unix:///nonexistent/docker.sock: no such file or directory"
    );
}

#[test]
fn output_to_a_reader_that_went_away_is_not_a_panic() {
    // `stevedore ps --json | head -1` and the like: the pipe closes first.
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo.toml");
    for args in [
        vec!["validate", "-f", demo],
        vec!["service", "print", "-f", demo],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stevedore"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
