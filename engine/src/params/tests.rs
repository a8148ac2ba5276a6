use serde_json::{Value, json};

use super::*;
use crate::store::header;

pub(super) fn decl(line: &str) -> ParamDecl {
    parse_decl(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// The declarations of the module docs' example.
pub(super) fn youtube() -> Vec<ParamDecl> {
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
fn a_star_declaration_takes_the_other_positional_arguments() {
    let decls = vec![decl("sep: str, position 0"), decl("*keys: int -- the rest")];
    assert!(decls[1].is_variadic());
    let out = check(&decls, json!({}), json!(["+", 1, "2"])).unwrap();
    assert_eq!(out.warnings, Vec::<String>::new());
    assert_eq!(
        out.params,
        map(json!({"sep": "+"})),
        "the rest stay in args only"
    );
    assert_eq!(
        errors(&decls, json!({}), json!(["+", 1, "x"])),
        ["the 3rd positional argument (keys) must be an int, not \"x\""]
    );
    assert_eq!(
        parse_decl("*keys: int, required").unwrap_err(),
        "parameter *keys: a `*` declaration (the positional arguments no other parameter takes) has only a type"
    );
}

#[test]
fn long_values_are_cut_in_messages() {
    let long = "x".repeat(100);
    let e = errors(&[decl("n: int")], json!({"n": long}), json!([]));
    assert_eq!(e, [format!("n must be an int, not \"{}…", "x".repeat(56))]);
}

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
            let mut params = ctx["params"].as_object().cloned().unwrap_or_default();
            let args = ctx["args"].as_array().cloned().unwrap_or_default();
            // Some cases hold the context as the engine delivers it, with positional values
            // also bound by name: the call as written had them positionally only.
            for d in &decls {
                if let Some(n) = d.position.map(|n| n as usize)
                    && let Some(arg) = args.get(n)
                    && params.get(&d.name).is_some_and(|p| {
                        p == arg
                            || p.as_str().and_then(|t| t.parse::<Value>().ok()).as_ref()
                                == Some(arg)
                    })
                {
                    params.remove(&d.name);
                }
            }
            let out = check_call(&decls, &params, &args)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(out.warnings, Vec::<String>::new(), "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} golden calls checked");
}
