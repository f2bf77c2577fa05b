//! The Unit actor and what it publishes: one actor per declared container,
//! carrying out what its pure state machine (`machine`) decides.

mod actor;
mod bus;
mod commands;
mod flows;
pub mod machine;
mod state;

pub use self::actor::{Detach, GetSnapshot, Origin, Unit, UnitInit, UnitSnapshot};
pub use self::bus::EventBus;
pub use self::commands::{DependencySignal, StopForShutdown, UnitCommand};
pub(crate) use self::flows::Flows;
pub use self::machine::{Readiness, RestartMode};
pub use self::state::{UnitError, UnitEvent, UnitState, UnitStatus};
