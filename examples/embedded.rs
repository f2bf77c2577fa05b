//! Embeds the supervisor in an actix System next to an actor of the app's
//! own that logs every unit event, restarts with their reasons included.
//!
//! Run it with the engine up (`scripts/engine-up.sh`):
//! `cargo run --example embedded` — it runs a crashing worker for a few
//! restarts, then removes it and exits.

use std::time::Duration;

use actix::prelude::*;
use futures::StreamExt;
use stevedore::{Backoff, RestartPolicy, Supervisor, UnitEvent, UnitSpec, UnitState};

/// The application's own actor: here it only logs.
struct RestartLogger;

impl Actor for RestartLogger {
    type Context = Context<Self>;
}

impl Handler<UnitEvent> for RestartLogger {
    type Result = ();
    fn handle(&mut self, event: UnitEvent, _: &mut Context<Self>) {
        match event.state {
            UnitState::BackingOff => println!(
                "[logger] {} will restart in {:?}: {} (restarts so far: {})",
                event.unit,
                event.delay.unwrap_or_default(),
                event.reason.unwrap_or_default(),
                event.restart_count
            ),
            state => println!("[logger] {} is {state}", event.unit),
        }
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let image = std::env::var("STEVEDORE_IMAGE").unwrap_or_else(|_| "stevedore-test:latest".into());
    let supervisor = Supervisor::builder()
        .namespace("embedded-demo")
        .start()
        .await?;
    supervisor
        .subscribe(RestartLogger.start().recipient())
        .await;
    let mut events = supervisor.events().await;

    // Remove a leftover of an earlier run, then declare the worker.
    supervisor.remove("worker").await?;
    let worker = UnitSpec::new("worker", image)
        .command(["sh", "-c", "echo working; sleep 1; exit 1"])
        .restart(RestartPolicy::Always)
        .backoff(Backoff {
            initial: Duration::from_millis(200),
            ..Backoff::default()
        });
    supervisor.add(worker).await?;

    // Wait, on events rather than on a clock, for the third restart.
    while let Some(event) = events.next().await {
        if event.state == UnitState::Running && event.restart_count >= 3 {
            break;
        }
    }
    for unit in supervisor.list().await? {
        println!(
            "{}: {} after {} restarts",
            unit.name, unit.state, unit.restart_count
        );
    }
    supervisor.remove("worker").await?;
    println!("gateway: {:?}", supervisor.stats().await);
    Ok(())
}
