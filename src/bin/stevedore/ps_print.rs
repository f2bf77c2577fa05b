//! How `ps` prints its rows: a table whose columns are as wide as their
//! contents, the names alone (`-q`), JSON, or a template over the JSON keys
//! (`--format '{{.name}}\t{{.status}}'`).

use serde_json::Value;

use crate::ps::{KEYS, Row};
use crate::{Failure, output};

/// What `ps` prints, chosen by its flags (checked before the engine).
pub enum Shape {
    Table,
    Names,
    Json,
    Template(Template),
}

impl Shape {
    /// The shape the flags ask for (clap keeps them exclusive).
    pub fn of(json: bool, quiet: bool, format: Option<&str>) -> Result<Shape, Failure> {
        Ok(match (json, quiet, format) {
            (_, _, Some(text)) => Shape::Template(Template::parse(text).map_err(|why| {
                Failure::input(format!(
                    "--format {text:?}: {why}; the keys are {}",
                    KEYS.join(", ")
                ))
            })?),
            (true, _, None) => Shape::Json,
            (_, true, None) => Shape::Names,
            _ => Shape::Table,
        })
    }
}

/// Prints `rows` on stdout.
pub fn print(rows: &[Row], shape: &Shape) {
    match shape {
        Shape::Json => {
            let objects = rows.iter().map(|row| row.json.clone()).collect();
            let text = serde_json::to_string_pretty(&Value::Array(objects));
            output::stdout(&format!("{}\n", text.expect("JSON values print")));
        }
        Shape::Names => {
            let names: String = rows
                .iter()
                .map(|row| format!("{}\n", row.json["name"].as_str().unwrap_or_default()))
                .collect();
            output::stdout(&names);
        }
        Shape::Template(template) => {
            let lines: String = rows
                .iter()
                .map(|row| format!("{}\n", template.fill(&row.json)))
                .collect();
            output::stdout(&lines);
        }
        Shape::Table => output::stdout(&table(rows)),
    }
}

const HEADERS: [&str; 7] = [
    "NAME",
    "CONTAINER ID",
    "STATUS",
    "PHASE",
    "RESTARTS",
    "IMAGE",
    "PORTS",
];
/// Between two columns, as in docker ps.
const GAP: usize = 3;

/// The table, each column as wide as its widest cell, no trailing spaces.
fn table(rows: &[Row]) -> String {
    let mut lines: Vec<[String; 7]> = vec![HEADERS.map(str::to_string)];
    lines.extend(rows.iter().map(cells));
    let mut widths = [0; 7];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for line in &lines {
        let mut printed = String::new();
        for (cell, width) in line.iter().zip(widths) {
            printed.push_str(cell);
            let pad = width - cell.chars().count() + GAP;
            printed.extend(std::iter::repeat_n(' ', pad));
        }
        text.push_str(printed.trim_end());
        text.push('\n');
    }
    text
}

fn cells(row: &Row) -> [String; 7] {
    let json = &row.json;
    let word = |key: &str| json[key].as_str().unwrap_or_default().to_string();
    let id = word("id");
    // As docker ps shows it: "running (healthy)".
    let status = match json["health"].as_str() {
        // A unit with no container: why (the record's reason).
        None if json["id"].is_null() => match &row.reason {
            Some(reason) => format!("not created ({reason})"),
            None => "not created".to_string(),
        },
        Some(health) => format!("{} ({health})", word("status")),
        None => word("status"),
    };
    let restarts = match (json["restart_count"].as_u64(), &row.last_restart_reason) {
        (Some(count), Some(reason)) if count > 0 => format!("{count} ({reason})"),
        _ => json["restart_count"].to_string(),
    };
    [
        word("name"),
        id[..id.len().min(12)].to_string(),
        status,
        word("phase"),
        restarts,
        word("image"),
        row.ports.join(", "),
    ]
}

/// A `--format` template: text, and `{{.key}}` replaced by the row's value
/// of `key` (strings bare, null empty, anything else as JSON).
#[derive(Debug, PartialEq)]
pub struct Template(Vec<Piece>);

#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Key(&'static str),
}

impl Template {
    /// Reads `text`; `\t`, `\n` and `\\` stand for a tab, a newline and a
    /// backslash, as typed in a shell's single quotes.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("{{") {
                let (inner, tail) = after
                    .split_once("}}")
                    .ok_or_else(|| format!("an unclosed {{{{ at {:?}", rest))?;
                let name = inner.trim();
                let key = name
                    .strip_prefix('.')
                    .and_then(|key| KEYS.iter().find(|k| **k == key.trim()))
                    .ok_or_else(|| format!("{{{{{inner}}}}} names no key"))?;
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
                pieces.push(Piece::Key(key));
                rest = tail;
                continue;
            }
            let escaped = match c {
                '\\' => match rest[1..].chars().next() {
                    Some('t') => Some('\t'),
                    Some('n') => Some('\n'),
                    Some('\\') => Some('\\'),
                    _ => None,
                },
                _ => None,
            };
            match escaped {
                Some(e) => {
                    literal.push(e);
                    rest = &rest[2..];
                }
                None => {
                    literal.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        pieces.push(Piece::Text(literal));
        pieces.retain(|piece| *piece != Piece::Text(String::new()));
        Ok(Template(pieces))
    }

    fn fill(&self, row: &Value) -> String {
        self.0
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.clone(),
                Piece::Key(key) => match &row[*key] {
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(name: &str, status: &str) -> Row {
        Row {
            json: json!({"name": name, "id": "0123456789abcdef", "status": status,
                "phase": "running", "restart_count": 0, "image": "i", "health": null,
                "ports": [{"internal": 80}]}),
            last_restart_reason: None,
            reason: None,
            ports: vec!["0.0.0.0:1->80/tcp".into()],
        }
    }

    #[test]
    fn a_template_fills_keys_and_reads_escapes() {
        let template =
            Template::parse(r"{{.name}}\t{{ .status }}\n{{.health}}|{{.ports}}\\").unwrap();
        assert_eq!(
            template.fill(&row("web", "running").json),
            "web\trunning\n|[{\"internal\":80}]\\"
        );
    }

    #[test]
    fn a_template_with_an_unknown_key_or_an_open_brace_is_refused() {
        assert!(Template::parse("{{.nope}}").unwrap_err().contains("nope"));
        assert!(Template::parse("{{name}}").is_err());
        assert!(Template::parse("{{.name").unwrap_err().contains("unclosed"));
    }

    #[test]
    fn table_columns_are_as_wide_as_their_widest_cell() {
        let text = table(&[
            row("a-rather-long-unit-name", "running"),
            row("b", "exited"),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        let at = "a-rather-long-unit-name".len() + GAP;
        assert_eq!(lines[0].find("CONTAINER ID"), Some(at));
        assert_eq!(lines[2].find("0123456789ab"), Some(at));
        assert!(lines.iter().all(|line| !line.ends_with(' ')));
    }
}
