//! The spec hash: a stable fingerprint of everything a container was created from.

use sha2::{Digest, Sha256};

use super::UnitSpec;

/// A short, stable hash of a spec (16 hex digits of SHA-256 over its JSON).
///
/// It is stored in a label of each container so that an unchanged spec is
/// recognised across supervisor restarts and a changed one is replaced. The
/// JSON form is stable: struct fields serialize in declaration order and maps
/// are `BTreeMap`s. What does not change the container (its dependencies and
/// what an unhealthy container means to the unit) is left out, so changing
/// those does not replace a running container.
pub fn spec_hash(spec: &UnitSpec) -> String {
    let mut container_part = spec.clone();
    container_part.depends_on.clear();
    container_part.on_unhealthy = None;
    let json = serde_json::to_vec(&container_part).expect("a UnitSpec always serializes");
    let digest = Sha256::digest(&json);
    digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_specs_hash_equal_and_changes_hash_differently() {
        let a = UnitSpec::new("w", "busybox").env("A", "1").env("B", "2");
        let b = UnitSpec::new("w", "busybox").env("B", "2").env("A", "1");
        assert_eq!(spec_hash(&a), spec_hash(&b));
        assert_ne!(spec_hash(&a), spec_hash(&a.clone().env("A", "3")));
        assert_eq!(spec_hash(&a).len(), 16);
    }

    #[test]
    fn dependencies_and_the_unhealthy_action_do_not_change_the_hash_but_a_check_does() {
        use crate::spec::{Condition, HealthCheck, OnUnhealthy};
        let plain = UnitSpec::new("w", "busybox");
        let waiting = plain
            .clone()
            .depends_on("db", Condition::Healthy)
            .on_unhealthy(OnUnhealthy::Ignore);
        assert_eq!(spec_hash(&plain), spec_hash(&waiting));
        let checked = plain.clone().healthcheck(HealthCheck::exec(["true"]));
        assert_ne!(spec_hash(&plain), spec_hash(&checked));
    }
}
