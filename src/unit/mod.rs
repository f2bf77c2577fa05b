//! The Unit actor and what it publishes: one actor per declared container.

mod actor;
mod bus;
mod flows;
mod state;

pub use self::actor::{Detach, GetSnapshot, Unit, UnitCommand, UnitInit, UnitSnapshot};
pub use self::bus::EventBus;
pub(crate) use self::flows::Flows;
pub use self::state::{UnitError, UnitEvent, UnitState, UnitStatus};
