//! The comparison of one compose file's services, as `docker-compose
//! config` (1.29) prints them, with the units `stevedore convert` made of it.

use std::collections::{BTreeMap, BTreeSet};

use stevedore::compose::words::split_command;
use stevedore::compose::yaml::{Kind, Node};
use stevedore::spec::text::{parse_duration, parse_port, parse_size};
use stevedore::spec::{Condition, HealthTest, UnitSpec};

#[path = "resources.rs"]
mod resources;
pub use resources::compare_resources;

/// A value as `config` prints it; 1.29 writes a `$` of the result as `$$`
/// (so that its output reads back the same), which is undone here.
pub fn scalar(node: &Node) -> String {
    node.text().unwrap_or_default().replace("$$", "$")
}

fn strings(node: &Node) -> Vec<String> {
    match &node.kind {
        Kind::List(items) => items.iter().map(scalar).collect(),
        _ => vec![scalar(node)],
    }
}

fn words(node: &Node) -> Vec<String> {
    match &node.kind {
        Kind::List(items) => items.iter().map(scalar).collect(),
        _ => split_command(&scalar(node)).unwrap(),
    }
}

pub fn map(node: &Node) -> BTreeMap<String, String> {
    match &node.kind {
        Kind::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.text.clone(), scalar(v)))
            .collect(),
        Kind::List(items) => items
            .iter()
            .map(|i| {
                let t = scalar(i);
                let (k, v) = t.split_once('=').unwrap_or((&t, ""));
                (k.to_string(), v.to_string())
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn number(node: &Node) -> i64 {
    scalar(node).parse().unwrap()
}

/// A namespace mode as the engine gets it: `service:NAME` is its container.
fn namespace_mode(config: &Config, node: &Node) -> String {
    let mode = scalar(node);
    match mode.strip_prefix("service:") {
        Some(other) => format!("container:{}--{other}", config.project),
        None => mode,
    }
}

fn size(node: &Node) -> u64 {
    parse_size(&scalar(node)).unwrap()
}

/// What `docker-compose config` says of a file, with the project's name.
pub struct Config {
    pub root: Node,
    pub project: String,
}

impl Config {
    fn top(&self, section: &str, key: &str) -> Option<&Node> {
        self.root.get(section)?.get(key)
    }

    /// The engine name of a network or volume declared under `key`.
    fn engine_name(&self, section: &str, key: &str) -> String {
        let declared = self.top(section, key);
        let named = declared.and_then(|d| d.get("name")).map(scalar);
        let external = declared
            .and_then(|d| d.get("external"))
            .is_some_and(|e| match &e.kind {
                Kind::Map(_) => true,
                _ => scalar(e) == "true",
            });
        let legacy = declared
            .and_then(|d| d.get("external"))
            .and_then(|e| e.get("name"))
            .map(scalar);
        named.or(legacy).unwrap_or_else(|| {
            if external {
                key.to_string()
            } else {
                format!("{}_{key}", self.project)
            }
        })
    }
}

/// Compares one service of `config` with `unit`, key by key.
pub fn compare(config: &Config, service: &Node, unit: &UnitSpec) {
    let name = &unit.name;
    let Kind::Map(entries) = &service.kind else {
        panic!("{name}: not a mapping")
    };
    let options = &unit.options;
    let mut mounts: BTreeSet<(String, String, bool)> = BTreeSet::new();
    let mut tmpfs: BTreeSet<String> = BTreeSet::new();
    let mut memory = None;
    for (key, value) in entries {
        let field = format!("{name}.{}", key.text);
        match key.text.as_str() {
            "image" => assert_eq!(scalar(value), unit.image, "{field}"),
            "command" => assert_eq!(Some(words(value)), unit.command, "{field}"),
            "entrypoint" => assert_eq!(Some(words(value)), options.entrypoint, "{field}"),
            "environment" => assert_eq!(map(value), unit.env, "{field}"),
            "labels" => assert_eq!(map(value), unit.labels, "{field}"),
            "restart" => assert_eq!(scalar(value), unit.restart.to_string(), "{field}"),
            "stop_signal" => assert_eq!(scalar(value), unit.stop_signal, "{field}"),
            "stop_grace_period" => assert_eq!(
                parse_duration(&scalar(value)).unwrap(),
                unit.stop_timeout,
                "{field}"
            ),
            "ports" => {
                let mut theirs: Vec<(u16, u16, String, Option<String>)> = match &value.kind {
                    Kind::List(items) => items
                        .iter()
                        .map(|p| match p.text() {
                            Some(short) => {
                                let port = parse_port(short).unwrap();
                                (
                                    port.internal,
                                    port.external,
                                    port.protocol.to_string(),
                                    port.host_ip,
                                )
                            }
                            None => {
                                let get = |k: &str| p.get(k).map(scalar);
                                (
                                    get("target").unwrap().parse().unwrap(),
                                    get("published").map_or(0, |p| p.parse().unwrap()),
                                    get("protocol").unwrap_or_else(|| "tcp".into()),
                                    get("host_ip"),
                                )
                            }
                        })
                        .collect(),
                    _ => panic!("{field}"),
                };
                let mut ours: Vec<_> = unit
                    .ports
                    .iter()
                    .map(|p| {
                        (
                            p.internal,
                            p.external,
                            p.protocol.to_string(),
                            p.host_ip.clone(),
                        )
                    })
                    .collect();
                theirs.sort();
                ours.sort();
                assert_eq!(ours, theirs, "{field}");
            }
            "volumes" => {
                let Kind::List(items) = &value.kind else {
                    panic!("{field}")
                };
                for item in items {
                    match item.text() {
                        Some(short) => {
                            let parts: Vec<&str> = short.split(':').collect();
                            let source = if parts[0].starts_with('/') {
                                parts[0].to_string()
                            } else {
                                config.engine_name("volumes", parts[0])
                            };
                            let ro = parts
                                .get(2)
                                .is_some_and(|m| m.split(',').any(|m| m == "ro"));
                            mounts.insert((source, parts[1].to_string(), ro));
                        }
                        None => {
                            let get = |k: &str| item.get(k).map(scalar);
                            let target = get("target").unwrap();
                            let ro = get("read_only").as_deref() == Some("true");
                            match get("type").as_deref() {
                                Some("tmpfs") => {
                                    tmpfs.insert(target);
                                }
                                Some("volume") => {
                                    let source =
                                        config.engine_name("volumes", &get("source").unwrap());
                                    mounts.insert((source, target, ro));
                                }
                                _ => {
                                    mounts.insert((get("source").unwrap(), target, ro));
                                }
                            }
                        }
                    }
                }
            }
            "tmpfs" => tmpfs.extend(
                strings(value)
                    .into_iter()
                    .map(|t| t.split(':').next().unwrap().to_string()),
            ),
            section @ ("secrets" | "configs") => {
                let Kind::List(items) = &value.kind else {
                    panic!("{field}")
                };
                for item in items {
                    let source = item.get("source").map_or_else(|| scalar(item), scalar);
                    let target = item
                        .get("target")
                        .map(scalar)
                        .unwrap_or_else(|| source.clone());
                    let file = scalar(config.top(section, &source).unwrap().get("file").unwrap());
                    let container = match (section, target.starts_with('/')) {
                        (_, true) => target,
                        ("secrets", false) => format!("/run/secrets/{target}"),
                        (_, false) => format!("/{target}"),
                    };
                    mounts.insert((file, container, true));
                }
            }
            "networks" => {
                let theirs: BTreeMap<String, (BTreeSet<String>, Option<String>)> = match &value.kind
                {
                    Kind::Map(networks) => networks
                        .iter()
                        .map(|(key, attached)| {
                            let aliases = attached.get("aliases").map(strings).unwrap_or_default();
                            let ip = attached.get("ipv4_address").map(scalar);
                            (
                                config.engine_name("networks", &key.text),
                                (aliases.into_iter().collect(), ip),
                            )
                        })
                        .collect(),
                    Kind::List(keys) => keys
                        .iter()
                        .map(|k| {
                            (
                                config.engine_name("networks", &scalar(k)),
                                (BTreeSet::new(), None),
                            )
                        })
                        .collect(),
                    _ => panic!("{field}"),
                };
                let ours: BTreeMap<String, (BTreeSet<String>, Option<String>)> = unit
                    .networks
                    .iter()
                    .map(|(n, a)| {
                        (
                            n.clone(),
                            (
                                a.aliases.iter().cloned().collect(),
                                a.ipv4_address.map(|ip| ip.to_string()),
                            ),
                        )
                    })
                    .collect();
                assert_eq!(ours, theirs, "{field}");
            }
            "ipc" => assert_eq!(options.ipc, Some(namespace_mode(config, value)), "{field}"),
            "pid" => assert_eq!(options.pid, Some(namespace_mode(config, value)), "{field}"),
            "links" => {
                let expected: Vec<String> = strings(value)
                    .iter()
                    .map(|l| {
                        let (other, alias) = l.split_once(':').unwrap_or((l, l));
                        format!("{}--{other}:{alias}", config.project)
                    })
                    .collect();
                assert_eq!(options.links, expected, "{field}");
            }
            "cgroup_parent" => assert_eq!(options.cgroup_parent, Some(scalar(value)), "{field}"),
            "cpuset" => assert_eq!(options.cpuset, Some(scalar(value)), "{field}"),
            "runtime" => assert_eq!(options.runtime, Some(scalar(value)), "{field}"),
            "userns_mode" => assert_eq!(options.userns_mode, Some(scalar(value)), "{field}"),
            "oom_kill_disable" => {
                assert_eq!(options.oom_kill_disable, scalar(value) == "true", "{field}")
            }
            "oom_score_adj" => assert_eq!(options.oom_score_adj, Some(number(value)), "{field}"),
            "cpu_quota" => assert_eq!(options.cpu_quota, Some(number(value)), "{field}"),
            "cpu_period" => assert_eq!(options.cpu_period, Some(number(value)), "{field}"),
            "mem_swappiness" => assert_eq!(unit.swappiness, Some(number(value)), "{field}"),
            "network_mode" => {
                assert_eq!(
                    options.network_mode,
                    Some(namespace_mode(config, value)),
                    "{field}"
                )
            }
            "mem_limit" => memory = Some(size(value)),
            "memswap_limit" => assert_eq!(options.memory_swap, Some(size(value) as i64), "{field}"),
            "mem_reservation" => {
                assert_eq!(options.memory_reservation, Some(size(value)), "{field}")
            }
            "cpus" => assert_eq!(
                options.cpus,
                Some(scalar(value).parse().unwrap()),
                "{field}"
            ),
            "cpu_shares" => assert_eq!(
                unit.cpu_shares,
                Some(scalar(value).parse().unwrap()),
                "{field}"
            ),
            "shm_size" => assert_eq!(options.shm_size, Some(size(value)), "{field}"),
            "pids_limit" => assert_eq!(
                options.pids_limit,
                Some(scalar(value).parse().unwrap()),
                "{field}"
            ),
            "deploy" => {
                let resources = value
                    .get("resources")
                    .expect("only resources in the corpus");
                if let Some(limits) = resources.get("limits") {
                    if let Some(m) = limits.get("memory") {
                        memory = Some(size(m));
                    }
                    if let Some(c) = limits.get("cpus") {
                        assert_eq!(
                            options.cpus,
                            Some(scalar(c).parse().unwrap()),
                            "{field}.cpus"
                        );
                    }
                }
                if let Some(m) = resources.get("reservations").and_then(|r| r.get("memory")) {
                    assert_eq!(options.memory_reservation, Some(size(m)), "{field}");
                }
            }
            "ulimits" => {
                let Kind::Map(limits) = &value.kind else {
                    panic!("{field}")
                };
                let theirs: BTreeMap<String, (i64, i64)> = limits
                    .iter()
                    .map(|(k, v)| {
                        let pair = match v.text() {
                            Some(both) => (both.parse().unwrap(), both.parse().unwrap()),
                            None => (
                                scalar(v.get("soft").unwrap()).parse().unwrap(),
                                scalar(v.get("hard").unwrap()).parse().unwrap(),
                            ),
                        };
                        (k.text.clone(), pair)
                    })
                    .collect();
                let ours: BTreeMap<String, (i64, i64)> = options
                    .ulimits
                    .iter()
                    .map(|(k, l)| (k.clone(), (l.soft, l.hard)))
                    .collect();
                assert_eq!(ours, theirs, "{field}");
            }
            "user" => assert_eq!(options.user, Some(scalar(value)), "{field}"),
            "working_dir" => assert_eq!(options.working_dir, Some(scalar(value).into()), "{field}"),
            "hostname" => assert_eq!(options.hostname, Some(scalar(value)), "{field}"),
            "domainname" => assert_eq!(options.domainname, Some(scalar(value)), "{field}"),
            "init" => assert_eq!(options.init, Some(scalar(value) == "true"), "{field}"),
            "read_only" => assert_eq!(options.read_only, scalar(value) == "true", "{field}"),
            "privileged" => assert_eq!(options.privileged, scalar(value) == "true", "{field}"),
            "cap_add" => assert_eq!(options.cap_add, strings(value), "{field}"),
            "cap_drop" => assert_eq!(options.cap_drop, strings(value), "{field}"),
            "security_opt" => assert_eq!(options.security_opt, strings(value), "{field}"),
            "sysctls" => assert_eq!(options.sysctls, map(value), "{field}"),
            "devices" => assert_eq!(options.devices, strings(value), "{field}"),
            "dns" => assert_eq!(options.dns, strings(value), "{field}"),
            "dns_search" => assert_eq!(options.dns_search, strings(value), "{field}"),
            "extra_hosts" => assert_eq!(options.extra_hosts, strings(value), "{field}"),
            "expose" => assert_eq!(options.expose, strings(value), "{field}"),
            "group_add" => assert_eq!(options.group_add, strings(value), "{field}"),
            "logging" => {
                let logging = options.logging.as_ref().expect("logging");
                assert_eq!(logging.driver, value.get("driver").map(scalar), "{field}");
                assert_eq!(
                    logging.options,
                    value.get("options").map(map).unwrap_or_default(),
                    "{field}"
                );
            }
            "healthcheck" => {
                let check = unit.healthcheck.as_ref().expect("a check");
                let test = value.get("test").unwrap();
                let expected = match &test.kind {
                    Kind::List(_) => HealthTest::from_engine(strings(test)).unwrap(),
                    _ => HealthTest::Shell(scalar(test)),
                };
                assert_eq!(check.test, expected, "{field}");
                let duration = |k: &str| value.get(k).map(|d| parse_duration(&scalar(d)).unwrap());
                assert_eq!(check.interval, duration("interval"), "{field}");
                assert_eq!(check.timeout, duration("timeout"), "{field}");
                assert_eq!(check.start_period, duration("start_period"), "{field}");
                assert_eq!(
                    check.retries,
                    value.get("retries").map(|r| scalar(r).parse().unwrap()),
                    "{field}"
                );
            }
            "depends_on" => {
                let Kind::Map(deps) = &value.kind else {
                    panic!("{field}: 1.29 prints a mapping")
                };
                let theirs: BTreeMap<String, Condition> = deps
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.text.clone(),
                            scalar(v.get("condition").unwrap()).parse().unwrap(),
                        )
                    })
                    .collect();
                let ours: BTreeMap<String, Condition> = unit
                    .depends_on
                    .iter()
                    .map(|(k, d)| (k.clone(), d.condition))
                    .collect();
                assert_eq!(ours, theirs, "{field}");
            }
            other => panic!(
                "{field}: the comparison does not know {other:?}; teach it before the corpus uses it"
            ),
        }
    }
    assert_eq!(unit.memory, memory, "{name}.mem_limit");
    let ours: BTreeSet<(String, String, bool)> = unit
        .volumes
        .iter()
        .map(|v| {
            (
                v.source.display().to_string(),
                v.container.display().to_string(),
                v.read_only,
            )
        })
        .collect();
    assert_eq!(ours, mounts, "{name}: volumes, secrets and configs");
    let ours: BTreeSet<String> = unit.tmpfs.keys().map(|p| p.display().to_string()).collect();
    assert_eq!(ours, tmpfs, "{name}: tmpfs");
    if service.get("networks").is_none() && service.get("network_mode").is_none() {
        let joined: Vec<&String> = unit.networks.keys().collect();
        assert_eq!(
            joined,
            [&format!("{}_default", config.project)],
            "{name}: the default network"
        );
    }
}
