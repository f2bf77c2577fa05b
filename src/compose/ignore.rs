//! `.dockerignore` as the docker CLI reads it (moby's `patternmatcher`):
//! lines cleaned like paths, `*`, `?`, `**`, `[…]`, `\` escapes, `!`
//! exceptions, the last matching pattern deciding; pure.

/// A `.dockerignore`'s patterns, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// A `!` line: what it matches is sent after all.
    exception: bool,
    /// The cleaned pattern, without its `!`.
    text: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `*`: any run of characters but `/`.
    Run,
    /// `?`: one character but `/`.
    One,
    /// `[…]`: one character of the class (or not of it, `[^…]`).
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `**/` or `**` inside a pattern: any leading segments, or none.
    Segments,
    /// `**` at the end: anything at all.
    Rest,
}

impl Ignore {
    /// Reads a `.dockerignore`: `#` lines are comments (only at the line's
    /// start), lines are trimmed, `!` marks an exception, each pattern is
    /// cleaned as a path and a leading `/` dropped (the context is the root).
    pub fn parse(text: &str) -> Ignore {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (exception, line) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let mut text = if line.is_empty() {
                String::new()
            } else {
                clean(line)
            };
            if text.len() > 1 && text.starts_with('/') {
                text.remove(0);
            }
            patterns.push(Pattern {
                exception,
                tokens: compile(&text),
                text,
            });
        }
        Ignore { patterns }
    }

    /// Makes `path` always sent, as the docker CLI does for the Dockerfile
    /// and `.dockerignore` itself: an exception appended when it is excluded.
    pub fn keep(&mut self, path: &str) {
        if self.excludes(path) {
            self.patterns.push(Pattern {
                exception: true,
                tokens: compile(path),
                text: path.to_string(),
            });
        }
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out:
    /// the last pattern that matches it or one of its parent directories
    /// decides.
    pub fn excludes(&self, path: &str) -> bool {
        let parents: Vec<&str> = match path.rfind('/') {
            Some(end) => path[..end].split('/').collect(),
            None => Vec::new(),
        };
        let mut excluded = false;
        for pattern in &self.patterns {
            // An exclusion cannot change an excluded path, nor an exception
            // a path that is sent anyway.
            if pattern.exception != excluded {
                continue;
            }
            let mut hit = pattern.matches(path);
            let mut end = 0;
            for parent in &parents {
                if hit {
                    break;
                }
                end += parent.len() + usize::from(end > 0);
                hit = pattern.matches(&path[..end]);
            }
            if hit {
                excluded = !pattern.exception;
            }
        }
        excluded
    }

    /// Whether an excluded directory must still be walked, because an
    /// exception names a path under it (docker's prefix rule: `!dir/keep`
    /// opens `dir`, `!**/keep` opens nothing).
    pub fn reopens(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.patterns
            .iter()
            .any(|p| p.exception && format!("{}/", p.text).starts_with(&prefix))
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        let chars: Vec<char> = path.chars().collect();
        matches_at(&self.tokens, &chars)
    }
}

/// Go's `filepath.Clean` on a `/`-separated path.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn compile(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i == chars.len() {
                    Token::Rest
                } else {
                    Token::Segments
                });
            }
            '*' => tokens.push(Token::Run),
            '?' => tokens.push(Token::One),
            '\\' => match chars.get(i) {
                Some(escaped) => {
                    tokens.push(Token::Char(*escaped));
                    i += 1;
                }
                None => tokens.push(Token::Char('\\')),
            },
            '[' => match class(&chars[i..]) {
                Some((token, used)) => {
                    tokens.push(token);
                    i += used;
                }
                // No closing `]`: the `[` is itself.
                None => tokens.push(Token::Char('[')),
            },
            other => tokens.push(Token::Char(other)),
        }
    }
    tokens
}

/// A class after its `[`: the token and the characters it used, `]` included.
fn class(chars: &[char]) -> Option<(Token, usize)> {
    let mut i = 0;
    let negated = chars.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let mut c = *chars.get(i)?;
        i += 1;
        if c == ']' && !first {
            return Some((Token::Class { negated, ranges }, i));
        }
        first = false;
        if c == '\\' {
            c = *chars.get(i)?;
            i += 1;
        }
        let high = if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|h| *h != ']') {
            let high = chars[i + 1];
            i += 2;
            high
        } else {
            c
        };
        ranges.push((c, high));
    }
}

/// Whether `tokens` match the whole of `path`.
fn matches_at(tokens: &[Token], path: &[char]) -> bool {
    let Some((token, rest)) = tokens.split_first() else {
        return path.is_empty();
    };
    match token {
        Token::Char(c) => path.first() == Some(c) && matches_at(rest, &path[1..]),
        Token::One => path.first().is_some_and(|c| *c != '/') && matches_at(rest, &path[1..]),
        Token::Class { negated, ranges } => {
            path.first().is_some_and(|c| {
                ranges.iter().any(|(low, high)| (low..=high).contains(&c)) != *negated
            }) && matches_at(rest, &path[1..])
        }
        Token::Run => {
            let run = path.iter().take_while(|c| **c != '/').count();
            (0..=run).any(|n| matches_at(rest, &path[n..]))
        }
        Token::Segments => {
            matches_at(rest, path)
                || (1..=path.len()).any(|n| path[n - 1] == '/' && matches_at(rest, &path[n..]))
        }
        Token::Rest => (0..=path.len()).any(|n| matches_at(rest, &path[n..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (the .dockerignore, a path, whether it is left out)
    const CASES: &[(&str, &str, bool)] = &[
        ("secret.txt", "secret.txt", true),
        ("secret.txt", "public.txt", false),
        ("*.log", "a.log", true),
        ("*.log", "logs/a.log", false),
        ("**/*.log", "logs/deep/a.log", true),
        ("**/*.log", "a.log", true),
        ("logs", "logs/deep/a.log", true),
        ("logs/**", "logs/a.log", true),
        ("logs/**", "logs", false),
        ("**", "anything/at/all", true),
        ("*.log\n!keep.log", "keep.log", false),
        ("*.log\n!keep.log", "drop.log", true),
        ("!keep.log\n*.log", "keep.log", true),
        ("/secret", "secret", true),
        ("./build/../secret", "secret", true),
        ("  spaced.txt  ", "spaced.txt", true),
        ("# a comment\n#ignored", "# a comment", false),
        (" # not a comment", "# not a comment", true),
        ("a?c", "abc", true),
        ("a?c", "a/c", false),
        ("[ab].txt", "a.txt", true),
        ("[ab].txt", "c.txt", false),
        ("[^ab].txt", "c.txt", true),
        ("[a-c]x", "bx", true),
        ("\\*", "*", true),
        ("\\*", "x", false),
        ("a.b", "axb", false),
        ("dir/*/file", "dir/one/file", true),
        ("dir/*/file", "dir/one/two/file", false),
        ("dir/**/file", "dir/file", true),
        ("dir/**/file", "dir/one/two/file", true),
        ("[unclosed", "[unclosed", true),
        ("docs\n!docs/keep.md", "docs/keep.md", false),
        ("docs\n!docs/keep.md", "docs/other.md", true),
    ];

    #[test]
    fn each_pattern_excludes_what_docker_excludes() {
        for (file, path, excluded) in CASES {
            assert_eq!(
                Ignore::parse(file).excludes(path),
                *excluded,
                "{file:?} on {path:?}"
            );
        }
    }

    #[test]
    fn an_exception_under_an_excluded_directory_reopens_it_but_a_deep_one_does_not() {
        let ignore = Ignore::parse("docs\n!docs/keep.md");
        assert!(ignore.excludes("docs"));
        assert!(ignore.reopens("docs"));
        assert!(!ignore.reopens("other"));
        let deep = Ignore::parse("docs\n!**/keep.md");
        assert!(!deep.reopens("docs"));
    }

    #[test]
    fn a_kept_file_is_sent_even_when_a_pattern_excludes_it() {
        let mut ignore = Ignore::parse("*\n");
        assert!(ignore.excludes("Dockerfile"));
        ignore.keep("Dockerfile");
        assert!(!ignore.excludes("Dockerfile"));
        assert!(ignore.excludes("other"));
    }

    #[test]
    fn paths_are_cleaned_as_go_cleans_them() {
        assert_eq!(clean("a//b/./c/"), "a/b/c");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("a/.."), ".");
    }
}
