//! Compose files as a tree of positioned nodes: saphyr's marked YAML with
//! scalars kept as written (so that interpolation comes before typing), and
//! `<<` merge keys applied as YAML 1.1 (and compose) do.

use saphyr::{MarkedYamlOwned, ScalarStyle, YamlDataOwned, YamlLoader};
use saphyr_parser::Parser;

/// Line and column, both from 1.
pub type At = (usize, usize);

/// One node of a compose file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where it starts.
    pub at: At,
    /// What it is.
    pub kind: Kind,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A scalar as written; `quoted` when in quotes or a block (never null,
    /// a boolean or a number, whatever its text).
    Scalar {
        /// Its text.
        text: String,
        /// Written in quotes (or as a block).
        quoted: bool,
    },
    /// `~`, `null`, or nothing.
    Null,
    /// A sequence.
    List(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<(Key, Node)>),
}

/// A mapping key.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// Its text.
    pub text: String,
    /// Where it is.
    pub at: At,
}

/// A YAML syntax error, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where.
    pub at: At,
    /// What.
    pub message: String,
}

impl Node {
    /// The node's scalar text, if it is a scalar.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// What kind of node this is, for messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { .. } => "a scalar",
            Kind::Null => "null",
            Kind::List(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// A mapping's value for `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Parses `text` (one document; an empty file is an empty mapping).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut loader: YamlLoader<'_, MarkedYamlOwned> = YamlLoader::default();
    loader.early_parse(false);
    let mut parser = Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut loader, false) {
        return Err(SyntaxError {
            at: (error.marker().line(), error.marker().col() + 1),
            message: error.info().to_string(),
        });
    }
    if let Some(error) = loader.error() {
        return Err(SyntaxError {
            at: (error.marker().line(), error.marker().col() + 1),
            message: error.info().to_string(),
        });
    }
    let documents = loader.into_documents();
    match documents.into_iter().next() {
        None => Ok(Node {
            at: (1, 1),
            kind: Kind::Map(Vec::new()),
        }),
        Some(document) => convert(&document),
    }
}

fn at(node: &MarkedYamlOwned) -> At {
    (node.span.start.line(), node.span.start.col() + 1)
}

fn convert(node: &MarkedYamlOwned) -> Result<Node, SyntaxError> {
    let position = at(node);
    let kind = match &node.data {
        YamlDataOwned::Representation(text, style, tag) => {
            if let Some(tag) = tag
                && !tag.handle.is_empty()
                && tag.handle != "!!"
            {
                return Err(SyntaxError {
                    at: position,
                    message: format!(
                        "the tag {}{} is not supported (compose's !reset and !override are not carried out)",
                        tag.handle, tag.suffix
                    ),
                });
            }
            let quoted = *style != ScalarStyle::Plain;
            if !quoted && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
                Kind::Null
            } else {
                Kind::Scalar {
                    text: text.clone(),
                    quoted,
                }
            }
        }
        YamlDataOwned::Value(scalar) => Kind::Scalar {
            text: format!("{scalar:?}"),
            quoted: false,
        },
        YamlDataOwned::Sequence(items) => {
            Kind::List(items.iter().map(convert).collect::<Result<_, _>>()?)
        }
        YamlDataOwned::Mapping(entries) => {
            let mut own: Vec<(Key, Node)> = Vec::new();
            let mut merged: Vec<(Key, Node)> = Vec::new();
            for (key, value) in entries.iter() {
                let key_text = match &key.data {
                    YamlDataOwned::Representation(text, _, _) => text.clone(),
                    _ => {
                        return Err(SyntaxError {
                            at: at(key),
                            message: "a mapping key must be a scalar".into(),
                        });
                    }
                };
                let plain = matches!(
                    key.data,
                    YamlDataOwned::Representation(_, ScalarStyle::Plain, _)
                );
                let value = convert(value)?;
                if plain && key_text == "<<" {
                    // `<<: *a` or `<<: [*a, *b]`: an earlier map beats a later one.
                    let maps = match value.kind {
                        Kind::Map(entries) => vec![entries],
                        Kind::List(items) => items
                            .into_iter()
                            .map(|item| match item.kind {
                                Kind::Map(entries) => Ok(entries),
                                _ => Err(SyntaxError {
                                    at: item.at,
                                    message: "a merge key (<<) takes mappings".into(),
                                }),
                            })
                            .collect::<Result<_, _>>()?,
                        _ => {
                            return Err(SyntaxError {
                                at: value.at,
                                message: "a merge key (<<) takes a mapping or a list of mappings"
                                    .into(),
                            });
                        }
                    };
                    for entries in maps {
                        for (key, value) in entries {
                            if !merged.iter().any(|(k, _)| k.text == key.text) {
                                merged.push((key, value));
                            }
                        }
                    }
                    continue;
                }
                if own.iter().any(|(k, _)| k.text == key_text) {
                    return Err(SyntaxError {
                        at: at(key),
                        message: format!("duplicate key {key_text:?}"),
                    });
                }
                own.push((
                    Key {
                        text: key_text,
                        at: at(key),
                    },
                    value,
                ));
            }
            // Explicit keys beat merged ones.
            for (key, value) in merged {
                if !own.iter().any(|(k, _)| k.text == key.text) {
                    own.push((key, value));
                }
            }
            Kind::Map(own)
        }
        YamlDataOwned::Tagged(tag, inner) => {
            return Err(SyntaxError {
                at: at(inner),
                message: format!(
                    "the tag {}{} is not supported (compose's !reset and !override are not carried out)",
                    tag.handle, tag.suffix
                ),
            });
        }
        YamlDataOwned::Alias(_) | YamlDataOwned::BadValue => {
            return Err(SyntaxError {
                at: position,
                message: "an alias to an unknown anchor".into(),
            });
        }
    };
    Ok(Node { at: position, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_values_and_items_keep_their_lines_and_columns() {
        let node = parse("services:\n  web:\n    image: busybox\n    ports:\n      - \"80:80\"\n")
            .unwrap();
        let web = node.get("services").unwrap().get("web").unwrap();
        assert_eq!(web.get("image").unwrap().at, (3, 12));
        let Kind::List(ports) = &web.get("ports").unwrap().kind else {
            panic!()
        };
        assert_eq!(ports[0].at, (5, 9));
        assert_eq!(ports[0].text(), Some("80:80"));
    }

    #[test]
    fn scalars_stay_as_written_and_quotes_are_remembered() {
        let node = parse("a: yes\nb: \"010\"\nc: ~\nd:\n").unwrap();
        assert_eq!(node.get("a").unwrap().text(), Some("yes"));
        assert!(matches!(
            node.get("b").unwrap().kind,
            Kind::Scalar { quoted: true, .. }
        ));
        assert_eq!(node.get("c").unwrap().kind, Kind::Null);
        assert_eq!(node.get("d").unwrap().kind, Kind::Null);
    }

    #[test]
    fn merge_keys_apply_and_explicit_keys_win() {
        let text = "x-base: &base\n  image: busybox\n  restart: always\nweb:\n  <<: *base\n  restart: \"no\"\n";
        let node = parse(text).unwrap();
        let web = node.get("web").unwrap();
        assert_eq!(web.get("image").unwrap().text(), Some("busybox"));
        assert_eq!(web.get("restart").unwrap().text(), Some("no"));
    }

    #[test]
    fn syntax_errors_and_duplicate_keys_say_where() {
        let error = parse("services:\n  web: [a\n").unwrap_err();
        assert!(error.at.0 >= 2, "{error:?}");
        let error = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(error.at.0, 2, "{error:?}");
    }

    #[test]
    fn an_empty_file_is_an_empty_mapping() {
        assert_eq!(parse("").unwrap().kind, Kind::Map(Vec::new()));
    }
}
