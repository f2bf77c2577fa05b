//! `stevedore convert`: a manifest written as the TOML a person would have
//! written for the same units (what reads back as the same specs).

use std::collections::BTreeMap;

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value, value};

use super::BuildSpec;
use crate::manifest::Manifest;
use crate::policy::{Backoff, IntensityLimit};
use crate::spec::text::{format_duration, format_port, format_tmpfs, format_volume};
use crate::spec::{HealthTest, NetworkAttachment, NetworkSpec, UnitSpec};

fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Array(items.into_iter().map(String::as_str).collect::<Array>())
}

fn text_table(pairs: &std::collections::BTreeMap<String, String>) -> Value {
    let mut table = InlineTable::new();
    for (key, text) in pairs {
        table.insert(key, text.as_str().into());
    }
    Value::InlineTable(table)
}

fn unit_table(spec: &UnitSpec) -> Table {
    let mut unit = Table::new();
    unit["name"] = value(spec.name.as_str());
    unit["image"] = value(spec.image.as_str());
    if let Some(command) = &spec.command {
        unit["command"] = Item::Value(strings(command));
    }
    if !spec.env.is_empty() {
        unit["env"] = Item::Value(text_table(&spec.env));
    }
    if !spec.ports.is_empty() {
        let ports: Vec<String> = spec.ports.iter().map(format_port).collect();
        unit["ports"] = Item::Value(strings(&ports));
    }
    if !spec.volumes.is_empty() {
        let volumes: Vec<String> = spec.volumes.iter().map(format_volume).collect();
        unit["volumes"] = Item::Value(strings(&volumes));
    }
    if !spec.tmpfs.is_empty() {
        let mounts: Vec<String> = spec
            .tmpfs
            .iter()
            .map(|(path, options)| format_tmpfs(path, options))
            .collect();
        unit["tmpfs"] = Item::Value(strings(&mounts));
    }
    if !spec.networks.is_empty() {
        unit["networks"] = Item::Value(networks(spec));
    }
    if let Some(memory) = spec.memory {
        unit["memory"] = value(i64::try_from(memory).unwrap_or(i64::MAX));
    }
    if let Some(shares) = spec.cpu_shares {
        unit["cpu_shares"] = value(i64::try_from(shares).unwrap_or(i64::MAX));
    }
    if let Some(swappiness) = spec.swappiness {
        unit["swappiness"] = value(swappiness);
    }
    if !spec.labels.is_empty() {
        unit["labels"] = Item::Value(text_table(&spec.labels));
    }
    unit["restart"] = value(spec.restart.to_string());
    if spec.backoff != Backoff::default() {
        let backoff = &spec.backoff;
        let mut table = InlineTable::new();
        table.insert("initial", format_duration(backoff.initial).into());
        table.insert("factor", backoff.factor.into());
        table.insert("max", format_duration(backoff.max).into());
        table.insert("reset_after", format_duration(backoff.reset_after).into());
        table.insert("jitter", backoff.jitter.into());
        unit["backoff"] = Item::Value(Value::InlineTable(table));
    }
    if spec.intensity != IntensityLimit::default() {
        let mut table = InlineTable::new();
        table.insert(
            "max_restarts",
            i64::from(spec.intensity.max_restarts).into(),
        );
        table.insert("within", format_duration(spec.intensity.within).into());
        unit["intensity"] = Item::Value(Value::InlineTable(table));
    }
    unit["stop_timeout"] = value(format_duration(spec.stop_timeout));
    unit["stop_signal"] = value(spec.stop_signal.as_str());
    if let Some(check) = &spec.healthcheck {
        let mut table = InlineTable::new();
        match &check.test {
            HealthTest::Disabled => {
                table.insert("disable", true.into());
            }
            HealthTest::Inherit => {}
            test => {
                table.insert("test", strings(&test.to_engine()));
            }
        }
        let durations = [
            ("interval", check.interval),
            ("timeout", check.timeout),
            ("start_period", check.start_period),
            ("start_interval", check.start_interval),
        ];
        for (key, duration) in durations {
            if let Some(duration) = duration {
                table.insert(key, format_duration(duration).into());
            }
        }
        if let Some(retries) = check.retries {
            table.insert("retries", i64::from(retries).into());
        }
        unit["healthcheck"] = Item::Value(Value::InlineTable(table));
    }
    super::convert_options::write(&spec.options, &mut unit);
    if !spec.depends_on.is_empty() {
        let mut table = InlineTable::new();
        for (name, dependency) in &spec.depends_on {
            let mut entry = InlineTable::new();
            entry.insert("condition", dependency.condition.as_str().into());
            if dependency.restart {
                entry.insert("restart", true.into());
            }
            table.insert(name, Value::InlineTable(entry));
        }
        unit["depends_on"] = Item::Value(Value::InlineTable(table));
    }
    unit
}

/// A unit's networks: their names, or a table when one has aliases or an
/// address.
fn networks(spec: &UnitSpec) -> Value {
    if spec
        .networks
        .values()
        .all(|a| *a == NetworkAttachment::default())
    {
        return strings(spec.networks.keys());
    }
    let mut table = InlineTable::new();
    for (name, attachment) in &spec.networks {
        let mut entry = InlineTable::new();
        if !attachment.aliases.is_empty() {
            entry.insert("aliases", strings(&attachment.aliases));
        }
        for (key, address) in [
            ("ipv4_address", attachment.ipv4_address),
            ("ipv6_address", attachment.ipv6_address),
        ] {
            if let Some(address) = address {
                entry.insert(key, address.to_string().into());
            }
        }
        table.insert(name, Value::InlineTable(entry));
    }
    Value::InlineTable(table)
}

fn flags(table: &mut Table, flags: &[(&str, bool)]) {
    for (key, on) in flags {
        if *on {
            table[*key] = value(true);
        }
    }
}

/// A `[[network]]` or `[[volume]]` table with the keys both take.
fn resource_table(
    name: &str,
    driver: Option<&str>,
    options: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
    external: bool,
) -> Table {
    let mut table = Table::new();
    table["name"] = value(name);
    if let Some(driver) = driver {
        table["driver"] = value(driver);
    }
    if !options.is_empty() {
        table["options"] = Item::Value(text_table(options));
    }
    if !labels.is_empty() {
        table["labels"] = Item::Value(text_table(labels));
    }
    flags(&mut table, &[("external", external)]);
    table
}

fn network_table(spec: &NetworkSpec) -> Table {
    let (driver, options, labels) = (spec.driver.as_deref(), &spec.options, &spec.labels);
    let mut table = resource_table(&spec.name, driver, options, labels, spec.external);
    if let Some(driver) = &spec.ipam_driver {
        table["ipam_driver"] = value(driver.as_str());
    }
    if !spec.subnets.is_empty() {
        let mut pools = Array::new();
        for pool in &spec.subnets {
            let mut entry = InlineTable::new();
            entry.insert("subnet", pool.subnet.as_str().into());
            if let Some(range) = &pool.ip_range {
                entry.insert("ip_range", range.as_str().into());
            }
            if let Some(gateway) = &pool.gateway {
                entry.insert("gateway", gateway.as_str().into());
            }
            pools.push(Value::InlineTable(entry));
        }
        table["subnets"] = Item::Value(Value::Array(pools));
    }
    flags(
        &mut table,
        &[
            ("internal", spec.internal),
            ("attachable", spec.attachable),
            ("enable_ipv6", spec.enable_ipv6),
        ],
    );
    table
}

/// The manifest as TOML: its namespace, its `[[network]]`s and
/// `[[volume]]`s, and one `[[unit]]` per unit.
pub fn to_toml(manifest: &Manifest) -> String {
    to_toml_with_builds(manifest, &[])
}

/// [`to_toml`], each unit whose image a compose `build:` makes preceded by
/// a comment saying so: a manifest has no build key, so the image must be
/// on the engine before the manifest's `up`.
pub fn to_toml_with_builds(manifest: &Manifest, builds: &[BuildSpec]) -> String {
    let mut document = DocumentMut::new();
    document["namespace"] = value(manifest.namespace.as_str());
    let resources = &manifest.resources;
    if !resources.networks.is_empty() {
        let tables = resources.networks.iter().map(network_table);
        document["network"] = Item::ArrayOfTables(tables.collect());
    }
    if !resources.volumes.is_empty() {
        let tables = resources.volumes.iter().map(|v| {
            resource_table(
                &v.name,
                v.driver.as_deref(),
                &v.options,
                &v.labels,
                v.external,
            )
        });
        document["volume"] = Item::ArrayOfTables(tables.collect());
    }
    let mut units = ArrayOfTables::new();
    for spec in &manifest.units {
        let mut table = unit_table(spec);
        if let Some(build) = builds.iter().find(|build| build.unit == spec.name) {
            let mut command = format!("docker build -t {}", build.tag);
            if build.options.dockerfile != "Dockerfile" {
                command.push_str(&format!(" -f {}", build.options.dockerfile));
            }
            if let Some(target) = &build.options.target {
                command.push_str(&format!(" --target {target}"));
            }
            table.decor_mut().set_prefix(format!(
                "\n# The image {} is built from {} (build: in {}); a manifest does not\n# build it: `up -f {}` does, or `{command} {}`.\n",
                build.tag,
                build.context.display(),
                manifest.file,
                manifest.file,
                build.context.display(),
            ));
        }
        units.push(table);
    }
    document["unit"] = Item::ArrayOfTables(units);
    format!(
        "# Converted by `stevedore convert` from {}.\n{document}",
        manifest.file
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;
    use crate::compose::parse_compose;
    use crate::manifest::parse_manifest;

    #[test]
    fn a_converted_compose_file_reads_back_as_the_same_units() {
        let text = r#"
name: shop
services:
  web:
    image: busybox
    command: ["httpd", "-f"]
    environment: { GREETING: hello }
    ports: ["127.0.0.1:18080:8080/udp"]
    volumes: ["/srv:/data:ro"]
    mem_limit: 64m
    cpu_shares: 512
    labels: { team: web }
    restart: on-failure:3
    stop_grace_period: 2s
    healthcheck: { test: "wget -q -O- http://127.0.0.1:8080/", interval: 5s, retries: 2 }
  worker:
    image: busybox
    depends_on: { web: { condition: service_healthy, restart: true } }
"#;
        let compose =
            parse_compose(text, "compose.yaml", Path::new("/srv"), &HashMap::new()).unwrap();
        let toml = to_toml(&compose.manifest);
        let back =
            parse_manifest(&toml, "converted.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert_eq!(back.namespace, "shop");
        assert_eq!(back.units, compose.manifest.units, "{toml}");
        assert_eq!(back.resources, compose.manifest.resources, "{toml}");
    }

    #[test]
    fn networks_volumes_secrets_and_tmpfs_convert_and_read_back_the_same() {
        let dir = std::env::temp_dir().join(format!("stevedore-convert-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("token.txt"), "s3cret").unwrap();
        let text = r#"
name: shop
services:
  web:
    image: busybox
    networks:
      front: { aliases: [www], ipv4_address: 172.28.0.5 }
      back:
    volumes: ["data:/data", { type: tmpfs, target: /cache, tmpfs: { size: 1m } }]
    tmpfs: [/run]
    secrets: [token]
  worker:
    image: busybox
volumes:
  data: { labels: { tier: db } }
networks:
  front:
    ipam: { config: [{ subnet: 172.28.0.0/16 }] }
  back: { internal: true }
secrets:
  token: { file: ./token.txt }
"#;
        let compose = parse_compose(text, "compose.yaml", &dir, &HashMap::new()).unwrap();
        let toml = to_toml(&compose.manifest);
        let back =
            parse_manifest(&toml, "converted.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert_eq!(back.units, compose.manifest.units, "{toml}");
        assert_eq!(back.resources, compose.manifest.resources, "{toml}");
        let names: Vec<&str> = back
            .resources
            .networks
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(names, ["shop_back", "shop_default", "shop_front"], "{toml}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_built_image_is_said_to_come_from_its_build_in_a_comment() {
        let dir = std::env::temp_dir().join(format!("stevedore-convert-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("app")).unwrap();
        std::fs::write(dir.join("app/Dockerfile"), "FROM scratch\n").unwrap();
        let text = "name: shop\nservices:\n  web:\n    build: app\n";
        let compose = parse_compose(text, "compose.yaml", &dir, &HashMap::new()).unwrap();
        let toml = to_toml_with_builds(&compose.manifest, &compose.builds);
        assert!(
            toml.contains("# The image shop-web is built from"),
            "{toml}"
        );
        let back = parse_manifest(&toml, "converted.toml").unwrap();
        assert_eq!(back.units[0].image, "shop-web");
    }
}
