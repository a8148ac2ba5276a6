//! Tests of reading and writing declarations.

use serde_json::json;

use super::tests::{decl, youtube};
use super::*;

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
