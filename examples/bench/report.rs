//! Results: medians of interleaved runs, ratios to stevedore, and the table
//! printed and written to BENCHMARKS.md.

use std::time::Duration;

/// The runs of one contender in one scenario.
pub struct Row {
    pub scenario: String,
    pub contender: String,
    pub samples: Vec<f64>,
    pub unit: &'static str,
    pub note: String,
}

impl Row {
    pub fn new(scenario: &str, contender: &str, unit: &'static str) -> Self {
        Row {
            scenario: scenario.into(),
            contender: contender.into(),
            samples: Vec::new(),
            unit,
            note: String::new(),
        }
    }

    pub fn push_duration(&mut self, duration: Duration) {
        self.samples.push(duration.as_secs_f64() * 1000.0);
    }

    pub fn median(&self) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }

    /// The nearest-rank 90th percentile, in the row's unit.
    pub fn p90(&self) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = (sorted.len() * 9).div_ceil(10);
        rank.checked_sub(1).map_or(f64::NAN, |i| sorted[i])
    }

    fn range(&self) -> (f64, f64) {
        let min = self.samples.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self
            .samples
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (min, max)
    }
}

fn value(v: f64, unit: &str) -> String {
    if v.is_nan() {
        "n/a".into()
    } else if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

/// The table, ratios against the scenario's stevedore row.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | contender | median | min–max | ratio to stevedore | runs | notes |\n|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let base = rows
            .iter()
            .find(|r| r.scenario == row.scenario && r.contender.starts_with("stevedore"))
            .map(Row::median);
        let ratio = match base {
            Some(base) if base > 0.0 && !row.median().is_nan() => {
                format!("{:.2}×", row.median() / base)
            }
            _ => "—".into(),
        };
        let (min, max) = row.range();
        out.push_str(&format!(
            "| {} | {} | {} | {}–{} | {} | {} | {} |\n",
            row.scenario,
            row.contender,
            value(row.median(), row.unit),
            value(min, ""),
            value(max, row.unit),
            ratio,
            row.samples.len(),
            row.note
        ));
    }
    out
}
