//! `cargo bench -p bds-benches` (or `make bench`): the engine beside a CPython worker, measured
//! in the same run on the same machine. Prints a Markdown table of medians and tails.
//!
//! Workloads: a one-line macro, the bundled `kbd` macro, and the bundled `toc` macro over a post
//! with 200 headings (warm calls through the engine, i.e. Rust API → pipe → worker → wasm guest
//! and back); cold start to first result; recovery after a runaway script; how late a deadline
//! fires; RSS per worker; a batch of 1,000 calls over 1 and over all workers; the strict
//! fresh-instance mode.

use std::time::{Duration, Instant};

use bds_benches::{
    CPython, ONE_LINE, Stats, bundled_script, fmt, post_with_headings, rss_bytes, sample,
};
use bds_engine::{CallOptions, ErrorKind, Limits, Pool, PoolConfig, Project, Script, ScriptStore};
use serde_json::{Value, json};

const SPIN: &str = "def render(c):\n    while True: pass\n";

fn quick() -> bool {
    std::env::var_os("BDS_BENCH_QUICK").is_some()
}

fn n(full: usize) -> usize {
    if quick() { (full / 10).max(5) } else { full }
}

fn row(name: &str, engine: Stats, cpython: Option<Stats>) {
    let c = cpython.map_or_else(
        || "| — | — | —".to_owned(),
        |c| format!("| {} | {} | {}", fmt(c.p50), fmt(c.p95), fmt(c.p99)),
    );
    println!(
        "| {name} | {} | {} | {} {c} |",
        fmt(engine.p50),
        fmt(engine.p95),
        fmt(engine.p99)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("# bds-script benchmarks\n");
    println!("machine: {cores} cores; samples per row shown in the n column of the log below\n");
    println!(
        "| workload | engine p50 | engine p95 | engine p99 | CPython p50 | CPython p95 | CPython p99 |"
    );
    println!("|---|---|---|---|---|---|---|");

    let pool =
        Pool::new(PoolConfig::default().workers(1)).expect("pool starts (run `make build` first)");
    let mut py = CPython::start();
    let opts = CallOptions::default();

    // Warm calls.
    let workloads: Vec<(&str, Script, Value, usize)> = vec![
        (
            "one-line macro",
            Script::new("oneline.py", ONE_LINE),
            json!({"abi": 1, "args": ["Ctrl"], "params": {}}),
            n(5000),
        ),
        (
            "kbd (bundled)",
            bundled_script("kbd.py"),
            json!({"abi": 1, "args": ["Ctrl+Shift+<P>"], "params": {}}),
            n(5000),
        ),
        (
            "toc, 200 headings (bundled)",
            bundled_script("toc.py"),
            json!({"abi": 1, "params": {"depth": 3}, "post": {"content": post_with_headings(200)}}),
            n(300),
        ),
    ];
    // The one-line macro as rendering calls it: `post` and `site` shared, read-only, with the
    // reads recorded (a 100-post site; the script reads neither).
    {
        let script = Script::new("oneline.py", ONE_LINE);
        let own = json!({"abi": 1, "params": {}, "args": ["Ctrl"], "inner": null});
        let shared = vec![
            (
                "post".to_owned(),
                bds_engine::SharedValue::new(&json!({"title": "T", "content": "body"}))
                    .expect("post"),
            ),
            (
                "site".to_owned(),
                bds_engine::SharedValue::new(&bds_benches::synthetic_site(100)).expect("site"),
            ),
        ];
        // Interleaved with the same call without shared data, in blocks, so the machine's drift
        // falls on both alike: the difference is what shared data and read tracking cost.
        let plain_ctx = json!({"abi": 1, "params": {}, "args": ["Ctrl"], "inner": null, "post": {}, "site": {}});
        let (mut with, mut without, mut inside) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..10 {
            for _ in 0..n(500) {
                let t = Instant::now();
                let out = pool
                    .call_shared(&script, &own, &shared, &opts)
                    .expect("call");
                if round > 0 {
                    with.push(t.elapsed());
                    inside.push(out.duration);
                }
                let t = Instant::now();
                pool.call(&script, &plain_ctx, &opts).expect("call");
                if round > 0 {
                    without.push(t.elapsed());
                }
            }
        }
        row(
            "warm: one-line macro, post and site shared (as rendering)",
            Stats::of(with),
            None,
        );
        row(
            "  of which: inside the worker (one-line macro, shared)",
            Stats::of(inside),
            None,
        );
        row(
            "  the same call, interleaved, post and site by value (empty)",
            Stats::of(without),
            None,
        );
    }
    // A macro that imports a utility (the bundled html_utils) beside the same macro with the
    // helper pasted in, interleaved in blocks: after the first call, importing costs nothing
    // (the module stays imported in the script's instance).
    {
        let utils_path = format!(
            "{}/../default-scripts/html_utils.py",
            env!("CARGO_MANIFEST_DIR")
        );
        let utils_source = std::fs::read_to_string(&utils_path).expect("html_utils.py");
        let utilities: bds_engine::Utilities =
            [("html_utils".to_owned(), utils_source.clone())].into();
        let imported = bds_engine::link(
            Script::new(
                "imports.py",
                "from html_utils import slugify\ndef render(c):\n    return {'html': slugify(c['args'][0])}\n",
            ),
            &utilities,
        );
        let inlined = Script::new(
            "inlined.py",
            format!(
                "{utils_source}\ndef render(c):\n    return {{'html': slugify(c['args'][0])}}\n"
            ),
        );
        assert_eq!(
            imported.modules().len(),
            1,
            "the macro is linked with html_utils"
        );
        let ctx =
            json!({"abi": 1, "params": {}, "args": ["Crème Brûlée: a recipe!"], "inner": null});
        let a = pool.call(&imported, &ctx, &opts).expect("imported");
        let b = pool.call(&inlined, &ctx, &opts).expect("inlined");
        assert_eq!(a.value, b.value);
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for round in 0..10 {
            for _ in 0..n(300) {
                let t = Instant::now();
                pool.call(&imported, &ctx, &opts).expect("call");
                if round > 0 {
                    with.push(t.elapsed());
                }
                let t = Instant::now();
                pool.call(&inlined, &ctx, &opts).expect("call");
                if round > 0 {
                    without.push(t.elapsed());
                }
            }
        }
        row(
            "warm: macro importing a utility (html_utils.slugify)",
            Stats::of(with),
            None,
        );
        row(
            "  the same macro, helper inlined, interleaved",
            Stats::of(without),
            None,
        );
    }
    let mut log = Vec::new();
    for (name, script, ctx, count) in &workloads {
        let check = pool.call(script, ctx, &opts).expect("workload runs");
        let py_check = py.call(script.name(), script.source(), ctx);
        assert_eq!(
            py_check["result"],
            Value::Object(check.value.clone()),
            "{name}: engine and CPython disagree"
        );
        let mut inside = Vec::with_capacity(*count);
        let e = sample(count / 10, *count, || {
            inside.push(pool.call(script, ctx, &opts).expect("call").duration);
        });
        let inside = Stats::of(inside);
        let c = sample(count / 10, *count, || {
            py.call(script.name(), script.source(), ctx);
        });
        row(&format!("warm: {name}"), e, Some(c));
        row(
            &format!("  of which: inside the worker ({name})"),
            inside,
            None,
        );
        log.push(format!(
            "{name}: n={count}, engine mean {}, CPython mean {}",
            fmt(e.mean),
            fmt(c.mean)
        ));
    }

    // Memory per worker after the warm runs (three scripts loaded, one instance each).
    let worker_rss = pool.worker_pids()[0].and_then(rss_bytes).unwrap_or(0);
    let py_rss = rss_bytes(py.pid()).unwrap_or(0);
    py.kill();

    // Cold start: a new pool (one worker process) to the first result of a new script.
    let kbd = bundled_script("kbd.py");
    let kbd_ctx = json!({"abi": 1, "args": ["Ctrl+C"], "params": {}});
    let mut cold = Vec::new();
    let mut handshake = Vec::new();
    let mut first_call = Vec::new();
    for _ in 0..n(20) {
        let t = Instant::now();
        let p = Pool::new(PoolConfig::default().workers(1)).expect("pool");
        let ready = t.elapsed();
        let t2 = Instant::now();
        p.call(&kbd, &kbd_ctx, &opts).expect("first call");
        first_call.push(t2.elapsed());
        cold.push(t.elapsed());
        handshake.push(ready);
        p.close();
    }
    let mut py_cold = Vec::new();
    for _ in 0..n(20) {
        let t = Instant::now();
        let mut p = CPython::start();
        p.call(kbd.name(), kbd.source(), &kbd_ctx);
        py_cold.push(t.elapsed());
        p.kill();
    }
    row(
        "cold start → first result",
        Stats::of(cold),
        Some(Stats::of(py_cold)),
    );
    row("  of which: spawn + handshake", Stats::of(handshake), None);
    row(
        "  of which: first call (load + call)",
        Stats::of(first_call),
        None,
    );

    // Recovery after a runaway script, and how late the deadline fires.
    let spin = Script::new("spin.py", SPIN);
    let deadline = Duration::from_millis(20);
    let spin_opts =
        CallOptions::default().with_limits(Limits::macro_call().with_deadline(deadline));
    pool.call(&kbd, &kbd_ctx, &opts).expect("warm");
    let mut late = Vec::new();
    let mut recovery = Vec::new();
    for _ in 0..n(30) {
        let t = Instant::now();
        let e = pool
            .call(&spin, &json!({}), &spin_opts)
            .expect_err("spin times out");
        assert_eq!(e.kind, ErrorKind::Timeout);
        late.push(t.elapsed().saturating_sub(deadline));
        let t = Instant::now();
        pool.call(&kbd, &kbd_ctx, &opts).expect("recovers");
        recovery.push(t.elapsed());
    }
    // CPython has no in-process deadline that stops C code: the baseline kills and respawns.
    let mut py_recovery = Vec::new();
    for _ in 0..n(20) {
        let p = CPython::start();
        let t = Instant::now();
        p.kill();
        let mut p = CPython::start();
        p.call(kbd.name(), kbd.source(), &kbd_ctx);
        py_recovery.push(t.elapsed());
        p.kill();
    }
    row(
        "timeout → next result (recovery)",
        Stats::of(recovery),
        Some(Stats::of(py_recovery)),
    );
    row("deadline overshoot (20 ms deadline)", Stats::of(late), None);

    // Strict mode: a brand-new guest per call.
    let fresh = CallOptions::default().fresh(true);
    let s = sample(5, n(200), || {
        pool.call(&kbd, &kbd_ctx, &fresh).expect("fresh call");
    });
    row("strict fresh-instance call (kbd)", s, None);

    // Batches of 1,000 one-line calls, over one worker and over all of them.
    let one = Script::new("oneline.py", ONE_LINE);
    let items: Vec<(Script, Value)> = (0..1000)
        .map(|i| (one.clone(), json!({"abi": 1, "args": [format!("K{i}")]})))
        .collect();
    let wide = Pool::new(PoolConfig::default()).expect("pool");
    for (label, p) in [("1 worker", &pool), ("all workers", &wide)] {
        p.call_many(&items[..10], &opts);
        let s = sample(1, n(20), || {
            let r = p.call_many(&items, &opts);
            assert!(r.iter().all(Result::is_ok));
        });
        row(
            &format!(
                "batch of 1,000 one-line calls, {label} ({} workers)",
                p.stats().workers
            ),
            s,
            None,
        );
    }

    // Expanding a post with 1,000 macro calls (kbd, youtube, abbr, badge in turn).
    let mut post_src = String::new();
    for i in 0..250 {
        post_src.push_str(&format!(
            "<p>{i}: {{{{< kbd Ctrl+{i} >}}}} {{{{< youtube dQw4w9WgXcQ start={i} >}}}} {{{{< abbr HTML \"HyperText {i}\" >}}}} {{{{< badge v{i} >}}}}</p>\n"
        ));
    }
    let new_project = || {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, _) = ScriptStore::init(dir.path(), None).expect("project");
        (dir, store)
    };
    let site = json!({"title": "Bench"});
    let mut cold = Vec::new();
    for _ in 0..n(5) {
        let (_dir, store) = new_project();
        let project = Project::new(store, wide.clone());
        let t = Instant::now();
        let out = project
            .expand(&post_src, &json!({"title": "p"}), &site)
            .expect("expands");
        cold.push(t.elapsed());
        assert_eq!(
            (out.calls, out.cache_hits, out.diagnostics.len()),
            (1000, 0, 0),
            "{:?}",
            out.diagnostics.first()
        );
    }
    row(
        "expand 1,000 macro calls: new project (scripts load, cache empty)",
        Stats::of(cold),
        None,
    );
    let (_dir, store) = new_project();
    let project = Project::new(store, wide.clone());
    // The cache keys a call by what it read: these macros never read the post, so another
    // post would still hit. Misses are measured with the cache off.
    let uncached = project.clone().with_result_cache(false);
    let warm_miss = sample(1, n(10), || {
        let out = uncached
            .expand(&post_src, &json!({"title": "p1"}), &site)
            .expect("expands");
        assert_eq!(out.cache_hits, 0);
    });
    row(
        "expand 1,000 macro calls: warm workers, cache misses",
        warm_miss,
        None,
    );
    project
        .expand(&post_src, &json!({"title": "p1"}), &site)
        .expect("expands");
    let hit = sample(1, n(20), || {
        let out = project
            .expand(&post_src, &json!({"title": "p1"}), &site)
            .expect("expands");
        assert_eq!(out.cache_hits, 1000);
    });
    row(
        "expand 1,000 macro calls: all from the result cache",
        hit,
        None,
    );

    // Every bundled script on its first golden case, beside CPython.
    println!();
    println!(
        "| bundled script (first golden case) | engine p50 | engine p95 | engine p99 | CPython p50 | CPython p95 | CPython p99 |"
    );
    println!("|---|---|---|---|---|---|---|");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut py = CPython::start();
    let mut slugs: Vec<_> = std::fs::read_dir(root.join("fixtures/cases"))
        .expect("fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    slugs.sort();
    for slug in slugs {
        let mut cases: Vec<_> = std::fs::read_dir(root.join("fixtures/cases").join(&slug))
            .expect("cases")
            .map(|e| e.expect("entry").path())
            .collect();
        cases.sort();
        let case: Value =
            serde_json::from_slice(&std::fs::read(&cases[0]).expect("case")).expect("JSON");
        if case["entry"] != "render" {
            continue; // a utility's function: measured above, through a macro that imports it
        }
        let ctx = case["context"].clone();
        let script = bundled_script(&format!("{slug}.py"));
        pool.call(&script, &ctx, &opts).expect("golden case runs");
        let e = sample(10, n(300), || {
            pool.call(&script, &ctx, &opts).expect("call");
        });
        let c = sample(10, n(300), || {
            py.call(script.name(), script.source(), &ctx);
        });
        row(&slug, e, Some(c));
    }
    py.kill();
    let rss_all = pool.worker_pids()[0].and_then(rss_bytes).unwrap_or(0);

    println!();
    println!(
        "RSS of the worker after every bundled script ran on it ({} live instances at most): {:.1} MiB",
        16,
        rss_all as f64 / 1048576.0
    );
    println!(
        "RSS per worker after the warm runs: {:.1} MiB (CPython worker: {:.1} MiB)",
        worker_rss as f64 / 1048576.0,
        py_rss as f64 / 1048576.0
    );
    for l in log {
        println!("{l}");
    }
}
