//! Pure decisions: restart policy, backoff and intensity, with no actors,
//! engine or clock of their own (time is always passed in).

mod backoff;
mod decide;
mod intensity;
mod restart_policy;

pub use self::backoff::{Backoff, exponential};
pub use self::decide::{Decision, ExitFacts, RestartHistory, decide, describe_exit};
pub use self::intensity::IntensityLimit;
pub use self::restart_policy::RestartPolicy;
