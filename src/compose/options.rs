//! A service's less common keys (entrypoint, user, capabilities, DNS,
//! ulimits, logging, network_mode, deploy…) as the unit's container options.

use std::collections::BTreeMap;

use super::services::Walk;
use super::yaml::{Kind, Node};
use crate::RestartPolicy;
use crate::spec::text::{parse_duration, parse_size};
use crate::spec::{Condition, Dependency, Logging, Ulimit, UnitSpec};

impl Walk<'_> {
    /// One string, or a list of strings (numbers taken as written).
    pub(super) fn strings(&mut self, node: &Node, unit: &str, field: &str) -> Vec<String> {
        match &node.kind {
            Kind::List(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.text(item, Some(unit), &format!("{field}[{i}]")))
                .collect(),
            Kind::Null => Vec::new(),
            _ => self.text(node, Some(unit), field).into_iter().collect(),
        }
    }

    /// Reads `field` into `spec` when it is one of [`OPTION_KEYS`]; false
    /// when it is not.
    pub(super) fn option(
        &mut self,
        field: &str,
        node: &Node,
        unit: &str,
        spec: &mut UnitSpec,
    ) -> bool {
        // Keys that reach beyond the options are read first.
        match field {
            "network_mode" => {
                spec.options.network_mode = self.namespace_mode(node, unit, field, spec);
                return true;
            }
            "ipc" => {
                spec.options.ipc = self.namespace_mode(node, unit, field, spec);
                return true;
            }
            "pid" => {
                spec.options.pid = self.namespace_mode(node, unit, field, spec);
                return true;
            }
            "links" => {
                self.links(node, unit, spec);
                return true;
            }
            "mem_swappiness" => {
                spec.swappiness = self.parsed(node, unit, field, |t| {
                    t.parse::<i64>()
                        .map_err(|_| format!("{t:?} is not a swappiness (0-100)"))
                });
                return true;
            }
            "deploy" => {
                self.deploy(node, unit, spec);
                return true;
            }
            _ => {}
        }
        let options = &mut spec.options;
        match field {
            "entrypoint" => options.entrypoint = self.words(node, unit, field),
            "user" => options.user = self.text(node, Some(unit), field),
            "working_dir" => {
                options.working_dir = self.text(node, Some(unit), field).map(Into::into)
            }
            "hostname" => options.hostname = self.text(node, Some(unit), field),
            "domainname" => options.domainname = self.text(node, Some(unit), field),
            "platform" => options.platform = self.text(node, Some(unit), field),
            "init" => options.init = self.flag(node, Some(unit), field),
            "privileged" => {
                options.privileged = self.flag(node, Some(unit), field).unwrap_or(false)
            }
            "read_only" => options.read_only = self.flag(node, Some(unit), field).unwrap_or(false),
            "cap_add" => options.cap_add = self.strings(node, unit, field),
            "cap_drop" => options.cap_drop = self.strings(node, unit, field),
            "security_opt" => options.security_opt = self.strings(node, unit, field),
            "dns" => options.dns = self.strings(node, unit, field),
            "dns_search" => options.dns_search = self.strings(node, unit, field),
            "dns_opt" => options.dns_opt = self.strings(node, unit, field),
            "group_add" => options.group_add = self.strings(node, unit, field),
            "expose" => options.expose = self.strings(node, unit, field),
            "sysctls" => options.sysctls = self.pairs(node, unit, field),
            "devices" => options.devices = self.devices(node, unit),
            "ulimits" => options.ulimits = self.ulimits(node, unit),
            "extra_hosts" => options.extra_hosts = self.extra_hosts(node, unit),
            "logging" => options.logging = self.logging(node, unit),
            "shm_size" => options.shm_size = self.parsed(node, unit, field, parse_size),
            "mem_reservation" => {
                options.memory_reservation = self.parsed(node, unit, field, parse_size)
            }
            "memswap_limit" => {
                options.memory_swap = self.parsed(node, unit, field, |t| match t {
                    "-1" => Ok(-1),
                    _ => parse_size(t).map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
                })
            }
            "cpus" => options.cpus = self.parsed(node, unit, field, cpus),
            "pids_limit" => {
                options.pids_limit = self.parsed(node, unit, field, |t| {
                    t.parse::<i64>()
                        .map_err(|_| format!("{t:?} is not a number of processes"))
                })
            }
            "container_name" => {
                if let Some(name) = self.text(node, Some(unit), field) {
                    let message = format!(
                        "the container is named {} (stevedore finds its containers by that name); {name:?} is a DNS name on its networks instead",
                        crate::labels::container_name(&self.project.name, unit)
                    );
                    self.warn(node.at, Some(unit), Some(field), message);
                    self.project.aliases.insert(unit.to_string(), name);
                }
            }
            "pull_policy" => {
                if let Some(policy) = self.text(node, Some(unit), field) {
                    // `build` is what a service with `build:` does anyway.
                    match policy.as_str() {
                        "build" => {}
                        word => match word.parse() {
                            Ok(policy) => spec.options.pull_policy = policy,
                            Err(message) => self.problem(node.at, Some(unit), Some(field), message),
                        },
                    }
                }
            }
            "userns_mode" => options.userns_mode = self.text(node, Some(unit), field),
            "uts" => options.uts = self.text(node, Some(unit), field),
            "cgroup_parent" => options.cgroup_parent = self.text(node, Some(unit), field),
            "cpuset" => options.cpuset = self.text(node, Some(unit), field),
            "runtime" => options.runtime = self.text(node, Some(unit), field),
            "oom_kill_disable" => {
                options.oom_kill_disable = self.flag(node, Some(unit), field).unwrap_or(false)
            }
            "oom_score_adj" => options.oom_score_adj = self.parsed(node, unit, field, integer),
            "cpu_quota" => options.cpu_quota = self.parsed(node, unit, field, microseconds),
            "cpu_period" => options.cpu_period = self.parsed(node, unit, field, microseconds),
            "cpu_rt_runtime" => {
                options.cpu_rt_runtime = self.parsed(node, unit, field, microseconds)
            }
            "cpu_rt_period" => options.cpu_rt_period = self.parsed(node, unit, field, microseconds),
            "storage_opt" => options.storage_opt = self.pairs(node, unit, field),
            "device_cgroup_rules" => options.device_cgroup_rules = self.strings(node, unit, field),
            _ => return false,
        }
        true
    }

    /// A namespace mode (`network_mode`, `ipc`, `pid`): `service:NAME` is
    /// that service's container, which then starts first.
    fn namespace_mode(
        &mut self,
        node: &Node,
        unit: &str,
        field: &str,
        spec: &mut UnitSpec,
    ) -> Option<String> {
        let mode = self.text(node, Some(unit), field)?;
        Some(match mode.strip_prefix("service:") {
            Some(other) => {
                spec.depends_on
                    .entry(other.to_string())
                    .or_insert_with(|| Dependency::new(Condition::Started));
                let container = crate::labels::container_name(&self.project.name, other);
                format!("container:{container}")
            }
            None => mode,
        })
    }

    /// `links`: `SERVICE[:ALIAS]`, that service's container under the
    /// alias (its name by default), which then starts first.
    fn links(&mut self, node: &Node, unit: &str, spec: &mut UnitSpec) {
        for link in self.strings(node, unit, "links") {
            let (other, alias) = link.split_once(':').unwrap_or((&link, &link));
            spec.depends_on
                .entry(other.to_string())
                .or_insert_with(|| Dependency::new(Condition::Started));
            let container = crate::labels::container_name(&self.project.name, other);
            spec.options.links.push(format!("{container}:{alias}"));
        }
    }

    fn devices(&mut self, node: &Node, unit: &str) -> Vec<String> {
        let Kind::List(items) = &node.kind else {
            self.problem(node.at, Some(unit), Some("devices"), "expected a list");
            return Vec::new();
        };
        let mut devices = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = format!("devices[{i}]");
            match &item.kind {
                Kind::Map(_) => {
                    let read = |walk: &mut Self, key: &str| {
                        item.get(key).and_then(|n| walk.text(n, Some(unit), &field))
                    };
                    let Some(source) = read(self, "source") else {
                        self.problem(item.at, Some(unit), Some(&field), "source is missing");
                        continue;
                    };
                    let target = read(self, "target").unwrap_or_else(|| source.clone());
                    let permissions = read(self, "permissions").unwrap_or_else(|| "rwm".into());
                    devices.push(format!("{source}:{target}:{permissions}"));
                }
                _ => devices.extend(self.text(item, Some(unit), &field)),
            }
        }
        devices
    }

    fn ulimits(&mut self, node: &Node, unit: &str) -> BTreeMap<String, Ulimit> {
        let Kind::Map(entries) = &node.kind else {
            self.problem(node.at, Some(unit), Some("ulimits"), "expected a mapping");
            return BTreeMap::new();
        };
        let mut limits = BTreeMap::new();
        for (key, value) in entries {
            let field = format!("ulimits.{}", key.text);
            let number = |walk: &mut Self, node: &Node, field: &str| {
                walk.parsed(node, unit, field, |t| {
                    t.parse::<i64>()
                        .map_err(|_| format!("{t:?} is not a limit"))
                })
            };
            let limit = match &value.kind {
                Kind::Map(_) => {
                    let soft = value
                        .get("soft")
                        .and_then(|n| number(self, n, &format!("{field}.soft")));
                    let hard = value
                        .get("hard")
                        .and_then(|n| number(self, n, &format!("{field}.hard")));
                    match (soft, hard) {
                        (Some(soft), Some(hard)) => Ulimit { soft, hard },
                        _ => {
                            self.problem(value.at, Some(unit), Some(&field), "needs soft and hard");
                            continue;
                        }
                    }
                }
                _ => match number(self, value, &field) {
                    Some(both) => Ulimit {
                        soft: both,
                        hard: both,
                    },
                    None => continue,
                },
            };
            limits.insert(key.text.clone(), limit);
        }
        limits
    }

    /// `HOST:IP`, `HOST=IP` (compose's newer form) or a mapping, as `HOST:IP`.
    fn extra_hosts(&mut self, node: &Node, unit: &str) -> Vec<String> {
        match &node.kind {
            Kind::Map(_) => {
                let pairs = self.pairs(node, unit, "extra_hosts");
                pairs
                    .into_iter()
                    .map(|(host, ip)| format!("{host}:{ip}"))
                    .collect()
            }
            _ => self
                .strings(node, unit, "extra_hosts")
                .into_iter()
                .map(|line| match line.split_once('=') {
                    Some((host, ip)) => format!("{host}:{ip}"),
                    None => line,
                })
                .collect(),
        }
    }

    fn logging(&mut self, node: &Node, unit: &str) -> Option<Logging> {
        let Kind::Map(entries) = &node.kind else {
            self.problem(node.at, Some(unit), Some("logging"), "expected a mapping");
            return None;
        };
        let mut logging = Logging::default();
        for (key, value) in entries {
            let field = format!("logging.{}", key.text);
            match key.text.as_str() {
                "driver" => logging.driver = self.text(value, Some(unit), &field),
                "options" => logging.options = self.pairs(value, unit, &field),
                k if k.starts_with("x-") => {}
                _ => self.problem(
                    key.at,
                    Some(unit),
                    Some(&field),
                    "is not a logging key (driver, options)",
                ),
            }
        }
        Some(logging)
    }

    /// `deploy:` without swarm, as compose runs it: resource limits and the
    /// restart policy; what only a swarm does is a warning.
    fn deploy(&mut self, node: &Node, unit: &str, spec: &mut UnitSpec) {
        let Kind::Map(entries) = &node.kind else {
            self.problem(node.at, Some(unit), Some("deploy"), "expected a mapping");
            return;
        };
        for (key, value) in entries {
            let field = format!("deploy.{}", key.text);
            match key.text.as_str() {
                "resources" => self.resources(value, unit, spec),
                "restart_policy" => self.restart_policy(value, unit, spec),
                "replicas" => {
                    if self.text(value, Some(unit), &field).as_deref() != Some("1") {
                        self.problem(value.at, Some(unit), Some(&field), "only 1 is carried out: a unit is one container");
                    }
                }
                "mode" | "placement" | "update_config" | "rollback_config" | "endpoint_mode" | "labels" => {
                    self.warn(key.at, Some(unit), Some(&field), "is for a swarm; ignored, as compose ignores it without one")
                }
                k if k.starts_with("x-") => {}
                _ => self.problem(key.at, Some(unit), Some(&field), "is not a deploy key stevedore carries out (resources, restart_policy, replicas: 1)"),
            }
        }
    }

    fn resources(&mut self, node: &Node, unit: &str, spec: &mut UnitSpec) {
        for (section, at) in [("limits", true), ("reservations", false)] {
            let Some(values) = node.get(section) else {
                continue;
            };
            let Kind::Map(entries) = &values.kind else {
                continue;
            };
            for (key, value) in entries {
                let field = format!("deploy.resources.{section}.{}", key.text);
                match (key.text.as_str(), at) {
                    ("memory", true) => spec.memory = self.parsed(value, unit, &field, parse_size),
                    ("memory", false) => spec.options.memory_reservation = self.parsed(value, unit, &field, parse_size),
                    ("cpus", true) => spec.options.cpus = self.parsed(value, unit, &field, cpus),
                    ("pids", true) => {
                        spec.options.pids_limit = self.parsed(value, unit, &field, |t| {
                            t.parse::<i64>().map_err(|_| format!("{t:?} is not a number of processes"))
                        })
                    }
                    ("cpus", false) => self.warn(key.at, Some(unit), Some(&field), "a CPU reservation is for a swarm's scheduler; ignored"),
                    _ => self.problem(key.at, Some(unit), Some(&field), "is not carried out by stevedore (limits: memory, cpus, pids; reservations: memory)"),
                }
            }
        }
    }

    /// `deploy.restart_policy`: the condition and attempts as the restart
    /// policy, `delay` as the backoff's first delay, `window` as the
    /// intensity window its `max_attempts` count in.
    fn restart_policy(&mut self, node: &Node, unit: &str, spec: &mut UnitSpec) {
        let field = "deploy.restart_policy";
        let attempts = node.get("max_attempts").and_then(|n| {
            self.parsed(n, unit, &format!("{field}.max_attempts"), |t| {
                t.parse::<u32>()
                    .map_err(|_| format!("{t:?} is not a number of attempts"))
            })
        });
        let condition = node
            .get("condition")
            .and_then(|n| self.text(n, Some(unit), &format!("{field}.condition")));
        spec.restart = match condition.as_deref() {
            None | Some("any") => RestartPolicy::Always,
            Some("on-failure") => RestartPolicy::OnFailure {
                max_retries: attempts,
            },
            Some("none") => RestartPolicy::No,
            Some(other) => {
                let at = node.get("condition").map_or(node.at, |n| n.at);
                self.problem(
                    at,
                    Some(unit),
                    Some(&format!("{field}.condition")),
                    format!("{other:?} is not none, on-failure or any"),
                );
                spec.restart
            }
        };
        if let Some(delay) = node
            .get("delay")
            .and_then(|n| self.parsed(n, unit, &format!("{field}.delay"), parse_duration))
        {
            spec.backoff.initial = delay;
        }
        if let Some(window) = node
            .get("window")
            .and_then(|n| self.parsed(n, unit, &format!("{field}.window"), parse_duration))
        {
            spec.intensity.within = window;
            if let Some(attempts) = attempts {
                spec.intensity.max_restarts = attempts;
            }
        }
    }
}

/// A whole number.
fn integer(text: &str) -> Result<i64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a whole number"))
}

/// Microseconds, as a number or a duration (`"400ms"`), as compose takes them.
fn microseconds(text: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(number) => Ok(number),
        Err(_) => parse_duration(text)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .map_err(|_| format!("{text:?} is neither microseconds nor a duration")),
    }
}

/// A number of CPUs (`1.5`).
fn cpus(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|c| c.is_finite())
        .ok_or_else(|| format!("{text:?} is not a number of CPUs"))
}
