//! The registry's side of dependencies: it follows every unit's events,
//! tells dependents when their conditions change, refuses a unit that would
//! close a dependency cycle, and stops dependents before their dependencies.

use std::collections::HashMap;
use std::future::Future;

use actix::prelude::*;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared, join_all};

use super::Registry;
use super::deps::Notice;
use crate::spec::graph::{cycles_among, stop_order};
use crate::spec::{Dependencies, SpecProblem, UnitSpec, validate};
use crate::unit::{DependencySignal, Unit, UnitError, UnitEvent};

impl Registry {
    /// Validates `spec` alone and in the graph of the units already here (a
    /// dependency not added yet is fine: the unit waits for it).
    pub(super) fn check(&self, spec: &UnitSpec) -> Result<(), UnitError> {
        let invalid = |problems| UnitError::Invalid {
            name: spec.name.clone(),
            problems,
        };
        validate(spec).map_err(invalid)?;
        let engine_problems = super::preflight::engine_problems(spec, self.api_version);
        if !engine_problems.is_empty() {
            return Err(invalid(engine_problems));
        }
        let mut units: Vec<(&str, &Dependencies)> = self
            .deps
            .all()
            .iter()
            .filter(|(name, _)| **name != spec.name)
            .map(|(name, deps)| (name.as_str(), deps))
            .collect();
        units.sort_by_key(|(name, _)| *name);
        units.insert(0, (spec.name.as_str(), &spec.depends_on));
        let problems: Vec<SpecProblem> = cycles_among(&units)
            .into_iter()
            .filter(|path| path[0] == spec.name)
            .map(|path| SpecProblem {
                field: format!("depends_on.{}", path[1]),
                message: format!("dependency cycle {}", path.join(" -> ")),
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(invalid(problems))
        }
    }

    /// Sends each notice to its unit.
    pub(super) fn deliver(&self, notices: Vec<Notice>) {
        for notice in notices {
            let (unit, signal) = match notice {
                Notice::Readiness(unit, readiness) => {
                    (unit, DependencySignal::Readiness(readiness))
                }
                Notice::Restarted { unit, dependency } => {
                    (unit, DependencySignal::Restarted(dependency))
                }
            };
            if let Some(address) = self.units.get(&unit) {
                address.do_send(signal);
            }
        }
    }

    /// Every unit with the dependents it stops after, dependents first.
    pub(super) fn stop_order(&self) -> Vec<(Addr<Unit>, Vec<Addr<Unit>>)> {
        let known: HashMap<String, Dependencies> = self
            .units
            .keys()
            .map(|name| {
                let deps = self.deps.depends_on(name).cloned().unwrap_or_default();
                (name.clone(), deps)
            })
            .collect();
        stop_order(&known)
            .into_iter()
            .filter_map(|(name, waits_for)| {
                let unit = self.units.get(&name)?.clone();
                let waits = waits_for
                    .iter()
                    .filter_map(|name| self.units.get(name).cloned())
                    .collect();
                Some((unit, waits))
            })
            .collect()
    }
}

impl Handler<UnitEvent> for Registry {
    type Result = ();

    fn handle(&mut self, event: UnitEvent, _: &mut Context<Self>) {
        let notices = self.deps.observe(&event);
        self.deliver(notices);
    }
}

/// Runs `stop` for every unit of `order` (as [`Registry`]'s stop order gives
/// it: dependents first), each as soon as the stops of its dependents are
/// done, all others at once; returns when every stop is done.
pub async fn stop_in_order<K, F, Fut>(order: Vec<(K, Vec<K>)>, stop: F)
where
    K: Clone + Eq + std::hash::Hash + Send + 'static,
    F: Fn(K) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut stops: HashMap<K, Shared<BoxFuture<'static, ()>>> = HashMap::new();
    for (unit, waits_for) in order {
        let before: Vec<_> = waits_for
            .iter()
            .filter_map(|dependent| stops.get(dependent).cloned())
            .collect();
        let stopping = stop(unit.clone());
        let this = async move {
            join_all(before).await;
            stopping.await;
        }
        .boxed()
        .shared();
        stops.insert(unit, this);
    }
    join_all(stops.into_values()).await;
}
