//! Readers for manifest values: each checks a type, parses Docker's text and reports what is wrong where.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use toml_edit::{Item, TableLike, Value};

use super::recover::is_placeholder;
use super::suggest;
use crate::spec::text::{parse_duration, parse_size};

/// A problem found while reading, at a byte offset; line and column come later.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Found {
    pub offset: usize,
    pub unit: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

/// One key of a table, with where its key and its value start.
pub(super) struct Field<'t> {
    pub name: &'t str,
    pub item: &'t Item,
    /// Offset of the value (of the key when the value has no span).
    pub at: usize,
    /// Offset of the key.
    pub key_at: usize,
}

/// The keys of `table` in document order; `fallback` stands in for missing spans.
pub(super) fn fields(table: &dyn TableLike, fallback: usize) -> Vec<Field<'_>> {
    table
        .iter()
        .map(|(name, item)| {
            let key_at = table
                .key(name)
                .and_then(|key| key.span())
                .map_or(fallback, |span| span.start);
            let at = item.span().map_or(key_at, |span| span.start);
            Field {
                name,
                item,
                at,
                key_at,
            }
        })
        .collect()
}

/// "a string", "an integer", …: what a value is, for messages.
pub(super) fn kind(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(value) => value_kind(value),
    }
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
}

/// Where the values of one table were written, and which could not be read.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// Field path (`memory`, `ports[1]`, `backoff.factor`) → offset of its value.
    pub spans: HashMap<String, usize>,
    /// Field paths that had a reading problem.
    pub failed: HashSet<String>,
    /// Field paths of the spec that were written under another key, by the
    /// key as written (`healthcheck.test` → `healthcheck.disable`).
    pub renamed: HashMap<String, String>,
}

impl Seen {
    /// Whether `field` or a field containing it had a reading problem.
    pub fn failed_within(&self, field: &str) -> bool {
        ancestors(field).any(|path| self.failed.contains(path))
    }

    /// Offset of `field`'s value, or of the nearest containing field's.
    pub fn nearest(&self, field: &str) -> Option<usize> {
        ancestors(field).find_map(|path| self.spans.get(path).copied())
    }
}

/// `field` and the paths containing it: `a.b[1]`, `a.b`, `a`.
pub(super) fn ancestors(field: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(field), |path| {
        path.rfind(['.', '[']).map(|cut| &path[..cut])
    })
}

/// The reading of one table: where its problems go and how they are labelled.
pub(super) struct Scope<'a> {
    text: &'a str,
    problems: &'a mut Vec<Found>,
    /// The unit problems are about (its name, or `#3`), if any.
    pub unit: Option<String>,
    /// Put before every field path reported (`defaults.`).
    prefix: &'static str,
    /// Where reading stood.
    pub seen: Seen,
}

impl<'a> Scope<'a> {
    /// A scope reporting into `problems`.
    pub fn new(
        text: &'a str,
        problems: &'a mut Vec<Found>,
        unit: Option<String>,
        prefix: &'static str,
    ) -> Self {
        Scope {
            text,
            problems,
            unit,
            prefix,
            seen: Seen::default(),
        }
    }

    /// Records a reading problem of `field` at `at`.
    pub fn report(&mut self, at: usize, field: &str, message: impl Into<String>) {
        self.seen.failed.insert(field.to_string());
        self.push(
            at,
            self.unit.clone(),
            format!("{}{field}", self.prefix),
            message,
        );
    }

    /// Records a problem as given, without marking any field as unread.
    pub fn push(
        &mut self,
        at: usize,
        unit: Option<String>,
        field: String,
        message: impl Into<String>,
    ) {
        self.problems.push(Found {
            offset: at,
            unit,
            field: Some(field),
            message: message.into(),
        });
    }

    /// Reports the unknown key `name` (path `path`) with a suggestion from `known`.
    pub fn unknown(&mut self, path: &str, name: &str, at: usize, known: &[&str]) {
        self.report(at, path, suggest::unknown_key(name, known));
    }

    /// Reports that `item` at `at` is not `expected`.
    pub fn wrong(&mut self, at: usize, field: &str, expected: &str, item: &Item) {
        self.report(at, field, format!("must be {expected}, not {}", kind(item)));
    }

    /// The value of `item` when it is not a table, remembering where it is.
    fn value<'i>(
        &mut self,
        field: &str,
        item: &'i Item,
        at: usize,
        expected: &str,
    ) -> Option<&'i Value> {
        self.seen.spans.insert(field.to_string(), at);
        let value = item.as_value();
        if value.is_none() {
            self.wrong(at, field, expected, item);
        }
        value
    }

    /// A table, inline or not.
    pub fn table<'i>(
        &mut self,
        field: &str,
        item: &'i Item,
        at: usize,
    ) -> Option<&'i dyn TableLike> {
        self.table_as(field, item, at, "a table")
    }

    /// A table, inline or not; anything else is reported as not `expected`.
    pub fn table_as<'i>(
        &mut self,
        field: &str,
        item: &'i Item,
        at: usize,
        expected: &str,
    ) -> Option<&'i dyn TableLike> {
        self.seen.spans.insert(field.to_string(), at);
        let table = item.as_table_like();
        if table.is_none() {
            self.wrong(at, field, expected, item);
        }
        table
    }

    /// A string.
    pub fn string(&mut self, field: &str, item: &Item, at: usize) -> Option<String> {
        self.parsed(field, item, at, "a string", |text| Ok(text.to_string()))
    }

    /// A string that `parse` turns into a `T`; its error is the message.
    pub fn parsed<T>(
        &mut self,
        field: &str,
        item: &Item,
        at: usize,
        expected: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let text = self.value(field, item, at, expected)?.as_str();
        let Some(text) = text else {
            self.wrong(at, field, expected, item);
            return None;
        };
        parse(text)
            .map_err(|message| self.report(at, field, message))
            .ok()
    }

    /// A duration such as `"10s"`.
    pub fn duration(&mut self, field: &str, item: &Item, at: usize) -> Option<Duration> {
        self.parsed(
            field,
            item,
            at,
            "a duration such as \"10s\"",
            parse_duration,
        )
    }

    /// A size: a string such as `"64m"` or a non-negative number of bytes.
    pub fn size(&mut self, field: &str, item: &Item, at: usize) -> Option<u64> {
        let expected = "a size such as \"64m\" or a number of bytes";
        match self.value(field, item, at, expected)? {
            Value::Integer(bytes) => match u64::try_from(*bytes.value()) {
                Ok(bytes) => Some(bytes),
                Err(_) => {
                    let message = format!(
                        "{} is not a size: a number of bytes cannot be negative",
                        bytes.value()
                    );
                    self.report(at, field, message);
                    None
                }
            },
            Value::String(text) => parse_size(text.value())
                .map_err(|message| self.report(at, field, message))
                .ok(),
            _ => {
                self.wrong(at, field, expected, item);
                None
            }
        }
    }

    /// An integer.
    pub fn integer(&mut self, field: &str, item: &Item, at: usize) -> Option<i64> {
        let value = self.value(field, item, at, "an integer")?.as_integer();
        if value.is_none() {
            self.wrong(at, field, "an integer", item);
        }
        value
    }

    /// An integer of 0 or more.
    pub fn count(&mut self, field: &str, item: &Item, at: usize) -> Option<u64> {
        let value = self.integer(field, item, at)?;
        let count = u64::try_from(value).ok();
        if count.is_none() {
            self.report(
                at,
                field,
                format!("must be an integer of 0 or more, not {value}"),
            );
        }
        count
    }

    /// An integer from 0 to `u32::MAX`.
    pub fn count_u32(&mut self, field: &str, item: &Item, at: usize) -> Option<u32> {
        let count = self.count(field, item, at)?;
        let small = u32::try_from(count).ok();
        if small.is_none() {
            self.report(at, field, format!("{count} is larger than {}", u32::MAX));
        }
        small
    }

    /// A boolean.
    pub fn boolean(&mut self, field: &str, item: &Item, at: usize) -> Option<bool> {
        let value = self.value(field, item, at, "a boolean")?.as_bool();
        if value.is_none() {
            self.wrong(at, field, "a boolean", item);
        }
        value
    }

    /// A number, integer or float.
    pub fn number(&mut self, field: &str, item: &Item, at: usize) -> Option<f64> {
        match self.value(field, item, at, "a number")? {
            Value::Integer(number) => Some(*number.value() as f64),
            Value::Float(number) => Some(*number.value()),
            _ => {
                self.wrong(at, field, "a number", item);
                None
            }
        }
    }

    /// A signal: a name such as `"SIGTERM"` or a number.
    pub fn signal(&mut self, field: &str, item: &Item, at: usize) -> Option<String> {
        match item.as_integer() {
            Some(number) => {
                self.seen.spans.insert(field.to_string(), at);
                Some(number.to_string())
            }
            None => self.parsed(field, item, at, "a signal such as \"SIGTERM\"", |text| {
                Ok(text.to_string())
            }),
        }
    }

    /// An array of strings, each with the offset of its value; `None` when any
    /// element is not a string (each such element is reported).
    pub fn string_list(
        &mut self,
        field: &str,
        item: &Item,
        at: usize,
    ) -> Option<Vec<(String, usize)>> {
        let expected = "an array of strings";
        let Some(array) = self.value(field, item, at, expected)?.as_array() else {
            self.wrong(at, field, expected, item);
            return None;
        };
        let mut strings = Vec::new();
        let mut all_read = true;
        for (index, element) in array.iter().enumerate() {
            let path = format!("{field}[{index}]");
            let element_at = element.span().map_or(at, |span| span.start);
            self.seen.spans.insert(path.clone(), element_at);
            match element.as_str() {
                Some(text) => strings.push((text.to_string(), element_at)),
                None => {
                    all_read = false;
                    let message = format!("must be a string, not {}", value_kind(element));
                    self.report(element_at, &path, message);
                }
            }
        }
        if !all_read {
            self.seen.failed.insert(field.to_string());
        }
        all_read.then_some(strings)
    }

    /// A table of strings (dotted keys are joined: `a.b = "x"` is key `a.b`).
    /// With `scalars`, numbers and booleans are taken as their text.
    pub fn text_table(
        &mut self,
        field: &str,
        item: &Item,
        at: usize,
        scalars: bool,
    ) -> Option<BTreeMap<String, String>> {
        let table = self.table(field, item, at)?;
        let mut texts = BTreeMap::new();
        self.collect_texts(field, "", table, at, scalars, &mut texts);
        Some(texts)
    }

    fn collect_texts(
        &mut self,
        field: &str,
        key_prefix: &str,
        table: &dyn TableLike,
        fallback: usize,
        scalars: bool,
        texts: &mut BTreeMap<String, String>,
    ) {
        for entry in fields(table, fallback) {
            let key = format!("{key_prefix}{}", entry.name);
            if is_placeholder(entry.name) {
                // A duplicate key, reported for what it is by the recovery.
                self.report(entry.key_at, &format!("{field}.{key}"), "duplicate key");
                continue;
            }
            if let Some(inner) = entry.item.as_table_like()
                && inner.is_dotted()
            {
                self.collect_texts(field, &format!("{key}."), inner, entry.at, scalars, texts);
                continue;
            }
            let path = format!("{field}.{key}");
            self.seen.spans.insert(path.clone(), entry.at);
            let text = match entry.item.as_value() {
                Some(Value::String(text)) => Some(text.value().clone()),
                Some(Value::Integer(number)) if scalars => Some(number.value().to_string()),
                Some(Value::Boolean(flag)) if scalars => Some(flag.value().to_string()),
                Some(Value::Float(number)) if scalars => Some(
                    // The number as written ("2.0"), not as Rust prints it ("2").
                    entry
                        .item
                        .span()
                        .and_then(|span| self.text.get(span))
                        .map_or_else(|| number.value().to_string(), str::to_string),
                ),
                _ => None,
            };
            match text {
                Some(text) => {
                    texts.insert(key, text);
                }
                None if scalars => {
                    self.wrong(entry.at, &path, "a string, number or boolean", entry.item)
                }
                None => self.wrong(entry.at, &path, "a string", entry.item),
            }
        }
    }
}
