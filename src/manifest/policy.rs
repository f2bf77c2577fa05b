//! Reading `backoff` and `intensity` tables key by key, so that a unit's keys
//! can be merged over those of `[defaults]`.

use std::time::Duration;

use toml_edit::Item;

use super::fields::{Scope, fields};
use crate::policy::{Backoff, IntensityLimit};

/// Keys of a `backoff` table.
pub(super) const BACKOFF_KEYS: &[&str] = &["initial", "factor", "max", "reset_after", "jitter"];
/// Keys of an `intensity` table.
pub(super) const INTENSITY_KEYS: &[&str] = &["max_restarts", "within"];

/// A `backoff` table as written: keys left out are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct PartialBackoff {
    pub initial: Option<Duration>,
    pub factor: Option<f64>,
    pub max: Option<Duration>,
    pub reset_after: Option<Duration>,
    pub jitter: Option<f64>,
}

impl PartialBackoff {
    /// These keys, with `base`'s where these are missing.
    pub fn over(self, base: PartialBackoff) -> PartialBackoff {
        PartialBackoff {
            initial: self.initial.or(base.initial),
            factor: self.factor.or(base.factor),
            max: self.max.or(base.max),
            reset_after: self.reset_after.or(base.reset_after),
            jitter: self.jitter.or(base.jitter),
        }
    }

    /// The backoff, with [`Backoff::default`]'s value for every missing key.
    pub fn finish(self) -> Backoff {
        let default = Backoff::default();
        Backoff {
            initial: self.initial.unwrap_or(default.initial),
            factor: self.factor.unwrap_or(default.factor),
            max: self.max.unwrap_or(default.max),
            reset_after: self.reset_after.unwrap_or(default.reset_after),
            jitter: self.jitter.unwrap_or(default.jitter),
        }
    }
}

/// An `intensity` table as written: keys left out are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct PartialIntensity {
    pub max_restarts: Option<u32>,
    pub within: Option<Duration>,
}

impl PartialIntensity {
    /// These keys, with `base`'s where these are missing.
    pub fn over(self, base: PartialIntensity) -> PartialIntensity {
        PartialIntensity {
            max_restarts: self.max_restarts.or(base.max_restarts),
            within: self.within.or(base.within),
        }
    }

    /// The limit, with [`IntensityLimit::default`]'s value for every missing key.
    pub fn finish(self) -> IntensityLimit {
        let default = IntensityLimit::default();
        IntensityLimit {
            max_restarts: self.max_restarts.unwrap_or(default.max_restarts),
            within: self.within.unwrap_or(default.within),
        }
    }
}

impl Scope<'_> {
    /// A `backoff` table; keys that cannot be read are left out.
    pub fn backoff(&mut self, field: &str, item: &Item, at: usize) -> PartialBackoff {
        let mut backoff = PartialBackoff::default();
        let Some(table) = self.table(field, item, at) else {
            return backoff;
        };
        for entry in fields(table, at) {
            let path = format!("{field}.{}", entry.name);
            let (item, at) = (entry.item, entry.at);
            match entry.name {
                "initial" => backoff.initial = self.duration(&path, item, at),
                "factor" => backoff.factor = self.number(&path, item, at),
                "max" => backoff.max = self.duration(&path, item, at),
                "reset_after" => backoff.reset_after = self.duration(&path, item, at),
                "jitter" => backoff.jitter = self.number(&path, item, at),
                name => self.unknown(&path, name, entry.key_at, BACKOFF_KEYS),
            }
        }
        backoff
    }

    /// An `intensity` table; keys that cannot be read are left out.
    pub fn intensity(&mut self, field: &str, item: &Item, at: usize) -> PartialIntensity {
        let mut intensity = PartialIntensity::default();
        let Some(table) = self.table(field, item, at) else {
            return intensity;
        };
        for entry in fields(table, at) {
            let path = format!("{field}.{}", entry.name);
            match entry.name {
                "max_restarts" => {
                    intensity.max_restarts = self.count_u32(&path, entry.item, entry.at)
                }
                "within" => intensity.within = self.duration(&path, entry.item, entry.at),
                name => self.unknown(&path, name, entry.key_at, INTENSITY_KEYS),
            }
        }
        intensity
    }
}
