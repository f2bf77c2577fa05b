//! `stevedore down`: stop (grace period, then kill) and remove every
//! container of the namespace (dependents before what they depend on), its
//! phase record, the networks it created and, with `-v`, the volumes it
//! created. Touches nothing else.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::Addr;
use futures::future::join_all;
use stevedore::engine::{ContainerSnapshot, EngineState, ResourceKind};
use stevedore::gateway::{Gateway, RemoveContainer, RemoveResources, StopContainer};
use stevedore::labels;
use stevedore::record::{Lease, state_container};
use stevedore::registry::stop_in_order;
use stevedore::spec::Dependencies;
use stevedore::spec::graph::stop_order;

use hyper::Method;

use crate::client::Client;
use crate::engine::Address;
use crate::{Failure, engine};

/// What `down` is asked to do beyond removing containers.
pub struct Options {
    /// Take the lease from a live `up`.
    pub take_over: bool,
    /// Remove the namespace's named volumes too.
    pub volumes: bool,
}

/// Takes the namespace down; doing it twice is fine. A running `up` that
/// answers on `socket` is asked first to stop its units and exit.
pub async fn run(
    address: &Address,
    namespace: &str,
    socket: &Path,
    options: Options,
) -> Result<(), Failure> {
    let take_over = options.take_over;
    if let Some(client) = Client::connect(socket) {
        eprintln!("stevedore: asking the running up of {namespace} to stop its units and exit");
        let answer = client.call(Method::POST, "/v1/shutdown?units=stop").await?;
        if !answer.status.is_success() {
            return Err(Failure::runtime(format!(
                "the running up refused to shut down: {}",
                answer.message()
            )));
        }
    }
    let gateway = engine::gateway(address).await?;
    // Holding the lease keeps a running `up` from restarting what we remove.
    let lease = Lease::acquire(&gateway, namespace, take_over)
        .await
        .map_err(Failure::runtime)?;
    let listed = engine::containers(&gateway, namespace).await?;
    // Only stops have an order: a container that no longer runs (all of
    // them once a running `up` has stopped its units) is removed at once,
    // not after its dependents' removals.
    let (running, stopped): (Vec<&ContainerSnapshot>, Vec<&ContainerSnapshot>) = listed
        .iter()
        .partition(|container| needs_stop(&container.state));
    // Dependents stop first, as their specs (in the labels) declare; the
    // graph is over container names.
    let graph: HashMap<String, Dependencies> = running
        .iter()
        .map(|container| {
            let depends_on = labels::stored_spec(&container.labels)
                .map(|spec| {
                    let named = |(unit, dependency): (String, _)| {
                        (labels::container_name(namespace, &unit), dependency)
                    };
                    spec.depends_on.into_iter().map(named).collect()
                })
                .unwrap_or_default();
            (container.name.clone(), depends_on)
        })
        .collect();
    let order = stop_order(&graph);
    let by_name: HashMap<String, ContainerSnapshot> = listed
        .iter()
        .map(|container| (container.name.clone(), container.clone()))
        .collect();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let stop_one = |name: String| {
        let container = by_name[&name].clone();
        let failures = Arc::clone(&failures);
        let removal = remove(gateway.clone(), container);
        async move {
            if let Err(failure) = removal.await {
                failures.lock().unwrap().push(failure);
            }
        }
    };
    let removals = stopped
        .iter()
        .map(|container| stop_one(container.name.clone()));
    futures::join!(stop_in_order(order, &stop_one), join_all(removals));
    let failures: Vec<String> = std::mem::take(&mut *failures.lock().unwrap());
    let record = RemoveContainer {
        id: state_container(namespace),
        force: true,
    };
    let _ = gateway.send(record).await;
    let mut failures = failures;
    if failures.is_empty() {
        // A network still has endpoints while a container is on it.
        let mut kinds = vec![ResourceKind::Network];
        if options.volumes {
            kinds.push(ResourceKind::Volume);
        }
        for kind in kinds {
            failures.extend(remove_resources(&gateway, namespace, kind).await);
        }
    }
    if let Err(error) = lease.release().await {
        eprintln!("stevedore: could not release the lease: {error}");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::runtime(format!(
            "could not remove {}",
            failures.join("; ")
        )))
    }
}

/// Removes the networks or volumes the namespace created; what could not
/// be removed, as failures.
async fn remove_resources(
    gateway: &Addr<Gateway>,
    namespace: &str,
    kind: ResourceKind,
) -> Vec<String> {
    let asked = RemoveResources {
        namespace: namespace.to_string(),
        kind,
    };
    match gateway.send(asked).await {
        Ok(Ok(done)) => {
            for name in &done.removed {
                eprintln!("removed {} {name}", kind.as_str());
            }
            done.kept
                .into_iter()
                .map(|(name, error)| format!("{} {name}: {error}", kind.as_str()))
                .collect()
        }
        Ok(Err(error)) => vec![error.to_string()],
        Err(error) => vec![format!("{} of {namespace}: {error}", kind.as_str())],
    }
}

/// Whether a container still has to be stopped (with its grace period, in
/// order) before it is removed; a state we do not know is taken as running.
fn needs_stop(state: &EngineState) -> bool {
    !matches!(
        state,
        EngineState::Created | EngineState::Exited | EngineState::Dead
    )
}

/// Stops one container with its unit's grace period (unless it was listed
/// as not running: that stop would only cost a call), then removes it.
async fn remove(gateway: Addr<Gateway>, container: ContainerSnapshot) -> Result<(), String> {
    let grace = labels::stored_spec(&container.labels)
        .map(|spec| spec.stop_timeout)
        .unwrap_or(Duration::from_secs(10));
    let (id, name) = (container.id, container.name);
    if needs_stop(&container.state) {
        let stopped = gateway
            .send(StopContainer {
                id: id.clone(),
                grace,
            })
            .await;
        if let Ok(Err(error)) = stopped {
            eprintln!("stevedore: stopping {name}: {error}; removing it by force");
        }
    }
    // By force: one started since the list is killed, not left running.
    let removed = gateway.send(RemoveContainer { id, force: true }).await;
    match removed {
        Ok(Ok(())) => {
            eprintln!("removed {name}");
            Ok(())
        }
        Ok(Err(error)) => Err(format!("{name}: {error}")),
        Err(error) => Err(format!("{name}: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_may_still_run_is_stopped_first_and_in_order() {
        for state in ["running", "paused", "restarting", "removing", "stopping"] {
            assert!(needs_stop(&EngineState::parse(state)), "{state}");
        }
        for state in ["created", "exited", "dead"] {
            assert!(!needs_stop(&EngineState::parse(state)), "{state}");
        }
    }
}
