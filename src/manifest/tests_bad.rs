//! Bad manifests, one problem each: where the first problem is, what it is about, what it says.

use super::parse_manifest;

const HEAD: &str = "namespace = \"t\"\n";

/// A manifest with one unit `web` whose last line (line 6) is `body`.
fn unit(body: &str) -> String {
    format!("{HEAD}\n[[unit]]\nname = \"web\"\nimage = \"busybox\"\n{body}\n")
}

fn head(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

/// Unit `a` publishing `a` (line 5), then unit `b` publishing `b` (line 9).
fn two_units(a: &str, b: &str) -> String {
    let unit = |name: &str, ports: &str| {
        format!("[[unit]]\nname = \"{name}\"\nimage = \"i\"\nports = {ports}\n")
    };
    head(&format!("{}{}", unit("a", a), unit("b", b)))
}

type Case = (
    &'static str,
    String,
    (usize, usize),
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

fn case(
    name: &'static str,
    text: String,
    at: (usize, usize),
    unit: Option<&'static str>,
    field: Option<&'static str>,
    message: &'static str,
) -> Case {
    (name, text, at, unit, field, message)
}

/// (case, manifest, (line, column), unit, field, text the message contains) of the first problem.
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let web = Some("web");
    let no_unit = None;
    vec![
        // TOML syntax.
        case("unclosed string", head("[[unit]]\nname = \"web\n"), (3, 12), None, None, "invalid basic string"),
        case("bad table header", head("[[unit]\nname = \"web\"\n"), (2, 8), None, None, "unclosed array table"),
        case("duplicate key", unit("image = \"again\""), (6, 1), web, Some("image"), "duplicate key `image`"),
        case("unclosed array", unit("ports = [\"80\""), (6, 14), None, None, "unclosed array"),
        // Unknown keys.
        case("unknown top-level key", head("namespce = \"x\"\n"), (2, 1), no_unit, Some("namespce"), "did you mean `namespace`?"),
        case("unit key at the top", head("image = \"busybox\"\n"), (2, 1), no_unit, Some("image"), "under a [[unit]]"),
        case("unknown unit key", unit("memroy = \"64m\""), (6, 1), web, Some("memroy"), "did you mean `memory`?"),
        case("unknown key far from all", unit("frobnicate = 1"), (6, 1), web, Some("frobnicate"), "expected one of: name, image"),
        case("unknown defaults key", head("[defaults]\nrestrat = \"no\"\n"), (3, 1), no_unit, Some("defaults.restrat"), "did you mean `restart`?"),
        case("unit-only key in defaults", head("[defaults]\nmemory = \"64m\"\n"), (3, 1), no_unit, Some("defaults.memory"), "cannot be set in [defaults]"),
        case("unknown backoff key", unit("backoff = { intial = \"1s\" }"), (6, 13), web, Some("backoff.intial"), "did you mean `initial`?"),
        case("unknown intensity key", head("[defaults]\nintensity = { max_restart = 3 }\n"), (3, 15), no_unit, Some("defaults.intensity.max_restart"), "did you mean `max_restarts`?"),
        // The namespace.
        case("missing namespace", "[[unit]]\nname = \"a\"\nimage = \"i\"\n".into(), (1, 1), no_unit, Some("namespace"), "is missing"),
        case("invalid namespace", "namespace = \"bad ns\"\n".into(), (1, 13), no_unit, Some("namespace"), "\"bad ns\" is not a valid namespace"),
        case("namespace with --", "namespace = \"a--b\"\n".into(), (1, 13), no_unit, Some("namespace"), "\"--\" separates"),
        case("namespace not a string", "namespace = 5\n".into(), (1, 13), no_unit, Some("namespace"), "must be a string, not an integer"),
        // The shape of units and defaults.
        case("unit as a plain table", head("[unit]\nname = \"a\"\nimage = \"i\"\n"), (2, 1), no_unit, Some("unit"), "must be an array of tables"),
        case("unit as a string", head("unit = \"web\"\n"), (2, 8), no_unit, Some("unit"), "not a string"),
        case("unit as an array of numbers", head("unit = [1]\n"), (2, 8), no_unit, Some("unit"), "not an array"),
        case("defaults not a table", head("defaults = 1\n"), (2, 12), no_unit, Some("defaults"), "must be a table"),
        case("missing name", head("[[unit]]\nimage = \"i\"\n"), (2, 1), Some("#1"), Some("name"), "is missing"),
        case("missing name of the second unit", head("[[unit]]\nname = \"a\"\nimage = \"i\"\n[[unit]]\nimage = \"i\"\n"), (5, 1), Some("#2"), Some("name"), "is missing"),
        case("missing image", head("[[unit]]\nname = \"a\"\n"), (2, 1), Some("a"), Some("image"), "is missing"),
        case("duplicate unit names", head("[[unit]]\nname = \"a\"\nimage = \"i\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\n"), (6, 8), Some("a"), Some("name"), "unit on line 3"),
        // Names and images.
        case("invalid unit name", head("[[unit]]\nname = \"-web\"\nimage = \"i\"\n"), (3, 8), Some("-web"), Some("name"), "\"-web\" is not a valid name"),
        case("unit name with a slash", head("[[unit]]\nname = \"a/b\"\nimage = \"i\"\n"), (3, 8), Some("a/b"), Some("name"), "\"a/b\" is not a valid name"),
        case("name not a string", head("[[unit]]\nname = 7\nimage = \"i\"\n"), (3, 8), Some("#1"), Some("name"), "must be a string, not an integer"),
        case("empty image", head("[[unit]]\nname = \"a\"\nimage = \"\"\n"), (4, 9), Some("a"), Some("image"), "is not an image reference"),
        // Command and environment.
        case("command not an array", unit("command = \"sleep 5\""), (6, 11), web, Some("command"), "must be an array of strings, not a string"),
        case("command of numbers", unit("command = [1, 2]"), (6, 12), web, Some("command[0]"), "must be a string, not an integer"),
        case("empty command", unit("command = []"), (6, 11), web, Some("command"), "is empty"),
        case("env not a table", unit("env = [\"A=1\"]"), (6, 7), web, Some("env"), "must be a table, not an array"),
        case("env value an array", unit("env = { A = [1] }"), (6, 13), web, Some("env.A"), "must be a string, number or boolean"),
        case("env key with =", unit("env = { \"A=B\" = \"1\" }"), (6, 17), web, Some("env.A=B"), "is not a variable name"),
        // Ports and volumes.
        case("ports not an array", unit("ports = \"80:80\""), (6, 9), web, Some("ports"), "must be an array of strings"),
        case("bad port text", unit("ports = [\"http\"]"), (6, 10), web, Some("ports[0]"), "\"http\" in port \"http\" is not a port number"),
        case("port out of range", unit("ports = [\"8080\", \"70000:80\"]"), (6, 18), web, Some("ports[1]"), "not a port number"),
        case("bad protocol", unit("ports = [\"80:80/sctp\"]"), (6, 10), web, Some("ports[0]"), "unknown protocol"),
        case("duplicate host ports", unit("ports = [\"8080:80\", \"8080:81\"]"), (6, 21), web, Some("ports[1]"), "published twice"),
        case("0.0.0.0 beside a specific address", unit("ports = [\"0.0.0.0:8080:80\", \"127.0.0.1:8080:81\"]"), (6, 29), web, Some("ports[1]"), "published twice"),
        case("host port of another unit", two_units("[\"18998:80\"]", "[\"18998:81\"]"), (9, 10), Some("b"), Some("ports[0]"), "already published by unit \"a\" (\"18998:80\", line 5)"),
        case("specific address beside another unit's 0.0.0.0", two_units("[\"0.0.0.0:18998:80\"]", "[\"8080\", \"127.0.0.1:18998:81\"]"), (9, 18), Some("b"), Some("ports[1]"), "unit \"a\""),
        case("[::] beside another unit's specific address", two_units("[\"127.0.0.1:18998:80\"]", "[\"[::]:18998:81\"]"), (9, 10), Some("b"), Some("ports[0]"), "unit \"a\""),
        case("no address beside another unit's specific address", two_units("[\"127.0.0.1:18998:80/udp\"]", "[\"18998:81/udp\"]"), (9, 10), Some("b"), Some("ports[0]"), "18998/udp"),
        case("bad host address", unit("ports = [\"nothost:81:80\"]"), (6, 10), web, Some("ports[0]"), "is not an IP address"),
        case("relative volume", unit("volumes = [\"./data:/data\"]"), (6, 12), web, Some("volumes[0]"), "neither an absolute host path nor a volume name"),
        case("undeclared volume", unit("volumes = [\"data:/data\"]"), (6, 12), web, Some("volumes[0]"), "volume \"data\" is not declared"),
        case("undeclared network", unit("networks = [\"front\"]"), (6, 12), web, Some("networks.front"), "network \"front\" is not declared"),
        case("bad volume mode", unit("volumes = [\"/a:/b:rx\"]"), (6, 12), web, Some("volumes[0]"), "unknown mode"),
        case("volume not a string", unit("volumes = [\"/a:/b\", 1]"), (6, 21), web, Some("volumes[1]"), "must be a string"),
        // Resources.
        case("bad size unit", unit("memory = \"64q\""), (6, 10), web, Some("memory"), "\"64q\""),
        case("negative size text", unit("memory = \"-1\""), (6, 10), web, Some("memory"), "\"-1\" is not a size"),
        case("negative size number", unit("memory = -1"), (6, 10), web, Some("memory"), "cannot be negative"),
        case("size of the wrong type", unit("memory = true"), (6, 10), web, Some("memory"), "must be a size"),
        case("memory below 6 MiB", unit("memory = \"1m\""), (6, 10), web, Some("memory"), "below Docker's minimum"),
        case("cpu shares negative", unit("cpu_shares = -5"), (6, 14), web, Some("cpu_shares"), "must be an integer of 0 or more, not -5"),
        case("cpu shares as text", unit("cpu_shares = \"lots\""), (6, 14), web, Some("cpu_shares"), "must be an integer, not a string"),
        case("cpu shares too small", unit("cpu_shares = 1"), (6, 14), web, Some("cpu_shares"), "outside 2-262144"),
        case("swappiness over 100", unit("swappiness = 101"), (6, 14), web, Some("swappiness"), "101 is outside 0-100"),
        case("swappiness a float", unit("swappiness = 0.5"), (6, 14), web, Some("swappiness"), "not a float"),
        // Labels.
        case("reserved label", unit("labels = { \"io.stevedore.unit\" = \"x\" }"), (6, 34), web, Some("labels.io.stevedore.unit"), "reserved"),
        case("reserved label as dotted key", unit("labels = { io.stevedore.unit = \"x\" }"), (6, 32), web, Some("labels.io.stevedore.unit"), "reserved"),
        case("label not a string", unit("labels = { team = 1 }"), (6, 19), web, Some("labels.team"), "must be a string, not an integer"),
        // Restart, stop and backoff.
        case("duration without unit", unit("stop_timeout = \"10\""), (6, 16), web, Some("stop_timeout"), "add one: \"10s\""),
        case("fractional duration", unit("stop_timeout = \"1.5s\""), (6, 16), web, Some("stop_timeout"), "whole seconds, at least 1s (Docker counts the grace period in whole seconds), not 1500ms"),
        case("duration with a unit Go does not know", unit("stop_timeout = \"2d\""), (6, 16), web, Some("stop_timeout"), "write hours: \"48h\""),
        case("duration as a number", unit("stop_timeout = 10"), (6, 16), web, Some("stop_timeout"), "must be a duration"),
        case("sub-second stop timeout", unit("stop_timeout = \"500ms\""), (6, 16), web, Some("stop_timeout"), "whole seconds, at least 1s"),
        case("zero stop timeout", unit("stop_timeout = \"0s\""), (6, 16), web, Some("stop_timeout"), "whole seconds"),
        case("fractional stop timeout", unit("stop_timeout = \"1s500ms\""), (6, 16), web, Some("stop_timeout"), "1500ms"),
        case("duration too long to hold", unit("stop_timeout = \"5124095576030432h\""), (6, 16), web, Some("stop_timeout"), "too long"),
        case("stop timeout over an hour", unit("stop_timeout = \"2h\""), (6, 16), web, Some("stop_timeout"), "longer than one hour"),
        case("bad stop signal", unit("stop_signal = \"SIGNOPE\""), (6, 15), web, Some("stop_signal"), "\"SIGNOPE\" is not a signal"),
        case("stop signal an array", unit("stop_signal = [\"TERM\"]"), (6, 15), web, Some("stop_signal"), "not an array"),
        case("bad restart word", unit("restart = \"sometimes\""), (6, 11), web, Some("restart"), "\"sometimes\" is not a restart policy"),
        case("bad on-failure count", unit("restart = \"on-failure:x\""), (6, 11), web, Some("restart"), "\"on-failure:x\" is not a restart policy"),
        case("bad restart in defaults", head("[defaults]\nrestart = \"sometimes\"\n"), (3, 11), no_unit, Some("defaults.restart"), "is not a restart policy"),
        case("backoff not a table", unit("backoff = \"fast\""), (6, 11), web, Some("backoff"), "must be a table, not a string"),
        case("bad backoff factor", unit("backoff = { factor = 0.5 }"), (6, 22), web, Some("backoff.factor"), "0.5 is outside 1-100"),
        case("backoff factor as text", unit("backoff = { factor = \"2\" }"), (6, 22), web, Some("backoff.factor"), "must be a number, not a string"),
        case("bad jitter in defaults", head("[defaults]\nbackoff = { jitter = 2.0 }\n[[unit]]\nname = \"a\"\nimage = \"i\"\n"), (3, 22), no_unit, Some("defaults.backoff.jitter"), "2 is outside 0-1"),
        case("backoff initial over a day", unit("backoff = { initial = \"25h\", max = \"25h\" }"), (6, 23), web, Some("backoff.initial"), "longer than 24 hours"),
        case("backoff max over a day", unit("backoff = { max = \"5124095576030431h\" }"), (6, 19), web, Some("backoff.max"), "longer than 24 hours"),
        case("backoff reset over a day", unit("backoff = { reset_after = \"1441m\" }"), (6, 27), web, Some("backoff.reset_after"), "longer than 24 hours"),
        case("backoff over a day in defaults", head("[defaults]\nbackoff = { initial = \"25h\", max = \"25h\" }\n[[unit]]\nname = \"a\"\nimage = \"i\"\n"), (3, 23), no_unit, Some("defaults.backoff.initial"), "longer than 24 hours"),
        case("intensity window over a day", unit("intensity = { within = \"25h\" }"), (6, 24), web, Some("intensity.within"), "longer than 24 hours"),
        case("bad intensity window", unit("intensity = { within = \"0s\" }"), (6, 24), web, Some("intensity.within"), "must be longer than 0"),
        case("negative max restarts", unit("intensity = { max_restarts = -1 }"), (6, 30), web, Some("intensity.max_restarts"), "0 or more"),
    ]
}

#[test]
fn every_bad_manifest_reports_its_first_problem_where_it_is() {
    let cases = cases();
    assert!(cases.len() >= 35);
    let mut wrong = Vec::new();
    for (name, text, (line, column), unit, field, message) in cases {
        let problems = match parse_manifest(&text, "units.toml") {
            Ok(_) => {
                wrong.push(format!("{name}: accepted"));
                continue;
            }
            Err(error) => error.problems,
        };
        let first = &problems[0];
        let matches = (first.line, first.column) == (line, column)
            && first.unit.as_deref() == unit
            && first.field.as_deref() == field
            && first.message.contains(message)
            && first.file == "units.toml";
        if !matches {
            wrong.push(format!(
                "{name}: expected {line}:{column} {unit:?} {field:?} {message:?}, got {first}"
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// Units `a`, `b`, `c`, … each with the `depends_on` (or any) line given,
/// unit `n` starting on line `2 + 4 × n`.
fn units(bodies: &[(&str, &str)]) -> String {
    let mut text = HEAD.to_string();
    for (name, body) in bodies {
        text += &format!("\n[[unit]]\nname = \"{name}\"\nimage = \"i\"\n{body}");
    }
    text + "\n"
}

/// (case, manifest, every problem's line exactly, in order).
#[rustfmt::skip]
fn health_cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        ("unknown healthcheck key", unit("healthcheck = { test = \"true\", intreval = \"5s\" }"),
            vec!["units.toml:6:32: unit \"web\": healthcheck.intreval: unknown key; did you mean `interval`?"]),
        ("zero interval", unit("healthcheck = { test = \"true\", interval = \"0s\" }"),
            vec!["units.toml:6:43: unit \"web\": healthcheck.interval: must be at least 1ms; leave it out for the engine's default"]),
        ("zero interval in defaults, once", head("[defaults]\nhealthcheck = { interval = \"0s\" }\n[[unit]]\nname = \"a\"\nimage = \"i\"\n[[unit]]\nname = \"b\"\nimage = \"i\"\n"),
            vec!["units.toml:3:28: defaults.healthcheck.interval: must be at least 1ms; leave it out for the engine's default"]),
        ("empty test", unit("healthcheck = { test = \"\" }"),
            vec!["units.toml:6:24: unit \"web\": healthcheck.test: is an empty command; write one for the shell, or disable = true to turn the check off"]),
        ("test naming no command", unit("healthcheck = { test = [\"CMD\"] }"),
            vec!["units.toml:6:24: unit \"web\": healthcheck.test: names no command; write [\"CMD\", \"program\", …], or disable = true to turn the check off"]),
        ("empty test array", unit("healthcheck = { test = [] }"),
            vec!["units.toml:6:24: unit \"web\": healthcheck.test: is empty; write [\"CMD\", \"program\", …], [\"CMD-SHELL\", \"command\"] or [\"NONE\"], or leave it out to keep the image's test"]),
        ("bad first word", unit("healthcheck = { test = [\"wget\", \"-q\"] }"),
            vec!["units.toml:6:25: unit \"web\": healthcheck.test[0]: must start with \"CMD\", \"CMD-SHELL\" or \"NONE\", not \"wget\" (or be one string, run by the shell)"]),
        ("CMD-SHELL with two strings", unit("healthcheck = { test = [\"CMD-SHELL\", \"a\", \"b\"] }"),
            vec!["units.toml:6:24: unit \"web\": healthcheck.test: [\"CMD-SHELL\", \"…\"] takes exactly one command string"]),
        ("test a number", unit("healthcheck = { test = 1 }"),
            vec!["units.toml:6:24: unit \"web\": healthcheck.test: must be an array such as [\"CMD\", \"program\", …] or a string run by the shell, not an integer"]),
        ("disable beside a test", unit("healthcheck = { test = \"true\", disable = true }"),
            vec!["units.toml:6:42: unit \"web\": healthcheck.disable: cannot be true beside a test (test and disable are conflicting); leave one of them out"]),
        ("disable with timings", unit("healthcheck = { disable = true, retries = 2 }"),
            vec!["units.toml:6:27: unit \"web\": healthcheck.disable: disables the check, so its timings and retries mean nothing; leave them out"]),
        ("disable with timings in defaults", head("[defaults]\nhealthcheck = { disable = true, interval = \"5s\" }\n[[unit]]\nname = \"a\"\nimage = \"i\"\n"),
            vec!["units.toml:3:27: defaults.healthcheck.disable: disables the check, so its timings and retries mean nothing; leave them out"]),
        ("timings over a default that disables", head("[defaults]\nhealthcheck = { disable = true }\n[[unit]]\nname = \"a\"\nimage = \"i\"\nhealthcheck = { interval = \"5s\" }\n"),
            vec!["units.toml:7:15: unit \"a\": healthcheck: sets timings, but [defaults] turn the check off and this table gives no test; give a test, or leave the timings out"]),
        ("retries past u32", unit("healthcheck = { test = \"true\", retries = 4294967296 }"),
            vec!["units.toml:6:42: unit \"web\": healthcheck.retries: 4294967296 is larger than 4294967295"]),
        ("retries zero", unit("healthcheck = { test = \"true\", retries = 0 }"),
            vec!["units.toml:6:42: unit \"web\": healthcheck.retries: must be at least 1; leave it out for the engine's default of 3"]),
        ("on_unhealthy reboot", unit("on_unhealthy = \"reboot\""),
            vec!["units.toml:6:16: unit \"web\": on_unhealthy: \"reboot\" is not \"restart\" or \"ignore\""]),
        ("bad condition word", unit("depends_on = { db = \"ready\" }"),
            vec!["units.toml:6:21: unit \"web\": depends_on.db: \"ready\" is not a condition: \"started\", \"healthy\" or \"completed\""]),
        ("condition missing", unit("depends_on = { db = { restart = true } }"),
            vec!["units.toml:6:21: unit \"web\": depends_on.db.condition: is missing; write condition = \"started\", \"healthy\" or \"completed\""]),
        ("unknown dependency key", units(&[("db", ""), ("web", "depends_on = { db = { condition = \"healthy\", restrat = true } }")]),
            vec!["units.toml:10:46: unit \"web\": depends_on.db.restrat: unknown key; did you mean `restart`?"]),
        ("dependency a number", unit("depends_on = { db = 1 }"),
            vec!["units.toml:6:21: unit \"web\": depends_on.db: must be a condition (\"started\", \"healthy\", \"completed\") or a table { condition = …, restart = … }, not an integer"]),
        ("depends_on a string", unit("depends_on = \"db\""),
            vec!["units.toml:6:14: unit \"web\": depends_on: must be an array of unit names or a table of conditions by unit name, not a string"]),
        ("a name listed twice", units(&[("db", ""), ("web", "depends_on = [\"db\", \"db\"]")]),
            vec!["units.toml:10:21: unit \"web\": depends_on[1]: \"db\" is already listed (depends_on[0])"]),
        ("depends_on on itself", unit("depends_on = [\"web\"]"),
            vec!["units.toml:6:15: unit \"web\": depends_on.web: a unit cannot depend on itself"]),
        ("depends_on an unknown unit", unit("depends_on = { db = \"started\" }"),
            vec!["units.toml:6:16: unit \"web\": depends_on.db: \"db\" is not a unit of this namespace"]),
        ("depends_on a name no unit can have", unit("depends_on = [\"a b\"]"),
            vec!["units.toml:6:15: unit \"web\": depends_on.a b: \"a b\" is not a unit name"]),
        ("a three-cycle", units(&[("a", "depends_on = [\"b\"]"), ("b", "depends_on = [\"c\"]"), ("c", "depends_on = { a = \"started\" }")]),
            vec!["units.toml:6:15: unit \"a\": depends_on.b: dependency cycle a -> b -> c -> a"]),
        ("healthy on a unit that disables its check", units(&[("db", "healthcheck = { disable = true }"), ("web", "depends_on = { db = \"healthy\" }")]),
            vec!["units.toml:10:16: unit \"web\": depends_on.db: waits for \"db\" to be healthy, but \"db\" has its health check disabled"]),
        ("depends_on in defaults", head("[defaults]\ndepends_on = [\"db\"]\n"),
            vec!["units.toml:3:1: defaults.depends_on: cannot be set in [defaults] (only restart, backoff, intensity, stop_timeout, stop_signal, healthcheck, on_unhealthy can)"]),
        ("unknown healthcheck key in defaults", head("[defaults]\nhealthcheck = { tests = \"true\" }\n"),
            vec!["units.toml:3:17: defaults.healthcheck.tests: unknown key; did you mean `test`?"]),
    ]
}

#[test]
fn every_bad_health_check_or_dependency_is_reported_exactly_where_it_is_written() {
    let mut wrong = Vec::new();
    for (name, text, expected) in health_cases() {
        let shown = match parse_manifest(&text, "units.toml") {
            Ok(_) => "accepted".to_string(),
            Err(error) => error.to_string(),
        };
        if shown != expected.join("\n") {
            wrong.push(format!(
                "{name}:\n  expected {}\n  got      {}",
                expected.join("\n           "),
                shown.replace('\n', "\n           ")
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn a_dependency_cycle_is_named_in_full_at_its_first_entry() {
    let text = units(&[
        ("x", ""),
        ("c", "depends_on = [\"a\"]"),
        ("a", "depends_on = [\"x\", \"b\"]"),
        ("b", "depends_on = { c = \"healthy\" }"),
    ]);
    let error = parse_manifest(&text, "units.toml").unwrap_err();
    assert_eq!(
        error.to_string(),
        "units.toml:10:15: unit \"c\": depends_on.a: dependency cycle c -> a -> b -> c"
    );
}
