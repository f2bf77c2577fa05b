//! Docker's restart policies, read and written in Docker's own words.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// When a container that exited is started again, with Docker's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RestartPolicy {
    /// Never restart (`"no"`, Docker's default).
    #[default]
    No,
    /// Restart after any exit (`"always"`).
    Always,
    /// Restart after a non-zero exit, at most `max_retries` times when set
    /// (`"on-failure"`, `"on-failure:3"`).
    OnFailure {
        /// Upper bound on restarts; `None` (or Docker's `:0`) is unbounded.
        max_retries: Option<u32>,
    },
    /// Like `always`, but a manual stop also survives a supervisor restart
    /// (`"unless-stopped"`).
    UnlessStopped,
}

impl FromStr for RestartPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{text:?} is not a restart policy (expected \"no\", \"always\", \"on-failure\", \"on-failure:N\" or \"unless-stopped\")"
            )
        };
        match text {
            "no" => Ok(RestartPolicy::No),
            "always" => Ok(RestartPolicy::Always),
            "unless-stopped" => Ok(RestartPolicy::UnlessStopped),
            "on-failure" => Ok(RestartPolicy::OnFailure { max_retries: None }),
            _ => {
                let count = text.strip_prefix("on-failure:").ok_or_else(bad)?;
                let max: u32 = count.parse().map_err(|_| bad())?;
                // Docker reads on-failure:0 as "no limit".
                Ok(RestartPolicy::OnFailure {
                    max_retries: (max > 0).then_some(max),
                })
            }
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
            RestartPolicy::OnFailure { max_retries: None } => f.write_str("on-failure"),
            RestartPolicy::OnFailure {
                max_retries: Some(max),
            } => write!(f, "on-failure:{max}"),
        }
    }
}

impl TryFrom<String> for RestartPolicy {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<RestartPolicy> for String {
    fn from(policy: RestartPolicy) -> String {
        policy.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_docker_spelling_round_trips() {
        for text in [
            "no",
            "always",
            "unless-stopped",
            "on-failure",
            "on-failure:3",
        ] {
            assert_eq!(text.parse::<RestartPolicy>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn on_failure_zero_means_unbounded_as_in_docker() {
        assert_eq!(
            "on-failure:0".parse::<RestartPolicy>().unwrap(),
            RestartPolicy::OnFailure { max_retries: None }
        );
    }

    #[test]
    fn misspelled_policies_are_refused_with_the_choices() {
        for bad in [
            "",
            "yes",
            "Always",
            "on-failure:",
            "on-failure:-1",
            "on-failure:x",
            "unless_stopped",
        ] {
            let err = bad.parse::<RestartPolicy>().unwrap_err();
            assert!(err.contains("unless-stopped"), "{bad}: {err}");
        }
    }
}
