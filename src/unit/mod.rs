//! The Unit actor and what it publishes: one actor per declared container.

mod actor;
mod bus;
mod commands;
mod flows;
mod state;

pub use self::actor::{Detach, GetSnapshot, Unit, UnitInit, UnitSnapshot};
pub use self::bus::EventBus;
pub use self::commands::UnitCommand;
pub(crate) use self::flows::Flows;
pub use self::state::{UnitError, UnitEvent, UnitState, UnitStatus};
