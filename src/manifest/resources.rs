//! A manifest's `[[network]]` and `[[volume]]` tables, and a unit's
//! `networks` and `tmpfs`: read with every problem at its place.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use toml_edit::{Item, TableLike, Value};

use super::fields::{Field, Found, Scope, fields};
use crate::spec::project::{NetworkSpec, Resources, Shared, Subnet, VolumeSpec};
use crate::spec::text::parse_tmpfs;
use crate::spec::validate::is_valid_name;
use crate::spec::{NetworkAttachment, UnitSpec};

/// Keys of a `[[network]]`.
const NETWORK_KEYS: &[&str] = &[
    "name",
    "driver",
    "options",
    "internal",
    "attachable",
    "enable_ipv6",
    "ipam_driver",
    "subnets",
    "labels",
    "external",
];
/// Keys of a `[[volume]]`.
const VOLUME_KEYS: &[&str] = &["name", "driver", "options", "labels", "external"];
/// Keys of one of a unit's networks.
const ATTACHMENT_KEYS: &[&str] = &["aliases", "ipv4_address", "ipv6_address"];
/// Keys of a network's subnet.
const SUBNET_KEYS: &[&str] = &["subnet", "ip_range", "gateway"];

/// The tables of an array of tables (`[[network]]`), or of an array of
/// inline tables, with where each starts.
fn tables<'i>(scope: &mut Scope<'_>, entry: &Field<'i>) -> Vec<(&'i dyn TableLike, usize)> {
    match entry.item {
        Item::ArrayOfTables(tables) => tables
            .iter()
            .map(|t| (t as &dyn TableLike, t.span().map_or(entry.at, |s| s.start)))
            .collect(),
        Item::Value(Value::Array(array)) if array.iter().all(Value::is_inline_table) => array
            .iter()
            .filter_map(|v| {
                Some((
                    v.as_inline_table()? as &dyn TableLike,
                    v.span().map_or(entry.at, |s| s.start),
                ))
            })
            .collect(),
        other => {
            let message = format!(
                "must be an array of tables (one [[{0}]] section per {0}), not {1}",
                entry.name,
                super::fields::kind(other)
            );
            scope.report(entry.at, entry.name, message);
            Vec::new()
        }
    }
}

/// Reads `[[network]]` and `[[volume]]` (the top-level entries `entries`).
pub(super) fn read_resources(
    text: &str,
    problems: &mut Vec<Found>,
    entries: &[Field<'_>],
) -> Resources {
    let mut resources = Resources::default();
    let mut scope = Scope::new(text, problems, None, "");
    for entry in entries {
        match entry.name {
            "network" => {
                for (index, (table, header)) in tables(&mut scope, entry).into_iter().enumerate() {
                    if let Some(network) = read_network(&mut scope, index, table, header) {
                        resources.networks.push(network);
                    }
                }
            }
            "volume" => {
                for (index, (table, header)) in tables(&mut scope, entry).into_iter().enumerate() {
                    if let Some(volume) = read_volume(&mut scope, index, table, header) {
                        resources.volumes.push(volume);
                    }
                }
            }
            _ => {}
        }
    }
    resources
}

fn read_name(
    scope: &mut Scope<'_>,
    path: &str,
    table: &dyn TableLike,
    header: usize,
) -> Option<String> {
    let Some(item) = table.get("name") else {
        scope.report(header, &format!("{path}.name"), "is missing");
        return None;
    };
    let at = item.span().map_or(header, |s| s.start);
    let name = scope.string(&format!("{path}.name"), item, at)?;
    if !is_valid_name(&name) {
        scope.report(at, &format!("{path}.name"), format!("{name:?} is not a name the engine takes (letters, digits, '_', '.', '-', starting with a letter or digit)"));
        return None;
    }
    Some(name)
}

/// Reads `entry` when it is a key networks and volumes share; false when not.
fn shared_key(scope: &mut Scope<'_>, entry: &Field<'_>, field: &str, shared: Shared<'_>) -> bool {
    let (item, at) = (entry.item, entry.at);
    match entry.name {
        "driver" => *shared.driver = scope.string(field, item, at),
        "options" => *shared.options = scope.text_table(field, item, at, true).unwrap_or_default(),
        "labels" => *shared.labels = scope.text_table(field, item, at, false).unwrap_or_default(),
        "external" => *shared.external = scope.boolean(field, item, at).unwrap_or(false),
        _ => return false,
    }
    true
}

fn read_network(
    scope: &mut Scope<'_>,
    index: usize,
    table: &dyn TableLike,
    header: usize,
) -> Option<NetworkSpec> {
    let path = format!("network[{index}]");
    let mut spec = NetworkSpec::new(read_name(scope, &path, table, header)?);
    for entry in fields(table, header) {
        let field = format!("{path}.{}", entry.name);
        let (item, at) = (entry.item, entry.at);
        match entry.name {
            "name" => {}
            _ if shared_key(scope, &entry, &field, spec.shared()) => {}
            "ipam_driver" => spec.ipam_driver = scope.string(&field, item, at),
            "internal" => spec.internal = scope.boolean(&field, item, at).unwrap_or(false),
            "attachable" => spec.attachable = scope.boolean(&field, item, at).unwrap_or(false),
            "enable_ipv6" => spec.enable_ipv6 = scope.boolean(&field, item, at).unwrap_or(false),
            "subnets" => {
                let entry = Field {
                    name: "subnets",
                    ..entry
                };
                for (i, (pool, pool_at)) in tables(scope, &entry).into_iter().enumerate() {
                    let pool_path = format!("{field}[{i}]");
                    let mut subnet = Subnet::default();
                    for key in fields(pool, pool_at) {
                        let key_path = format!("{pool_path}.{}", key.name);
                        let value = scope.string(&key_path, key.item, key.at);
                        match key.name {
                            "subnet" => subnet.subnet = value.unwrap_or_default(),
                            "ip_range" => subnet.ip_range = value,
                            "gateway" => subnet.gateway = value,
                            name => scope.unknown(&key_path, name, key.key_at, SUBNET_KEYS),
                        }
                    }
                    if subnet.subnet.is_empty() {
                        scope.report(pool_at, &format!("{pool_path}.subnet"), "is missing");
                    }
                    spec.subnets.push(subnet);
                }
            }
            name => scope.unknown(&field, name, entry.key_at, NETWORK_KEYS),
        }
    }
    Some(spec)
}

fn read_volume(
    scope: &mut Scope<'_>,
    index: usize,
    table: &dyn TableLike,
    header: usize,
) -> Option<VolumeSpec> {
    let path = format!("volume[{index}]");
    let mut spec = VolumeSpec::new(read_name(scope, &path, table, header)?);
    for entry in fields(table, header) {
        let field = format!("{path}.{}", entry.name);
        match entry.name {
            "name" => {}
            _ if shared_key(scope, &entry, &field, spec.shared()) => {}
            name => scope.unknown(&field, name, entry.key_at, VOLUME_KEYS),
        }
    }
    Some(spec)
}

impl Scope<'_> {
    /// A unit's `networks`: an array of names, or a table of name →
    /// `{ aliases, ipv4_address, ipv6_address }`.
    pub fn networks(
        &mut self,
        field: &str,
        item: &Item,
        at: usize,
    ) -> BTreeMap<String, NetworkAttachment> {
        let mut joined = BTreeMap::new();
        if item.as_array().is_some() {
            for (name, _) in self.string_list(field, item, at).unwrap_or_default() {
                joined.insert(name, NetworkAttachment::default());
            }
            return joined;
        }
        let Some(table) = self.table_as(field, item, at, "an array of network names or a table")
        else {
            return joined;
        };
        for entry in fields(table, at) {
            let path = format!("{field}.{}", entry.name);
            let mut attachment = NetworkAttachment::default();
            if let Some(inner) = self.table(&path, entry.item, entry.at) {
                for key in fields(inner, entry.at) {
                    let key_path = format!("{path}.{}", key.name);
                    let address = |scope: &mut Self| {
                        scope.parsed(&key_path, key.item, key.at, "an IP address", |t| {
                            t.parse::<IpAddr>()
                                .map_err(|_| format!("{t:?} is not an IP address"))
                        })
                    };
                    match key.name {
                        "aliases" => {
                            let list = self
                                .string_list(&key_path, key.item, key.at)
                                .unwrap_or_default();
                            attachment.aliases = list.into_iter().map(|(alias, _)| alias).collect();
                        }
                        "ipv4_address" => attachment.ipv4_address = address(self),
                        "ipv6_address" => attachment.ipv6_address = address(self),
                        name => self.unknown(&key_path, name, key.key_at, ATTACHMENT_KEYS),
                    }
                }
            }
            joined.insert(entry.name.to_string(), attachment);
        }
        joined
    }

    /// A unit's `tmpfs`: an array of `"PATH[:OPTIONS]"`.
    pub fn tmpfs(&mut self, field: &str, item: &Item, at: usize) -> BTreeMap<PathBuf, String> {
        let list = self.string_list(field, item, at).unwrap_or_default();
        list.into_iter()
            .map(|(text, _)| parse_tmpfs(&text))
            .collect()
    }
}

/// What a unit uses that the manifest does not declare: `(field, message)`
/// for each network and named volume missing from `resources`.
pub(super) fn undeclared(spec: &UnitSpec, resources: &Resources) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for name in spec.networks.keys() {
        if resources.network(name).is_none() {
            found.push((
                format!("networks.{name}"),
                format!("network {name:?} is not declared: add a [[network]] with name = {name:?}"),
            ));
        }
    }
    for (index, volume) in spec.volumes.iter().enumerate() {
        if let Some(name) = volume.volume_name()
            && resources.volume(name).is_none()
        {
            found.push((
                format!("volumes[{index}]"),
                format!("volume {name:?} is not declared: add a [[volume]] with name = {name:?}"),
            ));
        }
    }
    found
}
