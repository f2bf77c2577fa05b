//! `stevedore ps`: the namespace's units, one row each: from the running
//! `up`'s API when one answers (live phases), else straight from the engine
//! with the host ports it assigned.

use actix::Addr;
use bollard::models::{ContainerInspectResponse, PortMap};
use serde_json::{Value, json};
use stevedore::engine::mapping::{ContainerDetails, container_details};
use stevedore::engine::{ContainerSnapshot, EngineError};
use stevedore::gateway::{Gateway, InspectContainer, InspectImage};
use stevedore::labels;
use stevedore::record::read_phases;
use stevedore::registry::ImageCache;
use stevedore::{PortMapping, Protocol};

use std::path::Path;

use hyper::Method;

use crate::client::Client;
use crate::engine::Address;
use crate::ps_print::{Shape, print};
use crate::{Failure, engine};

/// The keys of each `--json` object, which `--format` templates name.
pub const KEYS: [&str; 17] = [
    "name",
    "container",
    "id",
    "state",
    "status",
    "image",
    "command",
    "env",
    "ports",
    "volumes",
    "memory",
    "cpu_shares",
    "restart",
    "restart_count",
    "last_exit_code",
    "phase",
    "health",
];

/// Prints the namespace's units in `shape`: as the running `up` has them
/// when one answers on `socket` (live phases), else from the engine.
pub async fn run(
    address: &Address,
    namespace: &str,
    socket: &Path,
    shape: &Shape,
) -> Result<(), Failure> {
    let gateway = engine::gateway(address).await?;
    let mut rows = rows(&gateway, namespace).await?;
    if let Some(client) = Client::connect(socket) {
        let answer = client.call(Method::GET, "/v1/units").await?;
        if answer.status.is_success() {
            rows = live(rows, api_rows(&answer.body));
        }
    }
    print(&rows, shape);
    Ok(())
}

/// The engine's rows with what only the running `up` knows now (phase,
/// restarts, health, why), and the units it has that have no container
/// yet; the container's own facts stay the engine's.
pub fn live(engine_rows: Vec<Row>, api: Vec<Row>) -> Vec<Row> {
    let mut rows: Vec<Row> = engine_rows
        .into_iter()
        .map(|mut row| {
            if let Some(live) = api
                .iter()
                .find(|unit| unit.json["name"] == row.json["name"])
            {
                for key in ["phase", "restart_count", "health"] {
                    row.json[key] = live.json[key].clone();
                }
                if live.last_restart_reason.is_some() {
                    row.last_restart_reason = live.last_restart_reason.clone();
                }
            }
            row
        })
        .collect();
    for unit in api {
        if !rows.iter().any(|row| row.json["name"] == unit.json["name"]) {
            rows.push(unit);
        }
    }
    rows.sort_by(|a, b| a.json["name"].as_str().cmp(&b.json["name"].as_str()));
    rows
}

/// The rows of the API's `/v1/units` answer; `--json` shows the same keys
/// as without an `up`.
pub fn api_rows(units: &Value) -> Vec<Row> {
    let units = units.as_array().map(Vec::as_slice).unwrap_or_default();
    units
        .iter()
        .map(|unit| {
            let json: serde_json::Map<String, Value> = KEYS
                .iter()
                .map(|key| (key.to_string(), unit[*key].clone()))
                .collect();
            let text = |key: &str| unit[key].as_str().map(str::to_string);
            let ports = unit["ports"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|port| {
                    let mapping = PortMapping {
                        internal: u16::try_from(port["internal"].as_u64()?).ok()?,
                        external: u16::try_from(port["external"].as_u64()?).ok()?,
                        protocol: match port["protocol"].as_str()? {
                            "udp" => Protocol::Udp,
                            _ => Protocol::Tcp,
                        },
                        host_ip: port["host_ip"].as_str().map(str::to_string),
                    };
                    Some(port_texts(&mapping, &[]))
                })
                .flatten()
                .collect();
            let containerless = unit["id"].is_null();
            Row {
                json: Value::Object(json),
                last_restart_reason: text("last_restart_reason"),
                reason: if containerless { text("reason") } else { None },
                ports,
            }
        })
        .collect()
}

/// One unit container as `ps` shows it.
pub struct Row {
    /// The object `--json` prints (its keys are [`KEYS`]).
    pub json: Value,
    /// Why it last restarted, for the table.
    pub last_restart_reason: Option<String>,
    /// Why a unit with no container has none (the record's reason), for the table.
    pub reason: Option<String>,
    /// The table's PORTS: each binding the engine made
    /// (`0.0.0.0:32768->8081/tcp`), else each declared mapping.
    pub ports: Vec<String>,
}

/// One row per unit, sorted by unit name: each container of the namespace,
/// and each unit the phase record knows that has none yet.
pub async fn rows(gateway: &Addr<Gateway>, namespace: &str) -> Result<Vec<Row>, Failure> {
    let listed = engine::containers(gateway, namespace).await?;
    let phases = read_phases(gateway, namespace).await.unwrap_or_default();
    let mut images = ImageCache::new();
    let mut rows = Vec::new();
    for snapshot in listed {
        let Some((details, assigned)) = inspect(gateway, &snapshot.id, &mut images).await? else {
            continue; // removed between the list and the inspect
        };
        let bound: Vec<Vec<(String, u16)>> = details
            .ports
            .iter()
            .map(|mapping| bindings(&assigned, mapping))
            .collect();
        let unit = unit_name(&snapshot);
        let carried = labels::carried_state(&snapshot.labels);
        let restart = labels::stored_spec(&snapshot.labels).map(|spec| spec.restart.to_string());
        let running = details.status == "running";
        let record = phases.get(&unit);
        let phase = record
            .map(|record| record.phase.clone())
            .unwrap_or_else(|| if running { "running" } else { "exited" }.to_string());
        // Restarts in place leave the labels at the count of the creation.
        let restart_count = record
            .map_or(0, |r| r.restart_count)
            .max(carried.restart_count);
        let last_restart_reason = record
            .and_then(|r| r.last_restart_reason.clone())
            .or(carried.last_restart_reason.clone());
        let last_exit_code = details
            .exit_code
            .or(record.and_then(|r| r.last_exit_code))
            .or(carried.last_exit_code);
        let json = json!({
            "name": unit,
            "container": snapshot.name,
            "id": snapshot.id,
            "state": if running { "active" } else { "inactive" },
            "status": details.status,
            "image": details.image,
            "command": details.command,
            "env": details.env,
            // As declared, but with the port the engine picked for an
            // `external` of 0 once it has picked one.
            "ports": details.ports.iter().zip(&bound).map(|(p, bound)| json!({
                "internal": p.internal,
                "external": match bound.first() {
                    Some((_, port)) if p.external == 0 => *port,
                    _ => p.external,
                },
                "protocol": p.protocol.to_string(),
                "host_ip": p.host_ip,
            })).collect::<Vec<_>>(),
            "volumes": details.volumes.iter().map(|v| json!({
                "source": v.source,
                "container": v.container,
                "read_only": v.read_only,
            })).collect::<Vec<_>>(),
            "memory": details.memory,
            "cpu_shares": details.cpu_shares,
            "restart": restart.unwrap_or_else(|| "no".into()),
            "restart_count": restart_count,
            "last_exit_code": last_exit_code,
            "phase": phase,
            "health": details.health,
        });
        // By container port, so that the table reads the same every time.
        let mut published: Vec<_> = details.ports.iter().zip(&bound).collect();
        published.sort_by_key(|(m, _)| (m.internal, m.protocol.to_string(), m.host_ip.clone()));
        let ports = published
            .into_iter()
            .flat_map(|(mapping, bound)| port_texts(mapping, bound))
            .collect();
        rows.push(Row {
            json,
            last_restart_reason,
            reason: None,
            ports,
        });
    }
    // Units the record knows that have no container: waiting for their
    // dependencies since the first start, or failed before one was made
    // (a record of any other phase without a container is a removal the
    // record has not caught up with).
    for (unit, record) in &phases {
        let containerless = matches!(record.phase.as_str(), "waiting" | "failed");
        if !containerless || rows.iter().any(|row| row.json["name"] == unit.as_str()) {
            continue;
        }
        let json = json!({
            "name": unit,
            "container": labels::container_name(namespace, unit),
            "id": null,
            "state": "inactive",
            "status": "not created",
            "image": null,
            "command": null,
            "env": {},
            "ports": [],
            "volumes": [],
            "memory": null,
            "cpu_shares": null,
            "restart": null,
            "restart_count": record.restart_count,
            "last_exit_code": record.last_exit_code,
            "phase": record.phase,
            "health": null,
        });
        rows.push(Row {
            json,
            last_restart_reason: record.last_restart_reason.clone(),
            reason: record.reason.clone(),
            ports: Vec::new(),
        });
    }
    rows.sort_by(|a, b| a.json["name"].as_str().cmp(&b.json["name"].as_str()));
    Ok(rows)
}

fn unit_name(snapshot: &ContainerSnapshot) -> String {
    snapshot
        .labels
        .get(labels::UNIT)
        .cloned()
        .unwrap_or_else(|| snapshot.name.clone())
}

/// The container's details, and the host ports the engine bound for it
/// (`NetworkSettings.Ports`, which the details leave out); `None` when the
/// container is gone.
async fn inspect(
    gateway: &Addr<Gateway>,
    id: &str,
    images: &mut ImageCache,
) -> Result<Option<(ContainerDetails, PortMap)>, Failure> {
    let id = id.to_string();
    let inspect: ContainerInspectResponse = match gateway
        .send(InspectContainer { id })
        .await
        .map_err(Failure::runtime)?
    {
        Ok(inspect) => inspect,
        Err(EngineError::ContainerNotFound(_)) => return Ok(None),
        Err(error) => return Err(Failure::runtime(error)),
    };
    let image_id = inspect.image.clone().unwrap_or_default();
    if !images.contains_key(&image_id) {
        let image = InspectImage {
            image: image_id.clone(),
        };
        let image = gateway.send(image).await.map_err(Failure::runtime)?;
        images.insert(image_id.clone(), image.ok());
    }
    let details = container_details(&inspect, images[&image_id].as_ref());
    let assigned = inspect
        .network_settings
        .and_then(|settings| settings.ports)
        .unwrap_or_default();
    Ok(Some((details, assigned)))
}

/// The host addresses and ports the engine bound for `mapping`: two for a
/// mapping on every address (`0.0.0.0` and `::`), none while the container
/// does not run.
fn bindings(assigned: &PortMap, mapping: &PortMapping) -> Vec<(String, u16)> {
    let key = format!("{}/{}", mapping.internal, mapping.protocol);
    let bound = assigned.get(&key).and_then(Option::as_ref);
    bound
        .into_iter()
        .flatten()
        .filter_map(|binding| {
            let port = binding.host_port.as_deref()?.parse::<u16>().ok()?;
            Some((binding.host_ip.clone().unwrap_or_default(), port))
        })
        .filter(|(ip, port)| {
            (mapping.external == 0 || *port == mapping.external)
                && mapping.host_ip.as_ref().is_none_or(|wanted| wanted == ip)
        })
        .collect()
}

/// How the table shows `mapping`: as the engine bound it, else as declared
/// (a port the engine is to pick shows without a host side, as in docker ps).
fn port_texts(mapping: &PortMapping, bound: &[(String, u16)]) -> Vec<String> {
    let to = format!("{}/{}", mapping.internal, mapping.protocol);
    if bound.is_empty() {
        return vec![match (mapping.external, &mapping.host_ip) {
            (0, _) => to,
            (port, ip) => format!("{}:{port}->{to}", host(ip.as_deref().unwrap_or(""))),
        }];
    }
    bound
        .iter()
        .map(|(ip, port)| format!("{}:{port}->{to}", host(ip)))
        .collect()
}

/// An address as it stands before `:port`: IPv6 in brackets.
fn host(ip: &str) -> String {
    match ip {
        "" => "0.0.0.0".to_string(),
        ip if ip.contains(':') => format!("[{ip}]"),
        ip => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::PortBinding;
    use stevedore::spec::text::parse_port;

    fn engine_bound(key: &str, bindings: &[(&str, &str)]) -> PortMap {
        let bindings = bindings
            .iter()
            .map(|(ip, port)| PortBinding {
                host_ip: Some(ip.to_string()),
                host_port: Some(port.to_string()),
            })
            .collect();
        PortMap::from([(key.to_string(), Some(bindings))])
    }

    fn texts(declared: &str, assigned: &PortMap) -> Vec<String> {
        let mapping = parse_port(declared).unwrap();
        port_texts(&mapping, &bindings(assigned, &mapping))
    }

    #[test]
    fn a_port_the_engine_picked_shows_as_it_was_bound_on_each_address() {
        let assigned = engine_bound("8081/tcp", &[("0.0.0.0", "32768"), ("::", "32768")]);
        assert_eq!(
            texts("8081", &assigned),
            ["0.0.0.0:32768->8081/tcp", "[::]:32768->8081/tcp"]
        );
    }

    #[test]
    fn an_ipv6_host_address_is_bracketed() {
        let assigned = engine_bound("80/tcp", &[("::1", "8080")]);
        assert_eq!(texts("[::1]:8080:80", &assigned), ["[::1]:8080->80/tcp"]);
        assert_eq!(
            texts("[::1]:8080:80", &PortMap::new()),
            ["[::1]:8080->80/tcp"]
        );
    }

    #[test]
    fn without_bindings_the_declared_mapping_shows() {
        assert_eq!(texts("8081", &PortMap::new()), ["8081/tcp"]);
        assert_eq!(
            texts("9000:53/udp", &PortMap::new()),
            ["0.0.0.0:9000->53/udp"]
        );
    }

    #[test]
    fn bindings_of_another_mapping_of_the_same_container_port_are_not_taken() {
        let assigned = engine_bound("80/tcp", &[("127.0.0.1", "8080"), ("0.0.0.0", "8081")]);
        assert_eq!(
            texts("127.0.0.1:8080:80", &assigned),
            ["127.0.0.1:8080->80/tcp"]
        );
        assert_eq!(texts("8081:80", &assigned), ["0.0.0.0:8081->80/tcp"]);
    }
}
