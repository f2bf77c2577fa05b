//! A unit's less common `docker run` options in the engine's create request.

use bollard::models::{
    ContainerCreateBody, DeviceMapping, HostConfig, HostConfigLogConfig, ResourcesUlimits,
};

use super::hash_map;
use crate::spec::ContainerOptions;

fn some_list(list: &[String]) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.to_vec())
}

/// A `--device` argument (`HOST[:CONTAINER[:PERMISSIONS]]`) as the engine takes it.
fn device(text: &str) -> DeviceMapping {
    let mut parts = text.splitn(3, ':');
    let host = parts.next().unwrap_or_default().to_string();
    let container = parts.next().map_or_else(|| host.clone(), str::to_string);
    DeviceMapping {
        path_on_host: Some(host),
        path_in_container: Some(container),
        cgroup_permissions: Some(parts.next().unwrap_or("rwm").to_string()),
    }
}

/// The exposed-port keys of `expose` (`8080/tcp`), a range as one per port.
pub(super) fn exposed(options: &ContainerOptions) -> Vec<String> {
    let mut keys = Vec::new();
    for port in &options.expose {
        let (number, protocol) = port.split_once('/').unwrap_or((port, "tcp"));
        let (first, last) = number.split_once('-').unwrap_or((number, number));
        if let (Ok(first), Ok(last)) = (first.parse::<u16>(), last.parse::<u16>()) {
            keys.extend((first..=last).map(|p| format!("{p}/{protocol}")));
        }
    }
    keys
}

/// Puts `options` into the create request.
pub(super) fn apply(options: &ContainerOptions, body: &mut ContainerCreateBody) {
    body.entrypoint = options.entrypoint.clone();
    body.user = options.user.clone();
    body.working_dir = options
        .working_dir
        .as_ref()
        .map(|d| d.display().to_string());
    body.hostname = options.hostname.clone();
    body.domainname = options.domainname.clone();
    let host: &mut HostConfig = body.host_config.get_or_insert_with(HostConfig::default);
    host.init = options.init;
    host.privileged = options.privileged.then_some(true);
    host.cap_add = some_list(&options.cap_add);
    host.cap_drop = some_list(&options.cap_drop);
    host.security_opt = some_list(&options.security_opt);
    host.sysctls = hash_map(&options.sysctls);
    host.ulimits = (!options.ulimits.is_empty()).then(|| {
        options
            .ulimits
            .iter()
            .map(|(name, limit)| ResourcesUlimits {
                name: Some(name.clone()),
                soft: Some(limit.soft),
                hard: Some(limit.hard),
            })
            .collect()
    });
    host.devices =
        (!options.devices.is_empty()).then(|| options.devices.iter().map(|d| device(d)).collect());
    host.dns = some_list(&options.dns);
    host.dns_search = some_list(&options.dns_search);
    host.dns_options = some_list(&options.dns_opt);
    host.extra_hosts = some_list(&options.extra_hosts);
    host.shm_size = options
        .shm_size
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX));
    host.readonly_rootfs = options.read_only.then_some(true);
    host.log_config = options.logging.as_ref().map(|logging| HostConfigLogConfig {
        typ: logging.driver.clone(),
        config: hash_map(&logging.options),
    });
    if let Some(mode) = &options.network_mode {
        host.network_mode = Some(mode.clone());
    }
    host.nano_cpus = options.cpus.map(|cpus| (cpus * 1e9).round() as i64);
    host.memory_swap = options.memory_swap;
    host.memory_reservation = options
        .memory_reservation
        .map(|m| i64::try_from(m).unwrap_or(i64::MAX));
    host.pids_limit = options.pids_limit;
    host.group_add = some_list(&options.group_add);
    host.ipc_mode = options.ipc.clone();
    host.pid_mode = options.pid.clone();
    host.userns_mode = options.userns_mode.clone();
    host.uts_mode = options.uts.clone();
    host.cgroup_parent = options.cgroup_parent.clone();
    host.oom_score_adj = options.oom_score_adj;
    host.oom_kill_disable = options.oom_kill_disable.then_some(true);
    host.cpuset_cpus = options.cpuset.clone();
    host.cpu_quota = options.cpu_quota;
    host.cpu_period = options.cpu_period;
    host.cpu_realtime_runtime = options.cpu_rt_runtime;
    host.cpu_realtime_period = options.cpu_rt_period;
    host.runtime = options.runtime.clone();
    host.storage_opt = hash_map(&options.storage_opt);
    host.device_cgroup_rules = some_list(&options.device_cgroup_rules);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Logging, Ulimit};

    #[test]
    fn every_option_lands_in_the_create_request() {
        let options = ContainerOptions {
            entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
            user: Some("1000:1000".into()),
            working_dir: Some("/srv".into()),
            hostname: Some("web1".into()),
            init: Some(true),
            cap_add: vec!["NET_ADMIN".into()],
            cap_drop: vec!["ALL".into()],
            ulimits: [(
                "nofile".to_string(),
                Ulimit {
                    soft: 1024,
                    hard: 2048,
                },
            )]
            .into(),
            devices: vec!["/dev/fuse".into(), "/dev/sda:/dev/xvda:r".into()],
            dns: vec!["1.1.1.1".into()],
            extra_hosts: vec!["db:10.0.0.5".into()],
            shm_size: Some(64 << 20),
            read_only: true,
            expose: vec!["8000-8001".into(), "53/udp".into()],
            logging: Some(Logging {
                driver: Some("local".into()),
                options: [("max-size".to_string(), "10m".to_string())].into(),
            }),
            cpus: Some(1.5),
            network_mode: Some("host".into()),
            ..ContainerOptions::default()
        };
        let mut body = ContainerCreateBody::default();
        apply(&options, &mut body);
        assert_eq!(body.entrypoint.as_deref().unwrap(), ["/bin/sh", "-c"]);
        assert_eq!(body.user.as_deref(), Some("1000:1000"));
        assert_eq!(body.working_dir.as_deref(), Some("/srv"));
        let host = body.host_config.unwrap();
        assert_eq!(host.init, Some(true));
        assert_eq!(host.nano_cpus, Some(1_500_000_000));
        assert_eq!(host.network_mode.as_deref(), Some("host"));
        let devices = host.devices.unwrap();
        assert_eq!(devices[0].path_in_container.as_deref(), Some("/dev/fuse"));
        assert_eq!(devices[1].cgroup_permissions.as_deref(), Some("r"));
        assert_eq!(host.ulimits.unwrap()[0].hard, Some(2048));
        assert_eq!(host.log_config.unwrap().typ.as_deref(), Some("local"));
        assert_eq!(host.readonly_rootfs, Some(true));
        assert_eq!(exposed(&options), ["8000/tcp", "8001/tcp", "53/udp"]);
    }

    #[test]
    fn options_left_alone_leave_the_request_as_the_engine_defaults_it() {
        let mut body = ContainerCreateBody::default();
        apply(&ContainerOptions::default(), &mut body);
        let host = body.host_config.clone().unwrap();
        assert_eq!(host, HostConfig::default());
        assert_eq!(
            body,
            ContainerCreateBody {
                host_config: Some(HostConfig::default()),
                ..Default::default()
            }
        );
    }
}
