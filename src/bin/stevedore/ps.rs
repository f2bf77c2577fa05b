//! `stevedore ps`: the namespace's units straight from the engine, with or
//! without a running `up`.

use actix::Addr;
use serde_json::{Value, json};
use stevedore::engine::ContainerSnapshot;
use stevedore::gateway::Gateway;
use stevedore::labels;
use stevedore::record::read_phases;
use stevedore::registry::{ImageCache, describe_container};

use crate::{Failure, engine};

/// Prints the namespace's units as a table or JSON.
pub async fn run(host: Option<&str>, namespace: &str, as_json: bool) -> Result<(), Failure> {
    let gateway = engine::gateway(host).await?;
    let rows = rows(&gateway, namespace).await?;
    if as_json {
        let objects = rows.into_iter().map(|row| row.json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&Value::Array(objects)).expect("JSON values print")
        );
    } else {
        print_table(&rows);
    }
    Ok(())
}

/// One unit container as `ps` shows it.
pub struct Row {
    /// The object `--json` prints.
    pub json: Value,
    /// Why it last restarted, for the table.
    pub last_restart_reason: Option<String>,
    /// Why a unit with no container has none (the record's reason), for the table.
    pub reason: Option<String>,
}

/// One row per unit, sorted by unit name: each container of the namespace,
/// and each unit the phase record knows that has none yet.
pub async fn rows(gateway: &Addr<Gateway>, namespace: &str) -> Result<Vec<Row>, Failure> {
    let listed = engine::containers(gateway, namespace).await?;
    let phases = read_phases(gateway, namespace).await.unwrap_or_default();
    let mut images = ImageCache::new();
    let mut rows = Vec::new();
    for snapshot in listed {
        let Some(details) = describe_container(gateway, snapshot.id.clone(), &mut images)
            .await
            .map_err(Failure::runtime)?
        else {
            continue; // removed between the list and the inspect
        };
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
            "ports": details.ports.iter().map(|p| json!({
                "internal": p.internal,
                "external": p.external,
                "protocol": p.protocol.to_string(),
                "host_ip": p.host_ip,
            })).collect::<Vec<_>>(),
            "volumes": details.volumes.iter().map(|v| json!({
                "host": v.host,
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
        rows.push(Row {
            json,
            last_restart_reason,
            reason: None,
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

fn print_table(rows: &[Row]) {
    println!(
        "{:<20} {:<14} {:<20} {:<12} {:<16} {:<24} PORTS",
        "NAME", "CONTAINER ID", "STATUS", "PHASE", "RESTARTS", "IMAGE"
    );
    for Row {
        json: row,
        last_restart_reason,
        reason,
    } in rows
    {
        let ports: Vec<String> = row["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let ip = p["host_ip"].as_str().unwrap_or("0.0.0.0");
                format!(
                    "{ip}:{}->{}/{}",
                    p["external"],
                    p["internal"],
                    p["protocol"].as_str().unwrap_or("tcp")
                )
            })
            .collect();
        let id = row["id"].as_str().unwrap_or_default();
        // As `docker ps` shows it: "running (healthy)".
        let status = match row["health"].as_str() {
            // A unit with no container: why (the record's reason).
            None if row["id"].is_null() => match reason {
                Some(reason) => format!("not created ({reason})"),
                None => "not created".to_string(),
            },
            Some(health) => format!("{} ({health})", row["status"].as_str().unwrap_or_default()),
            None => row["status"].as_str().unwrap_or_default().to_string(),
        };
        let restarts = match (row["restart_count"].as_u64(), last_restart_reason) {
            (Some(count), Some(reason)) if count > 0 => format!("{count} ({reason})"),
            _ => row["restart_count"].to_string(),
        };
        println!(
            "{:<20} {:<14} {:<20} {:<12} {:<16} {:<24} {}",
            row["name"].as_str().unwrap_or_default(),
            &id[..id.len().min(12)],
            status,
            row["phase"].as_str().unwrap_or_default(),
            restarts,
            row["image"].as_str().unwrap_or_default(),
            ports.join(", ")
        );
    }
}
