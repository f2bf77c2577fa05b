//! A service's `healthcheck` and `depends_on`, long and short forms.

use super::services::Walk;
use super::yaml::{At, Kind, Node};
use crate::spec::text::parse_duration;
use crate::spec::{Condition, Dependency, HealthCheck, HealthTest};

impl Walk<'_> {
    pub(super) fn healthcheck(&mut self, node: &Node, unit: &str) -> Option<HealthCheck> {
        let Kind::Map(entries) = &node.kind else {
            self.problem(
                node.at,
                Some(unit),
                Some("healthcheck"),
                "expected a mapping",
            );
            return None;
        };
        if node
            .get("disable")
            .and_then(|d| self.text(d, Some(unit), "healthcheck.disable"))
            .as_deref()
            == Some("true")
        {
            return Some(HealthCheck::disabled());
        }
        let mut check = match node.get("test") {
            None => {
                self.problem(node.at, Some(unit), Some("healthcheck.test"), "is missing");
                return None;
            }
            Some(test) => match &test.kind {
                Kind::List(_) => {
                    let words = self.words(test, unit, "healthcheck.test")?;
                    match HealthTest::from_engine(words) {
                        Ok(HealthTest::Disabled) => return Some(HealthCheck::disabled()),
                        Ok(test) => HealthCheck {
                            test,
                            ..HealthCheck::default()
                        },
                        Err(message) => {
                            self.problem(test.at, Some(unit), Some("healthcheck.test"), message);
                            return None;
                        }
                    }
                }
                _ => HealthCheck::shell(self.text(test, Some(unit), "healthcheck.test")?),
            },
        };
        for (key, value) in entries {
            let field = format!("healthcheck.{}", key.text);
            match key.text.as_str() {
                "test" | "disable" => {}
                "interval" => check.interval = self.parsed(value, unit, &field, parse_duration),
                "timeout" => check.timeout = self.parsed(value, unit, &field, parse_duration),
                "start_period" => {
                    check.start_period = self.parsed(value, unit, &field, parse_duration)
                }
                "start_interval" => {
                    check.start_interval = self.parsed(value, unit, &field, parse_duration)
                }
                "retries" => {
                    check.retries = self.parsed(value, unit, &field, |t| {
                        t.parse::<u32>()
                            .map_err(|_| format!("{t:?} is not a number of retries"))
                    })
                }
                _ if key.text.starts_with("x-") => {}
                _ => self.problem(key.at, Some(unit), Some(&field), "is not a healthcheck key"),
            }
        }
        Some(check)
    }

    pub(super) fn depends_on(&mut self, node: &Node, unit: &str) -> Vec<(String, Dependency, At)> {
        let mut found = Vec::new();
        match &node.kind {
            Kind::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(name) = self.text(item, Some(unit), &format!("depends_on[{i}]")) {
                        found.push((name, Dependency::new(Condition::Started), item.at));
                    }
                }
            }
            Kind::Map(entries) => {
                for (key, value) in entries {
                    let path = format!("depends_on.{}", key.text);
                    let mut dependency = Dependency::new(Condition::Started);
                    if let Some(condition) = value.get("condition") {
                        let condition =
                            self.text(condition, Some(unit), &format!("{path}.condition"));
                        dependency = Dependency::new(match condition.as_deref() {
                            Some("service_started") | None => Condition::Started,
                            Some("service_healthy") => Condition::Healthy,
                            Some("service_completed_successfully") => Condition::Completed,
                            Some(other) => {
                                let message = format!(
                                    "{other:?} is not a condition (service_started, service_healthy or service_completed_successfully)"
                                );
                                self.problem(
                                    value.at,
                                    Some(unit),
                                    Some(&format!("{path}.condition")),
                                    message,
                                );
                                Condition::Started
                            }
                        });
                    }
                    if let Some(restart) = value.get("restart") {
                        let restart = self.text(restart, Some(unit), &format!("{path}.restart"));
                        dependency = dependency.restart(restart.as_deref() == Some("true"));
                    }
                    if let Some(required) = value.get("required")
                        && self
                            .text(required, Some(unit), &format!("{path}.required"))
                            .as_deref()
                            == Some("false")
                    {
                        self.problem(
                            required.at,
                            Some(unit),
                            Some(&format!("{path}.required")),
                            "required: false is not carried out yet",
                        );
                    }
                    found.push((key.text.clone(), dependency, key.at));
                }
            }
            _ => self.problem(
                node.at,
                Some(unit),
                Some("depends_on"),
                "expected a list of services or a mapping",
            ),
        }
        found
    }
}
