//! Logging set up once at start: the library's tracing events, filtered by
//! STEVEDORE_LOG or RUST_LOG (env-filter directives), printed as the
//! command's own lines (see `output`), colours only for a terminal.

use std::fmt::Debug;
use std::io::IsTerminal;

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::output::{self, Level, Line, Style};
use crate::{Failure, LogFormat};

/// The variables read for the filter, the first set (and not empty) wins.
const FILTER_VARIABLES: [&str; 2] = ["STEVEDORE_LOG", "RUST_LOG"];
/// Without either: pull progress (info) and trouble (warn), as before.
// actix-web's server says "starting 2 workers" and the like at info: its
// own business, not the supervisor's.
const DEFAULT_FILTER: &str = "info,actix_server=warn,actix_web=warn";

/// Fixes the lines' style and installs the filtered tracing subscriber; a
/// filter that does not parse is bad input (exit 2).
pub fn init(format: LogFormat) -> Result<(), Failure> {
    output::set_style(Style {
        format,
        colour: colour_wanted(),
    });
    let filter = filter()?;
    tracing_subscriber::registry()
        .with(filter)
        .with(Lines)
        .init();
    Ok(())
}

/// Colours only where a person reads them, and never against NO_COLOR
/// (<https://no-color.org>: any non-empty value).
fn colour_wanted() -> bool {
    let refused = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    !refused && std::io::stderr().is_terminal()
}

fn filter() -> Result<EnvFilter, Failure> {
    let mut chosen = None;
    for name in FILTER_VARIABLES {
        match std::env::var(name) {
            Ok(value) if value.trim().is_empty() => continue,
            Ok(value) => {
                chosen = Some((name, value));
                break;
            }
            Err(std::env::VarError::NotPresent) => continue,
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Failure::input(format!("{name} is not valid UTF-8")));
            }
        }
    }
    let Some((name, value)) = chosen else {
        return Ok(EnvFilter::new(DEFAULT_FILTER));
    };
    EnvFilter::builder().parse(&value).map_err(|error| {
        Failure::input(format!(
            "{name}={value:?} is not a log filter: {error}; it takes directives such as \
             info, stevedore=debug,bollard=warn or stevedore::unit=trace"
        ))
    })
}

/// Prints each tracing event that passes the filter as one of our lines.
struct Lines;

impl<S: Subscriber> Layer<S> for Lines {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        let level = match *metadata.level() {
            tracing::Level::TRACE => Level::Trace,
            tracing::Level::DEBUG => Level::Debug,
            tracing::Level::INFO => Level::Info,
            tracing::Level::WARN => Level::Warn,
            tracing::Level::ERROR => Level::Error,
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut text = fields.message.clone();
        let mut line = Line::new(level, fields.message).with("target", metadata.target());
        for (key, value) in fields.values {
            text.push_str(&format!(" {key}={}", text_of(&value)));
            line.fields.insert(key, value);
        }
        line.text = Some(text);
        line.emit();
    }
}

/// A field's value in the text form: bare when it is one word.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) if !text.is_empty() && !text.contains(char::is_whitespace) => {
            text.clone()
        }
        Value::String(text) => format!("{text:?}"),
        other => other.to_string(),
    }
}

/// An event's message and its other fields, in the order written.
#[derive(Default)]
struct Fields {
    message: String,
    values: Vec<(String, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match (field.name(), value) {
            ("message", Value::String(text)) => self.message = text,
            (name, value) => self.values.push((name.to_string(), value)),
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
}
