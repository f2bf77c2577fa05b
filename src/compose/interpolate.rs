//! Docker compose's `${VAR}` interpolation and `.env` parsing, done the way compose-go does them.
//!
//! [`interpolate`] follows compose-go `template/template.go` (the `Substitute` that
//! `docker compose` v2 applies to every string value of a compose file), quirks included:
//!
//! - `$$` is a literal `$`; `$NAME` and `${NAME}` are the variable's value, or `""` when it is
//!   unset (the name then goes into [`Interpolated::unset`], for compose's "variable is not set"
//!   warning). A `$` before anything else (`$1`, `$ `, a final `$`) stays as it is.
//! - `${V:-d}` / `${V-d}`: `d` when V is unset or empty / unset. `${V:+a}` / `${V+a}`: `a` when V
//!   is set and non-empty / set, else `""`. `${V:?m}` / `${V?m}`: an error when V is unset or
//!   empty / unset. `d`, `a` and `m` are interpolated in turn, only when they are used.
//! - Names looked up by an operator are never reported as unset: `${V:-d}` says what to do.
//! - A braced expression runs to the **last** `}` of its line (compose-go's greedy `(.*)}`); it is
//!   then cut at the brace that closes its first `{` (counted as compose-go counts, skipping the
//!   character after each `{`), and whatever follows is interpolated as a text of its own. So
//!   `${A:-${B:-x}}` nests, and `${A:-{}} ${B}` makes the default `{}} ${B`, an invalid format.
//!
//! Deliberate differences: names are ASCII only (Go's case-insensitive `[a-z]` also takes `ſ` and
//! the Kelvin sign), and each unset name is reported once. [`parse_env_file`] follows compose-go
//! `dotenv/parser.go`; its differences are listed there. Nothing here does I/O.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

#[cfg(test)]
mod tests;

/// Where variables come from: a lookup (process env first, then the .env file — the caller builds it).
pub trait Variables {
    /// The value of `name`, or `None` when it is unset (which is not the same as empty).
    fn get(&self, name: &str) -> Option<String>;
}

impl<S: BuildHasher> Variables for HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

impl Variables for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

/// The outcome of [`interpolate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interpolated {
    /// The text with every expression replaced.
    pub text: String,
    /// Names used as `$NAME` or `${NAME}` while unset, each once, in the order they were met; for
    /// compose's warning `The "NAME" variable is not set. Defaulting to a blank string.`
    pub unset: Vec<String>,
}

/// Why a text could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    /// `${` not followed by a valid name and a closing brace, e.g. `${1}`, `${}`, `${A`.
    ///
    /// `text` is what compose-go reports: the text being interpolated when the bad `${` was met,
    /// that is the whole value, or the default, alternate, message or trailing part it was in.
    #[error("invalid interpolation format: {text:?}; escape a literal $ as $$")]
    InvalidFormat { text: String },
    /// `${VAR:?message}` / `${VAR?message}` with VAR unset (or empty for `:?`). `name` is VAR;
    /// `message` is interpolated, and may be empty (then compose-go's wording has no colon).
    #[error(
        "required variable {name} is missing a value{}{message}",
        if message.is_empty() { "" } else { ": " }
    )]
    Required { name: String, message: String },
}

/// Replaces compose's `$` expressions in `text` with values from `vars`.
///
/// ```
/// use std::collections::HashMap;
/// use stevedore::compose::interpolate::interpolate;
///
/// let vars = HashMap::from([("TAG".to_owned(), "1.2".to_owned())]);
/// let done = interpolate("nginx:${TAG:-latest} $$HOME $USER", &vars).unwrap();
/// assert_eq!(done.text, "nginx:1.2 $HOME ");
/// assert_eq!(done.unset, ["USER"]);
/// ```
pub fn interpolate(text: &str, vars: &dyn Variables) -> Result<Interpolated, InterpolationError> {
    let unset = Vec::new();
    let mut run = Run { vars, unset };
    let text = run.substitute(text)?;
    let unset = run.unset;
    Ok(Interpolated { text, unset })
}

/// One call of [`interpolate`]: the variables, and the unset names met so far.
struct Run<'a> {
    vars: &'a dyn Variables,
    unset: Vec<String>,
}

/// What one match of compose-go's pattern is: `$$`, `$NAME`, `${...}` (what is between the
/// braces) or `${` not followed by something valid.
enum Token<'a> {
    Escaped,
    Named(&'a str),
    Braced(&'a str),
    Invalid,
}

/// The operators; one with `:` counts an empty value as unset. compose-go takes the one whose
/// first occurrence in the match comes first.
const OPERATORS: [&str; 6] = [":?", "?", ":-", "-", ":+", "+"];

/// compose-go's `\$(?i:(\$)|([_a-z][_a-z0-9]*)|{(?:([_a-z][_a-z0-9]*(?::?[-+?](.*))?)}|()))`
/// tried at `s[at]` (a `$`): the token and the end of the match, or `None` for a literal `$`.
fn token(s: &str, at: usize) -> Option<(Token<'_>, usize)> {
    let b = s.as_bytes();
    let is_name_start = |c: u8| c == b'_' || c.is_ascii_alphabetic();
    let name_char = |c: &&u8| **c == b'_' || c.is_ascii_alphanumeric();
    let name_end = |from: usize| from + b[from..].iter().take_while(name_char).count();
    let is_op = |i: usize| matches!(b.get(i), Some(b'-' | b'+' | b'?'));
    match *b.get(at + 1)? {
        b'$' => Some((Token::Escaped, at + 2)),
        c if is_name_start(c) => {
            let end = name_end(at + 1);
            Some((Token::Named(&s[at + 1..end]), end))
        }
        b'{' => {
            let start = at + 2;
            if !b.get(start).is_some_and(|c| is_name_start(*c)) {
                return Some((Token::Invalid, start));
            }
            let name = name_end(start);
            let op = name + usize::from(b.get(name) == Some(&b':') && is_op(name + 1));
            if is_op(op) {
                // `(.*)}`: greedy, and `.` stops at a newline.
                let line = s[op..].find('\n').map_or(s.len(), |n| op + n);
                if let Some(close) = s[op..line].rfind('}') {
                    return Some((Token::Braced(&s[start..op + close]), op + close + 1));
                }
            }
            if b.get(name) == Some(&b'}') {
                return Some((Token::Braced(&s[start..name]), name + 1));
            }
            Some((Token::Invalid, start))
        }
        _ => None,
    }
}

impl Run<'_> {
    /// compose-go `SubstituteWithOptions`: every match in `template`, left to right.
    fn substitute(&mut self, template: &str) -> Result<String, InterpolationError> {
        let mut out = String::with_capacity(template.len());
        let (mut copied, mut at) = (0, 0);
        while let Some(found) = template[at..].find('$') {
            let dollar = at + found;
            let Some((_, end)) = token(template, dollar) else {
                at = dollar + 1;
                continue;
            };
            out.push_str(&template[copied..dollar]);
            out.push_str(&self.replace(&template[dollar..end], template)?);
            (copied, at) = (end, end);
        }
        out.push_str(&template[copied..]);
        Ok(out)
    }

    /// compose-go `DefaultReplacementAppliedFunc` for one match: the operator is chosen on the
    /// whole match, which is then cut after its closing brace and matched again; the part after
    /// the brace is interpolated on its own (and dropped when no operator applies, as there).
    fn replace(&mut self, matched: &str, template: &str) -> Result<String, InterpolationError> {
        let operator = OPERATORS
            .iter()
            .filter_map(|op| Some((matched.find(op)?, *op)))
            .min()
            .map(|(_, op)| op);
        let (head, rest) = match closing_brace(matched) {
            Some(close) => matched.split_at(close + 1),
            None => (matched, ""),
        };
        let name = match token(head, 0) {
            Some((Token::Escaped, _)) => return Ok("$".to_owned()),
            Some((Token::Named(name), _)) => name,
            Some((Token::Braced(inner), _)) => match operator {
                Some(sep) if inner.contains(sep) => {
                    let (name, arg) = inner.split_once(sep).unwrap_or((inner, ""));
                    let value = self.vars.get(name);
                    let set = matches!(&value, Some(v) if sep.len() == 1 || !v.is_empty());
                    let value = match (sep.as_bytes()[sep.len() - 1], set) {
                        (b'-' | b'?', true) | (b'+', false) => value.unwrap_or_default(),
                        (b'-', false) | (b'+', true) => self.substitute(arg)?,
                        _ => {
                            let message = self.substitute(arg)?;
                            let name = name.to_owned();
                            return Err(InterpolationError::Required { name, message });
                        }
                    };
                    return Ok(value + &self.substitute(rest)?);
                }
                _ => inner,
            },
            _ => {
                let text = template.to_owned();
                return Err(InterpolationError::InvalidFormat { text });
            }
        };
        Ok(self.vars.get(name).unwrap_or_else(|| {
            if !self.unset.iter().any(|n| n == name) {
                self.unset.push(name.to_owned());
            }
            String::new()
        }))
    }
}

/// compose-go `getFirstBraceClosingIndex`: the `}` that brings the count back to zero, where
/// each `{` also skips the character after it.
fn closing_brace(s: &str) -> Option<usize> {
    let (mut open, mut skip) = (0i32, false);
    for (i, c) in s.bytes().enumerate() {
        match c {
            _ if std::mem::take(&mut skip) => {}
            b'}' if open == 1 => return Some(i),
            b'}' => open -= 1,
            b'{' => (open, skip) = (open + 1, true),
            _ => {}
        }
    }
    None
}

/// Why a `.env` file could not be read: the 1-based line of the entry, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct EnvFileError {
    /// The line the entry starts on, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub problem: EnvFileProblem,
}

/// What is wrong with an entry of a `.env` file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvFileProblem {
    /// A character `found` that can't be in a name (letters, digits and `_.-[]` can), before
    /// `=`; `text` is the line from the name on.
    #[error("unexpected character {:?} in variable name {text:?}", found.to_string())]
    UnexpectedCharacter { found: char, text: String },
    /// A name with a space in it, like `A B=1`.
    #[error("key cannot contain a space")]
    SpaceInKey,
    /// A quote that is never closed; `text` is the value's first line, opening quote included.
    #[error("unterminated quoted value {text}")]
    UnterminatedQuote { text: String },
    /// `export` with nothing after it at the end of the file.
    #[error("no variable name after export")]
    MissingName,
    /// The value's interpolation failed.
    #[error(transparent)]
    Interpolation(#[from] InterpolationError),
}

/// Reads a `.env` file with no outside variables; see [`parse_env_file_with`].
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, EnvFileError> {
    parse_env_file_with(text, &BTreeMap::new())
}

/// Reads a `.env` file as compose-go `dotenv.GetEnvFromFile` does, looking variables up in
/// `vars` first (the process env, and earlier env files), then in the file's earlier entries.
///
/// - A BOM, blank lines and lines starting with `#` are skipped; `export ` may precede a name.
/// - A name is letters, digits and `_.-[]`, ended by `=` or `:` (`KEY: value` works too).
/// - `KEY` alone takes the value from `vars` or an earlier entry; when there is none it is left
///   out. `KEY=` is empty.
/// - Unquoted values run to the end of the line, stop at ` #`, are trimmed and interpolated.
/// - `'...'` is literal (`\'` is a quote); `"..."` expands `\n \t \r \a \b \f \v \\ \" \$` and
///   `\0NNN` (octal), then is interpolated. Quoted values may span lines; whatever follows the
///   closing quote is read as the next entry, as compose-go does.
///
/// Entries come in file order; a name given twice keeps its first place and its last value.
/// Differences from compose-go: `KEY` alone on the last line, without a newline, is inherited as
/// on any other line (compose-go makes it the value of an empty name); entries with an empty name
/// (`=x`) are left out; an unterminated quote is reported on the line it opens on; lines are
/// counted right after an inherited `KEY ` with a trailing space (compose-go loses one there).
pub fn parse_env_file_with(
    text: &str,
    vars: &dyn Variables,
) -> Result<Vec<(String, String)>, EnvFileError> {
    let src = text.strip_prefix('\u{feff}').unwrap_or(text);
    let entries = Vec::new();
    let mut file = EnvFile { vars, entries };
    let (mut pos, mut counted, mut line) = (0, 0, 1);
    while let Some(start) = statement_start(src, pos) {
        line += src[counted..start].matches('\n').count();
        counted = start;
        let fail = |problem| EnvFileError { line, problem };
        let mut key_start = start;
        if let Some(after) = src[start..].strip_prefix("export")
            && after.starts_with(['\t', '\n', '\x0c', '\r', ' '])
        {
            key_start = src.len() - after.trim_start_matches(is_space).len();
        }
        if key_start == src.len() {
            return Err(fail(EnvFileProblem::MissingName));
        }
        let (key_end, separator) = key_end(src, key_start).map_err(fail)?;
        let key = src[key_start..key_end].trim_end();
        let after = (key_end + separator.map_or(0, char::len_utf8)).min(src.len());
        let value_start = src.len() - src[after..].trim_start_matches(is_space).len();
        if key.contains(' ') {
            return Err(fail(EnvFileProblem::SpaceInKey));
        }
        if matches!(separator, None | Some('\n')) {
            if let Some(value) = file.get(key) {
                file.set(key, value);
            }
            pos = value_start;
            continue;
        }
        let (value, next) = file.value(src, value_start).map_err(fail)?;
        file.set(key, value);
        pos = next;
    }
    Ok(file.entries)
}

/// compose-go `isSpace`: white space that is not a line break.
fn is_space(c: char) -> bool {
    matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{a0}')
}

/// Where the next entry starts, past white space and `#` lines.
fn statement_start(src: &str, mut pos: usize) -> Option<usize> {
    loop {
        let start = pos + src[pos..].find(|c: char| !c.is_whitespace())?;
        if !src[start..].starts_with('#') {
            return Some(start);
        }
        pos = start + src[start..].find('\n')?;
    }
}

/// The end of the name starting at `start` and the character that ends it (`=`, `:`, a newline,
/// or `None` at the end of the file). Spaces are passed over here.
fn key_end(src: &str, start: usize) -> Result<(usize, Option<char>), EnvFileProblem> {
    for (at, c) in src[start..].char_indices() {
        match c {
            '=' | ':' | '\n' => return Ok((start + at, Some(c))),
            '_' | '.' | '-' | '[' | ']' => {}
            c if is_space(c) || c.is_alphabetic() || c.is_numeric() => {}
            found => {
                let line = &src[start..];
                let text = line[..line.find('\n').unwrap_or(line.len())].to_owned();
                return Err(EnvFileProblem::UnexpectedCharacter { found, text });
            }
        }
    }
    Ok((src.len(), None))
}

/// The entries read so far, and the outside variables.
struct EnvFile<'a> {
    vars: &'a dyn Variables,
    entries: Vec<(String, String)>,
}

impl Variables for EnvFile<'_> {
    fn get(&self, name: &str) -> Option<String> {
        let earlier = || self.entries.iter().find(|e| e.0 == name);
        self.vars
            .get(name)
            .or_else(|| earlier().map(|e| e.1.clone()))
    }
}

impl EnvFile<'_> {
    fn set(&mut self, key: &str, value: String) {
        if key.is_empty() {
            return;
        }
        match self.entries.iter_mut().find(|e| e.0 == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key.to_owned(), value)),
        }
    }

    fn interpolate(&self, value: &str) -> Result<String, EnvFileProblem> {
        Ok(interpolate(value, self)?.text)
    }

    /// The value starting at `start`, and where the text after it starts.
    fn value(&self, src: &str, start: usize) -> Result<(String, usize), EnvFileProblem> {
        let line_end = src[start..].find('\n').map_or(src.len(), |n| start + n);
        let quote = match src[start..].chars().next() {
            Some(quote @ ('"' | '\'')) => quote,
            _ => {
                let value = &src[start..line_end];
                let value = value.split(" #").next().unwrap_or_default().trim_end();
                return Ok((self.interpolate(value)?, (line_end + 1).min(src.len())));
            }
        };
        let (mut chars, mut escape) = (String::new(), false);
        // A backslash keeps the character after it, and itself unless that is the quote.
        for (at, c) in src[start + 1..].char_indices() {
            let escaped = std::mem::take(&mut escape);
            if !escaped && c == quote {
                let next = start + 2 + at;
                if quote == '\'' {
                    return Ok((chars, next));
                }
                return Ok((self.interpolate(&expand_escapes(&chars))?, next));
            }
            escape = !escaped && c == '\\';
            if escaped && c != quote {
                chars.push('\\');
            }
            if !escape {
                chars.push(c);
            }
        }
        let text = src[start..line_end].to_owned();
        Err(EnvFileProblem::UnterminatedQuote { text })
    }
}

/// compose-go `expandEscapes`: `\a \b \f \n \r \t \v \" \\` and `\0NNN` (three octal digits, at
/// most 377) become the character, `\$` becomes `$$` (a literal `$` for the interpolation that
/// follows), any other `\0` and up to three digits loses its `0`; the rest stays as it is.
fn expand_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let simple = rest
            .bytes()
            .next()
            .and_then(|c| b"abfnrtv\"\\".iter().position(|&e| e == c));
        if let Some(i) = simple {
            out.push(['\x07', '\x08', '\x0c', '\n', '\r', '\t', '\x0b', '"', '\\'][i]);
            rest = &rest[1..];
        } else if let Some(after) = rest.strip_prefix('$') {
            out.push_str("$$");
            rest = after;
        } else if let Some(after) = rest.strip_prefix('0') {
            let digits = after.bytes().take(3).take_while(u8::is_ascii_digit).count();
            let (octal, after) = after.split_at(digits);
            match u8::from_str_radix(octal, 8) {
                Ok(v) if digits == 3 => out.push(char::from(v)),
                // compose-go drops the 0 of an escape it could not read.
                _ => out.extend(['\\'].into_iter().chain(octal.chars())),
            }
            rest = after;
        } else {
            out.push('\\');
        }
    }
    out.push_str(rest);
    out
}
