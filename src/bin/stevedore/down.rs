//! `stevedore down`: stop (grace period, then kill) and remove every
//! container of the namespace, and its phase record. Touches nothing else.

use std::time::Duration;

use futures::future::join_all;
use stevedore::gateway::{RemoveContainer, StopContainer};
use stevedore::labels;
use stevedore::record::{Lease, state_container};

use crate::{Failure, engine};

/// Takes the namespace down; doing it twice is fine.
pub async fn run(host: Option<&str>, namespace: &str, take_over: bool) -> Result<(), Failure> {
    let gateway = engine::gateway(host).await?;
    // Holding the lease keeps a running `up` from restarting what we remove.
    let lease = Lease::acquire(&gateway, namespace, take_over)
        .await
        .map_err(Failure::runtime)?;
    let listed = engine::containers(&gateway, namespace).await?;
    let removals = listed.iter().map(|container| {
        let gateway = gateway.clone();
        let grace = labels::stored_spec(&container.labels)
            .map(|spec| spec.stop_timeout)
            .unwrap_or(Duration::from_secs(10));
        let (id, name) = (container.id.clone(), container.name.clone());
        async move {
            let stopped = gateway
                .send(StopContainer {
                    id: id.clone(),
                    grace,
                })
                .await;
            if let Ok(Err(error)) = stopped {
                eprintln!("stevedore: stopping {name}: {error}; removing it by force");
            }
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
    });
    let failures: Vec<String> = join_all(removals)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    let record = RemoveContainer {
        id: state_container(namespace),
        force: true,
    };
    let _ = gateway.send(record).await;
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
