//! `up -d` against the real engine: it returns once the units run, fails
//! naming those that do not, refuses a bad manifest before starting
//! anything; and the completions and man page come from the same
//! definitions as `--help`.

mod common;

use common::api::{get, socket_path};
use common::cli::{manifest, run};
use common::{Cleanup, IMAGE, docker, engine};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[actix::test]
async fn up_detached_returns_once_its_units_run_and_down_ends_it() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-detach");
    let file = manifest(
        "detach",
        &format!(
            "namespace = \"t-detach\"\n\
             [[unit]]\nname = \"web\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"1s\"\n\
             [[unit]]\nname = \"job\"\nimage = \"{IMAGE}\"\ncommand = [\"true\"]\nrestart = \"no\"\n"
        ),
    );
    let socket = socket_path("t-detach");
    let socket_text = socket.display().to_string();
    let log = socket.with_file_name("up.log");
    let up = run(&[
        "up",
        "-d",
        "-f",
        &file.display().to_string(),
        "--socket",
        &socket_text,
        "--log-file",
        &log.display().to_string(),
    ]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up.stderr));
    assert_eq!(text(&up.stdout), "2 unit(s) up: job, web\n");
    assert!(text(&up.stderr).contains("runs in the background"));
    // It returned; the supervisor goes on.
    let units = get(&socket, "/v1/units").json();
    assert_eq!(units[1]["phase"], "running", "{units}");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("control API on")
    );

    let down = run(&["down", "-n", "t-detach", "--socket", &socket_text]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    assert!(
        !socket.exists(),
        "the background up ended and removed its socket"
    );
    let left = docker(&[
        "ps",
        "-aq",
        "--filter",
        "label=io.stevedore.namespace=t-detach",
    ]);
    assert_eq!(left, "");
}

#[actix::test]
async fn up_detached_names_the_units_that_are_not_up_in_time() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-detach-slow");
    let file = manifest(
        "detach-slow",
        &format!(
            "namespace = \"t-detach-slow\"\n\
             [[unit]]\nname = \"sick\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"1s\"\n\
             healthcheck = {{ test = \"false\", interval = \"1s\", retries = 100 }}\non_unhealthy = \"ignore\"\n"
        ),
    );
    let socket = socket_path("t-detach-slow");
    let socket_text = socket.display().to_string();
    let up = run(&[
        "up",
        "-d",
        "--wait",
        "--wait-timeout",
        "2",
        "-f",
        &file.display().to_string(),
        "--socket",
        &socket_text,
    ]);
    assert_eq!(up.status.code(), Some(1), "{}", text(&up.stderr));
    let stderr = text(&up.stderr);
    assert!(stderr.contains("1 unit(s) not up after 2s"), "{stderr}");
    assert!(stderr.contains("sick: running (starting)"), "{stderr}");
    let down = run(&["down", "-n", "t-detach-slow", "--socket", &socket_text]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
}

#[test]
fn up_detached_refuses_a_bad_manifest_before_starting_anything() {
    let file = manifest(
        "detach-bad",
        "namespace = \"t-detach-bad\"\n[[unit]]\nname = \"web\"\n",
    );
    let socket = socket_path("t-detach-bad");
    let up = run(&[
        "up",
        "-d",
        "-f",
        &file.display().to_string(),
        "--socket",
        &socket.display().to_string(),
    ]);
    assert_eq!(up.status.code(), Some(2));
    assert!(text(&up.stderr).contains("image"), "{}", text(&up.stderr));
    assert!(!socket.exists());
}

#[test]
fn completions_and_the_man_page_come_from_the_command_definitions() {
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let script = text(&bash.stdout);
    assert!(script.contains("_stevedore()"), "{script}");
    assert!(script.contains("restart"), "the verbs complete");
    for shell in ["zsh", "fish"] {
        assert_eq!(run(&["completions", shell]).status.code(), Some(0));
    }
    let man = run(&["man"]);
    let page = text(&man.stdout);
    assert!(page.contains(".TH stevedore"), "{page}");
    assert!(page.contains("reload"));
    let wrong = run(&["completions", "tcsh"]);
    assert_eq!(wrong.status.code(), Some(2));
}
