//! Shared data (`post`, `site` by reference), against the real worker and guest: read-only
//! with a clear error, never changed for another call, reads recorded, re-sent when a worker
//! dropped it, refused over the cap.

mod common;

use bds_engine::{CallOptions, ErrorKind, Pool, PoolConfig, Read, Script, SharedValue};
use serde_json::{Value, json};

fn shared(post: Value, site: Value) -> Vec<(String, SharedValue)> {
    vec![
        ("post".to_owned(), SharedValue::new(&post).unwrap()),
        ("site".to_owned(), SharedValue::new(&site).unwrap()),
    ]
}

fn own() -> Value {
    json!({"abi": 1, "params": {}, "args": [], "inner": null})
}

fn read(root: &str, key: Option<&str>) -> Read {
    Read {
        root: root.into(),
        key: key.map(str::to_owned),
    }
}

const MUTATE: &str = r#"
def render(c):
    tags = c["site"]["posts"][0]["tags"]
    try:
        tags.append("hacked")
    except TypeError as e:
        first = str(e)
    else:
        first = "no error"
    try:
        c["site"]["title"] = "hacked"
    except TypeError as e:
        second = str(e)
    return {"html": first, "second": second, "tags": list(tags), "title": c["site"]["title"]}
"#;

const LOOK: &str = r#"
def render(c):
    return {"html": c["site"]["title"], "tags": list(c["site"]["posts"][0]["tags"])}
"#;

#[test]
fn writing_into_shared_data_raises_a_type_error_naming_the_path_and_changes_nothing() {
    let pool = Pool::new(PoolConfig::default().workers(1)).unwrap();
    let s = shared(
        json!({"title": "P"}),
        json!({"title": "Blog", "posts": [{"slug": "a", "tags": ["x"]}]}),
    );
    let mutate = Script::new("mutate.py", MUTATE);
    let opts = CallOptions::default();
    let out = pool.call_shared(&mutate, &own(), &s, &opts).unwrap();
    assert_eq!(
        out.value["html"],
        "context['site']['posts'][0]['tags'] is shared, read-only data: cannot append to it; \
         take a copy to change it, e.g. list(context['site']['posts'][0]['tags']) or \
         copy.deepcopy(context['site']['posts'][0]['tags'])"
    );
    assert_eq!(
        out.value["second"],
        "context['site'] is shared, read-only data: cannot set the key 'title' of it; take a \
         copy to change it, e.g. dict(context['site']) or copy.deepcopy(context['site'])"
    );
    // The same script on the same (only) worker, then another script: both see the original.
    let again = pool.call_shared(&mutate, &own(), &s, &opts).unwrap();
    assert_eq!(again.value["tags"], json!(["x"]));
    assert_eq!(again.value["title"], "Blog");
    let other = pool
        .call_shared(&Script::new("look.py", LOOK), &own(), &s, &opts)
        .unwrap();
    assert_eq!(
        other.value,
        json!({"html": "Blog", "tags": ["x"]})
            .as_object()
            .unwrap()
            .clone()
    );
}

#[test]
fn copies_are_plain_and_writable() {
    let pool = common::pool(1);
    let s = shared(json!({"title": "P", "tags": ["a"]}), json!({}));
    let src = r#"
import copy
def render(c):
    top = dict(c["post"]); top["title"] = "changed"
    deep = copy.deepcopy(c["post"]); deep["tags"].append("b")
    return {"html": "", "top": top["title"], "deep": deep["tags"], "kinds": [type(top).__name__, type(deep["tags"]).__name__],
            "still": c["post"]["title"], "isdict": isinstance(c["post"], dict)}
"#;
    let out = pool
        .call_shared(
            &Script::new("copy.py", src),
            &own(),
            &s,
            &CallOptions::default(),
        )
        .unwrap();
    assert_eq!(out.value["top"], "changed");
    assert_eq!(out.value["deep"], json!(["a", "b"]));
    assert_eq!(out.value["kinds"], json!(["dict", "list"]));
    assert_eq!(out.value["still"], "P");
    assert_eq!(out.value["isdict"], true);
}

#[test]
fn each_call_reports_what_it_read_and_only_that() {
    let pool = common::pool(1);
    let s = shared(
        json!({"title": "P", "content": "body"}),
        json!({"title": "S", "posts": []}),
    );
    let cases: [(&str, Vec<Read>); 5] = [
        ("return {'html': ''}", vec![]),
        (
            "return {'html': c['post']['title']}",
            vec![read("post", Some("title"))],
        ),
        (
            "return {'html': str(c['site'].get('missing')) + str('posts' in c['site'])}",
            vec![read("site", Some("missing")), read("site", Some("posts"))],
        ),
        (
            "return {'html': str(len(c['post']))}",
            vec![read("post", None)],
        ),
        (
            "import json\n    return {'html': json.dumps(c['site'])}",
            vec![read("site", None)],
        ),
    ];
    for (body, want) in cases {
        let src = format!("def render(c):\n    {body}\n");
        let out = pool
            .call_shared(
                &Script::new("r.py", src.as_str()),
                &own(),
                &s,
                &CallOptions::default(),
            )
            .unwrap();
        assert_eq!(out.reads, want, "{body}");
    }
}

/// The reads of a key (`[]`, `get`, `in`) answer as `dict` does and record what they read,
/// whichever guest runs them (the CPython guest's are native, RustPython's are `shared.py`'s);
/// their errors are CPython's, with `shared.py`'s own message for a `get()` without a key.
#[test]
fn reading_a_key_answers_as_dict_does() {
    let pool = common::pool(1);
    let s = shared(json!({"title": "P", "n": 0}), json!({}));
    let run = |body: &str| {
        let src = format!("def render(c):\n    p = c['post']\n    {body}\n");
        pool.call_shared(
            &Script::new("k.py", src.as_str()),
            &own(),
            &s,
            &CallOptions::default(),
        )
    };
    let out = run(
        "return {'a': p.get('title'), 'b': p.get('nope', 5), 'c': p.get('nope'), 'd': 'n' in p, \
         'e': 'x' in p, 'f': p['n'], 'g': p.get(1, 'int'), 'h': (1, 2) in p}",
    )
    .unwrap();
    assert_eq!(
        Value::Object(out.value),
        json!({"a": "P", "b": 5, "c": null, "d": true, "e": false, "f": 0, "g": "int", "h": false})
    );
    assert_eq!(
        out.reads,
        vec![
            read("post", None),
            read("post", Some("n")),
            read("post", Some("nope")),
            read("post", Some("title")),
            read("post", Some("x")),
        ]
    );
    for (body, exc, message) in [
        ("return {'v': p['nope']}", "KeyError", "'nope'"),
        (
            "return {'v': p[[1]]}",
            "TypeError",
            "unhashable type: 'list'",
        ),
        (
            "return {'v': p.get([1])}",
            "TypeError",
            "unhashable type: 'list'",
        ),
        (
            "return {'v': [1] in p}",
            "TypeError",
            "unhashable type: 'list'",
        ),
        (
            "return {'v': p.get()}",
            "TypeError",
            "SharedRoot.get() missing 1 required positional argument: 'key'",
        ),
        (
            "return {'v': p.get(1, 2, 3)}",
            "TypeError",
            "SharedRoot.get() takes from 2 to 3 positional arguments but 4 were given",
        ),
    ] {
        let e = run(body).unwrap_err();
        assert_eq!(
            (e.exc_type.as_str(), e.message.as_str()),
            (exc, message),
            "{body}"
        );
    }
}

#[test]
fn the_same_value_is_the_same_object_across_calls_of_a_script() {
    let pool = common::pool(1);
    let s = shared(json!({}), json!({"posts": [1, 2]}));
    let src = "seen = []\ndef render(c):\n    seen.append(c['site']['posts'])\n    return {'html': str(len(seen)), 'same': seen[0] is seen[-1]}\n";
    let script = Script::new("same.py", src);
    for _ in 0..3 {
        let out = pool
            .call_shared(&script, &own(), &s, &CallOptions::default())
            .unwrap();
        assert_eq!(out.value["same"], true);
    }
}

#[test]
fn a_worker_that_dropped_a_value_gets_it_again() {
    // 1 MiB of shared cache per worker; two sites of ~0.7 MiB cannot both stay.
    let pool = Pool::new(PoolConfig::default().workers(1).shared_cache_mib(1)).unwrap();
    let big = |tag: &str| json!({"title": tag, "pad": "x".repeat(700 << 10)});
    let a = shared(json!({}), big("A"));
    let b = shared(json!({}), big("B"));
    let script = Script::new(
        "t.py",
        "def render(c):\n    return {'html': c['site']['title']}\n",
    );
    for round in 0..3 {
        for (s, want) in [(&a, "A"), (&b, "B")] {
            let out = pool
                .call_shared(&script, &own(), s, &CallOptions::default())
                .unwrap_or_else(|e| panic!("round {round}: {e:?}"));
            assert_eq!(out.value["html"], want);
        }
    }
    // The batch path too: alternate the two sites within one batch.
    let items: Vec<bds_engine::SharedCall> = (0..6)
        .map(|i| bds_engine::SharedCall {
            script: script.clone(),
            context: own(),
            shared: if i % 2 == 0 { a.clone() } else { b.clone() },
        })
        .collect();
    let got: Vec<String> = pool
        .call_many_shared(&items, &CallOptions::default())
        .into_iter()
        .map(|r| r.unwrap().value["html"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, ["A", "B", "A", "B", "A", "B"]);
}

#[test]
fn a_value_over_the_cap_is_refused_before_anything_runs() {
    let huge = json!({"pad": "x".repeat(bds_engine::MAX_SHARED_BYTES)});
    let e = SharedValue::new(&huge).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "is {} bytes of JSON, over the 67108864-byte limit for shared data (64 MiB)",
            bds_engine::MAX_SHARED_BYTES + 10
        )
    );
    assert_eq!(
        SharedValue::new(&json!([1])).unwrap_err().to_string(),
        "must be a JSON object"
    );
}

#[test]
fn a_script_cannot_reach_a_value_its_call_does_not_name() {
    let pool = common::pool(1);
    // Another script's call leaves its post in the (only) worker's shared cache.
    let theirs = shared(json!({"secret": "theirs"}), json!({}));
    let victim = Script::new(
        "victim.py",
        "def render(c):\n    return {'html': c['post']['secret']}\n",
    );
    pool.call_shared(&victim, &own(), &theirs, &CallOptions::default())
        .unwrap();
    // A script that knows that value's hash forges a root for it and asks the worker to fill it
    // through the guest's own loader, reached from a shared root's method globals (`keys` is
    // Python in both guests; the CPython guest's `__getitem__` is native and has none).
    let hash: String = theirs[0]
        .1
        .hash()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let src = "def render(c):\n    root = type(c['post'])()\n    root._name = 'post'\n    root._key = c['params']['hash']\n    root._pending = True\n    fill = type(c['post']).keys.__globals__['_fill']\n    fill(root)\n    return {'html': dict.get(root, 'secret', 'nothing')}\n";
    let thief = Script::new("steal.py", src);
    let mine = shared(json!({"secret": "mine"}), json!({}));
    let e = pool
        .call_shared(
            &thief,
            &json!({"abi": 1, "params": {"hash": hash}, "args": [], "inner": null}),
            &mine,
            &CallOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Runtime);
    assert_eq!(e.exc_type, "RuntimeError");
    assert_eq!(
        e.message,
        "context['post'] belongs to an earlier call and is no longer available (keep a copy, not the shared value, between calls)"
    );
}
