//! Dependencies seen from the registry, which sees every unit: the latest
//! state of each unit, the readiness of each dependent (a pure function of
//! those states), and the restarts that `restart = true` passes on.

use std::collections::{BTreeSet, HashMap};

use crate::engine::Health;
use crate::spec::{Condition, Dependencies};
use crate::unit::{Readiness, UnitEvent, UnitState};

/// What the registry last heard of one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Its state.
    pub state: UnitState,
    /// Its health while it runs with a check.
    pub health: Option<Health>,
    /// Exit code of its last run.
    pub exit_code: Option<i64>,
    /// Why it is in that state.
    pub reason: Option<String>,
    /// How many times it entered `running`.
    pub runs: u32,
}

/// Whether `depends_on`'s conditions hold, given what is known of each unit.
/// Waiting lists every unmet condition, in name order.
pub fn readiness(depends_on: &Dependencies, seen: &HashMap<String, Seen>) -> Readiness {
    let unmet: Vec<String> = depends_on
        .iter()
        .filter_map(|(name, dependency)| {
            let why = unmet(name, dependency.condition, seen.get(name))?;
            Some(format!("{name} ({}): {why}", dependency.condition))
        })
        .collect();
    if unmet.is_empty() {
        Readiness::Ready
    } else {
        Readiness::Waiting(unmet.join("; "))
    }
}

/// Why `condition` does not hold for unit `name`, or `None` when it does.
fn unmet(name: &str, condition: Condition, seen: Option<&Seen>) -> Option<String> {
    let Some(seen) = seen else {
        return Some(format!("{name} is not declared yet"));
    };
    let state = seen.state;
    let running = state == UnitState::Running;
    let holds = match condition {
        Condition::Started => running,
        Condition::Healthy => running && seen.health == Some(Health::Healthy),
        Condition::Completed => state == UnitState::Exited && seen.exit_code == Some(0),
    };
    if holds {
        return None;
    }
    Some(match (condition, state) {
        (Condition::Healthy, UnitState::Running) => match seen.health {
            Some(health) => format!("{name} is {health}"),
            None => format!("{name} runs; no health verdict yet"),
        },
        (Condition::Completed, UnitState::Exited) => match seen.exit_code {
            Some(code) => format!("{name} exited with code {code}, not 0"),
            None => format!("{name} exited"),
        },
        (Condition::Completed, UnitState::Running) => format!("{name} is still running"),
        (_, UnitState::Failed) => match &seen.reason {
            Some(reason) => format!("{name} failed: {reason}"),
            None => format!("{name} failed"),
        },
        (_, state) => format!("{name} is {state}"),
    })
}

/// The dependency side of the registry: who depends on whom, what each
/// unit was last seen doing and what each dependent was last told.
#[derive(Debug, Default)]
pub struct Tracker {
    depends_on: HashMap<String, Dependencies>,
    dependents: HashMap<String, BTreeSet<String>>,
    seen: HashMap<String, Seen>,
    told: HashMap<String, Readiness>,
}

/// What a dependent must be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Its readiness changed.
    Readiness(String, Readiness),
    /// A dependency it restarts with restarted.
    Restarted {
        /// The dependent.
        unit: String,
        /// The dependency.
        dependency: String,
    },
}

impl Tracker {
    /// Declares (or re-declares) `unit`'s dependencies; returns its readiness now.
    pub fn declare(&mut self, unit: &str, depends_on: Dependencies) -> Readiness {
        self.forget_edges(unit);
        for name in depends_on.keys() {
            self.dependents
                .entry(name.clone())
                .or_default()
                .insert(unit.to_string());
        }
        let now = readiness(&depends_on, &self.seen);
        self.depends_on.insert(unit.to_string(), depends_on);
        self.told.insert(unit.to_string(), now.clone());
        now
    }

    /// The dependencies declared for `unit`.
    pub fn depends_on(&self, unit: &str) -> Option<&Dependencies> {
        self.depends_on.get(unit)
    }

    /// Every unit's declared dependencies.
    pub fn all(&self) -> &HashMap<String, Dependencies> {
        &self.depends_on
    }

    /// `unit` is gone: its dependents wait for it again.
    pub fn remove(&mut self, unit: &str) -> Vec<Notice> {
        self.forget_edges(unit);
        self.depends_on.remove(unit);
        self.told.remove(unit);
        self.seen.remove(unit);
        self.recheck(unit, false)
    }

    /// Takes one unit event; returns what its dependents must be told, each
    /// readiness before any restart, so a restarted dependent waits for the
    /// condition again.
    pub fn observe(&mut self, event: &UnitEvent) -> Vec<Notice> {
        if !self.depends_on.contains_key(&event.unit) {
            // A unit already forgotten (its last events trail its removal):
            // its dependents wait for it as undeclared, not as `removed`.
            return Vec::new();
        }
        let previous = self.seen.get(&event.unit);
        let was_running = previous.is_some_and(|seen| seen.state == UnitState::Running);
        let runs_before = previous.map_or(0, |seen| seen.runs);
        let entered_running = event.state == UnitState::Running && !was_running;
        let seen = Seen {
            state: event.state,
            health: event.health,
            exit_code: event.exit_code,
            reason: event.reason.clone(),
            runs: runs_before + u32::from(entered_running),
        };
        self.seen.insert(event.unit.clone(), seen);
        self.recheck(&event.unit, entered_running && runs_before > 0)
    }

    fn recheck(&mut self, unit: &str, restarted: bool) -> Vec<Notice> {
        let Some(dependents) = self.dependents.get(unit) else {
            return Vec::new();
        };
        let mut notices = Vec::new();
        for dependent in dependents {
            let Some(depends_on) = self.depends_on.get(dependent) else {
                continue;
            };
            let now = readiness(depends_on, &self.seen);
            if self.told.get(dependent) != Some(&now) {
                self.told.insert(dependent.clone(), now.clone());
                notices.push(Notice::Readiness(dependent.clone(), now));
            }
        }
        if restarted {
            for dependent in dependents {
                let restarts = self
                    .depends_on
                    .get(dependent)
                    .and_then(|deps| deps.get(unit))
                    .is_some_and(|dependency| dependency.restart);
                if restarts {
                    notices.push(Notice::Restarted {
                        unit: dependent.clone(),
                        dependency: unit.to_string(),
                    });
                }
            }
        }
        notices
    }

    fn forget_edges(&mut self, unit: &str) {
        if let Some(old) = self.depends_on.get(unit) {
            for name in old.keys() {
                if let Some(set) = self.dependents.get_mut(name) {
                    set.remove(unit);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Dependency;
    use std::time::SystemTime;

    fn event(unit: &str, state: UnitState, health: Option<Health>, exit: Option<i64>) -> UnitEvent {
        UnitEvent {
            namespace: "ns".into(),
            unit: unit.into(),
            state,
            container_id: None,
            restart_count: 0,
            exit_code: exit,
            reason: None,
            health,
            delay: None,
            at: SystemTime::UNIX_EPOCH,
        }
    }

    fn deps(list: &[(&str, Condition, bool)]) -> Dependencies {
        list.iter()
            .map(|(name, condition, restart)| {
                (
                    name.to_string(),
                    Dependency::new(*condition).restart(*restart),
                )
            })
            .collect()
    }

    fn seen(state: UnitState, health: Option<Health>, exit: Option<i64>) -> Seen {
        Seen {
            state,
            health,
            exit_code: exit,
            reason: Some("restart limit reached".into()),
            runs: 1,
        }
    }

    #[test]
    fn each_condition_holds_only_in_its_state() {
        use UnitState::*;
        #[rustfmt::skip]
        let table = [
            (Condition::Started, seen(Running, None, None), None),
            (Condition::Started, seen(Creating, None, None), Some("db is creating")),
            (Condition::Healthy, seen(Running, Some(Health::Healthy), None), None),
            (Condition::Healthy, seen(Running, Some(Health::Starting), None), Some("db is starting")),
            (Condition::Healthy, seen(Running, None, None), Some("db runs; no health verdict yet")),
            (Condition::Completed, seen(Exited, None, Some(0)), None),
            (Condition::Completed, seen(Exited, None, Some(1)), Some("db exited with code 1, not 0")),
            (Condition::Completed, seen(Running, None, None), Some("db is still running")),
            (Condition::Started, seen(Failed, None, Some(1)), Some("db failed: restart limit reached")),
        ];
        for (condition, state, expected) in table {
            assert_eq!(
                unmet("db", condition, Some(&state)).as_deref(),
                expected,
                "{condition} {state:?}"
            );
        }
        assert_eq!(
            unmet("db", Condition::Started, None).as_deref(),
            Some("db is not declared yet")
        );
    }

    #[test]
    fn a_dependent_is_told_only_when_its_readiness_changes() {
        let mut tracker = Tracker::default();
        let first = tracker.declare("web", deps(&[("db", Condition::Healthy, false)]));
        assert_eq!(
            first,
            Readiness::Waiting("db (healthy): db is not declared yet".into())
        );
        tracker.declare("db", Dependencies::new());
        let running = tracker.observe(&event(
            "db",
            UnitState::Running,
            Some(Health::Starting),
            None,
        ));
        assert_eq!(
            running,
            [Notice::Readiness(
                "web".into(),
                Readiness::Waiting("db (healthy): db is starting".into())
            )]
        );
        let healthy = tracker.observe(&event(
            "db",
            UnitState::Running,
            Some(Health::Healthy),
            None,
        ));
        assert_eq!(healthy, [Notice::Readiness("web".into(), Readiness::Ready)]);
        let again = tracker.observe(&event(
            "db",
            UnitState::Running,
            Some(Health::Healthy),
            None,
        ));
        assert!(again.is_empty());
    }

    #[test]
    fn a_restart_of_a_dependency_is_passed_on_only_with_restart_true_and_after_readiness() {
        let mut tracker = Tracker::default();
        tracker.declare("web", deps(&[("db", Condition::Started, true)]));
        tracker.declare("worker", deps(&[("db", Condition::Started, false)]));
        tracker.declare("db", Dependencies::new());
        tracker.observe(&event("db", UnitState::Running, None, None));
        tracker.observe(&event("db", UnitState::BackingOff, None, Some(137)));
        let back = tracker.observe(&event("db", UnitState::Running, None, None));
        assert_eq!(
            back,
            [
                Notice::Readiness("web".into(), Readiness::Ready),
                Notice::Readiness("worker".into(), Readiness::Ready),
                Notice::Restarted {
                    unit: "web".into(),
                    dependency: "db".into()
                },
            ]
        );
    }

    #[test]
    fn the_first_start_of_a_dependency_is_not_a_restart() {
        let mut tracker = Tracker::default();
        tracker.declare("web", deps(&[("db", Condition::Started, true)]));
        tracker.declare("db", Dependencies::new());
        tracker.observe(&event("db", UnitState::Creating, None, None));
        let first = tracker.observe(&event("db", UnitState::Running, None, None));
        assert_eq!(first, [Notice::Readiness("web".into(), Readiness::Ready)]);
    }

    #[test]
    fn a_removed_dependency_makes_its_dependents_wait_again() {
        let mut tracker = Tracker::default();
        tracker.declare("web", deps(&[("db", Condition::Started, false)]));
        tracker.declare("db", Dependencies::new());
        tracker.observe(&event("db", UnitState::Running, None, None));
        assert_eq!(
            tracker.remove("db"),
            [Notice::Readiness(
                "web".into(),
                Readiness::Waiting("db (started): db is not declared yet".into())
            )]
        );
        let trailing = tracker.observe(&event("db", UnitState::Removed, None, None));
        assert!(
            trailing.is_empty(),
            "a forgotten unit's last events change nothing"
        );
    }
}
