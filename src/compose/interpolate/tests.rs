//! Table tests; the expected values were checked against compose-go's own template and dotenv
//! code (e70e961c).

use super::*;

/// `SET=value`, `EMPTY=` and `B=b`; everything else is unset.
fn vars() -> HashMap<String, String> {
    [("SET", "value"), ("EMPTY", ""), ("B", "b")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Each text interpolates to the expected text.
fn expect_texts(cases: &[(&str, &str)]) {
    for (text, expected) in cases {
        let done = interpolate(text, &vars()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(done.text, *expected, "{text:?}");
    }
}

/// Each text interpolates to the expected text, with the expected unset names.
fn expect_unset(cases: &[(&str, &str, &[&str])]) {
    for (text, expected, unset) in cases {
        let done = interpolate(text, &vars()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(done.text, *expected, "{text:?}");
        assert_eq!(done.unset, *unset, "unset of {text:?}");
    }
}

fn expect_error(text: &str) -> InterpolationError {
    match interpolate(text, &vars()) {
        Ok(done) => panic!("{text:?} gave {:?}", done.text),
        Err(e) => e,
    }
}

fn invalid(text: &str) -> InterpolationError {
    InterpolationError::InvalidFormat {
        text: text.to_owned(),
    }
}

fn required(name: &str, message: &str) -> InterpolationError {
    InterpolationError::Required {
        name: name.to_owned(),
        message: message.to_owned(),
    }
}

#[test]
fn a_double_dollar_is_a_literal_dollar() {
    expect_texts(&[
        ("$$", "$"),
        ("$${SET}", "${SET}"),
        ("$$SET", "$SET"),
        ("$$$SET", "$value"),
        ("$$$$", "$$"),
        ("a$$b", "a$b"),
    ]);
}

#[test]
fn a_dollar_before_anything_but_a_dollar_a_brace_or_a_name_stays_literal() {
    expect_texts(&[
        ("$1", "$1"),
        ("$ x", "$ x"),
        ("price: 5$", "price: 5$"),
        ("$-", "$-"),
        ("$}", "$}"),
        ("$é", "$é"),
        ("$$$", "$$"),
    ]);
}

#[test]
fn named_and_braced_variables_are_replaced_by_their_values() {
    expect_texts(&[
        ("$SET", "value"),
        ("${SET}", "value"),
        ("x${SET}y", "xvaluey"),
        ("$SET-$B", "value-b"),
        ("${EMPTY}|$EMPTY", "|"),
        ("$B$B", "bb"),
        ("${SET}}", "value}"),
        ("{${SET}}", "{value}"),
    ]);
}

#[test]
fn an_unset_variable_becomes_empty_and_is_reported_once_in_order() {
    expect_unset(&[
        ("$NOPE", "", &["NOPE"]),
        ("a${NOPE}b", "ab", &["NOPE"]),
        ("$Z $A $Z", "  ", &["Z", "A"]),
        ("$SET_x", "", &["SET_x"]),
        ("$set", "", &["set"]),
        ("$_", "", &["_"]),
        ("$EMPTY", "", &[]),
    ]);
}

#[test]
fn a_default_is_used_when_the_variable_is_unset_or_empty() {
    expect_texts(&[
        ("${NOPE:-d}", "d"),
        ("${EMPTY:-d}", "d"),
        ("${SET:-d}", "value"),
        ("${NOPE:-}", ""),
        ("${NOPE:-/non:-alphanumeric}", "/non:-alphanumeric"),
        ("${NOPE:-a b c}", "a b c"),
    ]);
}

#[test]
fn a_default_without_colon_is_used_only_when_the_variable_is_unset() {
    expect_texts(&[
        ("${NOPE-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${SET-d}", "value"),
        ("${NOPE-}", ""),
        ("${NOPE-x-y}", "x-y"),
    ]);
}

#[test]
fn an_alternate_is_used_when_the_variable_is_set_and_not_empty() {
    expect_texts(&[("${SET:+a}", "a"), ("${EMPTY:+a}", ""), ("${NOPE:+a}", "")]);
}

#[test]
fn an_alternate_without_colon_is_used_whenever_the_variable_is_set() {
    expect_texts(&[("${SET+a}", "a"), ("${EMPTY+a}", "a"), ("${NOPE+a}", "")]);
}

#[test]
fn a_required_variable_that_is_unset_or_empty_is_an_error() {
    assert_eq!(expect_error("${NOPE:?set it}"), required("NOPE", "set it"));
    assert_eq!(
        expect_error("x ${EMPTY:?empty}"),
        required("EMPTY", "empty")
    );
    expect_texts(&[("${SET:?m}", "value")]);
}

#[test]
fn a_required_variable_without_colon_is_an_error_only_when_unset() {
    assert_eq!(expect_error("${NOPE?m}"), required("NOPE", "m"));
    expect_texts(&[("${EMPTY?m}", ""), ("${SET?m}", "value")]);
}

#[test]
fn a_required_message_is_interpolated_and_may_be_empty() {
    assert_eq!(
        expect_error("${NOPE:?need $SET}"),
        required("NOPE", "need value")
    );
    assert_eq!(expect_error("${NOPE?${B:-x}!}"), required("NOPE", "b!"));
    assert_eq!(expect_error("${NOPE:?}"), required("NOPE", ""));
    assert_eq!(expect_error("${NOPE?$$}"), required("NOPE", "$"));
}

#[test]
fn defaults_and_alternates_are_interpolated_and_nest() {
    expect_texts(&[
        ("${NOPE:-${ALSO:-x}}", "x"),
        ("${NOPE:-${B:-x}}", "b"),
        ("${NOPE-$SET}", "value"),
        ("${NOPE-${SET} ${SET}}", "value value"),
        ("${EMPTY:-${SET}}", "value"),
        ("${SET+$B ${B:+second}}", "b second"),
        ("${SET:+${NOPE:-${B}}}", "b"),
        ("${NOPE:-$$}", "$"),
        ("-ok ${EMPTY:-d} ${SET-d}", "-ok d value"),
        ("${NOPE:-a}b}c}", "ab}c}"),
        ("${NOPE-}}", "}"),
        ("${NOPE:-{x}}", "{x}"),
    ]);
}

#[test]
fn only_names_actually_looked_up_as_plain_references_are_reported_unset() {
    expect_unset(&[
        ("${NOPE:-d}", "d", &[]),
        ("${NOPE-d} ${NOPE:+a} ${NOPE+a}", "d  ", &[]),
        ("${NOPE:-${ALSO}}", "", &["ALSO"]),
        ("${SET:-${ALSO}}", "value", &[]),
        ("${NOPE:+${ALSO}},${EMPTY:+$ALSO}", ",", &[]),
        ("${SET:+${ALSO}}", "", &["ALSO"]),
        ("${SET?${ALSO}}", "value", &[]),
        ("${NOPE:-$A} $B $C", " b ", &["A", "C"]),
    ]);
}

#[test]
fn a_braced_expression_reaches_to_the_last_brace_of_its_line_as_in_compose_go() {
    // The default is `{}} ${B`, which holds an unclosed `${`.
    assert_eq!(expect_error("${NOPE:-{}} ${B}"), invalid("{}} ${B"));
    // `.` in compose-go's pattern stops at a newline: no closing brace on the line.
    assert_eq!(expect_error("${NOPE:-x\n}"), invalid("${NOPE:-x\n}"));
    expect_texts(&[
        ("${NOPE:-x}\n}", "x\n}"),
        ("${NOPE:-x} and ${SET}", "x and value"),
    ]);
}

#[test]
fn invalid_formats_are_errors_naming_the_text_they_are_in() {
    for text in [
        "${",
        "${}",
        "${ }",
        "${1}",
        "${ foo}",
        "${foo }",
        "${foo!}",
        "${A",
        "${A:x}",
        "${A:-x",
        "ok ${",
        "$SET ${-}",
    ] {
        assert_eq!(expect_error(text), invalid(text), "{text:?}");
    }
    // compose-go reports the default, message or trailing part the bad `${` is in.
    assert_eq!(expect_error("${NOPE:-${1}}"), invalid("${1}"));
    assert_eq!(expect_error("${NOPE?a ${}"), invalid("a ${"));
    assert_eq!(expect_error("${SET-x} ${1}"), invalid(" ${1}"));
    assert_eq!(expect_error("${SET} ${1}"), invalid("${SET} ${1}"));
}

#[test]
fn the_first_error_wins() {
    assert_eq!(
        expect_error("${A:?first} ${B:?second}"),
        required("A", "first")
    );
    assert_eq!(
        expect_error("${1} ${A:?second}"),
        invalid("${1} ${A:?second}")
    );
    assert_eq!(expect_error("${NOPE:?${1}}"), invalid("${1}"));
}

#[test]
fn errors_read_like_compose() {
    assert_eq!(
        required("A", "set it").to_string(),
        "required variable A is missing a value: set it"
    );
    assert_eq!(
        required("A", "").to_string(),
        "required variable A is missing a value"
    );
    assert_eq!(
        invalid("${1}").to_string(),
        "invalid interpolation format: \"${1}\"; escape a literal $ as $$"
    );
}

#[test]
fn a_btree_map_serves_as_variables_too() {
    let vars = BTreeMap::from([("A".to_owned(), "1".to_owned())]);
    let done = interpolate("$A${B:-2}$C", &vars).unwrap();
    assert_eq!(
        done,
        Interpolated {
            text: "12".to_owned(),
            unset: vec!["C".to_owned()]
        }
    );
}

/// Entries as `(&str, &str)` pairs, for comparisons.
fn env(text: &str, vars: &dyn Variables) -> Vec<(String, String)> {
    parse_env_file_with(text, vars).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn pairs(entries: &[(&str, &str)]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn env_file_values_are_read_as_compose_reads_them() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("A=1\nB=two words\n", &[("A", "1"), ("B", "two words")]),
        ("export A=1\nexport\tB=2", &[("A", "1"), ("B", "2")]),
        (
            "# comment\n\n   \n  # indented\nA=1 # note\nB=x#y\n",
            &[("A", "1"), ("B", "x#y")],
        ),
        (
            "A=  padded  \t\nB=\nC:  yaml style",
            &[("A", "padded"), ("B", ""), ("C", "yaml style")],
        ),
        ("A = 1\r\nB=2\r\n", &[("A", "1"), ("B", "2")]),
        (
            "a.b-c[0]=1\nárvíz=tűrő",
            &[("a.b-c[0]", "1"), ("árvíz", "tűrő")],
        ),
        (
            "A='$SET \\n ${'\nB='it\\'s'",
            &[("A", "$SET \\n ${"), ("B", "it's")],
        ),
        ("A='x # y' # z", &[("A", "x # y")]),
        (
            "A=\"a\\tb\\nc\\\\d\\\"e\\$f\"\nB=\"\\0101\\0\\c\"",
            &[("A", "a\tb\nc\\d\"e$f"), ("B", "A\\\\c")],
        ),
        (
            "A=\"line1\nline2\"\nB=1",
            &[("A", "line1\nline2"), ("B", "1")],
        ),
        ("A=\"x\" B=1", &[("A", "x"), ("B", "1")]),
        ("A=1\nB=2\nA=3", &[("A", "3"), ("B", "2")]),
        ("\u{feff}A=1", &[("A", "1")]),
        ("=orphan\nA=1", &[("A", "1")]),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_env_file(text).unwrap(), pairs(expected), "{text:?}");
    }
}

#[test]
fn env_file_values_are_interpolated_from_the_variables_then_earlier_entries() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("A=$SET\nB=\"${EMPTY:-d}\"", &[("A", "value"), ("B", "d")]),
        ("X=1\nY=$X-${Z:-z}", &[("X", "1"), ("Y", "1-z")]),
        ("SET=file\nY=$SET", &[("SET", "file"), ("Y", "value")]),
        (
            "A='$SET'\nB=$$SET\nC=\"\\$SET\"",
            &[("A", "$SET"), ("B", "$SET"), ("C", "$SET")],
        ),
        ("A=$NOPE.", &[("A", ".")]),
    ];
    for (text, expected) in cases {
        assert_eq!(env(text, &vars()), pairs(expected), "{text:?}");
    }
}

#[test]
fn a_key_alone_is_inherited_from_the_variables_or_left_out() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("SET\nNOPE\nA=1\n", &[("SET", "value"), ("A", "1")]),
        ("A=1\nSET", &[("A", "1"), ("SET", "value")]),
        ("export EMPTY\n", &[("EMPTY", "")]),
        ("A=1\nA\n", &[("A", "1")]),
    ];
    for (text, expected) in cases {
        assert_eq!(env(text, &vars()), pairs(expected), "{text:?}");
    }
    assert_eq!(parse_env_file("SET\nA=1").unwrap(), pairs(&[("A", "1")]));
}

#[test]
fn env_file_errors_give_the_line_of_the_entry_and_what_is_wrong() {
    let cases: &[(&str, usize, EnvFileProblem)] = &[
        ("A=1\n\nB C=2", 3, EnvFileProblem::SpaceInKey),
        ("A=\"x\nyz\" B C=1", 2, EnvFileProblem::SpaceInKey),
        (
            "# c\n%!(EXTRA string)=foo\nB=1",
            2,
            EnvFileProblem::UnexpectedCharacter {
                found: '%',
                text: "%!(EXTRA string)=foo".to_owned(),
            },
        ),
        (
            "A=1\nB=\"open\nC=2\n",
            2,
            EnvFileProblem::UnterminatedQuote {
                text: "\"open".to_owned(),
            },
        ),
        (
            "A='",
            1,
            EnvFileProblem::UnterminatedQuote {
                text: "'".to_owned(),
            },
        ),
        ("A=1\nexport  ", 2, EnvFileProblem::MissingName),
        (
            "A=1\n\nB=${1}",
            3,
            EnvFileProblem::Interpolation(invalid("${1}")),
        ),
        (
            "A=\"${NOPE:?why}\"",
            1,
            EnvFileProblem::Interpolation(required("NOPE", "why")),
        ),
    ];
    for (text, line, problem) in cases {
        let expected = EnvFileError {
            line: *line,
            problem: problem.clone(),
        };
        assert_eq!(parse_env_file(text), Err(expected), "{text:?}");
    }
    let error = parse_env_file("A B=1").unwrap_err();
    assert_eq!(error.to_string(), "line 1: key cannot contain a space");
    let error = parse_env_file("x\n%=1").unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 2: unexpected character \"%\" in variable name \"%=1\""
    );
}
