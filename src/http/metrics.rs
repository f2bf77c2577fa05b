//! `GET /metrics`: the board and the gateway's counters in the Prometheus
//! text exposition format, encoded by `prometheus-client` at each scrape.

use std::collections::BTreeMap;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::view::UnitView;
use crate::gateway::GatewayStats;
use crate::unit::UnitState;

/// The reason classes of `stevedore_unit_restarts_total` (see
/// [`super::board::reason_class`]).
const REASONS: [&str; 3] = ["exit", "unhealthy", "dependency"];
/// The values of `stevedore_unit_health`'s `status`.
const HEALTH: [&str; 4] = ["none", "starting", "healthy", "unhealthy"];

/// Everything one scrape shows, read before encoding.
#[derive(Debug)]
pub struct Scrape {
    /// The namespace.
    pub namespace: String,
    /// Every unit.
    pub units: Vec<UnitView>,
    /// Restarts by unit and reason class since this process started.
    pub restarts: BTreeMap<(String, &'static str), u64>,
    /// The gateway's counters.
    pub stats: GatewayStats,
}

/// The `Content-Type` of [`Scrape::encode`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

type Labels = Vec<(&'static str, String)>;

impl Scrape {
    /// The exposition text ([`CONTENT_TYPE`]); counters are named with
    /// `_total` added.
    pub fn encode(self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            .expect("writing to a String does not fail");
        text
    }

    fn unit_labels(&self, unit: &str) -> Labels {
        vec![
            ("namespace", self.namespace.clone()),
            ("unit", unit.to_string()),
        ]
    }

    fn engine_labels(&self, call: &str) -> Labels {
        vec![
            ("namespace", self.namespace.clone()),
            ("call", call.to_string()),
        ]
    }
}

/// One metric family: its descriptor, then one sample per label set.
fn family<'a>(
    encoder: &'a mut DescriptorEncoder,
    name: &'a str,
    help: &str,
    kind: MetricType,
) -> Result<MetricEncoder<'a>, std::fmt::Error> {
    encoder.encode_descriptor(name, help, None, kind)
}

fn gauge(metric: &mut MetricEncoder, labels: &Labels, value: i64) -> std::fmt::Result {
    metric.encode_family(labels)?.encode_gauge(&value)
}

fn counter(metric: &mut MetricEncoder, labels: &Labels, value: u64) -> std::fmt::Result {
    metric
        .encode_family(labels)?
        .encode_counter::<prometheus_client::encoding::NoLabelSet, _, u64>(&value, None)
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let mut metric = family(
            &mut encoder,
            "stevedore_build_info",
            "The running stevedore's version",
            MetricType::Gauge,
        )?;
        let build = vec![("version", env!("CARGO_PKG_VERSION").to_string())];
        gauge(&mut metric, &build, 1)?;

        let mut metric = family(
            &mut encoder,
            "stevedore_unit_up",
            "1 while the unit's container runs",
            MetricType::Gauge,
        )?;
        for unit in &self.units {
            let up = i64::from(unit.phase == UnitState::Running);
            gauge(&mut metric, &self.unit_labels(&unit.name), up)?;
        }

        let mut metric = family(
            &mut encoder,
            "stevedore_unit_restarts",
            "Restarts since this supervisor started, by reason (exit, unhealthy, dependency)",
            MetricType::Counter,
        )?;
        for unit in &self.units {
            for reason in REASONS {
                let mut labels = self.unit_labels(&unit.name);
                labels.push(("reason", reason.to_string()));
                let count = self
                    .restarts
                    .get(&(unit.name.clone(), reason))
                    .copied()
                    .unwrap_or(0);
                counter(&mut metric, &labels, count)?;
            }
        }

        let mut metric = family(
            &mut encoder,
            "stevedore_unit_state",
            "1 for the unit's current state, 0 for the others",
            MetricType::Gauge,
        )?;
        for unit in &self.units {
            for state in UnitState::ALL {
                let mut labels = self.unit_labels(&unit.name);
                labels.push(("state", state.as_str().to_string()));
                gauge(&mut metric, &labels, i64::from(unit.phase == state))?;
            }
        }

        let mut metric = family(
            &mut encoder,
            "stevedore_unit_health",
            "1 for the unit's current health (none: no check, or not running), 0 for the others",
            MetricType::Gauge,
        )?;
        for unit in &self.units {
            let current = unit.health.map_or("none", |health| health.as_str());
            for status in HEALTH {
                let mut labels = self.unit_labels(&unit.name);
                labels.push(("status", status.to_string()));
                gauge(&mut metric, &labels, i64::from(current == status))?;
            }
        }

        let mut metric = family(
            &mut encoder,
            "stevedore_unit_last_exit_code",
            "Exit code of the unit's last run, for units that have exited",
            MetricType::Gauge,
        )?;
        for unit in &self.units {
            if let Some(code) = unit.last_exit_code {
                gauge(&mut metric, &self.unit_labels(&unit.name), code)?;
            }
        }

        let mut metric = family(
            &mut encoder,
            "stevedore_unit_start_time_seconds",
            "When the unit's current run started, in seconds since the Unix epoch",
            MetricType::Gauge,
        )?;
        for unit in &self.units {
            if let Some(started) = unit.started {
                let seconds = started
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs_f64();
                metric
                    .encode_family(&self.unit_labels(&unit.name))?
                    .encode_gauge(&seconds)?;
            }
        }

        let mut metric = family(
            &mut encoder,
            "stevedore_engine_calls",
            "Engine API calls (retries included), by call and outcome (ok, error)",
            MetricType::Counter,
        )?;
        for (operation, calls) in &self.stats.calls {
            let errors = self.stats.errors.get(operation).copied().unwrap_or(0);
            for (outcome, count) in [("ok", calls.saturating_sub(errors)), ("error", errors)] {
                let mut labels = self.engine_labels(operation.name());
                labels.push(("outcome", outcome.to_string()));
                counter(&mut metric, &labels, count)?;
            }
        }

        let mut metric = family(
            &mut encoder,
            "stevedore_engine_call_duration_seconds",
            "How long engine API calls took (the events stream excluded)",
            MetricType::Histogram,
        )?;
        for (operation, durations) in &self.stats.durations {
            metric
                .encode_family(&self.engine_labels(operation.name()))?
                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    durations.sum.as_secs_f64(),
                    durations.count,
                    &durations.cumulative(),
                    None,
                )?;
        }

        let mut metric = family(
            &mut encoder,
            "stevedore_engine_retries",
            "Engine API calls retried, by call",
            MetricType::Counter,
        )?;
        for (operation, retries) in &self.stats.retries {
            counter(&mut metric, &self.engine_labels(operation.name()), *retries)?;
        }

        let namespace = vec![("namespace", self.namespace.clone())];
        let mut metric = family(
            &mut encoder,
            "stevedore_engine_rate_limited_seconds",
            "Time engine calls waited for the gateway's rate limit",
            MetricType::Counter,
        )?;
        metric
            .encode_family(&namespace)?
            .encode_counter::<prometheus_client::encoding::NoLabelSet, _, u64>(
                &self.stats.rate_limited.as_secs_f64(),
                None,
            )?;

        let mut metric = family(
            &mut encoder,
            "stevedore_events_reconnects",
            "Times the engine's events stream was connected again after a drop",
            MetricType::Counter,
        )?;
        let reconnects = self.stats.event_connects.saturating_sub(1);
        counter(&mut metric, &namespace, reconnects)?;
        Ok(())
    }
}
