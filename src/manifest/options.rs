//! A `[[unit]]`'s less common `docker run` options (entrypoint, user,
//! capabilities, DNS, ulimits, logging…), read with their positions.

use toml_edit::Item;

use super::fields::{Field, Scope, fields};
use crate::spec::{ContainerOptions, Logging, Ulimit};

/// The option keys of a `[[unit]]`.
pub(super) const OPTION_KEYS: &[&str] = &[
    "entrypoint",
    "user",
    "working_dir",
    "hostname",
    "domainname",
    "init",
    "privileged",
    "cap_add",
    "cap_drop",
    "security_opt",
    "sysctls",
    "ulimits",
    "devices",
    "dns",
    "dns_search",
    "dns_opt",
    "extra_hosts",
    "shm_size",
    "read_only",
    "expose",
    "logging",
    "network_mode",
    "cpus",
    "memory_swap",
    "memory_reservation",
    "pids_limit",
    "group_add",
    "platform",
    "pull_policy",
    "ipc",
    "pid",
    "userns_mode",
    "uts",
    "cgroup_parent",
    "oom_score_adj",
    "oom_kill_disable",
    "cpuset",
    "cpu_quota",
    "cpu_period",
    "cpu_rt_runtime",
    "cpu_rt_period",
    "runtime",
    "storage_opt",
    "device_cgroup_rules",
    "links",
];

const ULIMIT_KEYS: &[&str] = &["soft", "hard"];
const LOGGING_KEYS: &[&str] = &["driver", "options"];

impl Scope<'_> {
    fn strings(&mut self, field: &str, item: &Item, at: usize) -> Vec<String> {
        let list = self.string_list(field, item, at).unwrap_or_default();
        list.into_iter().map(|(text, _)| text).collect()
    }

    /// Reads `entry` into `options` when it is one of [`OPTION_KEYS`];
    /// false when it is not.
    pub fn option(&mut self, entry: &Field<'_>, options: &mut ContainerOptions) -> bool {
        let (name, item, at) = (entry.name, entry.item, entry.at);
        match name {
            "entrypoint" => options.entrypoint = Some(self.strings(name, item, at)),
            "user" => options.user = self.string(name, item, at),
            "working_dir" => options.working_dir = self.string(name, item, at).map(Into::into),
            "hostname" => options.hostname = self.string(name, item, at),
            "domainname" => options.domainname = self.string(name, item, at),
            "network_mode" => options.network_mode = self.string(name, item, at),
            "platform" => options.platform = self.string(name, item, at),
            "pull_policy" => {
                let expected = "a pull policy (missing, always, never)";
                if let Some(policy) = self.parsed(name, item, at, expected, str::parse) {
                    options.pull_policy = policy;
                }
            }
            "init" => options.init = self.boolean(name, item, at),
            "privileged" => options.privileged = self.boolean(name, item, at).unwrap_or(false),
            "read_only" => options.read_only = self.boolean(name, item, at).unwrap_or(false),
            "cap_add" => options.cap_add = self.strings(name, item, at),
            "cap_drop" => options.cap_drop = self.strings(name, item, at),
            "security_opt" => options.security_opt = self.strings(name, item, at),
            "devices" => options.devices = self.strings(name, item, at),
            "dns" => options.dns = self.strings(name, item, at),
            "dns_search" => options.dns_search = self.strings(name, item, at),
            "dns_opt" => options.dns_opt = self.strings(name, item, at),
            "extra_hosts" => options.extra_hosts = self.strings(name, item, at),
            "expose" => options.expose = self.strings(name, item, at),
            "group_add" => options.group_add = self.strings(name, item, at),
            "sysctls" => {
                options.sysctls = self.text_table(name, item, at, true).unwrap_or_default()
            }
            "shm_size" => options.shm_size = self.size(name, item, at),
            "memory_reservation" => options.memory_reservation = self.size(name, item, at),
            "memory_swap" => {
                options.memory_swap = match item.as_integer() {
                    Some(-1) => Some(-1),
                    _ => self
                        .size(name, item, at)
                        .map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
                }
            }
            "pids_limit" => options.pids_limit = self.integer(name, item, at),
            "cpus" => options.cpus = self.number(name, item, at),
            "ipc" => options.ipc = self.string(name, item, at),
            "pid" => options.pid = self.string(name, item, at),
            "userns_mode" => options.userns_mode = self.string(name, item, at),
            "uts" => options.uts = self.string(name, item, at),
            "cgroup_parent" => options.cgroup_parent = self.string(name, item, at),
            "cpuset" => options.cpuset = self.string(name, item, at),
            "runtime" => options.runtime = self.string(name, item, at),
            "oom_score_adj" => options.oom_score_adj = self.integer(name, item, at),
            "oom_kill_disable" => {
                options.oom_kill_disable = self.boolean(name, item, at).unwrap_or(false)
            }
            "cpu_quota" => options.cpu_quota = self.integer(name, item, at),
            "cpu_period" => options.cpu_period = self.integer(name, item, at),
            "cpu_rt_runtime" => options.cpu_rt_runtime = self.integer(name, item, at),
            "cpu_rt_period" => options.cpu_rt_period = self.integer(name, item, at),
            "storage_opt" => {
                options.storage_opt = self.text_table(name, item, at, true).unwrap_or_default()
            }
            "device_cgroup_rules" => options.device_cgroup_rules = self.strings(name, item, at),
            "links" => options.links = self.strings(name, item, at),
            "ulimits" => self.ulimits(item, at, options),
            "logging" => self.logging(item, at, options),
            _ => return false,
        }
        true
    }

    /// `ulimits = { nofile = { soft = 1024, hard = 2048 }, nproc = 512 }`.
    fn ulimits(&mut self, item: &Item, at: usize, options: &mut ContainerOptions) {
        let Some(table) = self.table("ulimits", item, at) else {
            return;
        };
        for entry in fields(table, at) {
            let field = format!("ulimits.{}", entry.name);
            let limit = match entry.item.as_integer() {
                Some(both) => {
                    self.integer(&field, entry.item, entry.at);
                    Ulimit {
                        soft: both,
                        hard: both,
                    }
                }
                None => {
                    let Some(inner) =
                        self.table_as(&field, entry.item, entry.at, "a number or { soft, hard }")
                    else {
                        continue;
                    };
                    let (mut soft, mut hard) = (None, None);
                    for key in fields(inner, entry.at) {
                        let path = format!("{field}.{}", key.name);
                        match key.name {
                            "soft" => soft = self.integer(&path, key.item, key.at),
                            "hard" => hard = self.integer(&path, key.item, key.at),
                            other => self.unknown(&path, other, key.key_at, ULIMIT_KEYS),
                        }
                    }
                    match (soft, hard) {
                        (Some(soft), Some(hard)) => Ulimit { soft, hard },
                        _ => {
                            self.report(entry.at, &field, "needs soft and hard");
                            continue;
                        }
                    }
                }
            };
            options.ulimits.insert(entry.name.to_string(), limit);
        }
    }

    /// `logging = { driver = "local", options = { max-size = "10m" } }`.
    fn logging(&mut self, item: &Item, at: usize, options: &mut ContainerOptions) {
        let Some(table) = self.table("logging", item, at) else {
            return;
        };
        let mut logging = Logging::default();
        for entry in fields(table, at) {
            let field = format!("logging.{}", entry.name);
            match entry.name {
                "driver" => logging.driver = self.string(&field, entry.item, entry.at),
                "options" => {
                    logging.options = self
                        .text_table(&field, entry.item, entry.at, true)
                        .unwrap_or_default()
                }
                other => self.unknown(&field, other, entry.key_at, LOGGING_KEYS),
            }
        }
        options.logging = Some(logging);
    }
}
