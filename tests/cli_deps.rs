//! Dependencies and health checks through the binary: waiting units are
//! shown, `down` and `--on-exit stop` stop dependents first (by the engine's
//! own event times), and what only the engine can refuse is refused before
//! anything is created.

mod common;

use common::cli::{Up, manifest, ps_when, run};
use common::{Cleanup, docker, engine};

/// A chain `web -> api -> db` of containers that take their whole 1 s grace
/// period to stop (sh as PID 1 ignores SIGTERM), so stop order shows.
fn chain(namespace: &str) -> String {
    let unit = |name: &str, depends: &str| {
        format!(
            "[[unit]]\nname = \"{name}\"\nimage = \"stevedore-test:latest\"\ncommand = [\"sh\", \"-c\", \"sleep 600\"]\nstop_timeout = \"1s\"\n{depends}\n"
        )
    };
    format!(
        "namespace = \"{namespace}\"\n{}{}{}",
        unit("web", "depends_on = [\"api\"]"),
        unit("api", "depends_on = { db = \"started\" }"),
        unit("db", "")
    )
}

/// When each container of the namespace died, by the engine's clock.
fn deaths(namespace: &str, since: i64, units: &[&str]) -> Vec<i64> {
    let secs = |nanos: i64| format!("{}.{:09}", nanos / 1_000_000_000, nanos % 1_000_000_000);
    units
        .iter()
        .map(|unit| {
            let out = docker(&[
                "events",
                "--since",
                &secs(since),
                "--until",
                &secs(stevedore::engine::unix_nanos()),
                "--filter",
                &format!("container={namespace}--{unit}"),
                "--filter",
                "event=die",
                "--format",
                "{{.TimeNano}}",
            ]);
            out.lines()
                .last()
                .and_then(|line| line.parse().ok())
                .unwrap_or_else(|| panic!("{unit} never died"))
        })
        .collect()
}

#[actix::test]
async fn up_shows_the_waiting_units_and_down_stops_dependents_first() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-deps-down");
    let file = manifest("deps-down", &chain("t-cli-deps-down"));
    let mut up = Up::start(&file, &[]);
    up.wait_running(&["db", "api", "web"]);
    assert!(
        up.seen
            .iter()
            .any(|line| line.contains(" web ") && line.contains("waiting: api (started)")),
        "{:#?}",
        up.seen
    );
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
    let since = stevedore::engine::unix_nanos();
    let down = run(&["down", "-n", "t-cli-deps-down"]);
    assert!(down.status.success(), "{down:?}");
    let died = deaths("t-cli-deps-down", since, &["web", "api", "db"]);
    assert!(died[0] < died[1] && died[1] < died[2], "{died:?}");
}

#[actix::test]
async fn on_exit_stop_stops_dependents_before_what_they_depend_on() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-deps-stop");
    let file = manifest("deps-stop", &chain("t-cli-deps-stop"));
    let mut up = Up::start(&file, &["--on-exit", "stop"]);
    up.wait_running(&["db", "api", "web"]);
    let since = stevedore::engine::unix_nanos();
    up.signal("TERM");
    assert_eq!(up.wait_exit(), 0);
    let died = deaths("t-cli-deps-stop", since, &["web", "api", "db"]);
    assert!(died[0] < died[1] && died[1] < died[2], "{died:?}");
}

#[actix::test]
async fn healthy_on_a_unit_whose_image_has_no_check_is_refused_before_anything_runs() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-deps-nocheck");
    let text = "namespace = \"t-cli-deps-nocheck\"\n\n[[unit]]\nname = \"db\"\nimage = \"stevedore-test:latest\"\ncommand = [\"sleep\", \"600\"]\n\n[[unit]]\nname = \"web\"\nimage = \"stevedore-test:latest\"\ncommand = [\"sleep\", \"600\"]\ndepends_on = { db = \"healthy\" }\n";
    let file = manifest("deps-nocheck", text);
    let mut up = Up::start(&file, &[]);
    assert_eq!(up.wait_exit(), 2, "{:#?}", up.seen);
    let expected = format!(
        "{}:12:16: unit \"web\": depends_on.db: waits for \"db\" to be healthy, but \"db\" declares no health check and its image stevedore-test:latest has none",
        file.display()
    );
    // Each line of up's log starts with its time and level.
    assert!(
        up.seen
            .iter()
            .any(|line| line.ends_with(&format!(" ERROR {expected}"))),
        "{:#?}",
        up.seen
    );
    let filter = "label=io.stevedore.namespace=t-cli-deps-nocheck";
    assert_eq!(
        docker(&["ps", "-aq", "--filter", filter]),
        "",
        "nothing created"
    );
}

#[actix::test]
async fn start_interval_is_refused_by_an_engine_older_than_api_1_44() {
    if engine().await.is_none() {
        return;
    }
    let api = docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    let minor: u32 = api
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let _cleanup = Cleanup::new("t-cli-start-interval");
    let text = "namespace = \"t-cli-start-interval\"\n\n[[unit]]\nname = \"web\"\nimage = \"stevedore-test:latest\"\ncommand = [\"sleep\", \"600\"]\nhealthcheck = { test = [\"CMD\", \"true\"], start_interval = \"1s\" }\n";
    let file = manifest("start-interval", text);
    let mut up = Up::start(&file, &[]);
    if minor >= 44 {
        up.wait_running(&["web"]);
        up.signal("INT");
        assert_eq!(up.wait_exit(), 0);
        return;
    }
    assert_eq!(up.wait_exit(), 2, "{:#?}", up.seen);
    assert!(
        up.seen.iter().any(|line| line.contains(":7:")
            && line.contains("healthcheck.start_interval: needs Docker API 1.44 or later")),
        "{:#?}",
        up.seen
    );
    let filter = "label=io.stevedore.namespace=t-cli-start-interval";
    assert_eq!(docker(&["ps", "-aq", "--filter", filter]), "");
}

#[actix::test]
async fn ps_shows_health_and_a_restart_for_being_unhealthy() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-health-ps");
    // Healthy for two seconds after each start, then failing; ignore keeps
    // the other unit running and unhealthy.
    let text = r#"namespace = "t-cli-health-ps"

[defaults]
restart = "always"
stop_timeout = "1s"
healthcheck = { test = ["CMD", "test", "-f", "/tmp/ok"], interval = "300ms", retries = 2 }

[[unit]]
name = "flaky"
image = "stevedore-test:latest"
command = ["sh", "-c", "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 600"]

[[unit]]
name = "sick"
image = "stevedore-test:latest"
command = ["sleep", "600"]
on_unhealthy = "ignore"
"#;
    let file = manifest("health-ps", text);
    let mut up = Up::start(&file, &[]);
    up.wait_for(&[" flaky ", "stopping", "unhealthy"]);
    up.wait_for(&[" flaky ", "running", "(restarts: 1)"]);
    up.wait_for(&[" sick ", "running (unhealthy)"]);
    let rows = ps_when("t-cli-health-ps", |rows| {
        rows.iter()
            .any(|r| r["name"] == "flaky" && r["restart_count"] == 1)
            && rows
                .iter()
                .any(|r| r["name"] == "sick" && r["health"] == "unhealthy")
    });
    let flaky = rows.iter().find(|r| r["name"] == "flaky").unwrap();
    assert!(flaky["health"].is_string(), "{flaky}");
    let table = run(&["ps", "-n", "t-cli-health-ps"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("running (unhealthy)"), "{table}");
    assert!(table.contains("1 (unhealthy)"), "{table}");
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
}

#[actix::test]
async fn ps_lists_a_waiting_unit_with_its_created_container() {
    if engine().await.is_none() {
        return;
    }
    let _cleanup = Cleanup::new("t-cli-deps-ps");
    let text = r#"namespace = "t-cli-deps-ps"

[[unit]]
name = "migrate"
image = "stevedore-test:latest"
command = ["sh", "-c", "exit 1"]

[[unit]]
name = "app"
image = "stevedore-test:latest"
command = ["sleep", "600"]
depends_on = { migrate = "completed" }
"#;
    let file = manifest("deps-ps", text);
    let mut up = Up::start(&file, &[]);
    up.wait_for(&[
        " app ",
        "waiting: migrate (completed): migrate exited with code 1, not 0",
    ]);
    let rows = ps_when("t-cli-deps-ps", |rows| {
        rows.iter()
            .any(|r| r["name"] == "app" && r["phase"] == "waiting")
    });
    let app = rows.iter().find(|r| r["name"] == "app").unwrap();
    assert_eq!(app["status"], "created", "{app}");
    assert!(app["id"].is_string(), "{app}");
    up.signal("INT");
    assert_eq!(up.wait_exit(), 0);
}
