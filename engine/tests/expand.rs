//! Macro expansion and transforms through the real engine.

mod common;

use bds_engine::{Node, ProjectError, parse};
use serde_json::{Value, json};

const UPPER: &str = "import html\ndef render(c):\n    return {'html': '<b>' + html.escape(str(c['args'][0]).upper()) + '</b>'}\n";
const BOX: &str = "def render(c):\n    return {'html': '<div class=\"%s\">%s</div>' % (c['params'].get('kind', 'note'), c['inner'] or '')}\n";
const ECHO: &str = "import json\ndef render(c):\n    return {'html': json.dumps([c['params'], c['args'], c['inner']], sort_keys=True)}\n";
const FAIL: &str = "def render(c):\n    raise ValueError('bad input: ' + str(c['args']))\n";
const NOHTML: &str = "def render(c):\n    return {'text': 'no html key'}\n";
const COUNT: &str = "# ---\n# pure: false\n# ---\nn = 0\ndef render(c):\n    global n\n    n += 1\n    return {'html': str(n)}\n";

use common::project;

fn post() -> Value {
    json!({"title": "T", "slug": "t"})
}

#[test]
fn macros_are_replaced_in_order_with_typed_arguments() {
    let (_d, p) = project(1, &[("upper", UPPER), ("echo", ECHO)]);
    let out = p
        .expand(
            r#"a {{< upper "x<y" >}} b {{< echo 1 "1" 2.5 true word k=v n=3 q="a b" >}} c"#,
            &post(),
            &json!({}),
        )
        .unwrap();
    assert_eq!(
        out.html,
        r#"a <b>X&lt;Y</b> b [{"k": "v", "n": 3, "q": "a b"}, [1, "1", 2.5, true, "word"], null] c"#
    );
    assert_eq!(
        (out.calls, out.cache_hits, out.diagnostics.len()),
        (2, 0, 0)
    );
}

#[test]
fn inner_content_is_expanded_before_its_container() {
    let (_d, p) = project(2, &[("upper", UPPER), ("box", BOX)]);
    let out = p
        .expand("{{< box kind=tip >}}Press {{< upper ctrl >}}, {{< box >}}deep {{< upper x >}}{{< /box >}}{{< /box >}}", &post(), &json!({}))
        .unwrap();
    assert_eq!(
        out.html,
        r#"<div class="tip">Press <b>CTRL</b>, <div class="note">deep <b>X</b></div></div>"#
    );
}

#[test]
fn failures_become_markers_and_diagnostics_never_a_failed_render() {
    let (_d, p) = project(1, &[("fail", FAIL), ("nohtml", NOHTML), ("upper", UPPER)]);
    let src = "ok {{< upper a >}}\nthen {{< fail 1 >}} and {{< nope >}}\n{{< nohtml >}} {{< /stray >}} end";
    let out = p.expand(src, &post(), &json!({})).unwrap();
    assert_eq!(
        out.html,
        "ok <b>A</b>\nthen <span class=\"bds-macro-error\" data-macro=\"fail\">fail: ValueError: bad input: [1] (line 2)</span> and \
<span class=\"bds-macro-error\" data-macro=\"nope\">nope: no enabled macro named `nope`</span>\n\
<span class=\"bds-macro-error\" data-macro=\"nohtml\">nohtml: the result does not match the macro ABI: &quot;html&quot; is a required property</span> \
<span class=\"bds-macro-error\" data-macro=\"\">macro: `{{&lt; /stray &gt;}}` closes a macro that was never opened</span> end"
    );
    let d: Vec<_> = out
        .diagnostics
        .iter()
        .map(|d| (d.line, d.column, d.kind.as_str(), d.script.as_str()))
        .collect();
    assert_eq!(
        d,
        vec![
            (2, 6, "runtime", "fail"),
            (2, 25, "unknown-macro", "nope"),
            (3, 1, "abi-violation", "nohtml"),
            (3, 16, "parse", "")
        ]
    );
    let tb = &out.diagnostics[0].traceback;
    assert_eq!(
        (tb[0].file.as_str(), tb[0].line, tb[0].function.as_str()),
        ("fail.py", 2, "render")
    );
}

#[test]
fn a_thousand_calls_expand_identically_with_one_and_four_workers() {
    let mut src = String::new();
    for i in 0..1000 {
        src.push_str(&format!(
            "p{i} {{{{< upper w{i} >}}}} {{{{< echo {i} k=\"{}\" >}}}}\n",
            i % 7
        ));
    }
    let (_a, one) = project(1, &[("upper", UPPER), ("echo", ECHO)]);
    let (_b, four) = project(4, &[("upper", UPPER), ("echo", ECHO)]);
    let x = one.expand(&src, &post(), &json!({})).unwrap();
    let y = four.expand(&src, &post(), &json!({})).unwrap();
    assert_eq!(x.calls, 2000);
    assert_eq!(x.html, y.html);
    assert!(
        x.html
            .starts_with("p0 <b>W0</b> [{\"k\": \"0\"}, [0], null]\np1 <b>W1</b>")
    );
    assert!(x.diagnostics.is_empty() && y.diagnostics.is_empty());
}

#[test]
fn results_are_cached_until_the_script_changes_unless_impure() {
    let (_d, p) = project(1, &[("upper", UPPER), ("count", COUNT)]);
    let src = "{{< upper a >}} {{< upper b >}} {{< count >}}";
    let first = p.expand(src, &post(), &json!({})).unwrap();
    assert_eq!(
        (first.html.as_str(), first.cache_hits),
        ("<b>A</b> <b>B</b> 1", 0)
    );
    let second = p.expand(src, &post(), &json!({})).unwrap();
    assert_eq!(
        (second.html.as_str(), second.cache_hits),
        ("<b>A</b> <b>B</b> 2", 2)
    );
    // Another post: `upper` never reads the post, so its results still answer.
    let other = p
        .expand(src, &json!({"title": "Other"}), &json!({}))
        .unwrap();
    assert_eq!(other.cache_hits, 2);
    // Other arguments are another key.
    let args = p.expand("{{< upper c >}}", &post(), &json!({})).unwrap();
    assert_eq!(args.cache_hits, 0);
    // Editing the script invalidates its entries.
    p.store()
        .update(
            "upper",
            &UPPER
                .replace("<b>", "<strong>")
                .replace("</b>", "</strong>"),
            None,
        )
        .unwrap();
    let third = p.expand(src, &post(), &json!({})).unwrap();
    assert_eq!(
        (third.html.as_str(), third.cache_hits),
        ("<strong>A</strong> <strong>B</strong> 4", 0)
    );
    let m = p.metrics();
    let upper = m.iter().find(|m| m.script == "upper.py").unwrap();
    assert_eq!((upper.calls, upper.cache_hits), (5, 4));
}

#[test]
fn many_posts_share_batches_and_keep_their_own_diagnostics() {
    let (_d, p) = project(2, &[("upper", UPPER), ("fail", FAIL)]);
    let docs = vec![
        ("{{< upper a >}}".to_owned(), json!({"title": "one"})),
        ("x\n{{< fail >}}".to_owned(), json!({"title": "two"})),
        ("{{< upper c >}}".to_owned(), Value::Null),
    ];
    let out = p.expand_many(&docs, &json!({"title": "site"})).unwrap();
    assert_eq!(
        out.iter().map(|e| e.html.as_str()).collect::<Vec<_>>()[0],
        "<b>A</b>"
    );
    assert_eq!(out[2].html, "<b>C</b>");
    assert_eq!(out[1].diagnostics.len(), 1);
    assert_eq!(
        (out[1].diagnostics[0].document, out[1].diagnostics[0].line),
        (1, 2)
    );
    assert!(out[0].diagnostics.is_empty());
}

#[test]
fn invalid_posts_are_refused_at_the_boundary() {
    let (_d, p) = project(1, &[("upper", UPPER)]);
    let e = p
        .expand(
            "x",
            &json!({"title": "t", "tags": "not-a-list"}),
            &json!({}),
        )
        .unwrap_err();
    assert!(
        matches!(&e, ProjectError::InvalidInput { what: "post", message } if message.starts_with("/tags: ")),
        "{e}"
    );
    let e = p.expand("x", &json!([1]), &json!({})).unwrap_err();
    assert!(matches!(e, ProjectError::InvalidInput { what: "post", .. }));
    let e = p.expand("x", &post(), &json!("site")).unwrap_err();
    assert!(matches!(e, ProjectError::InvalidInput { what: "site", .. }));
    let e = p
        .transform(&json!({"title": 5, "content": ""}))
        .unwrap_err();
    assert!(
        matches!(&e, ProjectError::InvalidInput { what: "post", message } if message.starts_with("/title: ")),
        "{e}"
    );
}

const T_TITLE: &str = "# ---\n# kind: transform\n# order: 1\n# ---\ndef render(c):\n    p = dict(c['post'])\n    p['title'] = p['title'].strip().title()\n    return {'post': p}\n";
const T_BROKEN: &str = "# ---\n# kind: transform\n# order: 2\n# ---\ndef render(c):\n    p = dict(c['post'])\n    p['title'] = 42\n    p['content'] = 'ruined'\n    return {'post': p}\n";
const T_RAISES: &str =
    "# ---\n# kind: transform\n# order: 3\n# ---\ndef render(c):\n    raise RuntimeError('nope')\n";
const T_TAGS: &str = "# ---\n# kind: transform\n# order: 4\n# ---\ndef render(c):\n    p = dict(c['post'])\n    p['tags'] = sorted({t.lower() for t in p.get('tags', [])})\n    return {'post': p}\n";
const T_OFF: &str =
    "# ---\n# kind: transform\n# enabled: false\n# ---\ndef render(c):\n    return {'post': {}}\n";

#[test]
fn a_failing_step_keeps_the_post_from_before_it() {
    let (_d, p) = project(
        1,
        &[
            ("a-title", T_TITLE),
            ("b-broken", T_BROKEN),
            ("c-raises", T_RAISES),
            ("d-tags", T_TAGS),
            ("off", T_OFF),
        ],
    );
    let out = p
        .transform(
            &json!({"title": "  hello world ", "content": "<p>x</p>", "tags": ["B", "a", "b"]}),
        )
        .unwrap();
    assert_eq!(
        out.post,
        json!({"title": "Hello World", "content": "<p>x</p>", "tags": ["a", "b"]})
    );
    let steps: Vec<_> = out
        .steps
        .iter()
        .map(|s| {
            (
                s.script.as_str(),
                s.ok,
                s.error.as_ref().map(|e| e.message.clone()),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            ("a-title", true, None),
            (
                "b-broken",
                false,
                Some(
                    "the result is not a valid post: /post/title: 42 is not of type \"string\""
                        .to_owned()
                )
            ),
            (
                "c-raises",
                false,
                Some("RuntimeError: nope (line 6)".to_owned())
            ),
            ("d-tags", true, None),
        ]
    );
}

/// A tiny deterministic generator (xorshift) for the parser's property test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn text_of(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|n| match n {
            Node::Text(t) => t.len(),
            Node::Macro(m) => 1 + m.inner.as_ref().map_or(0, |i| text_of(i)),
            Node::Error(e) => e.source.len(),
        })
        .sum()
}

#[test]
fn the_parser_never_panics_or_loops_on_random_input() {
    let pieces = [
        "{{<",
        ">}}",
        "{{< /",
        "{{</*",
        "*/>}}",
        " ",
        "\n",
        "```",
        "~~~",
        "`",
        "``",
        "\"",
        "\\",
        "=",
        "a",
        "kbd",
        "é",
        "日本",
        "k=v",
        "x=\"y z\"",
        "{{< a >}}",
        "{{< /a >}}",
        "{",
        "}",
        ">",
        "<",
        "1.5",
        "-3",
        "true",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = std::time::Instant::now();
    for _ in 0..20_000 {
        let n = (rng.next() % 40) as usize;
        let s: String = (0..n)
            .map(|_| pieces[(rng.next() % pieces.len() as u64) as usize])
            .collect();
        let nodes = parse(&s);
        // Nothing is invented: the parse never accounts for more text than there is.
        assert!(text_of(&nodes) <= s.len(), "{s:?}");
    }
    // Linear time on 10 MB: a pathological mix of unclosed tags, backticks and quotes.
    let big: String = "{{< a \"x `` ".repeat((10 << 20) / 12);
    let nodes = parse(&big);
    assert!(!nodes.is_empty());
    let normal: String =
        "para {{< kbd Ctrl+C >}} and `code {{< no >}}` and {{< box >}}in{{< /box >}}\n"
            .repeat(140_000);
    assert!(normal.len() > 10 << 20);
    let nodes = parse(&normal);
    assert_eq!(
        nodes.iter().filter(|n| matches!(n, Node::Macro(_))).count(),
        280_000
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the parser is not linear"
    );
}

#[test]
fn an_unknown_paired_macro_keeps_its_inner_content_beside_the_marker() {
    let (_d, p) = project(1, &[("upper", UPPER)]);
    let out = p
        .expand(
            "{{< tabpane >}}kept {{< upper x >}}{{< /tabpane >}}",
            &post(),
            &json!({}),
        )
        .unwrap();
    assert_eq!(
        out.html,
        "<span class=\"bds-macro-error\" data-macro=\"tabpane\">tabpane: no enabled macro named `tabpane`</span>kept <b>X</b>"
    );
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(out.diagnostics[0].kind, "unknown-macro");
}

#[test]
fn markdown_form_hands_its_inner_over_as_html_and_keeps_its_output() {
    let (_d, p) = project(1, &[("box", BOX), ("echo", ECHO), ("upper", UPPER)]);
    // `{{% %}}`: inner Markdown (nested calls expanded first) rendered to HTML for the macro.
    let out = p
        .expand(
            "{{% box %}}\n**bold** {{< upper x >}}\n\n| a |\n|---|\n{{% /box %}} {{< box >}}*raw*{{< /box >}}",
            &post(),
            &json!({}),
        )
        .unwrap();
    assert_eq!(
        out.html,
        "<div class=\"note\"><p><strong>bold</strong> <b>X</b></p>\n<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n</table>\n</div> <div class=\"note\">*raw*</div>"
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    // Self-closing and unpaired `{{% %}}` calls get no inner at all.
    let out = p.expand("{{% echo a=1 /%}}", &post(), &json!({})).unwrap();
    assert_eq!(out.html, r#"[{"a": 1}, [], null]"#);
}

#[test]
fn a_project_aliases_theme_names_to_its_macros() {
    let (d, p) = project(1, &[("box", BOX), ("echo", ECHO), ("upper", UPPER)]);
    std::fs::write(
        d.path().join("bds.toml"),
        "[aliases]\nalert = \"box\"\nhint = { macro = \"box\", params = { kind = \"tip\" } }\nupper = \"echo\"\nghost = \"nothing\"\n",
    )
    .unwrap();
    let src = "{{< alert >}}a{{< /alert >}} {{< hint >}}b{{< /hint >}} {{< hint kind=warn >}}c{{< /hint >}} {{< upper x >}} {{< ghost >}}";
    let out = p.expand(src, &post(), &json!({})).unwrap();
    assert_eq!(
        out.html,
        "<div class=\"note\">a</div> <div class=\"tip\">b</div> <div class=\"warn\">c</div> [{}, [\"x\"], null] \
<span class=\"bds-macro-error\" data-macro=\"ghost\">ghost: no enabled macro named `nothing` (the alias `ghost` in bds.toml runs it)</span>"
    );
    assert_eq!(out.diagnostics.len(), 1);
    // An edit of the file applies to the next render; a broken file is an error naming it.
    std::fs::write(d.path().join("bds.toml"), "[aliases]\nalert = \"upper\"\n").unwrap();
    let out = p.expand("{{< alert y >}}", &post(), &json!({})).unwrap();
    assert_eq!(out.html, "<b>Y</b>");
    std::fs::write(d.path().join("bds.toml"), "[aliases]\nalert = 3\n").unwrap();
    let err = p
        .expand("{{< alert y >}}", &post(), &json!({}))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: ", d.path().join("bds.toml").display())),
        "{err}"
    );
}

#[test]
fn bds_toml_picks_the_guest_unless_the_caller_did() {
    let (d, p) = project(1, &[]);
    drop(p);
    let which = "# ---\n# kind: macro\n# ---\nimport sys\ndef render(c):\n    return {'html': sys.implementation.name}\n";
    std::fs::write(d.path().join("scripts/which.py"), which).unwrap();
    let expand = |config: bds_engine::PoolConfig| {
        let p = bds_engine::Project::open(d.path(), config.workers(1)).unwrap();
        let out = p.expand("{{< which >}}", &post(), &json!({})).unwrap();
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        out.html
    };
    for guest in ["cpython", "rustpython"] {
        std::fs::write(d.path().join("bds.toml"), format!("guest = \"{guest}\"\n")).unwrap();
        assert_eq!(expand(bds_engine::PoolConfig::default()), guest);
    }
    // The caller's choice wins over the file's.
    let chosen = bds_engine::PoolConfig::default().guest(bds_engine::Guest::CPython);
    assert_eq!(expand(chosen), "cpython");
    // An unknown guest is an error naming the file.
    std::fs::write(d.path().join("bds.toml"), "guest = \"jython\"\n").unwrap();
    let Err(err) = bds_engine::Project::open(d.path(), bds_engine::PoolConfig::default()) else {
        panic!("an unknown guest is refused");
    };
    let err = err.to_string();
    assert_eq!(
        err,
        format!(
            "{}: guest: unknown guest `jython` (expected `rustpython` or `cpython`)",
            d.path().join("bds.toml").display()
        )
    );
}
