//! A command written as one string, split into words as compose splits it
//! (shell quoting, no shell): `sh -c 'echo "a b"'` is three words.

/// The words of `text`: split at unquoted whitespace; `'…'` is literal;
/// `"…"` keeps `\"`, `\\`, `\$` and `` \` `` escapes; `\` outside quotes
/// escapes the next character. An unquoted `;`, `&`, `|`, `<` or `>` is
/// refused: compose would silently cut the command there, and no shell
/// runs it; write the list form, or `["sh", "-c", "…"]`.
pub fn split_command(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(format!("{text:?} has an unclosed single quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(format!("{text:?} has an unclosed double quote")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(format!("{text:?} has an unclosed double quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            ';' | '&' | '|' | '<' | '>' => {
                return Err(format!(
                    "{text:?} has an unquoted {c:?}: no shell runs the command, so write it as a list, or as [\"sh\", \"-c\", \"…\"]"
                ));
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_unquoted_spaces_and_quotes_group_them() {
        assert_eq!(
            split_command(r#"sh -c 'echo "a b"'"#).unwrap(),
            ["sh", "-c", r#"echo "a b""#]
        );
        assert_eq!(
            split_command(r#"echo "x \"y\"" z\ w"#).unwrap(),
            ["echo", r#"x "y""#, "z w"]
        );
        assert_eq!(split_command("  httpd   -f ").unwrap(), ["httpd", "-f"]);
        assert_eq!(split_command("echo ''").unwrap(), ["echo", ""]);
    }

    #[test]
    fn shell_operators_and_open_quotes_are_refused() {
        assert!(split_command("echo a; echo b").unwrap_err().contains("';'"));
        assert!(split_command("a | b").is_err());
        assert!(split_command("echo 'open").is_err());
        assert_eq!(split_command("echo 'a;b'").unwrap(), ["echo", "a;b"]);
    }
}
