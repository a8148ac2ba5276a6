//! The result contract: only a JSON object crosses; anything else is an `abi-violation` (or a
//! `runtime` error when Python raised), never a crash.

mod common;

use bds_engine::{CallOptions, ErrorKind};
use common::*;
use serde_json::json;

fn violation(body: &str) -> (ErrorKind, String) {
    let pool = pool(1);
    let src = format!("import math\ndef render(c):\n    {body}\n");
    let e = run(&pool, &src).unwrap_err();
    assert_healthy(&pool);
    (e.kind, e.message)
}

/// What CPython's `json.dumps` writes for these integers (run with CPython 3.11):
/// `json.dumps({"a": 2**200+1, "b": -(10**30), "d": round(1e22), "e": int(1e20),
/// "f": math.isqrt(2**200+12345)})`. `g` is 10**4300 - 1: 4,300 nines, the longest allowed.
const BIG_INTS: &str = r#"{"a": 1606938044258990275541962092341162602522202993782792835301377, "b": -1000000000000000000000000000000, "d": 10000000000000000000000, "e": 100000000000000000000, "f": 1267650600228229401496703205376}"#;

#[test]
fn integers_of_any_size_cross_with_every_digit() {
    let pool = pool(1);
    let src = "import math\ndef render(c):\n    return {'a': 2**200+1, 'b': -(10**30), 'd': round(1e22), 'e': int(1e20), 'f': math.isqrt(2**200+12345), 'g': 10**4300 - 1}\n";
    let out = run(&pool, src).expect("big integers are results");
    let mut expected: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(BIG_INTS).unwrap();
    let nines = "9".repeat(4300);
    expected.insert("g".into(), serde_json::from_str(&nines).unwrap());
    // Compared as text: the Rust API keeps every digit.
    assert_eq!(
        serde_json::to_string(&out.value).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
    // And the CLI prints them.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.py");
    std::fs::write(&file, src).unwrap();
    let o = bds(&["run", file.to_str().unwrap()], None);
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        printed["result"]["a"].to_string(),
        "1606938044258990275541962092341162602522202993782792835301377"
    );
    assert_eq!(printed["result"]["g"].to_string(), nines);
}

#[test]
fn values_json_cannot_carry_are_refused_with_their_path() {
    let cases = [
        (
            "return {'a': {1, 2}}",
            "result[\"a\"] is a set, which is not a JSON value",
        ),
        (
            "return {'a': b'x'}",
            "result[\"a\"] is a bytes, which is not a JSON value",
        ),
        (
            "return {'a': [1, float('nan')]}",
            "result[\"a\"][1] is NaN, which JSON cannot carry",
        ),
        (
            "return {'a': math.inf}",
            "result[\"a\"] is inf, which JSON cannot carry",
        ),
        (
            "return {1: 'a'}",
            "result has a key of type int (only str keys cross)",
        ),
        (
            "return {('a',): 1}",
            "result has a key of type tuple (only str keys cross)",
        ),
        (
            "return {'a': [10**4300]}",
            "result[\"a\"][0] is an integer of more than 4300 digits (CPython's limit for writing one)",
        ),
        (
            // The same refusal when the script lifted CPython's limit for itself.
            "import sys; sys.set_int_max_str_digits(0); return {'a': -10**5000}",
            "result[\"a\"] is an integer of more than 4300 digits (CPython's limit for writing one)",
        ),
        (
            "return {'a': '\\ud800'}",
            "result[\"a\"] is a string with a lone surrogate",
        ),
        (
            "return {'a': object()}",
            "result[\"a\"] is a object, which is not a JSON value",
        ),
        ("return None", "render() must return a dict, not NoneType"),
        ("return [1, 2]", "render() must return a dict, not list"),
        ("return 'html'", "render() must return a dict, not str"),
    ];
    for (body, message) in cases {
        assert_eq!(
            violation(body),
            (ErrorKind::AbiViolation, message.to_owned()),
            "{body}"
        );
    }
}

#[test]
fn a_recursive_structure_is_refused_by_depth() {
    let (kind, message) = violation("d = {}\n    d['d'] = d\n    return d");
    assert_eq!(kind, ErrorKind::AbiViolation);
    assert!(
        message.ends_with("nests deeper than 64 levels (a recursive structure?)"),
        "{message}"
    );
}

#[test]
fn exits_and_interrupts_are_runtime_errors() {
    for (body, exc) in [
        ("raise SystemExit(3)", "SystemExit"),
        ("import sys\n    sys.exit(0)", "SystemExit"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
        ("import os\n    os._exit(1)", "runtime"),
    ] {
        let pool = pool(1);
        let e = run(&pool, &format!("def render(c):\n    {body}\n")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Runtime, "{body}: {e:#?}");
        if exc != "runtime" {
            assert_eq!(e.exc_type, exc);
        }
        assert_healthy(&pool);
    }
}

#[test]
fn a_missing_or_wrong_entry_point_is_a_runtime_error() {
    let pool = pool(1);
    let e = run(&pool, "def other(c):\n    return {}\n").unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ErrorKind::Runtime,
            "the script defines no function `render`"
        )
    );
    let e = run(&pool, "render = 5\n").unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Runtime, "`render` is not a function")
    );
    let e = run(&pool, "def render():\n    return {}\n").unwrap_err();
    assert_eq!(
        (e.kind, e.exc_type.as_str()),
        (ErrorKind::Runtime, "TypeError")
    );
    let s = script(
        "multi.py",
        "def render(c):\n    return {'e': 'render'}\ndef transform(c):\n    return {'e': 'transform'}\n",
    );
    let out = pool
        .call(&s, &ctx(), &CallOptions::default().with_entry("transform"))
        .unwrap();
    assert_eq!(out.value["e"], "transform");
}

#[test]
fn json_values_round_trip_exactly() {
    let pool = pool(1);
    let context = json!({
        "abi": 1,
        "params": {"s": "é ü 😀 \u{0} \"q\" \\", "i": -9007199254740993i64, "u": u64::MAX, "f": 0.1, "e": 1e300, "neg0": -0.0, "t": true, "n": null},
        "args": [1, "two", 3.5, [[], {}]],
        "inner": "<p>inner</p>",
    });
    let out = pool
        .call(&script("echo.py", "def render(c):\n    return {'echo': c, 'tuple': (1, 'a'), 'keys': list(c['params'])}\n"), &context, &CallOptions::default())
        .unwrap();
    assert_eq!(out.value["echo"], context);
    assert_eq!(out.value["tuple"], json!([1, "a"]));
    assert_eq!(
        out.value["keys"],
        json!(["s", "i", "u", "f", "e", "neg0", "t", "n"])
    );
}

#[test]
fn a_context_that_is_not_an_object_is_refused_before_any_worker_runs() {
    let pool = pool(1);
    let e = pool
        .call(
            &script("a.py", "def render(c):\n    return {}\n"),
            &json!([1]),
            &CallOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::AbiViolation, "the context must be a JSON object")
    );
}

#[test]
fn runtime_errors_carry_type_message_line_and_traceback() {
    let pool = pool(1);
    let src = "def helper(x):\n    return 1 / x\n\ndef render(c):\n    print('before')\n    return {'v': helper(0)}\n";
    let e = pool
        .call(&script("div.py", src), &ctx(), &CallOptions::default())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Runtime);
    assert_eq!(e.exc_type, "ZeroDivisionError");
    assert_eq!(e.message, "division by zero");
    assert_eq!(e.line, 2);
    assert_eq!(e.stdout, "before\n");
    let frames: Vec<(String, u32, String)> = e
        .traceback
        .iter()
        .map(|f| (f.file.clone(), f.line, f.function.clone()))
        .collect();
    assert_eq!(
        frames,
        vec![
            ("div.py".into(), 6, "render".into()),
            ("div.py".into(), 2, "helper".into())
        ]
    );
}

#[test]
fn syntax_errors_are_compile_errors_with_line_and_column() {
    let pool = pool(1);
    let e = run(&pool, "def render(c):\n    return {'a': 1\n").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Compile);
    assert_eq!(e.exc_type, "SyntaxError");
    assert_eq!((e.line, e.column), (2, 12));
    let e = pool
        .check(&script("indent.py", "def render(c):\nreturn {}\n"))
        .unwrap_err();
    assert_eq!(
        (e.kind, e.exc_type.as_str(), e.line),
        (ErrorKind::Compile, "IndentationError", 2)
    );
    assert!(
        pool.check(&script("fine.py", "def render(c):\n    return {}\n"))
            .is_ok()
    );
    // A check only compiles: module-level code does not run.
    assert!(pool.check(&script("side.py", "raise SystemExit\n")).is_ok());
}

/// `bds_markdown.render` is called like the Python function `def render(text, inline=False)`:
/// a bad call raises the `TypeError` CPython raises for that function (messages from CPython
/// 3.11 running the oracle's `fixtures/bds_markdown.py`), and a str that is not UTF-8 (a lone
/// surrogate) is refused rather than passed to the Rust side.
#[test]
fn bds_markdown_refuses_bad_calls_as_python_would() {
    let pool = pool(1);
    let v = ok(
        &pool,
        r#"import bds_markdown as m
class NoTruth:
    def __bool__(self):
        raise ValueError('no truth value')
def render(c):
    out = {'ok': m.render('*a*', inline=True), 'kw': m.render(text='*a*')}
    calls = [
        lambda: m.render(1),
        lambda: m.render(),
        lambda: m.render('a', x=1),
        lambda: m.render('a', False, 3),
        lambda: m.render('a', text='b'),
        lambda: m.render('\ud800'),
        lambda: m.render('a', inline=NoTruth()),
    ]
    out['errors'] = []
    for f in calls:
        try:
            f()
        except Exception as e:
            out['errors'].append([type(e).__name__, str(e)])
    return out
"#,
    );
    assert_eq!(
        v,
        json!({
            "ok": "<em>a</em>",
            "kw": "<p><em>a</em></p>\n",
            "errors": [
                ["TypeError", "render() argument 'text' must be str, not int"],
                ["TypeError", "render() missing 1 required positional argument: 'text'"],
                ["TypeError", "render() got an unexpected keyword argument 'x'"],
                ["TypeError", "render() takes from 1 to 2 positional arguments but 3 were given"],
                ["TypeError", "render() got multiple values for argument 'text'"],
                ["ValueError", "render() argument 'text' holds a lone surrogate"],
                // `inline` is read for its truth value, and that may raise.
                ["ValueError", "no truth value"],
            ]
        })
    );
}

/// What CPython makes of `source`'s `render` given the context `text`, read with `json.loads`
/// (as `fixtures/oracle.py` reads contexts): the result, or the exception's type and message.
fn cpython(source: &str, text: &str) -> serde_json::Value {
    let program = "import json, sys\nns = {}\nexec(sys.argv[1], ns)\ntry:\n    out = {'ok': ns['render'](json.loads(sys.argv[2]))}\nexcept Exception as e:\n    out = {'error': [type(e).__name__, str(e)]}\nprint(json.dumps(out))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", program, source, text])
        .output()
        .expect("python3 (CPython is the oracle)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Numbers in a context are read as CPython's `json` reads them: an integer of any size is an
/// `int` with every digit (`-0` is `0`), anything with a fraction or an exponent a correctly
/// rounded `float` (`1e400` is `inf`, `2e-400` is `0.0`). Each way a value comes in: the
/// context itself, `call` (a read-only root) and `post` (a shared root). CPython, reading the
/// same text, is the oracle.
#[test]
fn context_numbers_are_read_as_cpython_reads_them() {
    let numbers = "[18446744073709551616, -9223372036854775809, 100000000000000000000000000000, \
        -0, 0, 9223372036854775807, -9223372036854775808, -0.0, 1.0, 0.1, 1e-7, 1E5, 2.5e+3, \
        1.5e300, 1e400, -1e400, 123456789012345678901234.5, 9007199254740993.0, 4.9e-324, 2e-400]";
    let text = format!(
        r#"{{"abi": 1, "params": {{"n": {numbers}}}, "call": {{"n": {numbers}}}, "post": {{"n": {numbers}}}}}"#
    );
    let source = "def render(c):\n    def show(v):\n        return [[type(x).__name__, repr(x)] for x in v]\n    return {'params': show(c['params']['n']), 'call': show(c['call']['n']), 'post': show(c['post']['n'])}\n";
    let expected = cpython(source, &text);
    let context: serde_json::Value = serde_json::from_str(&text).unwrap();
    let out = call_as_rendered(
        &pool(1),
        &script("numbers.py", source),
        &context,
        &CallOptions::default(),
    )
    .expect("the numbers are read");
    assert_eq!(json!({"ok": out.value}), expected);
}

/// An integer past CPython's 4,300-digit limit for reading one from text is refused as
/// CPython's `json.loads` refuses it, a `ValueError`, wherever it is: the context itself,
/// `call` (a read-only root) or `post` (a shared root, filled from the worker).
#[test]
fn a_context_integer_past_the_digit_limit_is_a_value_error() {
    let pool = pool(1);
    for place in ["params", "call", "post"] {
        let source =
            format!("def render(c):\n    return {{'n': len(str(c['{place}']['n'][0]))}}\n");
        let text = format!(
            r#"{{"abi": 1, "{place}": {{"n": [{}]}}}}"#,
            "7".repeat(4301)
        );
        let expected = cpython(&source, &text);
        let context: serde_json::Value = serde_json::from_str(&text).unwrap();
        let e = call_as_rendered(
            &pool,
            &script("big.py", &source),
            &context,
            &CallOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            json!({"error": [e.exc_type, e.message]}),
            expected,
            "{place}: {e:?}"
        );
        assert_eq!(e.kind, ErrorKind::Runtime, "{place}");
        // Within the limit, every digit arrives.
        let text = format!(
            r#"{{"abi": 1, "{place}": {{"n": [{}]}}}}"#,
            "7".repeat(4300)
        );
        let out = call_as_rendered(
            &pool,
            &script("big.py", &source),
            &serde_json::from_str(&text).unwrap(),
            &CallOptions::default(),
        )
        .unwrap();
        assert_eq!(out.value["n"], 4300, "{place}");
    }
}
