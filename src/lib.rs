//! stevedore keeps Docker containers running the way their owner declared them.
//!
//! It is built from three kinds of actix actor: one **Unit** actor per
//! declared container (its lifecycle and restart policy), a **Registry** per
//! namespace (unique names, adoption of existing containers, foreign
//! containers left alone) and a **Gateway** per engine (the only code that
//! calls bollard: rate limit, in-flight cap, deadlines, retries, the events
//! stream). Decisions — restart policy, backoff, validation, error
//! classification, spec ↔ engine mapping — are pure functions in [`policy`],
//! [`spec`] and [`engine`].
//!
//! ```no_run
//! use stevedore::{RestartPolicy, Supervisor, UnitSpec};
//!
//! #[actix::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let supervisor = Supervisor::builder().namespace("demo").start().await?;
//!     let mut events = supervisor.events().await;
//!     supervisor
//!         .add(
//!             UnitSpec::new("web", "busybox:latest")
//!                 .command(["httpd", "-f", "-p", "8080"])
//!                 .port("127.0.0.1:18080:8080".parse()?)
//!                 .restart(RestartPolicy::Always),
//!         )
//!         .await?;
//!     use futures::StreamExt;
//!     while let Some(event) = events.next().await {
//!         println!("{} is {} ({:?})", event.unit, event.state, event.reason);
//!     }
//!     Ok(())
//! }
//! ```

pub mod compose;
pub mod engine;
pub mod gateway;
#[cfg(feature = "http")]
pub mod http;
pub mod labels;
pub mod manifest;
pub mod policy;
pub mod record;
pub mod registry;
pub mod spec;
mod supervisor;
pub mod unit;

pub use engine::Health;
pub use policy::{Backoff, IntensityLimit, RestartPolicy};
pub use registry::ShutdownMode;
pub use spec::{
    Condition, Dependency, HealthCheck, HealthTest, OnUnhealthy, PortMapping, Protocol, UnitSpec,
    VolumeMount,
};
pub use supervisor::{StartError, Supervisor, SupervisorBuilder, SupervisorHandle};
pub use unit::{UnitError, UnitEvent, UnitState, UnitStatus};

/// The README's Rust examples, compiled by `cargo test --doc` so that they
/// stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
