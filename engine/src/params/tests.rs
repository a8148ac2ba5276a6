use serde_json::{Value, json};

use super::*;
use crate::store::header;

fn decl(line: &str) -> ParamDecl {
    parse_decl(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// The declarations of the module docs' example.
fn youtube() -> Vec<ParamDecl> {
    [
        "id: str, required, position 0 -- the video id, or a youtube.com / youtu.be URL",
        "start: int, optional -- start time in seconds",
        "title: str, default \"YouTube video\" -- the iframe's accessible title",
        "align: [left, center, right], default center -- where the embed sits",
        "ratio: float, default 1.5",
        "autoplay: bool, default false",
    ]
    .iter()
    .map(|l| decl(l))
    .collect()
}

fn check(decls: &[ParamDecl], params: Value, args: Value) -> Result<Checked, ParamErrors> {
    let args = match args {
        Value::Array(a) => a,
        other => panic!("not an array: {other}"),
    };
    check_call(decls, &map(params), &args)
}

fn errors(decls: &[ParamDecl], params: Value, args: Value) -> Vec<String> {
    check(decls, params, args)
        .expect_err("the call should be refused")
        .0
}

#[test]
fn parses_the_example_declarations() {
    let d = youtube();
    let expected = [
        ParamDecl {
            name: "id".into(),
            ty: ParamType::Str,
            required: true,
            default: None,
            position: Some(0),
            doc: "the video id, or a youtube.com / youtu.be URL".into(),
        },
        ParamDecl {
            name: "start".into(),
            ty: ParamType::Int,
            required: false,
            default: None,
            position: None,
            doc: "start time in seconds".into(),
        },
        ParamDecl {
            name: "title".into(),
            ty: ParamType::Str,
            required: false,
            default: Some(json!("YouTube video")),
            position: None,
            doc: "the iframe's accessible title".into(),
        },
        ParamDecl {
            name: "align".into(),
            ty: ParamType::Choice(vec!["left".into(), "center".into(), "right".into()]),
            required: false,
            default: Some(json!("center")),
            position: None,
            doc: "where the embed sits".into(),
        },
        ParamDecl {
            name: "ratio".into(),
            ty: ParamType::Float,
            required: false,
            default: Some(json!(1.5)),
            position: None,
            doc: String::new(),
        },
        ParamDecl {
            name: "autoplay".into(),
            ty: ParamType::Bool,
            required: false,
            default: Some(json!(false)),
            position: None,
            doc: String::new(),
        },
    ];
    assert_eq!(d, expected);
}

#[test]
fn declarations_read_names_types_defaults_and_docs() {
    let d = decl("data-id: any");
    assert_eq!(
        (d.name.as_str(), &d.ty, d.required),
        ("data-id", &ParamType::Any, false)
    );
    assert_eq!(decl("_x: int, default -3").default, Some(json!(-3)));
    // A default is converted like a call's value: an int default of a float parameter is a float.
    assert_eq!(decl("r: float, default 2").default, Some(json!(2.0)));
    assert_eq!(decl("s: str, default 42").default, Some(json!("42")));
    assert_eq!(decl("b: bool, default \"true\"").default, Some(json!(true)));
    assert_eq!(decl("a: any, default 7").default, Some(json!(7)));
    // Commas, ` -- ` and escapes inside quotes belong to the value.
    let d =
        decl(r#"sep: str, default "a, b -- \"c\"\n", position 2 -- the doc -- all of it # too"#);
    assert_eq!(d.default, Some(json!("a, b -- \"c\"\n")));
    assert_eq!(d.position, Some(2));
    assert_eq!(d.doc, "the doc -- all of it # too");
    let d = decl(r#"mode: [a, "two words", 3], default 3, optional --"#);
    assert_eq!(
        d.ty,
        ParamType::Choice(vec!["a".into(), "two words".into(), "3".into()])
    );
    assert_eq!(d.default, Some(json!("3")));
    assert_eq!(d.doc, "");
    assert!(decl("n: int,required").required);
}

#[test]
fn types_and_declarations_display_as_written() {
    assert_eq!(ParamType::Str.to_string(), "str");
    assert_eq!(ParamType::Int.to_string(), "int");
    assert_eq!(ParamType::Float.to_string(), "float");
    assert_eq!(ParamType::Bool.to_string(), "bool");
    assert_eq!(ParamType::Any.to_string(), "any");
    let choice = ParamType::Choice(vec!["left".into(), "center".into(), "right".into()]);
    assert_eq!(choice.to_string(), "[left, center, right]");
    let odd = ParamType::Choice(vec!["two words".into(), "a,b".into(), "q\"".into()]);
    assert_eq!(odd.to_string(), r#"["two words", "a,b", "q\""]"#);
    for d in youtube() {
        assert_eq!(decl(&d.to_string()), d, "{d}");
    }
    assert_eq!(
        youtube()[0].to_string(),
        "id: str, required, position 0 -- the video id, or a youtube.com / youtu.be URL"
    );
    assert_eq!(
        youtube()[2].to_string(),
        "title: str, default \"YouTube video\" -- the iframe's accessible title"
    );
}

#[test]
fn the_json_shape() {
    let d = &youtube()[3];
    assert_eq!(
        serde_json::to_value(d).unwrap(),
        json!({"name": "align", "ty": {"choice": ["left", "center", "right"]}, "required": false,
               "default": "center", "position": null, "doc": "where the embed sits"})
    );
    assert_eq!(
        serde_json::to_value(&youtube()[0]).unwrap()["ty"],
        json!("str")
    );
    for d in youtube() {
        let back: ParamDecl = serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }
}

#[test]
fn bad_declarations_say_what_is_wrong() {
    let cases = [
        (
            "start: integer",
            "parameter start: unknown type `integer` (expected str, int, float, bool, any or a [choice, list])",
        ),
        (
            "start:",
            "parameter start: the type is missing (expected str, int, float, bool, any or a [choice, list])",
        ),
        (
            "id: str, mandatory",
            "parameter id: unknown flag `mandatory` (expected required, optional, default VALUE or position N)",
        ),
        (
            "id: str, required, default x",
            "parameter id: a required parameter cannot have a default",
        ),
        (
            "id: str, required, optional",
            "parameter id: it cannot be both required and optional",
        ),
        (
            "id: str, optional, optional",
            "parameter id: `optional` is given twice",
        ),
        (
            "id: str, default a, default b",
            "parameter id: `default` is given twice",
        ),
        (
            "id: str, position 0, position 1",
            "parameter id: `position` is given twice",
        ),
        (
            "n: int, default abc",
            "parameter n: default must be an int, not \"abc\"",
        ),
        (
            "n: int, default 1.5",
            "parameter n: default must be an int, not 1.5",
        ),
        (
            "f: bool, default 1",
            "parameter f: default must be true or false, not 1",
        ),
        (
            "a: [left, right], default middle",
            "parameter a: default must be one of left, right, not \"middle\"",
        ),
        (
            "n: int, position -1",
            "parameter n: position must be a whole number from 0, not `-1`",
        ),
        (
            "n: int, position first",
            "parameter n: position must be a whole number from 0, not `first`",
        ),
        (
            "n: int, position",
            "parameter n: `position` needs a value: `position N`",
        ),
        (
            "n: int, default",
            "parameter n: `default` needs a value: `default VALUE`",
        ),
        (
            "t: str, default two words",
            "parameter t: `two words` is not one value (quote text with spaces: \"like this\")",
        ),
        (
            "t: str, default \"open",
            "parameter t: a quoted value is never closed",
        ),
        (
            "t: str, default \"a\" b",
            "parameter t: unexpected text after the quoted value in `\"a\" b`",
        ),
        (
            "a: [left, right",
            "parameter a: a choice list is never closed with `]`",
        ),
        (
            "a: []",
            "parameter a: a choice list needs at least one choice",
        ),
        ("a: [x, , y]", "parameter a: an empty choice in `[x, , y]`"),
        ("a: [x, y, x]", "parameter a: choice `x` is listed twice"),
        (
            "a: [two words]",
            "parameter a: choice `two words` must be a bare word or a \"quoted string\"",
        ),
        (
            "a: str,, required",
            "parameter a: an empty flag (two commas in a row?)",
        ),
        (
            "9lives: str",
            "a parameter is declared as `NAME: TYPE[, FLAG]... [-- DOC]`: `9lives` is not a parameter name (letters, digits, `_` and `-`, not starting with a digit or `-`)",
        ),
        (
            "just some words",
            "a parameter is declared as `NAME: TYPE[, FLAG]... [-- DOC]`, not `just some words`",
        ),
    ];
    for (line, message) in cases {
        assert_eq!(parse_decl(line).unwrap_err(), message, "{line:?}");
    }
}

#[test]
fn str_takes_text_and_the_text_of_numbers_and_booleans() {
    let d = [decl("t: str")];
    for (given, got) in [
        (json!("x"), json!("x")),
        (json!(""), json!("")),
        (json!(42), json!("42")),
        (json!(-3), json!("-3")),
        (json!(1.5), json!("1.5")),
        (json!(true), json!("true")),
        (json!(false), json!("false")),
    ] {
        let out = check(&d, json!({"t": given}), json!([])).unwrap();
        assert_eq!(out.params, map(json!({"t": got})), "{given}");
        assert!(out.warnings.is_empty());
    }
    for (given, shown) in [
        (json!([1]), "[1]"),
        (json!({"a": 1}), "{\"a\":1}"),
        (Value::Null, "null"),
    ] {
        assert_eq!(
            errors(&d, json!({"t": given}), json!([])),
            [format!("t must be text, not {shown}")]
        );
    }
}

#[test]
fn int_takes_integers_and_integer_strings() {
    let d = [decl("start: int")];
    for (given, got) in [
        (json!(42), json!(42)),
        (json!(-3), json!(-3)),
        (json!("42"), json!(42)),
        (json!("-3"), json!(-3)),
        (json!(u64::MAX), json!(u64::MAX)),
    ] {
        let out = check(&d, json!({"start": given}), json!([])).unwrap();
        assert_eq!(out.params["start"], got, "{given}");
    }
    for (given, shown) in [
        (json!("abc"), "\"abc\""),
        (json!(1.5), "1.5"),
        (json!(2.0), "2.0"),
        (json!("1.5"), "\"1.5\""),
        (json!(" 4"), "\" 4\""),
        (json!(true), "true"),
        (json!("true"), "\"true\""),
        (json!([1]), "[1]"),
    ] {
        assert_eq!(
            errors(&d, json!({"start": given}), json!([])),
            [format!("start must be an int, not {shown}")]
        );
    }
}

#[test]
fn float_takes_numbers_and_numeric_strings_as_floats() {
    let d = [decl("ratio: float")];
    for (given, got) in [
        (json!(1.5), json!(1.5)),
        (json!(2), json!(2.0)),
        (json!(-7), json!(-7.0)),
        (json!("1.25"), json!(1.25)),
        (json!("3"), json!(3.0)),
        (json!("1e3"), json!(1000.0)),
    ] {
        let out = check(&d, json!({"ratio": given}), json!([])).unwrap();
        assert_eq!(out.params["ratio"], got, "{given}");
        assert!(out.params["ratio"].is_f64(), "{given}");
    }
    for (given, shown) in [
        (json!("wide"), "\"wide\""),
        (json!("1e999"), "\"1e999\""),
        (json!(false), "false"),
        (json!({}), "{}"),
    ] {
        assert_eq!(
            errors(&d, json!({"ratio": given}), json!([])),
            [format!("ratio must be a float, not {shown}")]
        );
    }
}

#[test]
fn bool_takes_booleans_and_their_names() {
    let d = [decl("autoplay: bool")];
    for (given, got) in [
        (json!(true), true),
        (json!(false), false),
        (json!("true"), true),
        (json!("false"), false),
    ] {
        let out = check(&d, json!({"autoplay": given}), json!([])).unwrap();
        assert_eq!(out.params["autoplay"], json!(got), "{given}");
    }
    for (given, shown) in [
        (json!(1), "1"),
        (json!("yes"), "\"yes\""),
        (json!("True"), "\"True\""),
        (json!(["true"]), "[\"true\"]"),
    ] {
        assert_eq!(
            errors(&d, json!({"autoplay": given}), json!([])),
            [format!("autoplay must be true or false, not {shown}")]
        );
    }
}

#[test]
fn any_takes_anything_unchanged() {
    let d = [decl("x: any")];
    for given in [
        json!("s"),
        json!(1),
        json!(1.5),
        json!(true),
        json!([1, "a"]),
        json!({"k": null}),
        Value::Null,
    ] {
        let out = check(&d, json!({"x": given.clone()}), json!([])).unwrap();
        assert_eq!(out.params["x"], given);
    }
}

#[test]
fn a_choice_takes_one_of_its_strings() {
    let d = [
        decl("align: [left, center, right]"),
        decl("size: [1, 2, \"extra large\"]"),
    ];
    let out = check(&d, json!({"align": "right", "size": 2}), json!([])).unwrap();
    assert_eq!(out.params, map(json!({"align": "right", "size": "2"})));
    let out = check(&d, json!({"size": "extra large"}), json!([])).unwrap();
    assert_eq!(out.params, map(json!({"size": "extra large"})));
    assert_eq!(
        errors(&d, json!({"align": "middle"}), json!([])),
        ["align must be one of left, center, right, not \"middle\""]
    );
    // Exact matches only.
    assert_eq!(
        errors(&d, json!({"align": "Left", "size": 3}), json!([])),
        [
            "align must be one of left, center, right, not \"Left\"",
            "size must be one of 1, 2, extra large, not 3"
        ]
    );
    assert_eq!(
        errors(&d, json!({"align": ["left"]}), json!([])),
        ["align must be one of left, center, right, not [\"left\"]"]
    );
}

#[test]
fn defaults_required_and_optional() {
    let d = youtube();
    let out = check(&d, json!({"id": "dQw4w9WgXcQ"}), json!([])).unwrap();
    assert_eq!(
        out.params,
        map(
            json!({"id": "dQw4w9WgXcQ", "title": "YouTube video", "align": "center",
                   "ratio": 1.5, "autoplay": false})
        )
    );
    assert!(out.warnings.is_empty());
    // Given values win over defaults, converted; an optional one without default stays absent.
    let out = check(
        &d,
        json!({"autoplay": "true", "id": "x", "ratio": 2, "title": "T"}),
        json!([]),
    )
    .unwrap();
    assert_eq!(
        out.params,
        map(json!({"autoplay": true, "id": "x", "ratio": 2.0, "title": "T", "align": "center"}))
    );
    assert!(!out.params.contains_key("start"));
    assert_eq!(errors(&d, json!({}), json!([])), ["id is required"]);
    assert_eq!(
        errors(&d, json!({"start": 5}), json!([])),
        ["id is required"]
    );
}

#[test]
fn positional_arguments_bind_to_declared_positions() {
    let d = [
        decl("src: str, required, position 0"),
        decl("alt: str, position 1, default \"\""),
        decl("w: int"),
    ];
    let out = check(&d, json!({"w": "640"}), json!(["/a.png", 2024])).unwrap();
    assert_eq!(
        out.params,
        map(json!({"w": 640, "src": "/a.png", "alt": "2024"}))
    );
    assert!(out.warnings.is_empty());
    let out = check(&d, json!({}), json!(["/a.png"])).unwrap();
    assert_eq!(out.params, map(json!({"src": "/a.png", "alt": ""})));
    // By name instead: the same.
    let out = check(&d, json!({"src": "/a.png", "alt": "A"}), json!([])).unwrap();
    assert_eq!(out.params, map(json!({"src": "/a.png", "alt": "A"})));
    // A positional value is checked like a named one.
    assert_eq!(
        errors(&[decl("n: int, position 0")], json!({}), json!(["many"])),
        ["n must be an int, not \"many\""]
    );
}

#[test]
fn a_parameter_given_twice_is_an_error() {
    let d = [
        decl("src: str, required, position 0"),
        decl("alt: str, position 1"),
    ];
    assert_eq!(
        errors(&d, json!({"src": "/b.png"}), json!(["/a.png"])),
        ["src is given twice: as the 1st positional argument (\"/a.png\") and as src=\"/b.png\""]
    );
    assert_eq!(
        errors(
            &d,
            json!({"alt": 3, "src": "/a.png"}),
            json!(["/a.png", "x"])
        ),
        [
            "src is given twice: as the 1st positional argument (\"/a.png\") and as src=\"/a.png\"",
            "alt is given twice: as the 2nd positional argument (\"x\") and as alt=3"
        ]
    );
}

#[test]
fn every_error_is_reported_and_joined() {
    let d = youtube();
    let e = check(
        &d,
        json!({"start": "soon", "align": "middle", "autoplay": 1}),
        json!([]),
    )
    .unwrap_err();
    let expected = [
        "id is required",
        "start must be an int, not \"soon\"",
        "align must be one of left, center, right, not \"middle\"",
        "autoplay must be true or false, not 1",
    ];
    assert_eq!(e.0, expected);
    assert_eq!(e.to_string(), expected.join("; "));
}

#[test]
fn undeclared_values_pass_with_a_warning() {
    let d = youtube();
    let out = check(
        &d,
        json!({"colour": "red", "id": "x"}),
        json!(["y", "extra", 3]),
    )
    .unwrap_err();
    // `id` given twice is still an error; without it:
    assert_eq!(out.0.len(), 1);
    let out = check(&d, json!({"colour": "red"}), json!(["x", "extra", 3])).unwrap();
    assert_eq!(out.params["colour"], json!("red"));
    assert_eq!(out.params["id"], json!("x"));
    assert_eq!(
        out.warnings,
        [
            "unknown parameter colour (declared: id, start, title, align, ratio, autoplay)",
            "extra positional argument \"extra\" (the 2nd; declared by position: id)",
            "extra positional argument 3 (the 3rd; declared by position: id)",
        ]
    );
    let out = check(&[decl("keys: any")], json!({}), json!(["Ctrl"])).unwrap();
    assert_eq!(
        out.warnings,
        ["extra positional argument \"Ctrl\" (the 1st; no parameter is declared with a position)"]
    );
    let out = check(&[], json!({"a": 1}), json!([])).unwrap();
    assert_eq!(out.warnings, ["unknown parameter a (none declared)"]);
    assert_eq!(out.params, map(json!({"a": 1})));
}

#[test]
fn long_values_are_cut_in_messages() {
    let long = "x".repeat(100);
    let e = errors(&[decl("n: int")], json!({"n": long}), json!([]));
    assert_eq!(e, [format!("n must be an int, not \"{}…", "x".repeat(56))]);
}

/// Macros whose positional arguments mean different things depending on the call (abbr: the
/// title comes first when the abbreviation is between the tags; gist: `user id` or `id`; kbd:
/// any number of keys), so no `position` can be declared and positional calls warn.
const UNPOSITIONED: [&str; 3] = ["abbr", "gist", "kbd"];

#[test]
fn bundled_macros_declare_parameters_that_accept_their_golden_calls() {
    let cases_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cases");
    let mut checked = 0;
    for script in crate::store::bundled_defaults() {
        let meta = header::parse(&script.source)
            .unwrap_or_else(|e| panic!("{}: header: {e}", script.slug));
        if meta.kind != crate::ScriptKind::Macro {
            assert_eq!(
                meta.params, None,
                "{}: only macros declare parameters",
                script.slug
            );
            continue;
        }
        let decls = meta
            .params
            .unwrap_or_else(|| panic!("{}: a bundled macro declares its parameters", script.slug));
        assert!(!decls.is_empty(), "{}", script.slug);
        let mut files: Vec<_> = std::fs::read_dir(cases_dir.join(&script.slug))
            .unwrap_or_else(|e| panic!("{}: {e}", script.slug))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{}: no golden cases", script.slug);
        for path in files {
            let case: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            if case["expected"]["ok"] != json!(true) {
                continue;
            }
            let ctx = &case["context"];
            let params = ctx["params"].as_object().cloned().unwrap_or_default();
            let args = ctx["args"].as_array().cloned().unwrap_or_default();
            let out = check_call(&decls, &params, &args)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let unknown: Vec<_> = out
                .warnings
                .iter()
                .filter(|w| {
                    !(UNPOSITIONED.contains(&script.slug.as_str())
                        && w.starts_with("extra positional"))
                })
                .collect();
            assert!(unknown.is_empty(), "{}: {unknown:?}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} golden calls checked");
}
