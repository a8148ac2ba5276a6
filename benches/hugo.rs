//! `cargo bench -p bds-benches --bench hugo` (part of `make bench`): a post of 100 mixed calls,
//! half of them in Hugo's Markdown form `{{% %}}`, beside the same post written with `{{< >}}`
//! only, measured in the same run.
//!
//! - parse: `bds_engine::parse` of the post;
//! - Markdown: rendering the inner content of the 50 paired calls (what `{{% %}}` adds in the
//!   engine);
//! - expand: the whole post through the engine, the result cache off so every call runs (the
//!   paired macros render their content as Markdown in the guest in both forms).
//!
//! `BDS_BENCH_QUICK=1` runs fewer repetitions.

use bds_benches::{fmt, open_project, sample};
use serde_json::json;

/// The post: 25 `kbd`, 25 `abbr`, 25 paired `callout`, 25 paired `details`, in paragraphs;
/// `percent` writes the paired ones as `{{% %}}`.
fn post(percent: bool) -> (String, Vec<String>) {
    let (open, close) = if percent {
        ("{{%", "%}}")
    } else {
        ("{{<", ">}}")
    };
    let mut s = String::from("# A long page\n\n");
    let mut inners = Vec::new();
    for i in 0..25 {
        let inner = format!(
            "\nStep {i}: press **Enter**, then run `make test`.\n\n- one [link](/docs/{i}/)\n- two *items*\n"
        );
        s.push_str(&format!(
            "Press {{{{< kbd Ctrl+{i} >}}}} to save; {{{{< abbr HTML \"HyperText Markup Language\" >}}}} is fine.\n\n"
        ));
        s.push_str(&format!(
            "{open} callout tip {close}{inner}{open} /callout {close}\n\n"
        ));
        s.push_str(&format!(
            "{open} details \"More on step {i}\" {close}{inner}{open} /details {close}\n\n"
        ));
        inners.push(inner.clone());
        inners.push(inner);
    }
    (s, inners)
}

fn main() {
    let quick = std::env::var_os("BDS_BENCH_QUICK").is_some();
    let (warmup, n) = if quick { (2, 10) } else { (5, 60) };
    let dir = tempfile::tempdir().expect("tempdir");
    let project = open_project(dir.path(), 2).with_result_cache(false);
    let meta = json!({"title": "A long page", "slug": "long"});
    let site = json!({"title": "Site"});

    println!("# Hugo's Markdown form: a post of 100 calls (50 paired)\n");
    println!("| post | parse p50 | Markdown of the 50 inners p50 | expand p50 | expand p95 |");
    println!("|---|---|---|---|---|");
    for percent in [false, true] {
        let (content, inners) = post(percent);
        let out = project.expand(&content, &meta, &site).expect("expands");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let parse = sample(warmup, n, || {
            std::hint::black_box(bds_engine::parse(&content));
        });
        let markdown = sample(warmup, n, || {
            for inner in &inners {
                std::hint::black_box(bds_ipc::markdown_to_html(inner, false));
            }
        });
        let expand = sample(warmup, n, || {
            std::hint::black_box(project.expand(&content, &meta, &site).expect("expands"));
        });
        println!(
            "| {} | {} | {} | {} | {} |",
            if percent {
                "mixed: 50 `{{% %}}`"
            } else {
                "today's: `{{< >}}` only"
            },
            fmt(parse.p50),
            if percent {
                fmt(markdown.p50)
            } else {
                "(none)".into()
            },
            fmt(expand.p50),
            fmt(expand.p95),
        );
    }
}
