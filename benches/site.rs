//! `cargo bench -p bds-benches --bench site` (part of `make bench`): rendering at site scale.
//!
//! 1. One post of 600 macro calls (200 `ref`, 200 `kbd`, 200 `badge`) against synthetic sites
//!    of 100, 2,000 and 10,000 posts: wall time (median of runs, the result cache off so every
//!    call runs) and this process's peak RSS so far; beside it, in the same run, the old path
//!    (the full `post` and `site` copied into every call's context) where it still finishes.
//! 2. A whole-site build of 2,000 posts × ~20 calls against the 2,000-post site: cold (empty
//!    cache), all cached, after editing a macro used by ~10% of the posts, after editing one
//!    post's body.
//!
//! `BDS_BENCH_QUICK=1` runs fewer repetitions.

use std::time::{Duration, Instant};

use bds_benches::{
    fmt, open_project, peak_rss_self, post_of_calls, synthetic_post, synthetic_site,
};
use bds_engine::{BuildOptions, CallOptions, Document, Pool, Project, Script};
use serde_json::{Value, json};

fn runs() -> usize {
    if std::env::var_os("BDS_BENCH_QUICK").is_some() {
        1
    } else {
        5
    }
}

fn mb(b: Option<u64>) -> String {
    b.map_or("?".into(), |b| format!("{} MB", b / 1_000_000))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The old design: every call's context holds the post and the whole site, by value.
fn by_value(pool: &Pool, project: &Project, content: &str, post: &Value, site: &Value) -> usize {
    let calls = bds_engine::parse(content);
    let mut items = Vec::new();
    for node in calls {
        if let bds_engine::Node::Macro(m) = node {
            let source = project.store().read(&m.name).expect("bundled macro");
            let script = Script::new(format!("{}.py", m.name), source);
            let context = json!({"abi": 1, "params": m.params, "args": m.args, "inner": null,
                                 "post": post, "site": site});
            items.push((script, context));
        }
    }
    let results = pool.call_many(&items, &CallOptions::default());
    results.iter().filter(|r| r.is_err()).count()
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("# bds-script site-scale benchmarks\n");
    println!("machine: {cores} cores; workers: {}\n", cores.min(4));

    // 1. One post of 600 calls against growing sites: this engine first (sizes growing, so
    // the peak RSS so far is the peak at that size), then the old path.
    println!("## One post of 600 calls (200 ref, 200 kbd, 200 badge), result cache off\n");
    println!(
        "| site posts | site.json | first run (site new to the workers) | p50 of the next {} | peak RSS of the engine process | old path: by value, p50 |",
        runs()
    );
    println!("|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().expect("tempdir");
    let project = open_project(dir.path(), cores.min(4)).with_result_cache(false);
    let pool = project.pool().clone();
    let post = json!({"title": "A long post", "slug": "long"});
    let mut rows = Vec::new();
    for n in [100usize, 2_000, 10_000] {
        let site = synthetic_site(n);
        let size = serde_json::to_vec(&site).map_or(0, |v| v.len());
        let content = post_of_calls(600, n);
        let mut shared = Vec::new();
        for _ in 0..runs() + 1 {
            let t = Instant::now();
            let out = project.expand(&content, &post, &site).expect("expands");
            shared.push(t.elapsed());
            assert_eq!(out.calls, 600);
            assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics.first());
        }
        let first = shared.remove(0);
        rows.push((
            n,
            size,
            site,
            content,
            first,
            median(shared),
            peak_rss_self(),
        ));
    }
    for (n, size, site, content, first, p50, rss) in &rows {
        // The old path where it still finishes (600 copies of a 2.5 MB site would not).
        let old = if *size < 1 << 20 {
            let mut v = Vec::new();
            for _ in 0..runs().min(3) {
                let t = Instant::now();
                let failed = by_value(&pool, &project, content, &post, site);
                v.push(t.elapsed());
                assert_eq!(failed, 0);
            }
            let m = median(v);
            format!(
                "{} ({:.0}× slower; peak RSS then {})",
                fmt(m),
                m.as_secs_f64() / p50.as_secs_f64(),
                mb(peak_rss_self())
            )
        } else {
            "not run (600 copies of the site)".into()
        };
        println!(
            "| {n} | {:.2} MB | {} | {} | {} | {old} |",
            *size as f64 / 1e6,
            fmt(*first),
            fmt(*p50),
            mb(*rss)
        );
    }
    let times: Vec<Duration> = rows.iter().map(|r| r.5).collect();
    println!(
        "\n10,000-post site / 100-post site: {:.2}× (target ≤ 1.25×)\n",
        times[2].as_secs_f64() / times[0].as_secs_f64()
    );
    drop(project);

    // 2. A whole-site build.
    let n = 2_000;
    println!("## `Project::build` of {n} posts × ~20 calls against the {n}-post site\n");
    println!("| build | wall time | posts rendered | posts reused | calls | from the cache |");
    println!("|---|---|---|---|---|---|");
    let site = synthetic_site(n);
    let docs: Vec<Document> = (0..n)
        .map(|i| Document {
            id: format!("posts/post-{i}.md"),
            content: synthetic_post(i, n),
            post: json!({"title": format!("Post number {i}"), "slug": format!("post-{i}")}),
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let project = open_project(dir.path(), cores.min(4));
    let build = |label: &str, docs: &[Document]| {
        let t = Instant::now();
        let s = project
            .build(docs, &site, &BuildOptions::default(), &mut |_| {})
            .expect("builds");
        let took = t.elapsed();
        assert_eq!(s.diagnostics, 0);
        println!(
            "| {label} | {} | {} | {} | {} | {} |",
            fmt(took),
            s.rendered,
            s.reused,
            s.calls,
            s.cache_hits
        );
    };
    build("cold (empty cache)", &docs);
    build("all cached", &docs);
    let abbr = project.store().get("abbr").expect("abbr");
    let source = project.store().read("abbr").expect("abbr");
    project
        .store()
        .update(
            "abbr",
            &format!("{source}\n# edited\n"),
            Some(&abbr.content_hash),
        )
        .expect("edit abbr");
    build("after editing `abbr` (in 10% of posts)", &docs);
    let mut edited = docs.clone();
    edited[7].content.push_str("\nOne more sentence.\n");
    build("after editing one post's body", &edited);
    drop(project);

    // 3. The same as a user runs it: `bds build`, a new process each time.
    println!("\n## `bds build` (the CLI, a process each time) of the same {n} posts\n");
    println!("| build | wall time | its summary line |");
    println!("|---|---|---|");
    let bds = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.join("bds")))
        .filter(|p| p.is_file())
        .expect("target/release/bds (run `make build` first)");
    let root = tempfile::tempdir().expect("tempdir");
    let (content, proj, out) = (
        root.path().join("content"),
        root.path().join("project"),
        root.path().join("public"),
    );
    std::fs::create_dir_all(content.join("posts")).expect("content/");
    for i in 0..n {
        let text = format!(
            "---\ntitle: Post number {i}\nslug: post-{i}\ntags: [notes]\n---\n{}",
            synthetic_post(i, n)
        );
        std::fs::write(content.join(format!("posts/post-{i}.md")), text).expect("a post");
    }
    let site_path = root.path().join("site.json");
    std::fs::write(&site_path, serde_json::to_vec(&site).expect("JSON")).expect("site.json");
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(&bds)
            .args(args)
            .output()
            .expect("bds runs")
    };
    assert!(run(&["init".as_ref(), proj.as_os_str()]).status.success());
    let cli = |label: &str| {
        let t = Instant::now();
        let o = run(&[
            "build".as_ref(),
            content.as_os_str(),
            "--site".as_ref(),
            site_path.as_os_str(),
            "--project".as_ref(),
            proj.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        let took = t.elapsed();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{stderr}");
        println!(
            "| {label} | {} | {} |",
            fmt(took),
            stderr.lines().last().unwrap_or("").trim()
        );
    };
    cli("cold (empty cache)");
    cli("all cached");
    let abbr = proj.join("scripts/abbr.py");
    let mut source = std::fs::read_to_string(&abbr).expect("abbr.py");
    source.push_str("\n# edited\n");
    std::fs::write(&abbr, source).expect("edit abbr.py");
    cli("after editing `abbr.py` (in 10% of posts)");
    let post = content.join("posts/post-7.md");
    let mut text = std::fs::read_to_string(&post).expect("a post");
    text.push_str("\nOne more sentence.\n");
    std::fs::write(&post, text).expect("edit a post");
    cli("after editing one post's body");
    println!("\npeak RSS of this process: {}", mb(peak_rss_self()));
}
