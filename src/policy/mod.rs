//! Pure decisions: restart policy, backoff and intensity, with no actors,
//! engine or clock of their own (time is always passed in).

mod backoff;
mod decide;
mod intensity;
mod restart_policy;

use std::time::Duration;

pub use self::backoff::{Backoff, exponential};
pub use self::decide::{Decision, ExitFacts, RestartHistory, decide, describe_exit};
pub use self::intensity::IntensityLimit;
pub use self::restart_policy::RestartPolicy;

/// The longest backoff `initial`, `max` and `reset_after` and intensity
/// `within` accepted: 24 hours.
///
/// A restart put off by more than a day is a unit nobody supervises, and a
/// window or reset longer than a day is "never" in all but name, so nothing
/// useful is lost. What is gained: every computation on these durations (the
/// delay as `f64` seconds times factor and jitter, sleeps, windows on the
/// clock) stays far from overflow, whereas an unbounded value such as
/// `"5124095576030431h"` once validated and panicked on the first exit.
pub const MAX_POLICY_DURATION: Duration = Duration::from_secs(24 * 3600);

/// The problem of a policy duration over [`MAX_POLICY_DURATION`], if it is.
pub(crate) fn too_long(duration: Duration) -> Option<String> {
    (duration > MAX_POLICY_DURATION).then(|| {
        format!(
            "{} is longer than {} hours, the longest accepted",
            crate::spec::text::format_duration(duration),
            MAX_POLICY_DURATION.as_secs() / 3600
        )
    })
}
