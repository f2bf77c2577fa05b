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

/// No variables at all: every name is unset.
struct NoVariables;

impl Variables for NoVariables {
    fn get(&self, _: &str) -> Option<String> {
        None
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
    InvalidFormat {
        /// The (part of the) text that holds the bad `${`.
        text: String,
    },
    /// `${VAR:?message}` / `${VAR?message}` with VAR unset (or empty for `:?`).
    #[error("required variable {name} is missing a value{}", reason(message))]
    Required {
        /// The variable's name.
        name: String,
        /// The message after `?`, interpolated; it may be empty.
        message: String,
    },
}

/// compose-go's wording: `: message` only when there is a message.
fn reason(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
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
    let mut unset = Vec::new();
    let text = substitute(text, vars, &mut unset)?;
    Ok(Interpolated { text, unset })
}

/// What one match of compose-go's pattern is.
enum Token<'a> {
    /// `$$`.
    Escaped,
    /// `$NAME`.
    Named(&'a str),
    /// `${...}`: what is between the braces.
    Braced(&'a str),
    /// `${` not followed by something valid.
    Invalid,
}

/// The operators, with "an empty value counts as unset"; compose-go takes the one whose first
/// occurrence in the match comes first.
const OPERATORS: [(&str, Operator, bool); 6] = [
    (":?", Operator::Required, true),
    ("?", Operator::Required, false),
    (":-", Operator::Default, true),
    ("-", Operator::Default, false),
    (":+", Operator::Alternate, true),
    ("+", Operator::Alternate, false),
];

#[derive(Clone, Copy)]
enum Operator {
    Default,
    Alternate,
    Required,
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// compose-go's `\$(?i:(\$)|([_a-z][_a-z0-9]*)|{(?:([_a-z][_a-z0-9]*(?::?[-+?](.*))?)}|()))`
/// tried at `s[at]` (a `$`): the token and the end of the match, or `None` for a literal `$`.
fn token(s: &str, at: usize) -> Option<(Token<'_>, usize)> {
    let b = s.as_bytes();
    let name_end = |from: usize| from + b[from..].iter().take_while(|c| is_name_char(**c)).count();
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

/// compose-go `SubstituteWithOptions`: every match in `template`, left to right.
fn substitute(
    template: &str,
    vars: &dyn Variables,
    unset: &mut Vec<String>,
) -> Result<String, InterpolationError> {
    let mut out = String::with_capacity(template.len());
    let (mut copied, mut at) = (0, 0);
    while let Some(found) = template[at..].find('$') {
        let dollar = at + found;
        let Some((_, end)) = token(template, dollar) else {
            at = dollar + 1;
            continue;
        };
        out.push_str(&template[copied..dollar]);
        out.push_str(&replace(&template[dollar..end], template, vars, unset)?);
        (copied, at) = (end, end);
    }
    out.push_str(&template[copied..]);
    Ok(out)
}

/// compose-go `DefaultReplacementAppliedFunc` for one match: the operator is chosen on the whole
/// match, which is then cut after its closing brace and matched again; the part after the brace
/// is interpolated on its own (and dropped when no operator applies, as compose-go does).
fn replace(
    matched: &str,
    template: &str,
    vars: &dyn Variables,
    unset: &mut Vec<String>,
) -> Result<String, InterpolationError> {
    let operator = OPERATORS
        .iter()
        .filter_map(|op| matched.find(op.0).map(|at| (at, op)))
        .min_by_key(|(at, _)| *at)
        .map(|(_, op)| *op);
    let (head, rest) = match closing_brace(matched) {
        Some(close) => matched.split_at(close + 1),
        None => (matched, ""),
    };
    let name = match token(head, 0) {
        Some((Token::Escaped, _)) => return Ok("$".to_owned()),
        Some((Token::Named(name), _)) => name,
        Some((Token::Braced(inner), _)) => match operator {
            Some((sep, operator, empty_is_unset)) if inner.contains(sep) => {
                let (name, arg) = inner.split_once(sep).unwrap_or((inner, ""));
                let value = vars.get(name);
                let set = value
                    .as_ref()
                    .is_some_and(|v| !(empty_is_unset && v.is_empty()));
                let value = match operator {
                    Operator::Default if set => value.unwrap_or_default(),
                    Operator::Default => substitute(arg, vars, unset)?,
                    Operator::Alternate if set => substitute(arg, vars, unset)?,
                    Operator::Alternate => value.unwrap_or_default(),
                    Operator::Required if set => value.unwrap_or_default(),
                    Operator::Required => {
                        let message = substitute(arg, vars, unset)?;
                        let name = name.to_owned();
                        return Err(InterpolationError::Required { name, message });
                    }
                };
                return Ok(value + &substitute(rest, vars, unset)?);
            }
            _ => inner,
        },
        _ => {
            let text = template.to_owned();
            return Err(InterpolationError::InvalidFormat { text });
        }
    };
    Ok(vars.get(name).unwrap_or_else(|| {
        if !unset.iter().any(|n| n == name) {
            unset.push(name.to_owned());
        }
        String::new()
    }))
}

/// compose-go `getFirstBraceClosingIndex`: the `}` that brings the count back to zero, where
/// each `{` also skips the character after it.
fn closing_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let (mut open, mut i) = (0i32, 0);
    while i < b.len() {
        if b[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
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
    /// A character that can't be in a name (letters, digits and `_.-[]` can), before `=`.
    #[error("unexpected character {:?} in variable name {text:?}", found.to_string())]
    UnexpectedCharacter {
        /// The character.
        found: char,
        /// The line, from the name on.
        text: String,
    },
    /// A name with a space in it, like `A B=1`.
    #[error("key cannot contain a space")]
    SpaceInKey,
    /// A quote that is never closed.
    #[error("unterminated quoted value {text}")]
    UnterminatedQuote {
        /// The value's first line, opening quote included.
        text: String,
    },
    /// `export` with nothing after it at the end of the file.
    #[error("no variable name after export")]
    MissingName,
    /// The value's interpolation failed.
    #[error(transparent)]
    Interpolation(#[from] InterpolationError),
}

/// Reads a `.env` file with no outside variables; see [`parse_env_file_with`].
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, EnvFileError> {
    parse_env_file_with(text, &NoVariables)
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
/// (`=x`) are left out; an unterminated quote is reported on the line it opens on.
pub fn parse_env_file_with(
    text: &str,
    vars: &dyn Variables,
) -> Result<Vec<(String, String)>, EnvFileError> {
    let src = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut file = EnvFile {
        vars,
        entries: Vec::new(),
        index: HashMap::new(),
    };
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
                let text = src[start..]
                    .split('\n')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
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
    index: HashMap<String, usize>,
}

impl Variables for EnvFile<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .or_else(|| self.index.get(name).map(|&i| self.entries[i].1.clone()))
    }
}

impl EnvFile<'_> {
    fn set(&mut self, key: &str, value: String) {
        if key.is_empty() {
            return;
        }
        match self.index.get(key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.to_owned(), self.entries.len());
                self.entries.push((key.to_owned(), value));
            }
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
        for (at, c) in src[start + 1..].char_indices() {
            if c != quote {
                if !escape && c == '\\' {
                    escape = true;
                    continue;
                }
                if std::mem::take(&mut escape) {
                    chars.push('\\');
                }
                chars.push(c);
            } else if std::mem::take(&mut escape) {
                chars.push(c);
            } else {
                let next = start + 1 + at + 1;
                if quote == '\'' {
                    return Ok((chars, next));
                }
                return Ok((self.interpolate(&expand_escapes(&chars))?, next));
            }
        }
        let text = src[start..line_end].to_owned();
        Err(EnvFileProblem::UnterminatedQuote { text })
    }
}

/// compose-go `expandEscapes`: `\a \b \f \n \r \t \v \" \\` and `\0NNN` become the character,
/// `\$` becomes `$$` (a literal `$` for the interpolation that follows); the rest stays as it is.
fn expand_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (replacement, used) = match after.bytes().next() {
            Some(b'$') => ("$$".to_owned(), 1),
            Some(c @ (b'a' | b'b' | b'f' | b'n' | b'r' | b't' | b'v' | b'"' | b'\\')) => {
                let c = match c {
                    b'a' => '\x07',
                    b'b' => '\x08',
                    b'f' => '\x0c',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'v' => '\x0b',
                    c => char::from(c),
                };
                (c.to_string(), 1)
            }
            Some(b'0') => {
                let digits = after[1..]
                    .bytes()
                    .take(3)
                    .take_while(u8::is_ascii_digit)
                    .count();
                let octal = &after[1..1 + digits];
                match u32::from_str_radix(octal, 8) {
                    Ok(v) if digits == 3 && v <= 255 => {
                        (char::from(v as u8).to_string(), 1 + digits)
                    }
                    _ => (format!("\\0{octal}"), 1 + digits),
                }
            }
            _ => ("\\".to_owned(), 0),
        };
        out.push_str(&replacement);
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}
