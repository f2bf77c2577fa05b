//! The control API against its OpenAPI document (docs/openapi.yaml), by
//! schemathesis: every documented operation fuzzed with valid and invalid
//! input over TCP (with the token), every answer checked against the
//! document (status codes, content types, bodies, auth enforced, methods
//! refused). The supervisor still answers afterwards.

mod common;

use std::path::Path;
use std::process::Command;

use common::api::{Listening, get};
use common::cli::{have, manifest};
use common::{Cleanup, IMAGE, engine, inspect};

#[actix::test]
async fn the_api_answers_as_its_openapi_document_says() {
    if engine().await.is_none() {
        return;
    }
    if !have("st") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs schemathesis (scripts/tools-up.sh installs it)"
        );
        eprintln!("SKIPPED: schemathesis (st) is not installed; run scripts/tools-up.sh");
        return;
    }
    let _cleanup = Cleanup::new("t-api-schema");
    let file = manifest(
        "api-schema",
        &format!(
            "namespace = \"t-api-schema\"\n[[unit]]\nname = \"web\"\nimage = \"{IMAGE}\"\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"1s\"\n"
        ),
    );
    let Listening {
        up: _up,
        socket,
        address,
        token,
    } = Listening::start(&file, "t-api-schema", &["web"]);
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.yaml");
    let output = Command::new("st")
        .arg("run")
        .arg(&schema)
        .args(["--url", &format!("http://{address}")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        // Ending the supervisor, and answers that never end, are not
        // fuzzed; tests/cli_api.rs covers them.
        .args(["--exclude-path", "/v1/shutdown"])
        .args(["--exclude-path", "/v1/events"])
        .args(["--exclude-path", "/v1/units/{name}/logs"])
        .args([
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--request-timeout",
            "30",
        ])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("NO_COLOR", "1")
        .output()
        .expect("schemathesis runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{said}"
    );
    // Whatever it stopped or restarted by name, the supervisor still
    // answers and still has its unit.
    let health = get(&socket, "/v1/health");
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(get(&socket, "/v1/units/web").status, 200);
    assert!(!inspect("t-api-schema--web", "{{.Id}}").is_empty());
}
