//! Tests of reading manifests: good ones, several problems at once, suggestions, positions.

use std::time::Duration;

use super::{LoadError, ManifestError, ManifestProblem, parse_manifest, read_manifest};
use crate::policy::{Backoff, IntensityLimit, RestartPolicy};
use crate::spec::{Protocol, UnitSpec};

const GOOD: &str = r#"
namespace = "demo"

[defaults]
restart = "on-failure:5"
backoff = { initial = "200ms", factor = 3.0, max = "30s" }
intensity = { within = "2m" }
stop_timeout = "5s"
stop_signal = "SIGINT"

[[unit]]
name = "web"
image = "busybox:latest"
command = ["httpd", "-f", "-p", "8080"]
env = { GREETING = "hello", WORKERS = 4, RATIO = 0.5, DEBUG = false }
ports = ["127.0.0.1:18080:8080", "9000:9000/udp"]
volumes = ["/srv/data:/data:ro"]
memory = "64m"
cpu_shares = 512
swappiness = 0
restart = "always"
backoff = { factor = 2.0, jitter = 0.2 }
stop_signal = "SIGTERM"
labels = { team = "edge" }

[[unit]]
name = "worker"
image = "busybox:latest"
memory = 67108864
intensity = { max_restarts = 3 }

[unit.env]
MODE = "batch"
"#;

fn problems(text: &str) -> Vec<ManifestProblem> {
    parse_manifest(text, "units.toml")
        .expect_err("the manifest should be refused")
        .problems
}

fn error(text: &str) -> ManifestError {
    parse_manifest(text, "units.toml").expect_err("the manifest should be refused")
}

#[test]
fn a_good_manifest_parses_into_unit_specs_with_the_defaults_applied() {
    let manifest = parse_manifest(GOOD, "units.toml").unwrap();
    assert_eq!(manifest.namespace, "demo");
    let [web, worker] = manifest.units.as_slice() else {
        panic!("two units expected: {:?}", manifest.units);
    };
    let expected_web = UnitSpec::new("web", "busybox:latest")
        .command(["httpd", "-f", "-p", "8080"])
        .env("GREETING", "hello")
        .env("WORKERS", "4")
        .env("RATIO", "0.5")
        .env("DEBUG", "false")
        .port("127.0.0.1:18080:8080".parse().unwrap())
        .port("9000:9000/udp".parse().unwrap())
        .volume("/srv/data:/data:ro".parse().unwrap())
        .memory(64 << 20)
        .cpu_shares(512)
        .swappiness(0)
        .label("team", "edge")
        // The unit's own restart and stop signal win over the defaults.
        .restart(RestartPolicy::Always)
        // Merged key by key: the unit's factor and jitter, the defaults'
        // initial and max, the built-in reset_after.
        .backoff(Backoff {
            initial: Duration::from_millis(200),
            factor: 2.0,
            max: Duration::from_secs(30),
            reset_after: Duration::from_secs(10),
            jitter: 0.2,
        })
        .intensity(IntensityLimit {
            max_restarts: 10,
            within: Duration::from_secs(120),
        })
        .stop_timeout(Duration::from_secs(5))
        .stop_signal("SIGTERM");
    assert_eq!(*web, expected_web);
    assert_eq!(web.ports[1].protocol, Protocol::Udp);

    let expected_worker = UnitSpec::new("worker", "busybox:latest")
        .env("MODE", "batch")
        .memory(64 << 20)
        .restart(RestartPolicy::OnFailure {
            max_retries: Some(5),
        })
        .backoff(Backoff {
            initial: Duration::from_millis(200),
            factor: 3.0,
            max: Duration::from_secs(30),
            ..Backoff::default()
        })
        .intensity(IntensityLimit {
            max_restarts: 3,
            within: Duration::from_secs(120),
        })
        .stop_timeout(Duration::from_secs(5))
        .stop_signal("SIGINT");
    assert_eq!(*worker, expected_worker);
}

#[test]
fn a_manifest_without_units_is_valid() {
    let manifest = parse_manifest("namespace = \"empty\"\n", "units.toml").unwrap();
    assert_eq!(manifest.namespace, "empty");
    assert!(manifest.units.is_empty());
}

#[test]
fn units_may_be_an_array_of_inline_tables() {
    let text = "namespace = \"n\"\nunit = [{ name = \"a\", image = \"i\" }, { name = \"b\", image = \"i\" }]\n";
    let manifest = parse_manifest(text, "units.toml").unwrap();
    let names: Vec<&str> = manifest.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn the_demo_manifest_is_valid() {
    let text = include_str!("../../examples/demo.toml");
    let manifest = parse_manifest(text, "demo.toml").unwrap();
    assert_eq!(manifest.units.len(), 3);
}

#[test]
fn a_manifest_with_three_errors_reports_all_three_in_file_order() {
    let text = "namespace = \"t\"\n\n[[unit]]\nname = \"web\"\nimage = \"i\"\nrestart = \"sometimes\"\nmemory = \"64q\"\nswappiness = 101\n";
    let found: Vec<(usize, usize, Option<String>)> = problems(text)
        .into_iter()
        .map(|p| (p.line, p.column, p.field))
        .collect();
    assert_eq!(
        found,
        [
            (6, 11, Some("restart".to_string())),
            (7, 10, Some("memory".to_string())),
            (8, 14, Some("swappiness".to_string())),
        ]
    );
}

#[test]
fn problems_of_different_units_and_tables_are_ordered_by_position() {
    let text = "[[unit]]\nname = \"a\"\nimage = \"i\"\nmemroy = 1\n[defaults]\nrestart = 1\n[[unit]]\nimage = 5\n";
    let found: Vec<(usize, Option<String>, Option<String>)> = problems(text)
        .into_iter()
        .map(|p| (p.line, p.unit, p.field))
        .collect();
    let s = |text: &str| Some(text.to_string());
    assert_eq!(
        found,
        [
            (1, None, s("namespace")),
            (4, s("a"), s("memroy")),
            (6, None, s("defaults.restart")),
            (7, s("#2"), s("name")),
            (8, s("#2"), s("image")),
        ]
    );
}

#[test]
fn an_unknown_key_suggests_the_nearest_field() {
    let text =
        "namespace = \"t\"\n[[unit]]\nname = \"a\"\nimgae = \"i\"\nimage = \"i\"\nbackof = {}\n";
    let messages: Vec<String> = problems(text).into_iter().map(|p| p.message).collect();
    assert_eq!(
        messages,
        [
            "unknown key; did you mean `image`?",
            "unknown key; did you mean `backoff`?"
        ]
    );
}

#[test]
fn no_suggestion_is_made_when_no_key_is_close() {
    let text = "namespace = \"t\"\nflavour = \"x\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\nbackoff = { speed = 1 }\n";
    for problem in problems(text) {
        assert!(!problem.message.contains("did you mean"), "{problem}");
        assert!(problem.message.contains("expected one of"), "{problem}");
    }
}

#[test]
fn a_problem_displays_file_line_column_unit_and_field() {
    let text = "namespace = \"t\"\n[[unit]]\nname = \"web\"\nimage = \"i\"\nmemory = \"64q\"\n";
    let error = error(text);
    assert_eq!(
        error.to_string(),
        "units.toml:5:10: unit \"web\": memory: unknown unit \"q\" in size \"64q\" (use b, k, m, g, t or p, powers of 1024)"
    );
    let syntax = error_text("namespace = \"t\n");
    assert!(
        syntax.starts_with("units.toml:1:15: invalid basic string"),
        "{syntax}"
    );
}

fn error_text(text: &str) -> String {
    error(text).to_string()
}

#[test]
fn the_error_has_one_problem_per_line() {
    let text = "namespace = \"t\"\n[[unit]]\nname = \"web\"\nimage = \"i\"\nmemory = \"64q\"\ncpu_shares = -1\n";
    let shown = error_text(text);
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 2, "{shown}");
    assert!(lines[1].starts_with("units.toml:6:14: unit \"web\": cpu_shares: "));
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = "namespace = \"t\" # ünïcödé\n[[unit]]\nname = \"a\"\nimage = \"i\"\nenv = { \"é\" = [] }\n";
    let first = &problems(text)[0];
    assert_eq!(
        (first.line, first.column, first.field.as_deref()),
        (5, 15, Some("env.é"))
    );
}

#[test]
fn a_port_that_cannot_be_read_keeps_the_indices_of_the_others() {
    let text = "namespace = \"t\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\nports = [\"http\", \"8080:80\", \"8080:81\"]\n";
    let fields: Vec<String> = problems(text).into_iter().filter_map(|p| p.field).collect();
    assert_eq!(fields, ["ports[0]", "ports[2]"]);
}

/// A manifest with one unit per entry of `ports`, named `u1`, `u2`, …, each publishing its ports.
fn units_publishing(ports: &[&str]) -> String {
    let mut text = "namespace = \"t\"\n".to_string();
    for (index, ports) in ports.iter().enumerate() {
        let n = index + 1;
        text += &format!("[[unit]]\nname = \"u{n}\"\nimage = \"i\"\nports = {ports}\n");
    }
    text
}

#[test]
fn units_may_share_a_port_number_on_distinct_addresses_or_protocols() {
    let text = units_publishing(&[
        r#"["127.0.0.1:18998:80", "18999:80", "8080"]"#,
        r#"["127.0.0.2:18998:80", "18999:80/udp", "8080"]"#,
        r#"["[::1]:18998:80"]"#,
    ]);
    let manifest = parse_manifest(&text, "units.toml").unwrap();
    assert_eq!(manifest.units.len(), 3);
}

#[test]
fn a_host_port_taken_by_an_earlier_unit_is_reported_at_each_later_one() {
    let text = units_publishing(&[
        r#"["18998:80"]"#,
        r#"["127.0.0.1:18998:80"]"#,
        r#"["[::]:18998:80"]"#,
    ]);
    let found = problems(&text);
    let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "units.toml:9:10: unit \"u2\": ports[0]: host port 18998/tcp is already published by unit \"u1\" (\"18998:80\", line 5)",
            "units.toml:13:10: unit \"u3\": ports[0]: host port 18998/tcp is already published by unit \"u1\" (\"18998:80\", line 5)",
        ]
    );
}

#[test]
fn a_bad_default_is_reported_once_not_once_per_unit() {
    let text = "namespace = \"t\"\n[defaults]\nstop_signal = \"NOPE\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\n[[unit]]\nname = \"b\"\nimage = \"i\"\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].field.as_deref(), Some("defaults.stop_signal"));
    assert_eq!((found[0].line, found[0].column), (3, 15));
    assert_eq!(found[0].unit, None);
}

#[test]
fn a_unit_overriding_a_bad_default_is_not_blamed_for_it() {
    let text = "namespace = \"t\"\n[defaults]\nbackoff = { factor = 0.5 }\n[[unit]]\nname = \"a\"\nimage = \"i\"\nbackoff = { factor = 2 }\n[[unit]]\nname = \"b\"\nimage = \"i\"\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].field.as_deref(), Some("defaults.backoff.factor"));
}

#[test]
fn a_field_that_could_not_be_read_is_not_reported_again_by_validation() {
    // An unreadable name leaves the spec's name empty, which validation
    // would also refuse; only the reading problem is reported.
    let text = "namespace = \"t\"\n[[unit]]\nname = []\nimage = \"i\"\ncommand = [1]\n";
    let fields: Vec<String> = problems(text).into_iter().filter_map(|p| p.field).collect();
    assert_eq!(fields, ["name", "command[0]"]);
}

#[test]
fn a_file_on_disk_is_read_and_named_in_problems() {
    let dir = std::env::temp_dir().join(format!("stevedore-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("units.toml");
    std::fs::write(&path, "namespace = \"t\"\nnamespcae = 1\n").unwrap();
    let Err(LoadError::Invalid(error)) = read_manifest(&path) else {
        panic!("the file is read, and invalid")
    };
    std::fs::write(&path, "namespace = \"t\"\n").unwrap();
    let manifest = read_manifest(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:2:1: namespcae: ", path.display())),
        "{error}"
    );
    assert_eq!(manifest.namespace, "t");
}

const HEALTH: &str = r#"
namespace = "demo"

[defaults]
healthcheck = { interval = "5s", retries = 3 }
on_unhealthy = "ignore"

[[unit]]
name = "db"
image = "postgres"
healthcheck = { test = ["CMD", "pg_isready"], timeout = "2s", start_period = "10s", start_interval = "1s" }
on_unhealthy = "restart"

[[unit]]
name = "cache"
image = "redis"
healthcheck = { test = "redis-cli ping", disable = false }

[[unit]]
name = "migrate"
image = "app"
healthcheck = { disable = true }
depends_on = ["db", "cache"]

[[unit]]
name = "web"
image = "app"
depends_on = { db = "healthy", migrate = "completed", cache = "service_started" }

[unit.healthcheck]
test = ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/"]

[[unit]]
name = "worker"
image = "app"
healthcheck = { test = ["NONE"] }

[unit.depends_on]
db = { condition = "service_healthy", restart = true }
cache = { condition = "started", restart = false }
"#;

#[test]
fn health_checks_and_dependencies_are_read_in_every_form_with_the_defaults_merged() {
    use crate::spec::{Condition, Dependency, HealthCheck, OnUnhealthy};
    let manifest = parse_manifest(HEALTH, "units.toml").unwrap();
    let [db, cache, migrate, web, worker] = manifest.units.as_slice() else {
        panic!("five units expected: {:?}", manifest.units);
    };
    let secs = Duration::from_secs;
    // The unit's keys over the defaults' interval and retries.
    let expected = HealthCheck::exec(["pg_isready"])
        .interval(secs(5))
        .timeout(secs(2))
        .retries(3)
        .start_period(secs(10))
        .start_interval(secs(1));
    assert_eq!(db.healthcheck, Some(expected));
    assert_eq!(db.on_unhealthy, Some(OnUnhealthy::Restart));
    assert!(db.depends_on.is_empty());
    // A plain string is run by the shell; `disable = false` means nothing.
    let shell = HealthCheck::shell("redis-cli ping")
        .interval(secs(5))
        .retries(3);
    assert_eq!(cache.healthcheck, Some(shell));
    assert_eq!(cache.on_unhealthy, Some(OnUnhealthy::Ignore));
    // A check turned off takes no timings from the defaults.
    assert_eq!(migrate.healthcheck, Some(HealthCheck::disabled()));
    let started = Dependency::new(Condition::Started);
    assert_eq!(
        migrate.depends_on,
        [("cache".to_string(), started), ("db".to_string(), started)].into()
    );
    let wget = HealthCheck::shell("wget -q -O- http://127.0.0.1:8080/")
        .interval(secs(5))
        .retries(3);
    assert_eq!(web.healthcheck, Some(wget));
    let conditions: Vec<(&str, Condition, bool)> = web
        .depends_on
        .iter()
        .map(|(name, dependency)| (name.as_str(), dependency.condition, dependency.restart))
        .collect();
    assert_eq!(
        conditions,
        [
            ("cache", Condition::Started, false),
            ("db", Condition::Healthy, false),
            ("migrate", Condition::Completed, false),
        ]
    );
    assert_eq!(worker.healthcheck, Some(HealthCheck::disabled()));
    assert_eq!(
        worker.depends_on["db"],
        Dependency::new(Condition::Healthy).restart(true)
    );
    assert_eq!(worker.depends_on["cache"], started);
}

#[test]
fn a_unit_that_declares_no_check_keeps_its_images() {
    let text = "namespace = \"t\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\n[[unit]]\nname = \"b\"\nimage = \"i\"\nhealthcheck = {}\n";
    let manifest = parse_manifest(text, "units.toml").unwrap();
    for unit in &manifest.units {
        assert_eq!(unit.healthcheck, None, "{}", unit.name);
        assert_eq!(unit.on_unhealthy, None, "{}", unit.name);
    }
}

#[test]
fn timings_alone_change_the_images_check() {
    let text = "namespace = \"t\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\nhealthcheck = { interval = \"1m\" }\n";
    let manifest = parse_manifest(text, "units.toml").unwrap();
    let check = manifest.units[0].healthcheck.clone().unwrap();
    assert_eq!(check.test, crate::spec::HealthTest::Inherit);
    assert_eq!(check.interval, Some(Duration::from_secs(60)));
}

#[test]
fn a_read_manifest_locates_each_units_fields_for_later_checks() {
    let manifest = parse_manifest(HEALTH, "units.toml").unwrap();
    assert_eq!(manifest.file, "units.toml");
    // The entry naming a dependency, in the table and the array forms.
    assert_eq!(manifest.locate("web", "depends_on.migrate"), Some((28, 32)));
    assert_eq!(
        manifest.locate("migrate", "depends_on.cache"),
        Some((23, 21))
    );
    assert_eq!(
        manifest.locate("db", "healthcheck.start_interval"),
        Some((11, 102))
    );
    // Taken from [defaults]: located there.
    assert_eq!(
        manifest.locate("web", "healthcheck.interval"),
        Some((5, 28))
    );
    // Not written: the nearest containing field.
    assert_eq!(manifest.locate("web", "healthcheck.timeout"), Some((30, 1)));
    assert_eq!(manifest.locate("web", "memory"), None);
    assert_eq!(manifest.locate("ghost", "image"), None);
    let shown = |problem: ManifestProblem| problem.to_string();
    assert_eq!(
        shown(manifest.problem("db", "healthcheck.start_interval", "needs Docker API 1.44")),
        "units.toml:11:102: unit \"db\": healthcheck.start_interval: needs Docker API 1.44"
    );
    assert_eq!(
        shown(manifest.problem("web", "memory", "m")),
        "units.toml:25:1: unit \"web\": memory: m"
    );
    assert_eq!(
        shown(manifest.problem("ghost", "image", "m")),
        "units.toml:1:1: unit \"ghost\": image: m"
    );
}
