//! The dependency graph of a namespace's units: names that are not declared,
//! cycles (named in full), `healthy` on a unit with no check, and the order
//! in which units stop (dependents before what they depend on).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use super::{Condition, Dependencies, UnitSpec};

/// Whether a dependency on a unit not in the set is a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undeclared {
    /// A manifest declares every unit at once: a missing one is a mistake.
    Refused,
    /// Units added one by one: a dependent added first waits for its dependency.
    Allowed,
}

/// One problem of a dependency graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphProblem {
    /// `unit` depends on a unit that is not declared.
    Undeclared {
        /// The dependent.
        unit: String,
        /// The name it depends on.
        dependency: String,
    },
    /// The units depend on each other in a ring: `path` starts and ends
    /// with the same unit (`a -> b -> c -> a`).
    Cycle {
        /// The ring, in dependency order.
        path: Vec<String>,
    },
    /// `unit` waits for `dependency` to be healthy, but that unit turns its
    /// health check off.
    NoHealthCheck {
        /// The dependent.
        unit: String,
        /// The unit without a check.
        dependency: String,
    },
}

impl GraphProblem {
    /// The unit the problem is reported at, and the dependency it is about.
    pub fn location(&self) -> (&str, &str) {
        match self {
            GraphProblem::Undeclared { unit, dependency }
            | GraphProblem::NoHealthCheck { unit, dependency } => (unit, dependency),
            GraphProblem::Cycle { path } => (&path[0], &path[1]),
        }
    }
}

impl fmt::Display for GraphProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphProblem::Undeclared { dependency, .. } => {
                write!(f, "{dependency:?} is not a unit of this namespace")
            }
            GraphProblem::Cycle { path } => {
                write!(f, "dependency cycle {}", path.join(" -> "))
            }
            GraphProblem::NoHealthCheck { dependency, .. } => write!(
                f,
                "waits for {dependency:?} to be healthy, but {dependency:?} has its health check disabled"
            ),
        }
    }
}

/// Every problem of the graph `specs` make, in declaration order; each
/// cycle once.
pub fn problems(specs: &[&UnitSpec], undeclared: Undeclared) -> Vec<GraphProblem> {
    let by_name: HashMap<&str, &UnitSpec> = specs
        .iter()
        .map(|spec| (spec.name.as_str(), *spec))
        .collect();
    let mut problems = Vec::new();
    for spec in specs {
        for (name, dependency) in &spec.depends_on {
            match by_name.get(name.as_str()) {
                None if undeclared == Undeclared::Refused => {
                    problems.push(GraphProblem::Undeclared {
                        unit: spec.name.clone(),
                        dependency: name.clone(),
                    })
                }
                Some(other)
                    if dependency.condition == Condition::Healthy
                        && other.declares_check() == Some(false) =>
                {
                    problems.push(GraphProblem::NoHealthCheck {
                        unit: spec.name.clone(),
                        dependency: name.clone(),
                    })
                }
                _ => {}
            }
        }
    }
    problems.extend(
        cycles(specs)
            .into_iter()
            .map(|path| GraphProblem::Cycle { path }),
    );
    problems
}

/// The cycles of the graph, each once, each starting at the unit of it
/// declared first.
fn cycles(specs: &[&UnitSpec]) -> Vec<Vec<String>> {
    let units: Vec<(&str, &Dependencies)> = specs
        .iter()
        .map(|spec| (spec.name.as_str(), &spec.depends_on))
        .collect();
    cycles_among(&units)
}

/// The cycles among `units` (name, dependencies) in declaration order, each
/// once, starting at its earliest-declared unit and ending where it started.
pub fn cycles_among(units: &[(&str, &Dependencies)]) -> Vec<Vec<String>> {
    let order: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(index, (name, _))| (*name, index))
        .collect();
    let edges: HashMap<&str, Vec<&str>> = units
        .iter()
        .map(|(name, depends_on)| {
            let deps = depends_on
                .keys()
                .map(String::as_str)
                .filter(|name| order.contains_key(name))
                .collect();
            (*name, deps)
        })
        .collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut cycles = Vec::new();
    for (name, _) in units {
        let mut path: Vec<&str> = Vec::new();
        walk(
            name,
            &edges,
            &mut path,
            &mut done,
            &mut |ring: &[&str]| {
                // Start the ring at its earliest-declared unit, so each is reported once.
                let start = (0..ring.len()).min_by_key(|&i| order[ring[i]]).unwrap_or(0);
                let mut rotated: Vec<String> = ring[start..]
                    .iter()
                    .chain(&ring[..start])
                    .map(|name| name.to_string())
                    .collect();
                rotated.push(rotated[0].clone());
                if found.insert(rotated.clone()) {
                    cycles.push(rotated);
                }
            },
        );
    }
    cycles
}

/// The order in which to stop `units` so that every dependent stops before
/// what it depends on; each unit with the dependents it must wait for.
/// Units in a cycle (which validation refuses) wait for nobody.
pub fn stop_order(units: &HashMap<String, Dependencies>) -> Vec<(String, Vec<String>)> {
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for (name, depends_on) in units {
        for dependency in depends_on.keys().filter(|d| units.contains_key(*d)) {
            dependents.entry(dependency).or_default().push(name);
        }
    }
    // Kahn's algorithm over "is depended on by": a unit is ready to stop
    // once every dependent is in the order.
    let mut waiting: HashMap<&str, usize> = units
        .keys()
        .map(|name| {
            (
                name.as_str(),
                dependents.get(name.as_str()).map_or(0, Vec::len),
            )
        })
        .collect();
    let mut ready: Vec<&str> = waiting
        .iter()
        .filter(|(_, count)| **count == 0)
        .map(|(name, _)| *name)
        .collect();
    ready.sort_unstable();
    let mut order = Vec::new();
    while let Some(name) = ready.pop() {
        waiting.remove(name);
        let mut waits_for: Vec<String> = dependents
            .get(name)
            .into_iter()
            .flatten()
            .map(|d| d.to_string())
            .collect();
        waits_for.sort();
        order.push((name.to_string(), waits_for));
        for dependency in units[name].keys() {
            if let Some(count) = waiting.get_mut(dependency.as_str()) {
                *count -= 1;
                if *count == 0 {
                    ready.push(dependency);
                }
            }
        }
    }
    let mut left: Vec<&str> = waiting.into_keys().collect();
    left.sort_unstable();
    order.extend(left.into_iter().map(|name| (name.to_string(), Vec::new())));
    order
}

/// Depth-first walk from `name`; `on_ring` gets each ring met on the way.
fn walk<'a>(
    name: &'a str,
    edges: &HashMap<&'a str, Vec<&'a str>>,
    path: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
    on_ring: &mut dyn FnMut(&[&str]),
) {
    if let Some(at) = path.iter().position(|on_path| *on_path == name) {
        on_ring(&path[at..]);
        return;
    }
    if done.contains(name) {
        return;
    }
    path.push(name);
    for next in edges.get(name).into_iter().flatten() {
        walk(next, edges, path, done, on_ring);
    }
    path.pop();
    done.insert(name);
}

/// For each unit, the units that depend on it (its dependents), sorted.
pub fn dependents(specs: &[&UnitSpec]) -> BTreeMap<String, Vec<String>> {
    let mut dependents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for spec in specs {
        for name in spec.depends_on.keys() {
            dependents
                .entry(name.clone())
                .or_default()
                .push(spec.name.clone());
        }
    }
    for list in dependents.values_mut() {
        list.sort();
    }
    dependents
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::HealthCheck;

    fn unit(name: &str, deps: &[&str]) -> UnitSpec {
        deps.iter()
            .fold(UnitSpec::new(name, "busybox"), |spec, dep| {
                spec.depends_on(*dep, Condition::Started)
            })
    }

    fn texts(specs: &[UnitSpec], undeclared: Undeclared) -> Vec<String> {
        let refs: Vec<&UnitSpec> = specs.iter().collect();
        problems(&refs, undeclared)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn graph_problems_are_named_in_full() {
        #[rustfmt::skip]
        let table: Vec<(Vec<UnitSpec>, Vec<&str>)> = vec![
            (vec![unit("a", &[]), unit("b", &["a"])], vec![]),
            (vec![unit("a", &["ghost"])], vec!["\"ghost\" is not a unit of this namespace"]),
            (vec![unit("a", &["b"]), unit("b", &["a"])], vec!["dependency cycle a -> b -> a"]),
            (
                vec![unit("a", &["b"]), unit("b", &["c"]), unit("c", &["a"])],
                vec!["dependency cycle a -> b -> c -> a"],
            ),
            (
                vec![unit("x", &[]), unit("c", &["a"]), unit("a", &["b"]), unit("b", &["c"])],
                vec!["dependency cycle c -> a -> b -> c"],
            ),
            (
                vec![unit("a", &["b", "c"]), unit("b", &["a"]), unit("c", &["a"])],
                vec!["dependency cycle a -> b -> a", "dependency cycle a -> c -> a"],
            ),
            (
                vec![unit("top", &["l", "r"]), unit("l", &["base"]), unit("r", &["base"]), unit("base", &[])],
                vec![],
            ),
        ];
        for (specs, expected) in table {
            assert_eq!(texts(&specs, Undeclared::Refused), expected, "{specs:?}");
        }
    }

    #[test]
    fn a_unit_added_before_its_dependency_is_no_problem_one_by_one() {
        assert!(texts(&[unit("a", &["ghost"])], Undeclared::Allowed).is_empty());
        assert_eq!(
            texts(&[unit("a", &["b"]), unit("b", &["a"])], Undeclared::Allowed),
            ["dependency cycle a -> b -> a"]
        );
    }

    #[test]
    fn healthy_on_a_unit_whose_check_is_off_is_a_problem() {
        let db = UnitSpec::new("db", "busybox").healthcheck(HealthCheck::disabled());
        let web = UnitSpec::new("web", "busybox").depends_on("db", Condition::Healthy);
        assert_eq!(
            texts(&[db.clone(), web.clone()], Undeclared::Refused),
            ["waits for \"db\" to be healthy, but \"db\" has its health check disabled"]
        );
        let checked = db.healthcheck(HealthCheck::exec(["true"]));
        assert!(texts(&[checked, web], Undeclared::Refused).is_empty());
    }

    #[test]
    fn dependents_stop_before_what_they_depend_on() {
        let specs = [
            unit("db", &[]),
            unit("cache", &[]),
            unit("api", &["db", "cache"]),
            unit("web", &["api"]),
            unit("worker", &["db"]),
        ];
        let units: HashMap<String, Dependencies> = specs
            .iter()
            .map(|spec| (spec.name.clone(), spec.depends_on.clone()))
            .collect();
        let order = stop_order(&units);
        let position = |name: &str| order.iter().position(|(n, _)| n == name).unwrap();
        for (dependent, dependency) in [
            ("web", "api"),
            ("api", "db"),
            ("api", "cache"),
            ("worker", "db"),
        ] {
            assert!(position(dependent) < position(dependency), "{order:?}");
        }
        let waits = |name: &str| order[position(name)].1.clone();
        assert_eq!(waits("db"), ["api", "worker"]);
        assert_eq!(waits("web"), Vec::<String>::new());
        assert_eq!(order.len(), 5);
    }

    #[test]
    fn dependents_are_listed_per_dependency() {
        let specs = [unit("web", &["db", "cache"]), unit("worker", &["db"])];
        let refs: Vec<&UnitSpec> = specs.iter().collect();
        let map = dependents(&refs);
        assert_eq!(map["db"], ["web", "worker"]);
        assert_eq!(map["cache"], ["web"]);
    }
}
