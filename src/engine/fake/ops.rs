//! The fake engine's operations as the real engine would answer them
//! (Docker's status codes and messages), shared by the in-process [`Engine`]
//! implementation and the wire-protocol server.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bollard::models::{
    ContainerConfig, ContainerCreateBody, ContainerInspectResponse, ContainerState,
    ContainerStateStatusEnum, ImageInspect,
};

use super::{FakeContainer, FakeEngine, find, not_found};
use crate::engine::{
    ContainerEventKind, ContainerSnapshot, EngineState, Health, Operation, RawFailure,
};

/// The host (address, port) pairs a container publishes on a fixed port.
fn host_ports(container: &FakeContainer) -> Vec<(String, u16)> {
    let bindings = container
        .body
        .host_config
        .as_ref()
        .and_then(|h| h.port_bindings.clone())
        .unwrap_or_default();
    bindings
        .into_values()
        .flatten()
        .flatten()
        .filter_map(|binding| {
            let port: u16 = binding.host_port?.parse().ok().filter(|p| *p != 0)?;
            let ip = binding
                .host_ip
                .filter(|ip| !ip.is_empty())
                .unwrap_or_else(|| "0.0.0.0".into());
            Some((ip, port))
        })
        .collect()
}

impl FakeEngine {
    /// `ping` as the engine would answer it, before classification.
    pub fn ping_raw(&self) -> Result<(), RawFailure> {
        self.raw(Operation::Ping, |_, _| Ok(()))
    }

    /// `list_containers` as the engine would answer it, before classification.
    pub fn list_containers_raw(
        &self,
        label_filter: String,
    ) -> Result<Vec<ContainerSnapshot>, RawFailure> {
        self.raw(Operation::List, move |_, state| {
            let (key, value) = match label_filter.split_once('=') {
                Some((key, value)) => (key.to_string(), Some(value.to_string())),
                None => (label_filter.clone(), None),
            };
            Ok(state
                .containers
                .values()
                .filter_map(|c| {
                    let labels = c.body.labels.clone().unwrap_or_default();
                    let matches = match (&value, labels.get(&key)) {
                        (Some(v), Some(l)) => v == l,
                        (None, Some(_)) => true,
                        _ => false,
                    };
                    matches.then(|| ContainerSnapshot {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        labels,
                        state: c.state.clone(),
                        exit_code: c.exit_code,
                        image: c.body.image.clone().unwrap_or_default(),
                        health: c.health,
                    })
                })
                .collect())
        })
    }

    /// `inspect_container` as the engine would answer it, before classification.
    pub fn inspect_container_raw(
        &self,
        id: String,
    ) -> Result<ContainerInspectResponse, RawFailure> {
        self.raw(Operation::Inspect, move |_, state| {
            let c = find(state, &id)?;
            let body = c.body.clone();
            Ok(ContainerInspectResponse {
                id: Some(c.id.clone()),
                name: Some(format!("/{}", c.name)),
                config: Some(ContainerConfig {
                    image: body.image,
                    cmd: body.cmd,
                    env: body.env,
                    labels: body.labels,
                    ..Default::default()
                }),
                host_config: body.host_config,
                state: Some(ContainerState {
                    status: Some(match c.state {
                        EngineState::Running => ContainerStateStatusEnum::RUNNING,
                        EngineState::Created => ContainerStateStatusEnum::CREATED,
                        EngineState::Paused => ContainerStateStatusEnum::PAUSED,
                        EngineState::Dead => ContainerStateStatusEnum::DEAD,
                        _ => ContainerStateStatusEnum::EXITED,
                    }),
                    running: Some(c.state == EngineState::Running),
                    exit_code: c.exit_code,
                    health: c.health.map(|health| bollard::models::Health {
                        status: Some(match health {
                            Health::Starting => bollard::models::HealthStatusEnum::STARTING,
                            Health::Healthy => bollard::models::HealthStatusEnum::HEALTHY,
                            Health::Unhealthy => bollard::models::HealthStatusEnum::UNHEALTHY,
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })
        })
    }

    /// `create_container` as the engine would answer it, before classification.
    pub fn create_container_raw(
        &self,
        name: String,
        body: ContainerCreateBody,
    ) -> Result<String, RawFailure> {
        let image = body.image.clone().unwrap_or_default();
        self.raw(Operation::Create, move |engine, state| {
            if !state.images.contains(&image) {
                return Err(not_found("image", &image));
            }
            if let Some(existing) = state.containers.named(&name) {
                return Err(RawFailure::Status {
                    code: 409,
                    message: format!(
                        "Conflict. The container name \"/{name}\" is already in use by container \"{}\".",
                        existing.id
                    ),
                });
            }
            let id = format!("{:064x}", engine.next_id.fetch_add(1, Ordering::SeqCst));
            state.containers.insert(FakeContainer {
                id: id.clone(),
                name,
                body,
                state: EngineState::Created,
                exit_code: None,
                starts: 0,
                archive: None,
                health: None,
            });
            Ok(id)
        })
    }

    /// `start_container` as the engine would answer it, before classification.
    pub fn start_container_raw(&self, id: String) -> Result<(), RawFailure> {
        self.raw(Operation::Start, move |engine, state| {
            let (wanted, already_running, full_id, name) = {
                let c = find(state, &id)?;
                (host_ports(c), c.state == EngineState::Running, c.id.clone(), c.name.clone())
            };
            if already_running {
                return Ok(());
            }
            // Like the engine, a host port held by another running container
            // fails the start (only looked for when this one publishes any).
            let held = if wanted.is_empty() { Vec::new() } else { state
                .containers
                .values()
                .filter(|other| other.id != full_id && other.state == EngineState::Running)
                .flat_map(host_ports)
                .collect::<Vec<_>>() };
            if let Some((ip, port)) = wanted.iter().find(|(ip, port)| {
                held.iter().any(|(other_ip, other_port)| other_port == port && (other_ip == ip || other_ip == "0.0.0.0" || ip == "0.0.0.0"))
            }) {
                return Err(RawFailure::Status {
                    code: 500,
                    message: format!(
                        "driver failed programming external connectivity on endpoint {name} ({}): Bind for {ip}:{port} failed: port is already allocated",
                        &full_id[..12]
                    ),
                });
            }
            let c = find(state, &id)?;
            c.state = EngineState::Running;
            c.exit_code = None;
            c.starts += 1;
            c.health = c.has_check().then_some(Health::Starting);
            engine.emit(c, ContainerEventKind::Started);
            let cmd = c.body.cmd.clone().unwrap_or_default();
            if cmd.first().map(String::as_str) == Some("exit") {
                let code = cmd.get(1).and_then(|code| code.parse().ok()).unwrap_or(0);
                engine.exit(c, code);
            }
            Ok(())
        })
    }

    /// `stop_container` as the engine would answer it, before classification.
    pub fn stop_container_raw(&self, id: String, _grace: Duration) -> Result<(), RawFailure> {
        self.raw(Operation::Stop, move |engine, state| {
            let c = find(state, &id)?;
            if c.state == EngineState::Running {
                // As Docker: the stop signal, the exit, then "stop".
                engine.emit(
                    c,
                    ContainerEventKind::Killed {
                        signal: "15".into(),
                    },
                );
                engine.exit(c, 143);
                engine.emit(c, ContainerEventKind::Stopped);
            }
            Ok(())
        })
    }

    /// `kill_container` as the engine would answer it, before classification.
    pub fn kill_container_raw(&self, id: String, _signal: String) -> Result<(), RawFailure> {
        self.raw(Operation::Kill, move |engine, state| {
            let c = find(state, &id)?;
            if c.state != EngineState::Running {
                return Err(RawFailure::Status {
                    code: 409,
                    message: format!("Container {id} is not running"),
                });
            }
            engine.emit(c, ContainerEventKind::Killed { signal: "9".into() });
            engine.exit(c, 137);
            Ok(())
        })
    }

    /// `remove_container` as the engine would answer it, before classification.
    pub fn remove_container_raw(&self, id: String, force: bool) -> Result<(), RawFailure> {
        self.raw(Operation::Remove, move |engine, state| {
            let c = find(state, &id)?;
            if c.state == EngineState::Running {
                if !force {
                    return Err(RawFailure::Status {
                        code: 409,
                        message: "You cannot remove a running container. Stop the container before attempting removal or force remove".into(),
                    });
                }
                engine.exit(c, 137);
            }
            let removed_id = c.id.clone();
            let removed = state.containers.remove(&removed_id).expect("just found");
            engine.emit(&removed, ContainerEventKind::Destroyed);
            Ok(())
        })
    }

    /// `inspect_image` as the engine would answer it, before classification.
    pub fn inspect_image_raw(&self, image: String) -> Result<ImageInspect, RawFailure> {
        self.raw(Operation::InspectImage, move |_, state| {
            if state.images.contains(&image) {
                Ok(ImageInspect {
                    id: Some(image.clone()),
                    ..Default::default()
                })
            } else {
                Err(not_found("image", &image))
            }
        })
    }

    /// `pull_image` as the engine would answer it, before classification.
    pub fn pull_image_raw(
        &self,
        image: String,
        _progress: Box<dyn Fn(String) + Send>,
    ) -> Result<(), RawFailure> {
        self.raw(Operation::Pull, move |_, _| {
            Err(RawFailure::Stream(format!(
                "pull access denied for {image}: the fake engine has no registry"
            )))
        })
    }

    /// `import_image` as the engine would answer it, before classification.
    pub fn import_image_raw(&self, name: String, _tar: Vec<u8>) -> Result<(), RawFailure> {
        self.raw(Operation::Import, move |_, state| {
            state.images.push(name);
            Ok(())
        })
    }

    /// `build_image` as the engine would answer it, before classification:
    /// the fake runs no step, it only has the image afterwards.
    pub fn build_image_raw(&self, tag: String) -> Result<(), RawFailure> {
        self.raw(Operation::Build, move |_, state| {
            if !state.images.contains(&tag) {
                state.images.push(tag);
            }
            Ok(())
        })
    }

    /// `put_archive` as the engine would answer it, before classification.
    pub fn put_archive_raw(
        &self,
        id: String,
        _path: String,
        tar: Vec<u8>,
    ) -> Result<(), RawFailure> {
        self.raw(Operation::PutArchive, move |_, state| {
            find(state, &id)?.archive = Some(tar);
            Ok(())
        })
    }

    /// `get_archive` as the engine would answer it, before classification.
    pub fn get_archive_raw(&self, id: String, path: String) -> Result<Vec<u8>, RawFailure> {
        self.raw(Operation::GetArchive, move |_, state| {
            find(state, &id)?
                .archive
                .clone()
                .ok_or_else(|| RawFailure::Status {
                    code: 404,
                    message: format!("Could not find the file {path} in container {id}"),
                })
        })
    }
}
