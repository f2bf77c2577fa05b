//! Table tests of a compose file's networks, volumes, secrets, configs and
//! tmpfs mounts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

fn read_in(dir: &Path, text: &str, project: Option<&str>) -> Result<Compose, Vec<String>> {
    parse_compose_as(text, "compose.yaml", dir, &HashMap::new(), project).map_err(|e| e.lines())
}

fn read(text: &str) -> Result<Compose, Vec<String>> {
    read_in(Path::new("/srv/shop"), text, None)
}

#[test]
fn declared_networks_and_volumes_are_named_as_compose_names_them() {
    let compose = read(
        r#"
services:
  web:
    image: busybox
    networks:
      front: { aliases: [www], ipv4_address: 172.28.0.5 }
      outside:
    volumes: ["data:/data:ro", "old:/old"]
networks:
  front: { driver: bridge, internal: true, ipam: { config: [{ subnet: 172.28.0.0/16, gateway: 172.28.0.1 }] } }
  outside: { external: true, name: corp-net }
  unused: {}
volumes:
  data: { name: shared-data }
  old: { external: true }
"#,
    )
    .unwrap();
    let web = &compose.manifest.units[0];
    let joined: Vec<&str> = web.networks.keys().map(String::as_str).collect();
    assert_eq!(
        joined,
        ["corp-net", "shop_front"],
        "not the default network: it says which"
    );
    let front = &web.networks["shop_front"];
    assert_eq!(front.aliases, ["www"]);
    assert_eq!(front.ipv4_address, Some("172.28.0.5".parse().unwrap()));
    assert_eq!(web.volumes[0].volume_name(), Some("shared-data"));
    assert!(web.volumes[0].read_only);
    assert_eq!(web.volumes[1].volume_name(), Some("old"));
    let resources = &compose.manifest.resources;
    let networks: Vec<(&str, bool)> = resources
        .networks
        .iter()
        .map(|n| (n.name.as_str(), n.external))
        .collect();
    assert_eq!(
        networks,
        [("shop_front", false), ("corp-net", true)],
        "only what is used"
    );
    assert!(resources.networks[0].internal);
    assert_eq!(
        resources.networks[0].subnets[0].gateway.as_deref(),
        Some("172.28.0.1")
    );
    let volumes: Vec<(&str, bool)> = resources
        .volumes
        .iter()
        .map(|v| (v.name.as_str(), v.external))
        .collect();
    assert_eq!(volumes, [("shared-data", false), ("old", true)]);
}

#[test]
fn the_project_name_given_on_the_command_line_names_the_resources() {
    let text = "services:\n  web: { image: busybox, volumes: [\"data:/d\"] }\nvolumes:\n  data:\n";
    let compose = read_in(Path::new("/srv/shop"), text, Some("other")).unwrap();
    assert_eq!(compose.manifest.namespace, "other");
    assert_eq!(compose.manifest.resources.networks[0].name, "other_default");
    assert_eq!(compose.manifest.resources.volumes[0].name, "other_data");
}

#[test]
fn secrets_and_configs_are_files_mounted_read_only() {
    let dir = std::env::temp_dir().join(format!("stevedore-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("token.txt"), "s3cret").unwrap();
    std::fs::write(dir.join("app.conf"), "x=1").unwrap();
    let compose = read_in(
        &dir,
        r#"
services:
  web:
    image: busybox
    secrets: [token, { source: token, target: api-key, mode: 0400 }]
    configs: [app, { source: app, target: /etc/app.conf }]
    tmpfs: ["/run:size=1m"]
secrets:
  token: { file: ./token.txt }
configs:
  app: { file: app.conf }
"#,
        None,
    )
    .unwrap();
    let web = &compose.manifest.units[0];
    let mounts: Vec<(PathBuf, PathBuf, bool)> = web
        .volumes
        .iter()
        .map(|v| (v.source.clone(), v.container.clone(), v.read_only))
        .collect();
    assert_eq!(
        mounts,
        [
            (dir.join("token.txt"), "/run/secrets/token".into(), true),
            (dir.join("token.txt"), "/run/secrets/api-key".into(), true),
            (dir.join("app.conf"), "/app".into(), true),
            (dir.join("app.conf"), "/etc/app.conf".into(), true),
        ]
    );
    assert_eq!(web.tmpfs[Path::new("/run")], "size=1m");
    assert!(
        compose
            .warnings
            .iter()
            .any(|w| w.field.as_deref() == Some("secrets[1].mode")),
        "{:?}",
        compose.warnings
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn what_a_service_refers_to_must_be_declared_and_exist() {
    let found = read(
        r#"
services:
  web:
    image: busybox
    networks: [nowhere]
    volumes: ["ghost:/g"]
    secrets: [missing]
secrets:
  token: { file: ./no-such-file }
  env: { environment: TOKEN }
networks:
  outside: { external: true, driver: overlay }
  odd: { enable_ipv4: false }
"#,
    )
    .unwrap_err();
    let expect = [
        "5:16: unit \"web\": networks.nowhere: refers to undefined network \"nowhere\"",
        "6:15: unit \"web\": volumes[0]: refers to undefined volume \"ghost\"",
        "7:15: unit \"web\": secrets[0]: refers to undefined secret \"missing\"",
        "9:18: secrets.token.file: /srv/shop/no-such-file does not exist",
        "10:3: secrets.env: only file-based entries are carried out",
        "12:3: networks.outside: an external network takes no driver",
        "13:10: networks.odd.enable_ipv4: is not carried out by stevedore",
    ];
    for expected in expect {
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "{expected}\nin {found:#?}"
        );
    }
}

#[test]
fn long_volume_syntax_takes_named_volumes_and_tmpfs() {
    let compose = read(
        r#"
services:
  web:
    image: busybox
    volumes:
      - { type: volume, source: data, target: /data, read_only: true }
      - { type: tmpfs, target: /cache, tmpfs: { size: 64m, mode: 1777 } }
volumes:
  data:
"#,
    )
    .unwrap();
    let web = &compose.manifest.units[0];
    assert_eq!(web.volumes[0].volume_name(), Some("shop_data"));
    assert!(web.volumes[0].read_only);
    assert_eq!(
        web.tmpfs[Path::new("/cache")],
        format!("size={},mode=1777", 64 << 20)
    );
}

#[test]
fn an_anonymous_volume_is_a_named_volume_of_the_service_and_says_so() {
    let compose = read(
        "services:\n  web:\n    image: busybox\n    volumes: [/app/node_modules, { type: volume, target: /cache }]\n",
    )
    .unwrap();
    let web = &compose.manifest.units[0];
    let names: Vec<Option<&str>> = web.volumes.iter().map(|v| v.volume_name()).collect();
    assert_eq!(
        names,
        [Some("shop_web_app_node_modules"), Some("shop_web_cache")]
    );
    assert_eq!(web.volumes[0].container, Path::new("/app/node_modules"));
    let made: Vec<&str> = compose
        .manifest
        .resources
        .volumes
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(made, ["shop_web_app_node_modules", "shop_web_cache"]);
    assert!(
        compose
            .warnings
            .iter()
            .any(|w| w.message.contains("an anonymous volume")),
        "{:?}",
        compose.warnings
    );
}
