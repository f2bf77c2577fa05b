//! Health checks and dependencies of a unit: the engine-run check (Docker's
//! `Healthcheck` config, in compose's words), what an unhealthy container
//! means to the unit, and the conditions a unit waits for before it starts.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::text::opt_duration_serde;

/// The shortest interval, timeout, start period or start interval the engine
/// accepts (it reads 0 as "inherit", and refuses anything between 0 and 1 ms).
pub const MIN_HEALTH_DURATION: Duration = Duration::from_millis(1);
/// The API version from which the engine knows `start_interval`; older ones
/// drop it without a word.
pub const START_INTERVAL_API: (u32, u32) = (1, 44);

/// What a health check runs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub enum HealthTest {
    /// The image's own test (only the timings given are changed).
    #[default]
    Inherit,
    /// No check at all, whatever the image declares (`["NONE"]`).
    Disabled,
    /// A command run directly (`["CMD", "wget", "-q", …]`).
    Exec(Vec<String>),
    /// A command run by the container's shell (`["CMD-SHELL", "…"]`, or a
    /// plain string as compose reads it).
    Shell(String),
}

impl HealthTest {
    /// The engine's form: `[]`, `["NONE"]`, `["CMD", …]`, `["CMD-SHELL", …]`.
    pub fn to_engine(&self) -> Vec<String> {
        match self {
            HealthTest::Inherit => Vec::new(),
            HealthTest::Disabled => vec!["NONE".into()],
            HealthTest::Exec(argv) => std::iter::once("CMD".to_string())
                .chain(argv.iter().cloned())
                .collect(),
            HealthTest::Shell(command) => vec!["CMD-SHELL".into(), command.clone()],
        }
    }

    /// Reads the engine's (and compose's) array form.
    pub fn from_engine(words: Vec<String>) -> Result<HealthTest, String> {
        let mut words = words.into_iter();
        let Some(first) = words.next() else {
            return Ok(HealthTest::Inherit);
        };
        let rest: Vec<String> = words.collect();
        match first.as_str() {
            "NONE" if rest.is_empty() => Ok(HealthTest::Disabled),
            "NONE" => Err("[\"NONE\"] takes nothing after it".into()),
            "CMD" => Ok(HealthTest::Exec(rest)),
            "CMD-SHELL" if rest.len() == 1 => Ok(HealthTest::Shell(rest[0].clone())),
            "CMD-SHELL" => Err("[\"CMD-SHELL\", \"…\"] takes exactly one command string".into()),
            other => Err(format!(
                "must start with \"CMD\", \"CMD-SHELL\" or \"NONE\", not {other:?} (or be one string, run by the shell)"
            )),
        }
    }
}

impl TryFrom<Vec<String>> for HealthTest {
    type Error = String;
    fn try_from(words: Vec<String>) -> Result<Self, String> {
        HealthTest::from_engine(words)
    }
}

impl From<HealthTest> for Vec<String> {
    fn from(test: HealthTest) -> Vec<String> {
        test.to_engine()
    }
}

/// A health check the engine runs in the container. Timings left out are
/// the engine's defaults (interval 30 s, timeout 30 s, retries 3, start
/// period 0) or the image's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// What to run.
    #[serde(default, skip_serializing_if = "is_inherit")]
    pub test: HealthTest,
    /// Time between checks.
    #[serde(
        default,
        with = "opt_duration_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub interval: Option<Duration>,
    /// How long one check may take before it counts as failed.
    #[serde(
        default,
        with = "opt_duration_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    /// Consecutive failures that make the container unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Time after a start during which failures do not count.
    #[serde(
        default,
        with = "opt_duration_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_period: Option<Duration>,
    /// Time between checks during the start period (Docker API 1.44+).
    #[serde(
        default,
        with = "opt_duration_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_interval: Option<Duration>,
}

fn is_inherit(test: &HealthTest) -> bool {
    *test == HealthTest::Inherit
}

impl HealthCheck {
    /// A check running `argv` directly (`["CMD", …]`).
    pub fn exec<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        HealthCheck {
            test: HealthTest::Exec(argv.into_iter().map(Into::into).collect()),
            ..HealthCheck::default()
        }
    }

    /// A check running `command` with the container's shell (`["CMD-SHELL", …]`).
    pub fn shell(command: impl Into<String>) -> Self {
        HealthCheck {
            test: HealthTest::Shell(command.into()),
            ..HealthCheck::default()
        }
    }

    /// No check, whatever the image declares.
    pub fn disabled() -> Self {
        HealthCheck {
            test: HealthTest::Disabled,
            ..HealthCheck::default()
        }
    }

    /// Sets the time between checks.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Sets how long one check may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets how many consecutive failures make the container unhealthy.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Sets the start period.
    pub fn start_period(mut self, period: Duration) -> Self {
        self.start_period = Some(period);
        self
    }

    /// Sets the interval during the start period (needs Docker API 1.44).
    pub fn start_interval(mut self, interval: Duration) -> Self {
        self.start_interval = Some(interval);
        self
    }

    /// Every problem of this check, as (field under `healthcheck`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        match &self.test {
            HealthTest::Exec(argv) if argv.first().is_none_or(|word| word.trim().is_empty()) => {
                problems.push((
                    "test".into(),
                    "names no command; write [\"CMD\", \"program\", …], or disable = true to turn the check off".into(),
                ))
            }
            HealthTest::Shell(command) if command.trim().is_empty() => problems.push((
                "test".into(),
                "is an empty command; write one for the shell, or disable = true to turn the check off".into(),
            )),
            HealthTest::Disabled if *self != HealthCheck::disabled() => problems.push((
                "test".into(),
                "disables the check, so its timings and retries mean nothing; leave them out"
                    .into(),
            )),
            _ => {}
        }
        let timings = [
            ("interval", self.interval),
            ("timeout", self.timeout),
            ("start_period", self.start_period),
            ("start_interval", self.start_interval),
        ];
        for (field, duration) in timings {
            let Some(duration) = duration else { continue };
            if duration < MIN_HEALTH_DURATION {
                problems.push((
                    field.into(),
                    "must be at least 1ms; leave it out for the engine's default".into(),
                ));
            } else if let Some(message) = crate::policy::too_long(duration) {
                problems.push((field.into(), message));
            }
        }
        if self.retries == Some(0) {
            problems.push((
                "retries".into(),
                "must be at least 1; leave it out for the engine's default of 3".into(),
            ));
        }
        problems
    }
}

/// What an unhealthy container means to its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnUnhealthy {
    /// Stop it (grace period and signal) and start it again through the
    /// unit's backoff and intensity limit, as a failed run: the default when
    /// the unit declares a check.
    Restart,
    /// Report it and leave it running: the default for a check that only
    /// the image declares.
    Ignore,
}

impl FromStr for OnUnhealthy {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "restart" => Ok(OnUnhealthy::Restart),
            "ignore" => Ok(OnUnhealthy::Ignore),
            other => Err(format!("{other:?} is not \"restart\" or \"ignore\"")),
        }
    }
}

/// What a dependent waits for in a dependency (compose's `condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Its container runs (`service_started`).
    Started,
    /// Its container runs and its health check passes (`service_healthy`).
    Healthy,
    /// It ran and exited with code 0 (`service_completed_successfully`).
    Completed,
}

impl Condition {
    /// The word a manifest uses for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Started => "started",
            Condition::Healthy => "healthy",
            Condition::Completed => "completed",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Condition {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "started" | "service_started" => Ok(Condition::Started),
            "healthy" | "service_healthy" => Ok(Condition::Healthy),
            "completed" | "service_completed_successfully" => Ok(Condition::Completed),
            other => Err(format!(
                "{other:?} is not a condition: \"started\", \"healthy\" or \"completed\""
            )),
        }
    }
}

/// One dependency of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    /// What the dependent waits for.
    pub condition: Condition,
    /// Restart the dependent when this dependency is restarted or replaced
    /// (compose's `restart: true`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restart: bool,
}

impl Dependency {
    /// A dependency on `condition`, not restarting the dependent.
    pub fn new(condition: Condition) -> Self {
        Dependency {
            condition,
            restart: false,
        }
    }

    /// Restarts the dependent when the dependency restarts.
    pub fn restart(mut self, restart: bool) -> Self {
        self.restart = restart;
        self
    }
}

impl From<Condition> for Dependency {
    fn from(condition: Condition) -> Self {
        Dependency::new(condition)
    }
}

/// A unit's dependencies, by the name of the unit depended on.
pub type Dependencies = BTreeMap<String, Dependency>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_read_and_print_in_the_engines_array_form() {
        let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let table = [
            (words(&[]), HealthTest::Inherit),
            (words(&["NONE"]), HealthTest::Disabled),
            (words(&["CMD", "true"]), HealthTest::Exec(words(&["true"]))),
            (
                words(&["CMD-SHELL", "test -f /ok"]),
                HealthTest::Shell("test -f /ok".into()),
            ),
        ];
        for (engine, test) in table {
            assert_eq!(HealthTest::from_engine(engine.clone()), Ok(test.clone()));
            assert_eq!(test.to_engine(), engine);
        }
        for bad in [
            words(&["true"]),
            words(&["NONE", "x"]),
            words(&["CMD-SHELL", "a", "b"]),
        ] {
            assert!(HealthTest::from_engine(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_check_with_zero_or_absurd_timings_or_no_command_has_problems() {
        let fields = |check: HealthCheck| -> Vec<String> {
            check
                .problems()
                .into_iter()
                .map(|(field, _)| field)
                .collect()
        };
        assert!(fields(HealthCheck::exec(["true"]).interval(Duration::from_secs(5))).is_empty());
        assert_eq!(fields(HealthCheck::exec(Vec::<String>::new())), ["test"]);
        assert_eq!(fields(HealthCheck::shell("  ")), ["test"]);
        assert_eq!(
            fields(
                HealthCheck::exec(["true"])
                    .interval(Duration::ZERO)
                    .timeout(Duration::from_secs(25 * 3600))
                    .retries(0)
            ),
            ["interval", "timeout", "retries"]
        );
        assert_eq!(
            fields(HealthCheck::disabled().interval(Duration::from_secs(1))),
            ["test"]
        );
        assert!(fields(HealthCheck::disabled()).is_empty());
    }

    #[test]
    fn conditions_read_compose_words_too() {
        for (text, condition) in [
            ("started", Condition::Started),
            ("service_healthy", Condition::Healthy),
            ("completed", Condition::Completed),
            ("service_completed_successfully", Condition::Completed),
        ] {
            assert_eq!(text.parse(), Ok(condition));
        }
        assert!("ready".parse::<Condition>().is_err());
    }
}
