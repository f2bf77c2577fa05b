//! The comparison of a project's networks and volumes, as `docker-compose
//! config` declares them, with the manifest's.

use stevedore::compose::yaml::Kind;
use stevedore::manifest::Manifest;

use super::{Config, map, scalar};

/// The project's networks and volumes as `config` declares them, against
/// the manifest's (only those some service uses are made).
pub fn compare_resources(config: &Config, manifest: &Manifest) {
    for network in &manifest.resources.networks {
        let key = config.root.get("networks").and_then(|n| match &n.kind {
            Kind::Map(entries) => entries
                .iter()
                .map(|(k, _)| k.text.clone())
                .find(|k| config.engine_name("networks", k) == network.name),
            _ => None,
        });
        let Some(key) = key else {
            assert_eq!(
                network.name,
                format!("{}_default", config.project),
                "an undeclared network"
            );
            continue;
        };
        let declared = config.top("networks", &key).unwrap();
        let get = |k: &str| declared.get(k).map(scalar);
        assert_eq!(
            network.external,
            declared.get("external").is_some(),
            "{key}.external"
        );
        assert_eq!(
            network.internal,
            get("internal").as_deref() == Some("true"),
            "{key}.internal"
        );
        assert_eq!(network.driver, get("driver"), "{key}.driver");
        assert_eq!(
            network.labels,
            declared.get("labels").map(map).unwrap_or_default(),
            "{key}.labels"
        );
        let subnets: Vec<String> = match declared
            .get("ipam")
            .and_then(|i| i.get("config"))
            .map(|c| &c.kind)
        {
            Some(Kind::List(pools)) => pools
                .iter()
                .map(|p| scalar(p.get("subnet").unwrap()))
                .collect(),
            _ => Vec::new(),
        };
        let ours: Vec<String> = network.subnets.iter().map(|s| s.subnet.clone()).collect();
        assert_eq!(ours, subnets, "{key}.ipam");
    }
    for volume in &manifest.resources.volumes {
        let declared = match config.root.get("volumes").map(|v| &v.kind) {
            Some(Kind::Map(entries)) => entries
                .iter()
                .find(|(k, _)| config.engine_name("volumes", &k.text) == volume.name)
                .map(|(_, v)| v),
            _ => None,
        };
        let declared =
            declared.unwrap_or_else(|| panic!("volume {} is not in the file", volume.name));
        assert_eq!(
            volume.external,
            declared.get("external").is_some(),
            "{}.external",
            volume.name
        );
    }
}
