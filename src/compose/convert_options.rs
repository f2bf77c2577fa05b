//! `stevedore convert`: a unit's less common options as the `[[unit]]`
//! keys the manifest reads.

use toml_edit::{InlineTable, Item, Table, Value, value};

use crate::spec::{ContainerOptions, PullPolicy};

fn strings(items: &[String]) -> Item {
    Item::Value(Value::Array(items.iter().map(String::as_str).collect()))
}

fn text_table<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    let mut table = InlineTable::new();
    for (key, text) in pairs {
        table.insert(key, text.as_str().into());
    }
    Value::InlineTable(table)
}

fn bytes(size: u64) -> Item {
    value(i64::try_from(size).unwrap_or(i64::MAX))
}

/// Writes `options` into `unit`, each only when set.
pub(super) fn write(options: &ContainerOptions, unit: &mut Table) {
    if let Some(entrypoint) = &options.entrypoint {
        unit["entrypoint"] = strings(entrypoint);
    }
    let texts = [
        ("user", options.user.clone()),
        (
            "working_dir",
            options
                .working_dir
                .as_ref()
                .map(|d| d.display().to_string()),
        ),
        ("hostname", options.hostname.clone()),
        ("domainname", options.domainname.clone()),
        ("network_mode", options.network_mode.clone()),
        ("platform", options.platform.clone()),
        ("ipc", options.ipc.clone()),
        ("pid", options.pid.clone()),
        ("userns_mode", options.userns_mode.clone()),
        ("uts", options.uts.clone()),
        ("cgroup_parent", options.cgroup_parent.clone()),
        ("cpuset", options.cpuset.clone()),
        ("runtime", options.runtime.clone()),
    ];
    for (key, text) in texts {
        if let Some(text) = text {
            unit[key] = value(text);
        }
    }
    if options.pull_policy != PullPolicy::Missing {
        unit["pull_policy"] = value(options.pull_policy.as_str());
    }
    if let Some(init) = options.init {
        unit["init"] = value(init);
    }
    for (key, on) in [
        ("privileged", options.privileged),
        ("read_only", options.read_only),
        ("oom_kill_disable", options.oom_kill_disable),
    ] {
        if on {
            unit[key] = value(true);
        }
    }
    let lists = [
        ("cap_add", &options.cap_add),
        ("cap_drop", &options.cap_drop),
        ("security_opt", &options.security_opt),
        ("devices", &options.devices),
        ("dns", &options.dns),
        ("dns_search", &options.dns_search),
        ("dns_opt", &options.dns_opt),
        ("extra_hosts", &options.extra_hosts),
        ("expose", &options.expose),
        ("group_add", &options.group_add),
        ("device_cgroup_rules", &options.device_cgroup_rules),
        ("links", &options.links),
    ];
    for (key, list) in lists {
        if !list.is_empty() {
            unit[key] = strings(list);
        }
    }
    if !options.sysctls.is_empty() {
        unit["sysctls"] = Item::Value(text_table(&options.sysctls));
    }
    if !options.ulimits.is_empty() {
        let mut table = InlineTable::new();
        for (name, limit) in &options.ulimits {
            let mut entry = InlineTable::new();
            entry.insert("soft", limit.soft.into());
            entry.insert("hard", limit.hard.into());
            table.insert(name, Value::InlineTable(entry));
        }
        unit["ulimits"] = Item::Value(Value::InlineTable(table));
    }
    if let Some(logging) = &options.logging {
        let mut table = InlineTable::new();
        if let Some(driver) = &logging.driver {
            table.insert("driver", driver.as_str().into());
        }
        if !logging.options.is_empty() {
            table.insert("options", text_table(&logging.options));
        }
        unit["logging"] = Item::Value(Value::InlineTable(table));
    }
    if let Some(size) = options.shm_size {
        unit["shm_size"] = bytes(size);
    }
    if let Some(size) = options.memory_reservation {
        unit["memory_reservation"] = bytes(size);
    }
    if let Some(swap) = options.memory_swap {
        unit["memory_swap"] = value(swap);
    }
    let numbers = [
        ("pids_limit", options.pids_limit),
        ("oom_score_adj", options.oom_score_adj),
        ("cpu_quota", options.cpu_quota),
        ("cpu_period", options.cpu_period),
        ("cpu_rt_runtime", options.cpu_rt_runtime),
        ("cpu_rt_period", options.cpu_rt_period),
    ];
    for (key, number) in numbers {
        if let Some(number) = number {
            unit[key] = value(number);
        }
    }
    if !options.storage_opt.is_empty() {
        unit["storage_opt"] = Item::Value(text_table(&options.storage_opt));
    }
    if let Some(cpus) = options.cpus {
        unit["cpus"] = value(cpus);
    }
}
