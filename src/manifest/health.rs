//! Reading `healthcheck` (merged key by key over `[defaults]`) and `depends_on` in compose's words, and reporting the dependency graph's problems at the entries that name them.

use std::collections::HashMap;
use std::time::Duration;

use toml_edit::{Item, Value};

use super::fields::{Field, Found, Scope, fields};
use super::locate::UnitSeen;
use super::recover::is_placeholder;
use crate::spec::graph::{self, GraphProblem, Undeclared};
use crate::spec::validate::is_valid_name;
use crate::spec::{Condition, Dependencies, Dependency, HealthCheck, HealthTest, UnitSpec};

/// Keys of a `healthcheck` table.
pub(super) const HEALTH_KEYS: &[&str] = &[
    "test",
    "disable",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
];
/// Keys of one dependency written as a table.
pub(super) const DEPENDENCY_KEYS: &[&str] = &["condition", "restart"];

/// What `on_unhealthy` takes, for messages.
pub(super) const ON_UNHEALTHY_EXPECTED: &str = "\"restart\" or \"ignore\"";
const TEST_EXPECTED: &str =
    "an array such as [\"CMD\", \"program\", …] or a string run by the shell";
const CONDITION_EXPECTED: &str = "a condition: \"started\", \"healthy\" or \"completed\"";
const DEPENDENCY_EXPECTED: &str = "a condition (\"started\", \"healthy\", \"completed\") or a table { condition = …, restart = … }";
const DEPENDS_ON_EXPECTED: &str = "an array of unit names or a table of conditions by unit name";

/// A `healthcheck` table as written: keys left out are `None`; `disable =
/// true` is the test `["NONE"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct PartialHealth {
    pub test: Option<HealthTest>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
}

impl PartialHealth {
    fn has_timings(&self) -> bool {
        self.interval.is_some()
            || self.timeout.is_some()
            || self.retries.is_some()
            || self.start_period.is_some()
            || self.start_interval.is_some()
    }

    /// These keys, with `base`'s where these are missing; a check that these
    /// keys turn off takes nothing from `base` (its timings would mean nothing).
    pub fn over(self, base: &PartialHealth) -> PartialHealth {
        if self.test == Some(HealthTest::Disabled) {
            return self;
        }
        PartialHealth {
            test: self.test.or_else(|| base.test.clone()),
            interval: self.interval.or(base.interval),
            timeout: self.timeout.or(base.timeout),
            retries: self.retries.or(base.retries),
            start_period: self.start_period.or(base.start_period),
            start_interval: self.start_interval.or(base.start_interval),
        }
    }

    /// The check; `None` (the image's, unchanged) when no key was given.
    pub fn finish(self) -> Option<HealthCheck> {
        if self == PartialHealth::default() {
            return None;
        }
        Some(HealthCheck {
            test: self.test.unwrap_or_default(),
            interval: self.interval,
            timeout: self.timeout,
            retries: self.retries,
            start_period: self.start_period,
            start_interval: self.start_interval,
        })
    }
}

impl Scope<'_> {
    /// A `healthcheck` table; keys that cannot be read are left out.
    pub fn healthcheck(&mut self, field: &str, item: &Item, at: usize) -> PartialHealth {
        let mut check = PartialHealth::default();
        let Some(table) = self.table(field, item, at) else {
            return check;
        };
        let mut disable_at = None;
        for entry in fields(table, at) {
            let path = format!("{field}.{}", entry.name);
            let (item, at) = (entry.item, entry.at);
            match entry.name {
                "test" => check.test = self.health_test(&path, item, at),
                "disable" => {
                    if self.boolean(&path, item, at) == Some(true) {
                        disable_at = Some(at);
                    }
                }
                "interval" => check.interval = self.duration(&path, item, at),
                "timeout" => check.timeout = self.duration(&path, item, at),
                "retries" => check.retries = self.count_u32(&path, item, at),
                "start_period" => check.start_period = self.duration(&path, item, at),
                "start_interval" => check.start_interval = self.duration(&path, item, at),
                name => self.unknown(&path, name, entry.key_at, HEALTH_KEYS),
            }
        }
        if let Some(disable_at) = disable_at {
            let (test, disable) = (format!("{field}.test"), format!("{field}.disable"));
            if table.contains_key("test") {
                let message = "cannot be true beside a test (test and disable are conflicting); leave one of them out";
                self.report(disable_at, &disable, message);
                check.test = None;
            } else {
                check.test = Some(HealthTest::Disabled);
                // What validation says of the test is about this key.
                self.seen.spans.insert(test.clone(), disable_at);
                self.seen.renamed.insert(test, disable);
            }
        }
        check
    }

    /// A test: an array in the engine's form, or a string for the shell.
    fn health_test(&mut self, field: &str, item: &Item, at: usize) -> Option<HealthTest> {
        match item.as_value() {
            Some(Value::String(command)) => {
                self.seen.spans.insert(field.to_string(), at);
                Some(HealthTest::Shell(command.value().clone()))
            }
            Some(Value::Array(_)) => {
                let words = self.string_list(field, item, at)?;
                let Some((first, first_at)) = words.first().cloned() else {
                    let message = "is empty; write [\"CMD\", \"program\", …], [\"CMD-SHELL\", \"command\"] or [\"NONE\"], or leave it out to keep the image's test";
                    self.report(at, field, message);
                    return None;
                };
                let words = words.into_iter().map(|(word, _)| word).collect();
                HealthTest::from_engine(words)
                    .map_err(|message| {
                        if matches!(first.as_str(), "CMD" | "CMD-SHELL" | "NONE") {
                            self.report(at, field, message);
                        } else {
                            self.report(first_at, &format!("{field}[0]"), message);
                        }
                    })
                    .ok()
            }
            _ => {
                self.seen.spans.insert(field.to_string(), at);
                self.wrong(at, field, TEST_EXPECTED, item);
                None
            }
        }
    }

    /// The unit's check: its own keys over the defaults'. Timings without a
    /// test over defaults that turn the check off are a problem (they would
    /// mean nothing), reported at the unit's `healthcheck`.
    pub fn merged_health(
        &mut self,
        own: PartialHealth,
        defaults: &PartialHealth,
    ) -> Option<HealthCheck> {
        let mut own = own;
        if own.test.is_none() && defaults.test == Some(HealthTest::Disabled) && own.has_timings() {
            let at = self
                .seen
                .spans
                .get("healthcheck")
                .copied()
                .unwrap_or_default();
            let message = "sets timings, but [defaults] turn the check off and this table gives no test; give a test, or leave the timings out";
            self.report(at, "healthcheck", message);
            own = PartialHealth::default();
        }
        own.over(defaults).finish()
    }

    /// A unit's `depends_on`: an array of names (each waited for to start)
    /// or a table of conditions, each a word or `{ condition, restart }`.
    /// Each dependency's path `depends_on.NAME` is kept at the entry naming it.
    pub fn depends_on(&mut self, field: &str, item: &Item, at: usize) -> Dependencies {
        let mut dependencies = Dependencies::new();
        if let Some(Value::Array(_)) = item.as_value() {
            let names = self.string_list(field, item, at).unwrap_or_default();
            let mut first: HashMap<String, usize> = HashMap::new();
            for (index, (name, name_at)) in names.into_iter().enumerate() {
                if let Some(earlier) = first.get(&name) {
                    let message = format!("{name:?} is already listed ({field}[{earlier}])");
                    self.report(name_at, &format!("{field}[{index}]"), message);
                    continue;
                }
                first.insert(name.clone(), index);
                self.seen.spans.insert(format!("{field}.{name}"), name_at);
                dependencies.insert(name, Dependency::new(Condition::Started));
            }
            return dependencies;
        }
        let Some(table) = self.table_as(field, item, at, DEPENDS_ON_EXPECTED) else {
            return dependencies;
        };
        for entry in fields(table, at) {
            let path = format!("{field}.{}", entry.name);
            if is_placeholder(entry.name) {
                // A duplicate key, reported for what it is by the recovery.
                self.report(entry.key_at, &path, "duplicate key");
                continue;
            }
            if let Some(dependency) = self.dependency(&path, &entry) {
                dependencies.insert(entry.name.to_string(), dependency);
            }
            self.seen.spans.insert(path, entry.key_at);
        }
        dependencies
    }

    /// One dependency: a condition word, or a table with a `condition`.
    fn dependency(&mut self, path: &str, entry: &Field<'_>) -> Option<Dependency> {
        let (item, at) = (entry.item, entry.at);
        if item.is_str() {
            let condition = self.parsed(path, item, at, CONDITION_EXPECTED, str::parse)?;
            return Some(Dependency::new(condition));
        }
        let Some(table) = item.as_table_like() else {
            self.wrong(at, path, DEPENDENCY_EXPECTED, item);
            return None;
        };
        let (mut condition, mut restart) = (None, false);
        for inner in fields(table, at) {
            let inner_path = format!("{path}.{}", inner.name);
            let (item, inner_at) = (inner.item, inner.at);
            match inner.name {
                "condition" => {
                    condition =
                        self.parsed(&inner_path, item, inner_at, CONDITION_EXPECTED, str::parse)
                }
                "restart" => restart = self.boolean(&inner_path, item, inner_at) == Some(true),
                name => self.unknown(&inner_path, name, inner.key_at, DEPENDENCY_KEYS),
            }
        }
        if !table.contains_key("condition") {
            let message = "is missing; write condition = \"started\", \"healthy\" or \"completed\"";
            self.report(at, &format!("{path}.condition"), message);
        }
        Some(Dependency::new(condition?).restart(restart))
    }
}

/// Reports each problem of the units' dependency graph at the dependent's
/// entry naming the dependency (for a cycle: its first unit's entry naming
/// the next), as `depends_on.NAME`. A unit depending on itself, and a name
/// that cannot be a unit's, are validation's to report.
pub(super) fn report_graph(units: &[UnitSpec], seen: &[UnitSeen], problems: &mut Vec<Found>) {
    let specs: Vec<&UnitSpec> = units.iter().collect();
    for problem in graph::problems(&specs, Undeclared::Refused) {
        let (unit, dependency) = problem.location();
        let validations = match &problem {
            GraphProblem::Cycle { path } => path.len() == 2,
            GraphProblem::Undeclared { .. } => !is_valid_name(dependency),
            GraphProblem::NoHealthCheck { .. } => false,
        };
        let Some(index) = units.iter().position(|spec| spec.name == unit) else {
            continue;
        };
        if validations {
            continue;
        }
        let record = &seen[index];
        let field = format!("depends_on.{dependency}");
        let offset = record
            .spans
            .get(&field)
            .or_else(|| record.spans.get("depends_on"))
            .copied()
            .unwrap_or(record.header);
        problems.push(Found {
            offset,
            unit: Some(record.label.clone()),
            field: Some(field),
            message: problem.to_string(),
        });
    }
}
