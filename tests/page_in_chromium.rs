//! The TCP listener and the status page: TCP needs the bearer token (401
//! without it or with a wrong one, refused to start without one), and the
//! page, in Debian's headless Chromium (driven by playwright-core, see
//! tests/page/status.mjs), lists the units, shows a `docker kill`ed unit's
//! restart without a reload, and its restart button restarts the unit.

mod common;

use std::path::Path;
use std::process::Command;

use common::api::{Listening, get, request_tcp, socket_path};
use common::cli::{have, manifest, run};
use common::{Cleanup, IMAGE, engine, free_port};

fn unit(name: &str) -> String {
    format!(
        "[[unit]]\nname = \"{name}\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"1s\"\nrestart = \"always\"\nbackoff = {{ initial = \"100ms\", max = \"100ms\" }}\n"
    )
}

/// Chromium and the page driver, or `None` (a clear skip) off CI.
fn browser_tools() -> Option<()> {
    let driver =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/page/node_modules/playwright-core");
    let ready = have("chromium") && have("node") && driver.exists();
    if !ready && std::env::var_os("CI").is_some() {
        panic!("CI needs chromium, node and tests/page/node_modules (scripts/tools-up.sh)");
    }
    if !ready {
        eprintln!(
            "SKIPPED: chromium, node or tests/page/node_modules missing; run scripts/tools-up.sh"
        );
    }
    ready.then_some(())
}

#[actix::test]
async fn tcp_needs_the_token_and_refuses_to_start_without_one() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-page-tcp");
    let file = manifest(
        "page-tcp",
        &format!("namespace = \"t-page-tcp\"\n{}", unit("web")),
    );
    let socket = socket_path("t-page-tcp");
    let empty = socket.with_file_name("empty-token");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    std::fs::write(&empty, "\n").unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let socket_text = socket.display().to_string();
    let refused = run(&[
        "up",
        "-f",
        &file.display().to_string(),
        "--socket",
        &socket_text,
        "--listen",
        &address,
        "--token-file",
        &empty.display().to_string(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is empty"));
    assert!(
        std::net::TcpStream::connect(&address).is_err(),
        "nothing listens"
    );

    let Listening {
        up: _up,
        address,
        token,
        socket: listening_socket,
    } = Listening::start(&file, "t-page-tcp", &["web"]);
    assert_eq!(token.len(), 64);

    // The verbs reach it over TCP with the token file.
    let token_file = listening_socket
        .with_extension("token")
        .display()
        .to_string();
    let restart = run(&[
        "restart",
        "--api",
        &address,
        "--token-file",
        &token_file,
        "web",
    ]);
    assert_eq!(
        restart.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&restart.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&restart.stdout), "web: running\n");
    let wrong_file = listening_socket.with_file_name("wrong-token");
    std::fs::write(&wrong_file, "nope\n").unwrap();
    let refused = run(&[
        "restart",
        "--api",
        &address,
        "--token-file",
        &wrong_file.display().to_string(),
        "web",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("bearer token"));

    let without = request_tcp(&address, "GET", "/v1/units", &[], b"");
    assert_eq!(without.status, 401);
    assert_eq!(without.json()["error"], "unauthorized");
    let wrong = request_tcp(
        &address,
        "GET",
        "/v1/units",
        &[("Authorization", "Bearer nope")],
        b"",
    );
    assert_eq!(wrong.status, 401);
    let bearer = format!("Bearer {token}");
    let right = request_tcp(
        &address,
        "GET",
        "/v1/units",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(right.status, 200, "{}", right.body);
    let page = request_tcp(&address, "GET", &format!("/?token={token}"), &[], b"");
    assert_eq!(page.status, 303, "the token moves into a cookie");
    assert!(page.header("set-cookie").unwrap().contains("HttpOnly"));
    // The socket needs no token: its mode decides who connects.
    assert_eq!(get(&socket, "/v1/units").status, 200);
}

#[actix::test]
async fn the_status_page_lists_units_shows_a_kill_live_and_restarts_by_its_button() {
    if engine().await.is_none() || browser_tools().is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-page");
    let file = manifest(
        "page",
        &format!("namespace = \"t-page\"\n{}{}", unit("web"), unit("db")),
    );
    let page = Listening::start(&file, "t-page", &["web", "db"]);
    let url = format!("http://{}/?token={}", page.address, page.token);
    let screenshot = std::env::var("STEVEDORE_PAGE_SCREENSHOT").unwrap_or_else(|_| {
        std::env::temp_dir()
            .join("stevedore-page.png")
            .display()
            .to_string()
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/page/status.mjs");
    let output = Command::new("node")
        .arg(&script)
        .args([&url, "t-page", &screenshot])
        .current_dir(script.parent().unwrap())
        .output()
        .expect("node runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{said}");
    assert!(output.status.success(), "the page test failed:\n{said}");
    assert!(said.contains("restart button restarted web"), "{said}");
}
