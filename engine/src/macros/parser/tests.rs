use super::*;
use serde_json::json;

fn call(n: &Node) -> &MacroCall {
    match n {
        Node::Macro(m) => m,
        other => panic!("not a macro: {other:?}"),
    }
}

#[test]
fn typing_rules_case_by_case() {
    let nodes = parse(
        r#"{{< m "123" 123 -7 +8 1.5 -0.25 1e3 .5 true false "true" word 12abc 1.2.3 e5 9223372036854775808 nan inf >}}"#,
    );
    assert_eq!(
        Value::Array(call(&nodes[0]).args.clone()),
        json!([
            "123",
            123,
            -7,
            8,
            1.5,
            -0.25,
            1000.0,
            0.5,
            true,
            false,
            "true",
            "word",
            "12abc",
            "1.2.3",
            "e5",
            9223372036854775808.0,
            "nan",
            "inf"
        ])
    );
}

#[test]
fn named_and_positional_arguments_keep_their_order_and_types() {
    let nodes = parse(
        r#"a {{< youtube dQw4 start=42 title="Never \"gonna\" >}} give" autoplay=false >}} b"#,
    );
    assert_eq!(nodes.len(), 3);
    let m = call(&nodes[1]);
    assert_eq!(m.name, "youtube");
    assert_eq!(m.args, vec![json!("dQw4")]);
    assert_eq!(
        Value::Object(m.params.clone()),
        json!({"start": 42, "title": "Never \"gonna\" >}} give", "autoplay": false})
    );
    assert_eq!((m.line, m.column), (1, 3));
    assert_eq!(nodes[0], Node::Text("a ".into()));
    assert_eq!(nodes[2], Node::Text(" b".into()));
}

#[test]
fn paired_tags_nest_and_carry_their_inner_text() {
    let nodes = parse("{{< callout tip >}}Press {{< kbd Ctrl+C >}} now{{< /callout >}}!");
    let m = call(&nodes[0]);
    assert_eq!(
        m.inner_source.as_deref(),
        Some("Press {{< kbd Ctrl+C >}} now")
    );
    let inner = m.inner.as_ref().unwrap();
    assert_eq!(inner.len(), 3);
    assert_eq!(call(&inner[1]).name, "kbd");
    assert_eq!(nodes[1], Node::Text("!".into()));
    // Same name nested: the innermost pair matches first.
    let nodes = parse("{{< d >}}a{{< d >}}b{{< /d >}}c{{< /d >}}");
    let outer = call(&nodes[0]);
    assert_eq!(
        outer.inner_source.as_deref(),
        Some("a{{< d >}}b{{< /d >}}c")
    );
    assert_eq!(
        call(&outer.inner.as_ref().unwrap()[1])
            .inner_source
            .as_deref(),
        Some("b")
    );
}

#[test]
fn unclosed_and_orphan_tags_are_errors_that_keep_the_rest() {
    let nodes = parse("x\n  {{< kbd Ctrl\nmore text");
    assert_eq!(
        nodes[1],
        Node::Error(ParseError {
            message: "`{{<` is never closed with `>}}`".into(),
            line: 2,
            column: 3,
            source: "{{<".into()
        })
    );
    assert_eq!(nodes[2], Node::Text(" kbd Ctrl\nmore text".into()));
    let nodes = parse("a{{< /nope >}}b");
    assert!(
        matches!(&nodes[1], Node::Error(e) if e.message == "`{{< /nope >}}` closes a macro that was never opened" && e.column == 2)
    );
    // An opening tag with no closing one is self-closing.
    let nodes = parse("{{< a >}}x");
    assert_eq!(call(&nodes[0]).inner, None);
    let nodes = parse(r#"{{< a title="open >}}"#);
    assert!(
        matches!(&nodes[0], Node::Error(e) if e.message.starts_with("a quoted value is never closed")),
        "{nodes:?}"
    );
    let nodes = parse("{{< >}}");
    assert!(
        matches!(&nodes[0], Node::Error(e) if e.message == "a macro tag needs a name: {{< name … >}}")
    );
    let nodes = parse("{{< a$b >}}");
    assert!(
        matches!(&nodes[0], Node::Error(e) if e.message == "`a$b` is not a macro name (letters, digits, '-', '_', '/' and '.')")
    );
}

#[test]
fn code_is_left_alone() {
    let src = "`{{< a >}}` and ``x `{{< b >}}` y`` and\n```\n{{< c >}}\n```\n~~~~python\n{{< d >}}\n~~~~\n{{< e >}} `unclosed {{< f >}}";
    let names: Vec<_> = parse(src)
        .iter()
        .filter_map(|n| match n {
            Node::Macro(m) => Some(m.name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(names, vec!["e", "f"]);
    // An unterminated fence runs to the end.
    assert_eq!(
        parse("```\n{{< a >}}"),
        vec![Node::Text("```\n{{< a >}}".into())]
    );
}

#[test]
fn the_escape_renders_a_literal_tag() {
    assert_eq!(
        parse("use {{</* youtube id */>}} to embed"),
        vec![Node::Text("use {{< youtube id >}} to embed".into())]
    );
}

#[test]
fn unicode_positions_are_in_characters() {
    let nodes = parse("héllo wörld\n日本 {{< ruby 漢字 note=\"ñ\" >}}");
    let m = call(&nodes[1]);
    assert_eq!((m.line, m.column), (2, 4));
    assert_eq!(m.args, vec![json!("漢字")]);
    assert_eq!(m.params["note"], "ñ");
}

/// What each form means, as Hugo's documentation describes it: (content, the macro calls as
/// `name args params inner`, the text left around them).
fn calls(src: &str) -> Vec<String> {
    fn walk(nodes: &[Node], out: &mut Vec<String>) {
        for n in nodes {
            if let Node::Macro(m) = n {
                out.push(format!(
                    "{} {} {} {}",
                    m.name,
                    serde_json::to_string(&m.args).unwrap(),
                    serde_json::to_string(&m.params).unwrap(),
                    m.inner_source
                        .as_deref()
                        .map_or("-".to_owned(), |s| format!("{s:?}"))
                ));
                if let Some(inner) = &m.inner {
                    walk(inner, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&parse(src), &mut out);
    out
}

fn text(src: &str) -> String {
    parse(src)
        .iter()
        .map(|n| match n {
            Node::Text(t) => t.clone(),
            Node::Macro(m) => format!("[{}]", m.name),
            Node::Error(e) => format!("[error: {}]", e.message),
        })
        .collect()
}

#[test]
fn hugo_forms_table() {
    let table: &[(&str, &[&str])] = &[
        // Self-closing: `/>}}` ends the tag; no "/" argument, and never paired.
        ("{{< kbd Ctrl+C />}}", &[r#"kbd ["Ctrl+C"] {} -"#]),
        ("{{< kbd Ctrl+C/>}}", &[r#"kbd ["Ctrl+C"] {} -"#]),
        (
            r#"{{< figure src="a.png" alt="A" />}}{{< /figure >}}"#,
            &[r#"figure [] {"src":"a.png","alt":"A"} -"#],
        ),
        (
            "{{< x />}} between {{< x >}}in{{< /x >}}",
            &[r#"x [] {} -"#, r#"x [] {} "in""#],
        ),
        // Backtick raw strings: no escapes, quotes kept, line breaks kept; always strings.
        (
            "{{< note text=`a \"quoted\" \\n value` >}}",
            &[r#"note [] {"text":"a \"quoted\" \\n value"} -"#],
        ),
        ("{{< note `12` >}}", &[r#"note ["12"] {} -"#]),
        (
            "{{< note text=`two\nlines` >}}",
            &[r#"note [] {"text":"two\nlines"} -"#],
        ),
        // Names with `/` and `.`.
        (
            "{{< blocks/feature icon=x >}}",
            &[r#"blocks/feature [] {"icon":"x"} -"#],
        ),
        (
            "{{< time.inline >}}{{< /time.inline >}}",
            &[r#"time.inline [] {} """#],
        ),
        // `{{% %}}`: the same tag grammar, Markdown form (see `markdown_form` below).
        (
            "{{% notice tip %}}**Hi**{{% /notice %}}",
            &[r#"notice ["tip"] {} "**Hi**""#],
        ),
        ("{{% kbd Ctrl+C /%}}", &[r#"kbd ["Ctrl+C"] {} -"#]),
        (r#"{{% a x="50%}}" %}}"#, &[r#"a [] {"x":"50%}}"} -"#]),
        (
            "{{% a %}}{{< b >}}in{{< /b >}}{{% /a %}}",
            &[r#"a [] {} "{{< b >}}in{{< /b >}}""#, r#"b [] {} "in""#],
        ),
        // Tags pair by name whatever their form.
        ("{{% a %}}x{{< /a >}}", &[r#"a [] {} "x""#]),
    ];
    for (src, want) in table {
        assert_eq!(calls(src), *want, "{src}");
    }
    // A raw string never closed is a positioned error, not a mis-parse.
    let nodes = parse("x\n{{< note text=`open >}}");
    assert!(
        matches!(&nodes[1], Node::Error(e) if e.line == 2 && e.column == 1 && e.message.starts_with("a `raw` value is never closed")),
        "{nodes:?}"
    );
}

#[test]
fn code_follows_commonmark_and_escapes_are_unescaped_everywhere() {
    // A lone backtick does not pair with one in a later paragraph.
    assert_eq!(text("a ` b {{< m >}}\n\nc ` d"), "a ` b [m]\n\nc ` d");
    // Within one paragraph it does (a code span may span a line break).
    assert_eq!(text("a `b\n{{< m >}}` c"), "a `b\n{{< m >}}` c");
    // Indented code after a blank line is code; a list's continuation is not.
    assert_eq!(text("para\n\n    {{< m >}}\n"), "para\n\n    {{< m >}}\n");
    assert_eq!(text("para\n    {{< m >}}\n"), "para\n    [m]\n");
    assert_eq!(text("- item\n\n    {{< m >}}\n"), "- item\n\n    [m]\n");
    assert_eq!(text("\tx = 1\n\n{{< m >}}"), "\tx = 1\n\n[m]");
    // Escapes in code show the tag they quote, as Hugo does; outside code too.
    assert_eq!(text("`{{</* youtube x */>}}`"), "`{{< youtube x >}}`");
    assert_eq!(
        text("```\n{{</* a */>}} {{%/* b */%}}\n```\n"),
        "```\n{{< a >}} {{% b %}}\n```\n"
    );
    assert_eq!(text("    {{</* a */>}}\n"), "    {{< a >}}\n");
    assert_eq!(text("{{</* a */>}}"), "{{< a >}}");
}

#[test]
fn markdown_form() {
    let nodes = parse("{{% details x %}}\n*a*\n{{% /details %}} {{< details >}}b{{< /details >}}");
    assert!(call(&nodes[0]).markdown);
    assert!(!call(&nodes[2]).markdown);
    // A `>}}` does not end a `{{%` tag, and `%}}` does not end a `{{<` one.
    assert_eq!(calls("{{% a b>}}c %}}"), [r#"a ["b>}}c"] {} -"#]);
    assert_eq!(calls("{{< a b%}}c >}}"), [r#"a ["b%}}c"] {} -"#]);
    // Errors name the form that was written.
    assert_eq!(text("{{% a"), "[error: `{{%` is never closed with `%}}`] a");
    assert_eq!(
        text("{{% /a x %}}"),
        "[error: a closing tag takes no arguments: {{% /a %}}]"
    );
    assert_eq!(
        text("{{% /a %}}"),
        "[error: `{{% /a %}}` closes a macro that was never opened]"
    );
    assert_eq!(text("{{%/* a */%}}"), "{{% a %}}");
    assert_eq!(
        text("{{%/* a %}}"),
        "[error: escaped macro `{{%/*` is never closed with `*/%}}`]/* a %}}"
    );
}
