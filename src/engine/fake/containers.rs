//! The fake engine's containers, indexed by id and by name so that ten
//! thousand of them cost nothing per lookup.

use std::collections::{BTreeMap, HashMap};

use super::FakeContainer;

/// Containers by id (ids are sequential, so this is creation order), and
/// ids by name.
#[derive(Default)]
pub(crate) struct Containers {
    by_id: BTreeMap<String, FakeContainer>,
    ids_by_name: HashMap<String, String>,
}

impl Containers {
    /// The container with this id or name.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut FakeContainer> {
        let id = self
            .ids_by_name
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string());
        self.by_id.get_mut(&id)
    }

    /// The container named `name`.
    pub(crate) fn named(&self, name: &str) -> Option<&FakeContainer> {
        self.ids_by_name.get(name).and_then(|id| self.by_id.get(id))
    }

    pub(crate) fn insert(&mut self, container: FakeContainer) {
        self.ids_by_name
            .insert(container.name.clone(), container.id.clone());
        self.by_id.insert(container.id.clone(), container);
    }

    /// Removes the container with this id or name.
    pub(crate) fn remove(&mut self, key: &str) -> Option<FakeContainer> {
        let id = self
            .ids_by_name
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string());
        let removed = self.by_id.remove(&id)?;
        self.ids_by_name.remove(&removed.name);
        Some(removed)
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut FakeContainer> {
        self.by_id.values_mut()
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &FakeContainer> {
        self.by_id.values()
    }
}
