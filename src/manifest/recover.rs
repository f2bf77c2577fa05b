//! Reading past the TOML errors that leave the rest of a file readable — duplicate keys and numbers out of range — so that they do not hide its other problems.
//!
//! `toml_edit` stops at its first error and gives no document. For these
//! errors the rest of the file is still good TOML, so the text is repaired
//! and parsed again, up to [`MAX_REPAIRS`] times: a duplicate key is
//! renamed to a placeholder (which no reader knows, so the walk reports it
//! at the key, with its unit and field), and a number too large becomes a
//! date (which no reader takes, so the walk reports it at the value). Each
//! repair then gives its own message to the problems found where it was
//! made, and every offset is mapped back to the file as written. Any other
//! error (broken syntax) still stops the reading.

use std::borrow::Cow;

use toml_edit::{Document, TomlError};

use super::fields::Found;

/// Placeholder keys start with this private-use character, which no
/// manifest has a reason to contain.
const PLACEHOLDER_MARK: char = '\u{E000}';
/// What stands in for a number too large: a value of a type no field takes.
const NUMBER_STAND_IN: &str = "1979-05-27";
/// Repairs made before an error is taken as the last one.
pub(super) const MAX_REPAIRS: usize = 64;

/// Whether `key` is a placeholder put in place of a duplicate key.
pub(super) fn is_placeholder(key: &str) -> bool {
    key.starts_with(PLACEHOLDER_MARK)
}

/// One replacement in the text, in the coordinates of the text it was made in.
#[derive(Debug)]
struct Edit {
    at: usize,
    removed: usize,
    inserted: usize,
}

/// One error read past: where it is in the file as written, and what to say.
#[derive(Debug)]
struct Repair {
    at: usize,
    message: String,
    /// (placeholder, the key as written) for a renamed key.
    renamed: Option<(String, String)>,
}

/// A document read past its recoverable errors.
pub(super) struct Recovered<'t> {
    /// The repaired text parsed, or the first error that cannot be read past
    /// (its span is in the repaired text, like the document's).
    pub document: Result<Document<Cow<'t, str>>, TomlError>,
    edits: Vec<Edit>,
    repairs: Vec<Repair>,
}

/// Parses `text`, repairing what can be read past.
pub(super) fn parse(text: &str) -> Recovered<'_> {
    let mut current: Cow<'_, str> = Cow::Borrowed(text);
    let mut edits = Vec::new();
    let mut repairs = Vec::new();
    loop {
        let error = match Document::parse(current.clone()) {
            Ok(document) => {
                return Recovered {
                    document: Ok(document),
                    edits,
                    repairs,
                };
            }
            Err(error) => error,
        };
        let fix = (repairs.len() < MAX_REPAIRS)
            .then(|| repair_for(&current, &error, repairs.len()))
            .flatten();
        let Some((span, replacement, message, renamed)) = fix else {
            return Recovered {
                document: Err(error),
                edits,
                repairs,
            };
        };
        repairs.push(Repair {
            at: map_back(&edits, span.start),
            message,
            renamed,
        });
        edits.push(Edit {
            at: span.start,
            removed: span.len(),
            inserted: replacement.len(),
        });
        let mut repaired = String::with_capacity(current.len() + replacement.len());
        repaired.push_str(&current[..span.start]);
        repaired.push_str(&replacement);
        repaired.push_str(&current[span.end..]);
        current = Cow::Owned(repaired);
    }
}

type Fix = (
    std::ops::Range<usize>,
    String,
    String,
    Option<(String, String)>,
);

/// The replacement of the text at `error` and the message it stands for,
/// when the error is one to read past.
fn repair_for(text: &str, error: &TomlError, count: usize) -> Option<Fix> {
    let span = error.span()?;
    let raw = text.get(span.clone())?;
    if raw.is_empty() || raw.contains(['\n', '\r']) {
        return None;
    }
    let message = error.message();
    if message.starts_with("duplicate key") || message.starts_with("cannot extend value") {
        let key = unquoted(raw);
        let placeholder = format!("{PLACEHOLDER_MARK}{count}{PLACEHOLDER_MARK}");
        let said = if message.starts_with("duplicate key") {
            format!(
                "duplicate key `{key}`: it is already defined above in the same table; keep one of them"
            )
        } else {
            let first = message.lines().next().unwrap_or(message);
            format!("`{key}`: {first}")
        };
        let renamed = Some((placeholder.clone(), key.to_string()));
        return Some((span, format!("'{placeholder}'"), said, renamed));
    }
    let said = if message.starts_with("integer number overflowed") {
        if raw.starts_with('-') {
            format!(
                "{raw} is too small for a TOML integer (at least {})",
                i64::MIN
            )
        } else {
            format!(
                "{raw} is too large for a TOML integer (at most {})",
                i64::MAX
            )
        }
    } else if message.starts_with("floating-point number overflowed") {
        format!("{raw} is too large for a TOML float")
    } else {
        return None;
    };
    Some((span, NUMBER_STAND_IN.to_string(), said, None))
}

/// A key as written, without its quotes.
fn unquoted(raw: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = raw
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    raw
}

/// `offset` in the repaired text as an offset in the text as written; an
/// offset inside a replacement is the start of what it replaced.
fn map_back(edits: &[Edit], offset: usize) -> usize {
    edits.iter().rev().fold(offset, |offset, edit| {
        if offset < edit.at {
            offset
        } else if offset >= edit.at + edit.inserted {
            offset - edit.inserted + edit.removed
        } else {
            edit.at
        }
    })
}

impl Recovered<'_> {
    /// Whether any error was read past (the manifest cannot be used then).
    pub fn repaired(&self) -> bool {
        !self.repairs.is_empty()
    }

    /// Puts `found` (offsets in the repaired text) in the file's terms:
    /// offsets as written, each problem at a repair saying what the repair
    /// stands for, placeholders named as the keys they replaced; a repair
    /// that no problem was found at is a problem of its own.
    pub fn finish(&self, found: &mut Vec<Found>) {
        for problem in found.iter_mut() {
            problem.offset = map_back(&self.edits, problem.offset);
        }
        for repair in &self.repairs {
            let mut reported = false;
            for problem in found
                .iter_mut()
                .filter(|problem| problem.offset == repair.at)
            {
                problem.message.clone_from(&repair.message);
                reported = true;
            }
            if !reported {
                found.push(Found {
                    offset: repair.at,
                    unit: None,
                    field: None,
                    message: repair.message.clone(),
                });
            }
        }
        for (placeholder, key) in self.repairs.iter().filter_map(|r| r.renamed.as_ref()) {
            for problem in found.iter_mut() {
                for text in [problem.unit.as_mut(), problem.field.as_mut()]
                    .into_iter()
                    .flatten()
                {
                    if text.contains(placeholder.as_str()) {
                        *text = text.replace(placeholder.as_str(), key);
                    }
                }
            }
        }
    }
}
