use super::*;

const FULL: &str = "# ---\n# title: YouTube embed\n# kind: transform       # macro | utility | transform\n# entrypoint: run_it\n# enabled: false\n# version: 3\n# pure: false\n# ---\nimport html\n";

#[test]
fn parses_every_field_and_keeps_unknown_keys() {
    let m = parse(FULL).unwrap();
    assert_eq!(
        m,
        Meta {
            title: Some("YouTube embed".into()),
            kind: ScriptKind::Transform,
            entrypoint: "run_it".into(),
            enabled: false,
            version: 3,
            extra: vec![("pure".into(), "false".into())],
            params: None,
        }
    );
}

#[test]
fn no_header_means_defaults() {
    assert_eq!(parse("import html\n").unwrap(), Meta::default());
    assert_eq!(parse("").unwrap(), Meta::default());
    // A header must come first: a fence later in the file is just a comment.
    assert_eq!(
        parse("x = 1\n# ---\n# kind: nope\n# ---\n").unwrap(),
        Meta::default()
    );
}

#[test]
fn quoted_values_keep_hashes_and_quotes() {
    let m = parse("# ---\n# title: \"C# tips \\\"quoted\\\"\"   # a comment\n# ---\n").unwrap();
    assert_eq!(m.title.as_deref(), Some("C# tips \"quoted\""));
}

#[test]
fn broken_headers_name_their_line() {
    let cases = [
        (
            "# ---\n# title: x\n",
            1,
            "the metadata header opened here is never closed with `# ---`",
        ),
        (
            "\n# ---\n# kind: widget\n# ---\n",
            3,
            "kind must be macro, utility or transform, not `widget`",
        ),
        (
            "# ---\n# enabled: maybe\n# ---\n",
            2,
            "enabled must be true or false, not `maybe`",
        ),
        (
            "# ---\n# version: 1.5\n# ---\n",
            2,
            "version must be a whole number, not `1.5`",
        ),
        (
            "# ---\n# entrypoint: 9lives\n# ---\n",
            2,
            "entrypoint must be a Python function name, not `9lives`",
        ),
        (
            "# ---\ntitle: x\n# ---\n",
            2,
            "a header line must start with `#`",
        ),
    ];
    for (src, line, message) in cases {
        assert_eq!(
            parse(src).unwrap_err(),
            HeaderError {
                line,
                message: message.into()
            },
            "{src:?}"
        );
    }
}

#[test]
fn set_replaces_in_place_keeping_comments() {
    let out = set(FULL, "kind", "macro").unwrap();
    assert_eq!(
        out,
        FULL.replace(
            "# kind: transform       # macro",
            "# kind: macro       # macro"
        )
    );
    let out = set(FULL, "enabled", "true").unwrap();
    assert!(parse(&out).unwrap().enabled);
    assert_eq!(out.lines().count(), FULL.lines().count());
}

#[test]
fn set_adds_a_missing_key_or_a_whole_header() {
    let out = set("# ---\n# title: T\n# ---\nx = 1\n", "enabled", "false").unwrap();
    assert_eq!(out, "# ---\n# title: T\n# enabled: false\n# ---\nx = 1\n");
    let out = set("x = 1\r\n", "enabled", "false").unwrap();
    assert_eq!(out, "# ---\r\n# enabled: false\r\n# ---\r\nx = 1\r\n");
    let out = set("", "title", "C# tips").unwrap();
    assert_eq!(parse(&out).unwrap().title.as_deref(), Some("C# tips"));
}

const WITH_PARAMS: &str = "# ---\n# title: YouTube embed\n# kind: macro\n# params:\n#   id: str, required, position 0 -- the video id\n#\n#   title: str, default \"YouTube video\" -- the iframe's title\n#   enabled: bool, default true\n# enabled: true   # on\n# extra: kept\n# ---\nimport html\n";

#[test]
fn a_params_block_is_read_and_ends_at_the_next_key() {
    let m = parse(WITH_PARAMS).unwrap();
    assert_eq!(m.title.as_deref(), Some("YouTube embed"));
    assert!(m.enabled);
    assert_eq!(m.extra, vec![("extra".to_owned(), "kept".to_owned())]);
    let params = m.params.unwrap();
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["id", "title", "enabled"]);
    assert!(params[0].required);
    assert_eq!(params[0].position, Some(0));
    assert_eq!(params[1].default, Some(serde_json::json!("YouTube video")));
    assert_eq!(params[1].doc, "the iframe's title");
    // A block may end at the fence; the indentation is counted after the `#`.
    let m = parse("# ---\n#  params:\n#    a: any\n#   b: int\n# ---\n").unwrap();
    let names: Vec<String> = m.params.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(parse(FULL).unwrap().params, None);
}

#[test]
fn set_never_takes_a_declaration_for_a_key() {
    let out = set(WITH_PARAMS, "title", "Embed").unwrap();
    assert_eq!(
        out,
        WITH_PARAMS.replace("# title: YouTube embed", "# title: Embed")
    );
    let out = set(WITH_PARAMS, "enabled", "false").unwrap();
    assert_eq!(
        out,
        WITH_PARAMS.replace("# enabled: true   # on", "# enabled: false   # on")
    );
    let m = parse(&out).unwrap();
    assert!(!m.enabled);
    assert_eq!(m.params, parse(WITH_PARAMS).unwrap().params);
    let crlf = WITH_PARAMS.replace('\n', "\r\n");
    assert_eq!(parse(&crlf).unwrap().params, m.params);
    // A missing key goes after the block, which it then ends.
    let src = "# ---\n# params:\n#   version: int\n# ---\n";
    let out = set(src, "version", "2").unwrap();
    assert_eq!(
        out,
        "# ---\n# params:\n#   version: int\n# version: 2\n# ---\n"
    );
    let m = parse(&out).unwrap();
    assert_eq!(m.version, 2);
    assert_eq!(m.params.unwrap().len(), 1);
    assert_eq!(
        set(src, "params", "x").unwrap_err(),
        HeaderError {
            line: 1,
            message: "params is a block of declarations: edit it in the file".into()
        }
    );
}

#[test]
fn bad_params_blocks_name_their_line() {
    let empty = "params declares no parameter: declare one per line below it, indented deeper (`#   id: str, required`)";
    let h = |body: &str| format!("# ---\n{body}# ---\n");
    let cases = [
        (
            h("# params: id\n"),
            2,
            "params takes no value (`id`): declare one parameter per line below it, indented deeper",
        ),
        (h("# title: T\n# params:\n# version: 2\n"), 3, empty),
        (h("# params:\n#\n"), 2, empty),
        (
            h("# params:\n#   a: str\n#   start: integer\n"),
            4,
            "parameter start: unknown type `integer` (expected str, int, float, bool, any or a [choice, list])",
        ),
        (
            h("# params:\n#   a: str\n#   b: int\n#   a: int\n"),
            5,
            "parameter a: declared twice (first on line 3)",
        ),
        (
            h("# params:\n#   a: str, position 0\n#   b: int, position 0\n"),
            4,
            "parameter b: position 0 is already a's (line 3)",
        ),
        (
            h("# params:\n#   a: str\n# params:\n#   b: str\n"),
            4,
            "params is given twice (first on line 2)",
        ),
        (
            h("# params:\n#   a note about them\n"),
            3,
            "a parameter is declared as `NAME: TYPE[, FLAG]... [-- DOC]`, not `a note about them`",
        ),
        (
            h("# params:\n#   id: str, required, default x\n"),
            3,
            "parameter id: a required parameter cannot have a default",
        ),
    ];
    for (src, line, message) in cases {
        let want = HeaderError {
            line,
            message: message.into(),
        };
        assert_eq!(parse(&src).unwrap_err(), want, "{src:?}");
    }
}
