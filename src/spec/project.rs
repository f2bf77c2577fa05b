//! What a namespace declares beside its units: networks and named volumes.
//!
//! Units name them by their engine names (`shop_default`, `shop_data`).
//! Those the namespace creates carry its label and are the only ones it ever
//! removes; `external` ones must exist already and are never changed.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::validate::is_valid_name;
use super::{SpecProblem, UnitSpec};

/// The networks and named volumes of a namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Networks, in the order they were declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<NetworkSpec>,
    /// Named volumes, in the order they were declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeSpec>,
}

impl Resources {
    /// Whether nothing is declared.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.volumes.is_empty()
    }

    /// The declared network called `name` on the engine.
    pub fn network(&self, name: &str) -> Option<&NetworkSpec> {
        self.networks.iter().find(|n| n.name == name)
    }

    /// The declared volume called `name` on the engine.
    pub fn volume(&self, name: &str) -> Option<&VolumeSpec> {
        self.volumes.iter().find(|v| v.name == name)
    }
}

/// One network, as `docker network create` takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Its name on the engine (`shop_default`).
    pub name: String,
    /// Driver (`bridge` when `None`, the engine's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    /// No route out of the network.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
    /// Containers not of this namespace may join it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attachable: bool,
    /// IPv6 addresses too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enable_ipv6: bool,
    /// Address pools; empty lets the engine pick.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<Subnet>,
    /// IPAM driver (`default` when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam_driver: Option<String>,
    /// Labels put on the network (beside the namespace's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Made by someone else: must exist, is never created or removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
}

impl NetworkSpec {
    /// A bridge network called `name` with the engine's defaults.
    pub fn new(name: impl Into<String>) -> Self {
        NetworkSpec {
            name: name.into(),
            ..NetworkSpec::default()
        }
    }
}

/// One address pool of a network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// CIDR (`172.28.0.0/16`).
    pub subnet: String,
    /// The part of it containers get addresses from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    /// The gateway's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
}

/// One named volume, as `docker volume create` takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeSpec {
    /// Its name on the engine (`shop_data`).
    pub name: String,
    /// Driver (`local` when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    /// Labels put on the volume (beside the namespace's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Made by someone else: must exist, is never created or removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
}

impl VolumeSpec {
    /// A `local` volume called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        VolumeSpec {
            name: name.into(),
            ..VolumeSpec::default()
        }
    }
}

/// The settings networks and volumes both take, to read and write them once.
pub(crate) struct Shared<'a> {
    pub driver: &'a mut Option<String>,
    pub options: &'a mut BTreeMap<String, String>,
    pub labels: &'a mut BTreeMap<String, String>,
    pub external: &'a mut bool,
}

impl NetworkSpec {
    pub(crate) fn shared(&mut self) -> Shared<'_> {
        Shared {
            driver: &mut self.driver,
            options: &mut self.options,
            labels: &mut self.labels,
            external: &mut self.external,
        }
    }
}

impl VolumeSpec {
    pub(crate) fn shared(&mut self) -> Shared<'_> {
        Shared {
            driver: &mut self.driver,
            options: &mut self.options,
            labels: &mut self.labels,
            external: &mut self.external,
        }
    }
}

/// How a unit joins one network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkAttachment {
    /// Further DNS names on that network (the unit's name always is one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// A fixed IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<IpAddr>,
    /// A fixed IPv6 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<IpAddr>,
}

/// What is wrong with a unit's volumes, tmpfs mounts and networks.
pub(super) fn check_mounts_and_networks(spec: &UnitSpec) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    let mut problem =
        |field: String, message: String| problems.push(SpecProblem { field, message });
    for (index, volume) in spec.volumes.iter().enumerate() {
        let field = format!("volumes[{index}]");
        match volume.volume_name() {
            Some(name) if !is_volume_name(name) => problem(
                field.clone(),
                format!(
                    "{name:?} is neither an absolute host path nor a volume name (letters, digits, '_', '.', '-', at least two, starting with a letter or digit)"
                ),
            ),
            Some(_) => {}
            None if !volume.source.is_absolute() => problem(
                field.clone(),
                format!("host path {:?} is not absolute", volume.source),
            ),
            None => {}
        }
        if !volume.container.is_absolute() {
            problem(
                field,
                format!("container path {:?} is not absolute", volume.container),
            );
        }
    }
    for (path, options) in &spec.tmpfs {
        let field = format!("tmpfs.{}", path.display());
        if !path.is_absolute() {
            problem(
                field.clone(),
                format!("tmpfs path {:?} is not absolute", path),
            );
        }
        if options.contains(char::is_whitespace) {
            problem(
                field,
                format!("tmpfs options {options:?} contain white space"),
            );
        }
    }
    for (name, attachment) in &spec.networks {
        let field = format!("networks.{name}");
        if !is_valid_name(name) {
            problem(
                field.clone(),
                format!(
                    "{name:?} is not a network name (letters, digits, '_', '.', '-', starting with a letter or digit)"
                ),
            );
        }
        for alias in &attachment.aliases {
            if alias.is_empty()
                || alias.len() > 253
                || alias.contains(|c: char| c.is_whitespace() || c == '/' || c == ':')
            {
                problem(
                    format!("{field}.aliases"),
                    format!("{alias:?} is not a DNS name"),
                );
            }
        }
        if matches!(attachment.ipv4_address, Some(IpAddr::V6(_))) {
            problem(format!("{field}.ipv4_address"), "is an IPv6 address".into());
        }
        if matches!(attachment.ipv6_address, Some(IpAddr::V4(_))) {
            problem(format!("{field}.ipv6_address"), "is an IPv4 address".into());
        }
    }
    problems
}

/// Whether `name` is a name Docker accepts for a volume (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
pub fn is_volume_name(name: &str) -> bool {
    name.len() >= 2 && is_valid_name(name)
}

/// Whose a network or volume found on the engine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// It carries this namespace's label: ours to use and to remove.
    Ours,
    /// Declared external: used, never changed.
    External,
    /// Someone else's, and not declared external: never touched.
    Foreign,
}

/// Who owns a resource the engine has under a declared name.
pub fn owner(
    found_labels: &std::collections::HashMap<String, String>,
    namespace: &str,
    external: bool,
) -> Owner {
    if external {
        Owner::External
    } else if crate::labels::belongs_to(found_labels, namespace) {
        Owner::Ours
    } else {
        Owner::Foreign
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_resource_with_our_label_is_ours_and_one_without_is_foreign() {
        let ours = HashMap::from([(crate::labels::NAMESPACE.to_string(), "shop".to_string())]);
        assert_eq!(owner(&ours, "shop", false), Owner::Ours);
        assert_eq!(owner(&ours, "other", false), Owner::Foreign);
        assert_eq!(owner(&HashMap::new(), "shop", false), Owner::Foreign);
        assert_eq!(owner(&HashMap::new(), "shop", true), Owner::External);
    }

    #[test]
    fn resources_round_trip_through_json_and_defaults_are_left_out() {
        let resources = Resources {
            networks: vec![NetworkSpec {
                internal: true,
                subnets: vec![Subnet {
                    subnet: "172.28.0.0/16".into(),
                    ..Subnet::default()
                }],
                ..NetworkSpec::new("shop_back")
            }],
            volumes: vec![VolumeSpec::new("shop_data")],
        };
        let json = serde_json::to_string(&resources).unwrap();
        assert!(!json.contains("external"), "{json}");
        assert_eq!(serde_json::from_str::<Resources>(&json).unwrap(), resources);
    }
}
