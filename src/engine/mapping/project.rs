//! Pure mappings of a namespace's networks and volumes, and of a unit's
//! place on them, to the engine's requests.

use std::collections::HashMap;

use bollard::models::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, NetworkCreateRequest, NetworkingConfig,
    VolumeCreateRequest,
};

use super::hash_map;
use crate::labels;
use crate::spec::UnitSpec;
use crate::spec::project::{NetworkAttachment, NetworkSpec, VolumeSpec};

/// The labels a created network or volume carries: the user's, then the
/// namespace's (which the user cannot set: keys under `io.stevedore.` are
/// reserved).
fn resource_labels(
    namespace: &str,
    user: &std::collections::BTreeMap<String, String>,
) -> HashMap<String, String> {
    let mut all: HashMap<String, String> = user
        .iter()
        .filter(|(key, _)| !key.starts_with(labels::RESERVED_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    all.insert(labels::NAMESPACE.to_string(), namespace.to_string());
    all
}

/// The create request of `spec`'s network in `namespace`.
pub fn network_body(namespace: &str, spec: &NetworkSpec) -> NetworkCreateRequest {
    let ipam = (spec.ipam_driver.is_some() || !spec.subnets.is_empty()).then(|| Ipam {
        driver: spec.ipam_driver.clone(),
        config: Some(
            spec.subnets
                .iter()
                .map(|pool| IpamConfig {
                    subnet: Some(pool.subnet.clone()),
                    ip_range: pool.ip_range.clone(),
                    gateway: pool.gateway.clone(),
                    auxiliary_addresses: None,
                })
                .collect(),
        ),
        options: None,
    });
    NetworkCreateRequest {
        name: spec.name.clone(),
        driver: spec.driver.clone(),
        internal: spec.internal.then_some(true),
        attachable: spec.attachable.then_some(true),
        enable_ipv6: spec.enable_ipv6.then_some(true),
        ipam,
        options: hash_map(&spec.options),
        labels: Some(resource_labels(namespace, &spec.labels)),
        ..Default::default()
    }
}

/// The create request of `spec`'s volume in `namespace`.
pub fn volume_body(namespace: &str, spec: &VolumeSpec) -> VolumeCreateRequest {
    VolumeCreateRequest {
        name: Some(spec.name.clone()),
        driver: spec.driver.clone(),
        driver_opts: hash_map(&spec.options),
        labels: Some(resource_labels(namespace, &spec.labels)),
        ..Default::default()
    }
}

/// How `unit` joins one network: its own name and the aliases as DNS
/// names (compose's service-name DNS), and any fixed address.
pub fn endpoint(unit: &str, attachment: &NetworkAttachment, links: &[String]) -> EndpointSettings {
    let mut aliases = vec![unit.to_string()];
    aliases.extend(attachment.aliases.iter().filter(|a| *a != unit).cloned());
    let fixed = attachment.ipv4_address.is_some() || attachment.ipv6_address.is_some();
    EndpointSettings {
        aliases: Some(aliases),
        ipam_config: fixed.then(|| EndpointIpamConfig {
            ipv4_address: attachment.ipv4_address.map(|ip| ip.to_string()),
            ipv6_address: attachment.ipv6_address.map(|ip| ip.to_string()),
            link_local_ips: None,
        }),
        links: (!links.is_empty()).then(|| links.to_vec()),
        ..Default::default()
    }
}

/// The network the container is created on (its `NetworkMode`) and its
/// endpoint there. Engines before API 1.44 take one network at create; the
/// others are joined before the first start ([`further_networks`]).
pub fn first_network(spec: &UnitSpec) -> Option<(String, NetworkingConfig)> {
    let (name, attachment) = spec.networks.iter().next()?;
    let endpoints = HashMap::from([(
        name.clone(),
        endpoint(&spec.name, attachment, &spec.options.links),
    )]);
    Some((
        name.clone(),
        NetworkingConfig {
            endpoints_config: Some(endpoints),
        },
    ))
}

/// The networks joined after create, with their endpoints, in name order.
pub fn further_networks(spec: &UnitSpec) -> Vec<(String, EndpointSettings)> {
    spec.networks
        .iter()
        .skip(1)
        .map(|(name, attachment)| {
            (
                name.clone(),
                endpoint(&spec.name, attachment, &spec.options.links),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::project::Subnet;

    #[test]
    fn a_unit_answers_to_its_own_name_and_its_aliases_on_each_network() {
        let spec = UnitSpec::new("web", "i")
            .network(
                "shop_front",
                NetworkAttachment {
                    aliases: vec!["www".into(), "web".into()],
                    ipv4_address: Some("172.28.0.5".parse().unwrap()),
                    ..Default::default()
                },
            )
            .network("shop_back", NetworkAttachment::default());
        // BTreeMap order: shop_back first.
        let (first, config) = first_network(&spec).unwrap();
        assert_eq!(first, "shop_back");
        let endpoints = config.endpoints_config.unwrap();
        assert_eq!(
            endpoints["shop_back"].aliases,
            Some(vec!["web".to_string()])
        );
        let further = further_networks(&spec);
        assert_eq!(further.len(), 1);
        assert_eq!(further[0].0, "shop_front");
        assert_eq!(
            further[0].1.aliases,
            Some(vec!["web".to_string(), "www".to_string()])
        );
        assert_eq!(
            further[0]
                .1
                .ipam_config
                .as_ref()
                .unwrap()
                .ipv4_address
                .as_deref(),
            Some("172.28.0.5")
        );
    }

    #[test]
    fn a_unit_without_networks_stays_on_the_default_bridge() {
        assert!(first_network(&UnitSpec::new("web", "i")).is_none());
    }

    #[test]
    fn created_networks_and_volumes_carry_the_namespace_label_over_the_users() {
        let mut spec = NetworkSpec::new("shop_default");
        spec.labels.insert("team".into(), "edge".into());
        spec.labels
            .insert(labels::NAMESPACE.into(), "forged".into());
        spec.subnets.push(Subnet {
            subnet: "172.28.0.0/16".into(),
            ..Subnet::default()
        });
        let body = network_body("shop", &spec);
        let got = body.labels.unwrap();
        assert_eq!(got[labels::NAMESPACE], "shop");
        assert_eq!(got["team"], "edge");
        assert_eq!(
            body.ipam.unwrap().config.unwrap()[0].subnet.as_deref(),
            Some("172.28.0.0/16")
        );
        let volume = volume_body("shop", &VolumeSpec::new("shop_data"));
        assert_eq!(volume.labels.unwrap()[labels::NAMESPACE], "shop");
        assert_eq!(volume.name.as_deref(), Some("shop_data"));
    }
}
