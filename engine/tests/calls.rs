//! What a macro knows about its call (`context["call"]`) and what the engine checks before it
//! runs (declared parameters), through the real engine.

mod common;

use bds_engine::{Project, Severity};
use serde_json::{Value, json};

fn project(scripts: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
    common::project(2, scripts)
}

fn expand(p: &Project, content: &str) -> bds_engine::Expansion {
    p.expand(content, &json!({"title": "T"}), &json!({}))
        .unwrap()
}

/// Prints its call metadata as JSON (sorted keys), and its inner content after it.
const SHOW: &str = "import json\ndef render(c):\n    return {'html': '<i>' + json.dumps(c['call'], sort_keys=True) + '</i>' + (c['inner'] or '')}\n";

#[test]
fn call_metadata_gives_name_ordinal_index_position_and_parent() {
    let (_d, p) = project(&[("tabs", SHOW), ("tab", SHOW)]);
    let doc = "{{< tab first >}}\n{{< tabs id=t1 >}}{{< tab a >}}{{< tab b k=1 >}}{{< /tabs >}}";
    let out = expand(&p, doc);
    assert_eq!(out.diagnostics, []);
    // The HTML holds each call's metadata in document order; parse it back.
    let found: Vec<Value> = out
        .html
        .split("<i>")
        .skip(1)
        .map(|part| serde_json::from_str(part.split("</i>").next().unwrap()).unwrap())
        .collect();
    let tabs = json!({"name": "tabs", "params": {"id": "t1"}, "args": []});
    assert_eq!(
        found,
        [
            json!({"name": "tab", "ordinal": 0, "index": 0, "line": 1, "column": 1, "parent": null}),
            json!({"name": "tabs", "ordinal": 0, "index": 1, "line": 2, "column": 1, "parent": null}),
            json!({"name": "tab", "ordinal": 1, "index": 2, "line": 2, "column": 19, "parent": tabs}),
            json!({"name": "tab", "ordinal": 2, "index": 3, "line": 2, "column": 32, "parent": tabs}),
        ]
    );
}

#[test]
fn call_metadata_is_read_only() {
    let (_d, p) = project(&[(
        "poke",
        "def render(c):\n    c['call']['ordinal'] = 9\n    return {'html': ''}\n",
    )]);
    let out = expand(&p, "{{< poke >}}");
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(
        out.diagnostics[0].message,
        "TypeError: context['call'] is shared, read-only data: cannot set the key 'ordinal' of \
         it; take a copy to change it, e.g. dict(context['call']) or copy.deepcopy(context['call']) (line 2)"
    );
}

#[test]
fn the_cache_keys_on_call_metadata_only_when_a_macro_reads_it() {
    let numbered = "def render(c):\n    return {'html': '%d.' % (c['call']['ordinal'] + 1)}\n";
    let plain = "def render(c):\n    return {'html': c['args'][0]}\n";
    let (_d, p) = project(&[("num", numbered), ("plain", plain)]);
    let first = expand(&p, "{{< plain x >}} {{< num >}} {{< num >}}");
    assert_eq!(first.html, "x 1. 2.");
    assert_eq!(first.cache_hits, 0);
    // Moved down a line and reordered: `plain` did not read its call, so its result is reused
    // although its line changed; each `num` is reused where its ordinal is unchanged.
    let moved = expand(&p, "\n{{< num >}} {{< plain x >}} {{< num >}}");
    assert_eq!(moved.html, "\n1. x 2.");
    assert_eq!(moved.cache_hits, 3);
    // A third `num` has an ordinal never seen: it runs.
    let more = expand(&p, "{{< num >}} {{< num >}} {{< num >}}");
    assert_eq!(more.html, "1. 2. 3.");
    assert_eq!(more.cache_hits, 2);
}

const EMBED: &str = "# ---\n# title: Embed\n# kind: macro\n# params:\n#   id: str, required, position 0 -- the video\n#   start: int, optional -- seconds\n#   size: [small, large], default small\n#   ratio: float, default 1.5\n#   autoplay: bool, default false\n# ---\nimport html, json\ndef render(c):\n    return {'html': html.escape(json.dumps([c['params'], c['args']], sort_keys=True))}\n";

#[test]
fn declared_parameters_are_checked_converted_and_defaulted_before_the_script_runs() {
    let (_d, p) = project(&[("embed", EMBED)]);
    let ok = expand(
        &p,
        r#"{{< embed abc start="42" ratio=2 autoplay="true" >}}"#,
    );
    assert_eq!(ok.diagnostics, []);
    let shown: Value =
        serde_json::from_str(&ok.html.replace("&quot;", "\"").replace("&amp;", "&")).unwrap();
    assert_eq!(
        shown,
        json!([
            {"id": "abc", "start": 42, "size": "small", "ratio": 2.0, "autoplay": true},
            ["abc"]
        ])
    );

    let bad = expand(
        &p,
        "text\n    {{< embed start=soon size=huge >}} and {{< embed x id=y >}}",
    );
    let got: Vec<(u32, u32, &str, Severity, &str)> = bad
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.line,
                d.column,
                d.kind.as_str(),
                d.severity,
                d.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                2,
                5,
                "invalid-params",
                Severity::Error,
                r#"id is required; start must be an int, not "soon"; size must be one of small, large, not "huge""#
            ),
            (
                2,
                44,
                "invalid-params",
                Severity::Error,
                r#"id is given twice: as the 1st positional argument ("x") and as id="y""#
            ),
        ]
    );
    // The script never ran: its place holds the escaped error marker.
    assert!(bad.html.starts_with(
        "text\n    <span class=\"bds-macro-error\" data-macro=\"embed\">embed: id is required; start must be an int, not &quot;soon&quot;;"
    ));
}

#[test]
fn undeclared_parameters_pass_with_a_warning() {
    let (_d, p) = project(&[("embed", EMBED)]);
    let out = expand(&p, "{{< embed abc colour=red extra >}}");
    assert!(out.html.contains("colour"), "{}", out.html);
    let got: Vec<(Severity, &str)> = out
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.message.as_str()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|(s, _)| *s == Severity::Warning));
    assert_eq!(
        p.store().get("embed").unwrap().params.unwrap().len(),
        5,
        "the declarations are in the index"
    );
}
