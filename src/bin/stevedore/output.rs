//! Every line `up` prints on stderr, and every library log line, goes
//! through [`emit`]: a timestamped text line, or one JSON object.

use std::io::Write;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use stevedore::record::format_utc;
use stevedore::{Health, UnitEvent, UnitState};

use crate::{Failure, LogFormat};

/// Writes `text` on stdout. A reader that went away (`ps --json | head`)
/// is not an error: what it did not read is simply not written.
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    if let Err(error) = written
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("stevedore: cannot write to stdout: {error}");
    }
}

/// How lines are printed, fixed once at start.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub format: LogFormat,
    /// ANSI colours on the level word (text only): stderr is a terminal and
    /// NO_COLOR is unset.
    pub colour: bool,
}

static STYLE: OnceLock<Style> = OnceLock::new();

/// Sets the style of every later line; the first call wins.
pub fn set_style(style: Style) {
    let _ = STYLE.set(style);
}

fn style() -> Style {
    STYLE.get().copied().unwrap_or(Style {
        format: LogFormat::Text,
        colour: false,
    })
}

/// How much a line matters; `level` in JSON, the word after the time in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn word(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// The text form's column: upper case, five wide, coloured as tracing's.
    fn column(self, colour: bool) -> String {
        let word = format!("{:<5}", self.word().to_uppercase());
        if !colour {
            return word;
        }
        let code = match self {
            Level::Trace => "35",
            Level::Debug => "34",
            Level::Info => "32",
            Level::Warn => "33",
            Level::Error => "31",
        };
        format!("\u{1b}[{code}m{word}\u{1b}[0m")
    }
}

/// One line (several in text when it lists problems).
#[derive(Debug, Clone)]
pub struct Line {
    pub at: SystemTime,
    pub level: Level,
    pub message: String,
    /// Further keys of the JSON object (`unit`, `container`…); the text
    /// form's message already says what they hold.
    pub fields: Map<String, Value>,
    /// What the text form shows instead of the message, when it shows
    /// more (tracing's `key=value` pairs) or lays it out (a unit event's
    /// name in a column).
    pub text: Option<String>,
    /// The problems a failure lists: one text line each, or a `problems`
    /// array in JSON.
    pub problems: Vec<String>,
}

impl Line {
    pub fn new(level: Level, message: impl Into<String>) -> Line {
        Line {
            at: SystemTime::now(),
            level,
            message: message.into(),
            fields: Map::new(),
            text: None,
            problems: Vec::new(),
        }
    }

    pub fn info(message: impl Into<String>) -> Line {
        Line::new(Level::Info, message)
    }

    pub fn warn(message: impl Into<String>) -> Line {
        Line::new(Level::Warn, message)
    }

    pub fn error(message: impl Into<String>) -> Line {
        Line::new(Level::Error, message)
    }

    /// Adds a key of the JSON object.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Line {
        self.fields.insert(key.to_string(), value.into());
        self
    }

    /// Prints the line on stderr in the process's style.
    pub fn emit(self) {
        emit(&self);
    }
}

/// Prints `line` on stderr, whole (one write, so lines of different
/// threads never interleave).
pub fn emit(line: &Line) {
    let mut text = render(line, style());
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The text or JSON form of `line`, without the final newline.
pub fn render(line: &Line, style: Style) -> String {
    let time = timestamp(line.at);
    match style.format {
        LogFormat::Json => {
            // Written by hand to keep time, level and message first, for
            // a person reading the raw stream.
            let mut keys = vec![
                ("time", Value::from(time)),
                ("level", line.level.word().into()),
                ("message", line.message.clone().into()),
            ];
            for (key, value) in &line.fields {
                if !keys.iter().any(|(known, _)| known == key) {
                    keys.push((key, value.clone()));
                }
            }
            if !line.problems.is_empty() {
                keys.push(("problems", json!(line.problems)));
            }
            let pairs: Vec<String> = keys
                .iter()
                .map(|(key, value)| format!("{}:{value}", Value::from(*key)))
                .collect();
            format!("{{{}}}", pairs.join(","))
        }
        LogFormat::Text => {
            let level = line.level.column(style.colour);
            let message = line.text.as_ref().unwrap_or(&line.message);
            let mut text = format!("{time} {level} {message}");
            for problem in line.problems.iter().flat_map(|p| p.lines()) {
                text.push_str(&format!("\n{time} {level} {problem}"));
            }
            text
        }
    }
}

/// RFC 3339 in UTC with milliseconds: `2026-12-01T10:44:44.123Z`.
pub fn timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = format_utc(since.as_secs());
    let whole = seconds.strip_suffix('Z').unwrap_or(&seconds);
    format!("{whole}.{:03}Z", since.subsec_millis())
}

/// A failure of `up` as a line: its first line the message, the rest its
/// problems.
pub fn failure_line(failure: &Failure) -> Line {
    let mut line = Line::error(failure.message.clone());
    line.problems = failure.problems.clone();
    line
}

/// The line of one unit event: its own keys in JSON, the unit's name in a
/// column in text.
pub fn event_line(event: &UnitEvent) -> Line {
    let level = match (event.state, event.health) {
        (UnitState::Failed, _) => Level::Error,
        (UnitState::BackingOff | UnitState::WaitingForEngine, _) => Level::Warn,
        (_, Some(Health::Unhealthy)) => Level::Warn,
        _ => Level::Info,
    };
    let mut line = Line::new(level, event_text(event, 0));
    line.text = Some(event_text(event, 20));
    line.at = event.at;
    line.with("namespace", event.namespace.clone())
        .with("unit", event.unit.clone())
        .with("state", json!(event.state))
        .with("container", json!(event.container_id))
        .with("restart_count", event.restart_count)
        .with("exit_code", json!(event.exit_code))
        .with("reason", json!(event.reason))
        .with("health", json!(event.health))
        .with("delay_ms", json!(event.delay.map(|d| d.as_millis() as u64)))
}

/// The event in words, the unit's name `width` wide (a column makes a
/// text log easy to scan).
fn event_text(event: &UnitEvent, width: usize) -> String {
    let mut text = format!("{:<width$} {}", event.unit, event.state);
    if let Some(health) = event.health {
        text.push_str(&format!(" ({health})"));
    }
    if let Some(delay) = event.delay {
        text.push_str(&format!(" in {}ms", delay.as_millis()));
    }
    if event.restart_count > 0 {
        text.push_str(&format!(" (restarts: {})", event.restart_count));
    }
    if let Some(reason) = &event.reason {
        text.push_str(&format!(": {reason}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: u64) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_millis(millis)
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(timestamp(at(1_796_121_884_007)), "2026-12-01T10:44:44.007Z");
    }

    #[test]
    fn a_text_line_is_time_level_message_and_each_problem_gets_its_own_line() {
        let mut line = Line::error("m.toml is invalid (2 problems):");
        line.at = at(0);
        line.problems = vec!["m.toml:1:1: a".into(), "m.toml:2:1: b".into()];
        let plain = Style {
            format: LogFormat::Text,
            colour: false,
        };
        assert_eq!(
            render(&line, plain),
            "1970-01-01T00:00:00.000Z ERROR m.toml is invalid (2 problems):\n\
             1970-01-01T00:00:00.000Z ERROR m.toml:1:1: a\n\
             1970-01-01T00:00:00.000Z ERROR m.toml:2:1: b"
        );
        let coloured = Style {
            colour: true,
            ..plain
        };
        assert!(render(&line, coloured).contains("\u{1b}[31mERROR\u{1b}[0m"));
    }

    #[test]
    fn a_json_line_is_one_object_whose_own_keys_win_over_fields() {
        let mut line = Line::warn("orphan b").with("unit", "b").with("level", "x");
        line.at = at(0);
        let json = Style {
            format: LogFormat::Json,
            colour: true,
        };
        let value: Value = serde_json::from_str(&render(&line, json)).unwrap();
        assert_eq!(
            value,
            json!({"time": "1970-01-01T00:00:00.000Z", "level": "warn", "message": "orphan b", "unit": "b"})
        );
    }
}
