//! The labels stevedore puts on every container it creates, and how they are
//! read back: they are the only state that survives a supervisor restart.

use std::collections::HashMap;

use crate::policy::RestartHistory;
use crate::spec::UnitSpec;

/// Every stevedore label starts with this; users may not set such keys.
pub const RESERVED_PREFIX: &str = "io.stevedore.";
/// The namespace that owns the container.
pub const NAMESPACE: &str = "io.stevedore.namespace";
/// The unit's name inside its namespace.
pub const UNIT: &str = "io.stevedore.unit";
/// [`crate::spec::spec_hash`] of the spec the container was created from.
pub const SPEC_HASH: &str = "io.stevedore.spec-hash";
/// The whole spec as JSON, so that adoption restores it exactly.
pub const SPEC: &str = "io.stevedore.spec";
/// Restarts so far (Docker's RestartCount, kept by us).
pub const RESTART_COUNT: &str = "io.stevedore.restart-count";
/// Consecutive quick failures, the backoff step to continue from.
pub const QUICK_FAILURES: &str = "io.stevedore.quick-failures";
/// Exit code of the previous container of this unit.
pub const LAST_EXIT_CODE: &str = "io.stevedore.last-exit-code";
/// Why this container replaced the previous one.
pub const LAST_RESTART_REASON: &str = "io.stevedore.last-restart-reason";
/// Version of stevedore that created the container.
pub const VERSION: &str = "io.stevedore.version";

/// Separator between namespace and unit in container names.
pub const NAME_SEPARATOR: &str = "--";

/// The container name of `unit` in `namespace`: `<namespace>--<unit>`.
pub fn container_name(namespace: &str, unit: &str) -> String {
    format!("{namespace}{NAME_SEPARATOR}{unit}")
}

/// The engine's label filter that selects one namespace's containers.
pub fn namespace_filter(namespace: &str) -> String {
    format!("{NAMESPACE}={namespace}")
}

/// What a container's labels say about its unit's past.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarriedState {
    /// Restarts before this container was created.
    pub restart_count: u32,
    /// Backoff step reached before this container was created.
    pub quick_failures: u32,
    /// Exit code of the previous container.
    pub last_exit_code: Option<i64>,
    /// Why the previous container was replaced.
    pub last_restart_reason: Option<String>,
}

impl CarriedState {
    /// The state a unit carries into its next container.
    pub fn from_history(
        history: &RestartHistory,
        last_exit_code: Option<i64>,
        reason: Option<String>,
    ) -> Self {
        CarriedState {
            restart_count: history.restart_count,
            quick_failures: history.quick_failures,
            last_exit_code,
            last_restart_reason: reason,
        }
    }
}

/// All labels of a container created for `spec` in `namespace`: the user's
/// labels plus ours.
pub fn container_labels(
    namespace: &str,
    spec: &UnitSpec,
    hash: &str,
    carried: &CarriedState,
) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> = spec
        .labels
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    labels.insert(NAMESPACE.into(), namespace.into());
    labels.insert(UNIT.into(), spec.name.clone());
    labels.insert(SPEC_HASH.into(), hash.into());
    labels.insert(
        SPEC.into(),
        serde_json::to_string(spec).expect("a UnitSpec always serializes"),
    );
    labels.insert(RESTART_COUNT.into(), carried.restart_count.to_string());
    labels.insert(QUICK_FAILURES.into(), carried.quick_failures.to_string());
    if let Some(code) = carried.last_exit_code {
        labels.insert(LAST_EXIT_CODE.into(), code.to_string());
    }
    if let Some(reason) = &carried.last_restart_reason {
        labels.insert(LAST_RESTART_REASON.into(), reason.clone());
    }
    labels.insert(VERSION.into(), env!("CARGO_PKG_VERSION").into());
    labels
}

/// Reads the carried state back; missing or garbled labels read as zero/none.
pub fn carried_state(labels: &HashMap<String, String>) -> CarriedState {
    let number = |key: &str| labels.get(key).and_then(|v| v.parse().ok());
    CarriedState {
        restart_count: number(RESTART_COUNT).unwrap_or(0),
        quick_failures: number(QUICK_FAILURES).unwrap_or(0),
        last_exit_code: labels.get(LAST_EXIT_CODE).and_then(|v| v.parse().ok()),
        last_restart_reason: labels.get(LAST_RESTART_REASON).cloned(),
    }
}

/// The spec a container was created from, if its labels carry a readable one.
pub fn stored_spec(labels: &HashMap<String, String>) -> Option<UnitSpec> {
    labels
        .get(SPEC)
        .and_then(|json| serde_json::from_str(json).ok())
}

/// Whether the labels say the container belongs to `namespace`.
pub fn belongs_to(labels: &HashMap<String, String>, namespace: &str) -> bool {
    labels.get(NAMESPACE).map(String::as_str) == Some(namespace)
}

/// The user's own labels: everything that is not ours.
pub fn user_labels(labels: &HashMap<String, String>) -> impl Iterator<Item = (&String, &String)> {
    labels
        .iter()
        .filter(|(key, _)| !key.starts_with(RESERVED_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_carry_the_spec_and_the_restart_state_back() {
        let spec = UnitSpec::new("web", "busybox").label("team", "edge");
        let carried = CarriedState {
            restart_count: 4,
            quick_failures: 2,
            last_exit_code: Some(3),
            last_restart_reason: Some("exited with code 3".into()),
        };
        let labels = container_labels("demo", &spec, "abc", &carried);
        assert!(belongs_to(&labels, "demo"));
        assert!(!belongs_to(&labels, "other"));
        assert_eq!(carried_state(&labels), carried);
        assert_eq!(stored_spec(&labels), Some(spec));
        assert_eq!(user_labels(&labels).count(), 1);
    }

    #[test]
    fn garbled_labels_read_as_a_fresh_start() {
        let labels = HashMap::from([(RESTART_COUNT.to_string(), "many".to_string())]);
        assert_eq!(carried_state(&labels), CarriedState::default());
        assert_eq!(stored_spec(&labels), None);
    }

    #[test]
    fn container_names_join_namespace_and_unit() {
        assert_eq!(container_name("demo", "web"), "demo--web");
        assert_eq!(namespace_filter("demo"), "io.stevedore.namespace=demo");
    }
}
