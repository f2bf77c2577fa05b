//! Table tests of a service's less common keys as container options.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::RestartPolicy;
use crate::spec::{Condition, Ulimit};

fn read(text: &str) -> Result<Compose, Vec<String>> {
    parse_compose(
        text,
        "compose.yaml",
        Path::new("/srv/shop"),
        &HashMap::new(),
    )
    .map_err(|e| e.lines())
}

const EVERY_OPTION: &str = r#"
services:
  db: { image: busybox }
  cache: { image: busybox }
  web:
    image: busybox
    entrypoint: /bin/sh -c
    command: ["echo hi"]
    user: "1000:1000"
    working_dir: /srv
    hostname: web1
    domainname: example.org
    init: true
    privileged: false
    read_only: true
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    sysctls: { net.core.somaxconn: 1024 }
    ulimits:
      nproc: 512
      nofile: { soft: 1024, hard: 2048 }
    devices: ["/dev/fuse", { source: /dev/sda, target: /dev/xvda, permissions: r }]
    dns: 1.1.1.1
    dns_search: [example.org]
    extra_hosts: ["db:10.0.0.5", "cache=10.0.0.6"]
    shm_size: 64m
    expose: [8080, "53/udp"]
    logging: { driver: local, options: { max-size: 10m } }
    cpus: 1.5
    memswap_limit: -1
    mem_reservation: 32m
    pids_limit: 100
    group_add: [audio]
    platform: linux/amd64
    pull_policy: always
    container_name: shop-web
    ipc: shareable
    pid: "service:db"
    userns_mode: host
    cgroup_parent: /stevedore
    oom_score_adj: 100
    oom_kill_disable: true
    cpuset: "0-1"
    cpu_quota: 50000
    cpu_period: 100ms
    runtime: runc
    storage_opt: { size: 1G }
    mem_swappiness: 10
    device_cgroup_rules: ["c 1:3 mr"]
    links: ["db:database", "cache"]
    deploy:
      resources: { limits: { memory: 128m } }
      restart_policy: { condition: on-failure, max_attempts: 3, delay: 2s, window: 60s }
"#;

#[test]
fn every_option_key_is_carried_into_the_unit() {
    let compose = read(EVERY_OPTION).unwrap();
    let web = &compose.manifest.units[2];
    let options = &web.options;
    assert_eq!(options.entrypoint.as_deref().unwrap(), ["/bin/sh", "-c"]);
    assert_eq!(options.user.as_deref(), Some("1000:1000"));
    assert_eq!(options.working_dir.as_deref(), Some(Path::new("/srv")));
    assert_eq!(options.init, Some(true));
    assert!(options.read_only && !options.privileged);
    assert_eq!(options.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(
        options.ulimits["nproc"],
        Ulimit {
            soft: 512,
            hard: 512
        }
    );
    assert_eq!(
        options.ulimits["nofile"],
        Ulimit {
            soft: 1024,
            hard: 2048
        }
    );
    assert_eq!(options.devices, ["/dev/fuse", "/dev/sda:/dev/xvda:r"]);
    assert_eq!(options.dns, ["1.1.1.1"]);
    assert_eq!(options.extra_hosts, ["db:10.0.0.5", "cache:10.0.0.6"]);
    assert_eq!(options.shm_size, Some(64 << 20));
    assert_eq!(options.expose, ["8080", "53/udp"]);
    assert_eq!(options.logging.as_ref().unwrap().options["max-size"], "10m");
    assert_eq!(options.cpus, Some(1.5));
    assert_eq!(options.memory_swap, Some(-1));
    assert_eq!(options.pids_limit, Some(100));
    assert_eq!(options.pull_policy, crate::spec::PullPolicy::Always);
    assert_eq!(options.ipc.as_deref(), Some("shareable"));
    assert_eq!(options.pid.as_deref(), Some("container:shop--db"));
    assert_eq!(options.oom_score_adj, Some(100));
    assert!(options.oom_kill_disable);
    assert_eq!(options.cpu_period, Some(100_000), "100ms in microseconds");
    assert_eq!(options.storage_opt["size"], "1G");
    assert_eq!(web.swappiness, Some(10));
    assert_eq!(options.links, ["shop--db:database", "shop--cache:cache"]);
    for other in ["db", "cache"] {
        assert_eq!(
            web.depends_on[other].condition,
            Condition::Started,
            "{other} starts first"
        );
    }
    assert_eq!(web.memory, Some(128 << 20));
    assert_eq!(
        web.restart,
        RestartPolicy::OnFailure {
            max_retries: Some(3)
        }
    );
    assert_eq!(web.backoff.initial, Duration::from_secs(2));
    assert_eq!(web.intensity.within, Duration::from_secs(60));
    assert_eq!(web.intensity.max_restarts, 3);
    // container_name: a DNS name on the unit's networks, and a warning.
    assert_eq!(web.networks["shop_default"].aliases, ["shop-web"]);
    assert!(
        compose
            .warnings
            .iter()
            .any(|w| w.field.as_deref() == Some("container_name")),
        "{:?}",
        compose.warnings
    );
}

#[test]
fn every_option_converts_to_toml_and_reads_back_the_same() {
    let compose = read(EVERY_OPTION).unwrap();
    let toml = convert::to_toml(&compose.manifest);
    let back = crate::manifest::parse_manifest(&toml, "converted.toml")
        .unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(back.units, compose.manifest.units, "{toml}");
}

#[test]
fn network_mode_service_is_that_services_container_and_waits_for_it() {
    let compose = read(
        "services:\n  vpn: { image: busybox }\n  app: { image: busybox, network_mode: \"service:vpn\" }\n",
    )
    .unwrap();
    let app = &compose.manifest.units[1];
    assert_eq!(
        app.options.network_mode.as_deref(),
        Some("container:shop--vpn")
    );
    assert!(
        app.networks.is_empty(),
        "the mode replaces the default network"
    );
    assert_eq!(app.depends_on["vpn"].condition, Condition::Started);
}

#[test]
fn bad_option_values_are_refused_at_their_key() {
    let found = read(
        r#"
services:
  web:
    image: busybox
    working_dir: relative
    cap_add: ["NET ADMIN"]
    dns: [not-an-ip]
    extra_hosts: ["nohost"]
    cpus: lots
    network_mode: host
    networks: [default]
    ulimits: { nofile: { soft: 10, hard: 5 } }
    pull_policy: sometimes
    deploy: { replicas: 3 }
"#,
    )
    .unwrap_err();
    let expect = [
        "5:5: unit \"web\": working_dir: \"relative\" is not an absolute path",
        "6:5: unit \"web\": cap_add[0]: \"NET ADMIN\" is not a capability",
        "7:5: unit \"web\": dns[0]: \"not-an-ip\" is not an IP address",
        "8:5: unit \"web\": extra_hosts[0]: \"nohost\" is not HOST:IP",
        "9:11: unit \"web\": cpus: \"lots\" is not a number of CPUs",
        "10:5: unit \"web\": network_mode: cannot be set together with networks",
        "12:5: unit \"web\": ulimits.nofile: soft limit 10 is above hard limit 5",
        "13:18: unit \"web\": pull_policy: \"sometimes\" is not a pull policy",
        "14:25: unit \"web\": deploy.replicas: only 1 is carried out",
    ];
    for expected in expect {
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "{expected}\nin {found:#?}"
        );
    }
}
