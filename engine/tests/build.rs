//! The dependency-aware result cache and whole-site builds, through the real engine.
//!
//! Every "re-ran" below is counted by the script itself (a `# pure: false` counter script is
//! not involved: the counted scripts are pure and count calls in a module global, which is
//! exactly what a re-run increments).

mod common;

use bds_engine::{BuildEvent, BuildOptions, DocOutput, Document, Project};
use serde_json::{Value, json};

/// Returns the title, counting its own runs (in the html, after a `#`).
const TITLE: &str = "n = 0\ndef render(c):\n    global n\n    n += 1\n    return {'html': c['post']['title'] + '#' + str(n)}\n";
/// Reads nothing shared.
const PLAIN: &str = "n = 0\ndef render(c):\n    global n\n    n += 1\n    return {'html': str(c['args'][0]) + '#' + str(n)}\n";
/// Reads the site's posts (looks one up).
const LINK: &str = "n = 0\ndef render(c):\n    global n\n    n += 1\n    hit = [p for p in c['site']['posts'] if p['slug'] == c['args'][0]]\n    return {'html': (hit[0]['title'] if hit else '?') + '#' + str(n)}\n";
/// Reads the post's body.
const WHOLE: &str = "n = 0\ndef render(c):\n    global n\n    n += 1\n    return {'html': str(len(c['post']['content'])) + '#' + str(n)}\n";
const IMPURE: &str = "# ---\n# pure: false\n# ---\nn = 0\ndef render(c):\n    global n\n    n += 1\n    return {'html': 'i#' + str(n)}\n";

/// One worker: a script's run counter is then one number.
fn project(scripts: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
    common::project(1, scripts)
}

fn site(titles: &[(&str, &str)]) -> Value {
    json!({"title": "Blog", "posts": titles.iter().map(|(s, t)| json!({"slug": s, "title": t})).collect::<Vec<_>>()})
}

#[test]
fn only_calls_whose_reads_changed_run_again() {
    let (_d, p) = project(&[
        ("title", TITLE),
        ("plain", PLAIN),
        ("link", LINK),
        ("whole", WHOLE),
    ]);
    let text = "{{< title >}} {{< plain x >}} {{< link a >}} {{< whole >}}";
    let s1 = site(&[("a", "Post A")]);
    let post = json!({"title": "T", "content": "body"});
    let first = p.expand(text, &post, &s1).unwrap();
    assert_eq!(first.html, "T#1 x#1 Post A#1 4#1");
    assert_eq!(first.cache_hits, 0);
    // Same inputs: everything from the cache.
    let again = p.expand(text, &post, &s1).unwrap();
    assert_eq!(
        (again.html.as_str(), again.cache_hits),
        ("T#1 x#1 Post A#1 4#1", 4)
    );
    // The body changes: only the call that read post.content runs.
    let edited = json!({"title": "T", "content": "longer body"});
    let out = p.expand(text, &edited, &s1).unwrap();
    assert_eq!(out.html, "T#1 x#1 Post A#1 11#2");
    // The title changes: only the call that read post.title runs.
    let retitled = json!({"title": "U", "content": "longer body"});
    let out = p.expand(text, &retitled, &s1).unwrap();
    assert_eq!(out.html, "U#2 x#1 Post A#1 11#2");
    // A post is added to the site: only the call that read site.posts runs.
    let s2 = site(&[("a", "Post A"), ("b", "Post B")]);
    let out = p.expand(text, &retitled, &s2).unwrap();
    assert_eq!(out.html, "U#2 x#1 Post A#2 11#2");
    // The site's title changes: nothing read it.
    let mut s3 = s2.clone();
    s3["title"] = json!("Another blog");
    let out = p.expand(text, &retitled, &s3).unwrap();
    assert_eq!(
        (out.html.as_str(), out.cache_hits),
        ("U#2 x#1 Post A#2 11#2", 4)
    );
    // Back to an earlier state: its results are still cached.
    let out = p.expand(text, &post, &s1).unwrap();
    assert_eq!(
        (out.html.as_str(), out.cache_hits),
        ("T#1 x#1 Post A#1 4#1", 4)
    );
}

#[test]
fn impure_scripts_always_run() {
    let (_d, p) = project(&[("impure", IMPURE)]);
    let a = p.expand("{{< impure >}}", &json!({}), &json!({})).unwrap();
    let b = p.expand("{{< impure >}}", &json!({}), &json!({})).unwrap();
    assert_eq!(
        (a.html.as_str(), b.html.as_str(), b.cache_hits),
        ("i#1", "i#2", 0)
    );
}

/// A tiny deterministic generator for the randomised test.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Pure versions (no run counters): the HTML must not depend on whether the cache answered.
const P_TITLE: &str = "def render(c):\n    return {'html': c['post'].get('title', '-')}\n";
const P_LINK: &str = "def render(c):\n    hit = [p for p in c['site'].get('posts', []) if p['slug'] == c['args'][0]]\n    return {'html': hit[0]['title'] if hit else '?'}\n";
const P_META: &str = "def render(c):\n    m = c['site'].get('meta') or {}\n    return {'html': str(m.get(c['params'].get('k', 'x'), ''))}\n";
const P_KEYS: &str = "def render(c):\n    return {'html': ','.join(sorted(c['post']))}\n";
const P_INNER: &str =
    "def render(c):\n    return {'html': '[' + (c['inner'] or '') + str(len(c['site'])) + ']'}\n";

#[test]
fn randomised_edits_give_the_same_html_with_and_without_the_cache() {
    let scripts = [
        ("title", P_TITLE),
        ("link", P_LINK),
        ("meta", P_META),
        ("keys", P_KEYS),
        ("wrap", P_INNER),
    ];
    let (_d1, cached) = project(&scripts);
    let (_d2, fresh) = project(&scripts);
    let fresh = fresh.with_result_cache(false);
    let text = "{{< title >}}|{{< link a >}}|{{< link b >}}|{{< meta k=x >}}|{{< keys >}}|{{< wrap >}}{{< title >}}{{< /wrap >}}";
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut post = json!({"title": "T", "content": "c"});
    let mut site = json!({"posts": [{"slug": "a", "title": "A"}], "meta": {"x": 1}});
    let mut hits = 0;
    for step in 0..60 {
        match rng.below(7) {
            0 => post["title"] = json!(format!("T{}", rng.below(3))),
            1 => post["content"] = json!(format!("c{}", rng.below(3))),
            2 => {
                let m = post.as_object_mut().unwrap();
                if m.remove("extra").is_none() {
                    m.insert("extra".into(), json!(1));
                }
            }
            3 => {
                let slug = ["a", "b", "c"][rng.below(3)];
                site["posts"] = json!([{"slug": slug, "title": format!("{slug}{}", rng.below(2))}]);
            }
            4 => site["meta"] = json!({"x": rng.below(3)}),
            5 => {
                let m = site.as_object_mut().unwrap();
                if m.remove("other").is_none() {
                    m.insert("other".into(), json!(true));
                }
            }
            _ => {}
        }
        let with = cached.expand(text, &post, &site).unwrap();
        let without = fresh.expand(text, &post, &site).unwrap();
        assert_eq!(
            with.html, without.html,
            "step {step}: post {post} site {site}"
        );
        assert!(with.diagnostics.is_empty(), "{:?}", with.diagnostics);
        assert_eq!(without.cache_hits, 0);
        hits += with.cache_hits;
    }
    assert!(
        hits > 60,
        "the cache answered only {hits} calls: the test would prove little"
    );
}

fn docs(n: usize, body: impl Fn(usize) -> String) -> Vec<Document> {
    (0..n)
        .map(|i| Document {
            id: format!("posts/p{i}.md"),
            content: body(i),
            post: json!({"title": format!("P{i}"), "slug": format!("p{i}")}),
        })
        .collect()
}

fn build(p: &Project, d: &[Document], site: &Value) -> (Vec<DocOutput>, bds_engine::BuildSummary) {
    let mut out = Vec::new();
    let mut progress = Vec::new();
    let opts = BuildOptions {
        chunk: 4,
        ..BuildOptions::default()
    };
    let summary = p
        .build(d, site, &opts, &mut |e| match e {
            BuildEvent::Doc(doc) => out.push(doc.clone()),
            BuildEvent::Progress { done, total } => progress.push((done, total)),
        })
        .unwrap();
    assert_eq!(progress.last(), Some(&(d.len(), d.len())));
    (out, summary)
}

#[test]
fn a_build_reuses_unchanged_posts_and_rerenders_exactly_the_users_of_an_edited_macro() {
    let (_d, p) = project(&[("title", P_TITLE), ("plain", PLAIN)]);
    // Every third post calls `plain`; all call `title`.
    let d = docs(10, |i| {
        if i % 3 == 0 {
            "{{< title >}} {{< plain x >}}".to_owned()
        } else {
            "{{< title >}}".to_owned()
        }
    });
    let s = json!({"posts": []});
    let (out, sum) = build(&p, &d, &s);
    assert_eq!(
        (sum.posts, sum.rendered, sum.reused, sum.calls),
        (10, 10, 0, 14)
    );
    assert_eq!(out[0].html, "P0 x#1");
    assert_eq!(
        out.iter().map(|o| o.id.as_str()).collect::<Vec<_>>()[..2],
        ["posts/p0.md", "posts/p1.md"]
    );
    // Nothing changed: every post reused.
    let (_, sum) = build(&p, &d, &s);
    assert_eq!((sum.rendered, sum.reused), (0, 10));
    // Where `plain` is used, from the index.
    let used: Vec<String> = p
        .store()
        .usages("plain")
        .unwrap()
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    assert_eq!(
        used,
        ["posts/p0.md", "posts/p3.md", "posts/p6.md", "posts/p9.md"]
    );
    // Edit `plain`: exactly its four posts render again.
    let entry = p.store().get("plain").unwrap();
    p.store()
        .update(
            "plain",
            &PLAIN.replace("'#'", "'@'"),
            Some(&entry.content_hash),
        )
        .unwrap();
    let (out, sum) = build(&p, &d, &s);
    assert_eq!((sum.rendered, sum.reused), (4, 6));
    assert_eq!(out[3].html, "P3 x@2");
    assert!(!out[3].reused && out[4].reused);
    // Edit one post's body: only that post.
    let mut d2 = d.clone();
    d2[5].content = "{{< title >}}!".into();
    let (out, sum) = build(&p, &d2, &s);
    assert_eq!((sum.rendered, sum.reused), (1, 9));
    assert_eq!(out[5].html, "P5!");
    // A post leaves the site: its usages go with it.
    let (_, sum) = build(&p, &d2[1..], &s);
    assert_eq!(sum.forgotten, 1);
    let used = p.store().usages("plain").unwrap();
    assert_eq!(used.len(), 3);
}

#[test]
fn a_failing_macro_in_one_post_does_not_stop_the_others() {
    let fail = "def render(c):\n    raise ValueError('no')\n";
    let (_d, p) = project(&[("title", P_TITLE), ("fail", fail)]);
    let d = docs(3, |i| {
        if i == 1 {
            "{{< fail >}}".into()
        } else {
            "{{< title >}}".into()
        }
    });
    let (out, sum) = build(&p, &d, &json!({}));
    assert_eq!(out[0].html, "P0");
    assert_eq!(out[2].html, "P2");
    assert_eq!(out[1].diagnostics.len(), 1);
    assert_eq!(out[1].diagnostics[0].kind, "runtime");
    assert_eq!(out[1].diagnostics[0].document, 1);
    assert_eq!((sum.posts_with_diagnostics, sum.diagnostics), (1, 1));
    // A post with a script error is not stored as final: it renders again next time.
    let (_, sum) = build(&p, &d, &json!({}));
    assert_eq!((sum.rendered, sum.reused), (1, 2));
}

#[test]
fn editing_a_utility_rerenders_exactly_the_posts_of_the_macros_that_import_it() {
    let helpers = "# ---\n# kind: utility\n# ---\nMARK = '#'\n";
    let uses =
        "import helpers\ndef render(c):\n    return {'html': helpers.MARK + str(c['args'][0])}\n";
    let (_d, p) = project(&[("helpers", helpers), ("uses", uses), ("plain", PLAIN)]);
    // Posts 0, 2, 4 call `uses`; every post calls `plain`.
    let d = docs(6, |i| {
        if i % 2 == 0 {
            format!("{{{{< uses {i} >}}}} {{{{< plain y >}}}}")
        } else {
            "{{< plain y >}}".to_owned()
        }
    });
    let s = json!({"posts": []});
    let (out, sum) = build(&p, &d, &s);
    assert_eq!((sum.rendered, sum.reused), (6, 0));
    assert!(out[2].html.starts_with("#2 y#"), "{}", out[2].html);
    let entry = p.store().get("helpers").unwrap();
    p.store()
        .update(
            "helpers",
            &helpers.replace("'#'", "'>'"),
            Some(&entry.content_hash),
        )
        .unwrap();
    let (out, sum) = build(&p, &d, &s);
    assert_eq!(
        (sum.rendered, sum.reused),
        (3, 3),
        "only the importers' posts"
    );
    assert!(out[2].html.starts_with(">2 y#"), "{}", out[2].html);
    assert_eq!(out[2].cache_hits, 1, "`plain` came from the result cache");
    assert!(out[1].reused && !out[2].reused);
}
