//! Tools for working on a guest's speed (not part of `make bench`).
//!
//! **A loop for a profiler.** One workload on one guest, for as long as asked; the worker
//! process is the one to record:
//!
//! ```text
//! BDS_WORKER_PERFMAP=1 BDS_PROFILE=tabs BDS_GUEST=cpython cargo bench -p bds-benches --bench profile &
//! perf record -g -p "$(pgrep -n bds-worker)" -- sleep 10
//! perf report --no-children
//! ```
//!
//! `BDS_PROFILE` names a bundled macro (its first golden case is the context), `bare:<macro>`
//! (that macro's context, and a script that returns at once: the cost of a call around the
//! script), `one-line` or `toc200` (`toc` over 200 headings); `BDS_PROFILE_BASELINE=1` also
//! prints, each second, the median of 200 calls of the same script in CPython in-process;
//! `BDS_PROFILE_SECONDS` (default 20) is how long it loops. It prints the median time inside
//! the worker every second.
//!
//! **Two builds of a guest, side by side.** `BDS_PROFILE_AB=other.wasm` runs every bundled
//! macro (or the one `BDS_PROFILE` names) on two pools of the `$BDS_GUEST` kind, the built
//! guest and `other.wasm`, in alternating blocks of calls, and prints the medians inside the
//! worker and their ratios. On this 2-core VM a machine-wide slowdown lasts seconds, so only
//! interleaved runs compare.

use std::time::{Duration, Instant};

use bds_benches::{Stats, bundled_macros, bundled_script, fmt, geomean, guest_config, rss_bytes};
use bds_engine::{CallOptions, Guest, Pool, Script};
use serde_json::{Value, json};

fn pool(guest: Guest, path: Option<&str>, cache: &std::path::Path) -> Pool {
    Pool::new(guest_config(guest, path, cache)).expect("the pool starts (run `make build` first)")
}

fn workload(what: &str) -> (Script, Value) {
    if what == "toc200" {
        return (
            bundled_script("toc.py"),
            json!({"abi": 1, "params": {"depth": 3}, "post": {"content": bds_benches::post_with_headings(200)}}),
        );
    }
    if what == "one-line" {
        return (
            Script::new("oneline.py", bds_benches::ONE_LINE),
            json!({"abi": 1, "args": ["Ctrl"], "params": {}}),
        );
    }
    // The macro's context with a script that does nothing: what a call costs around the script.
    if let Some(slug) = what.strip_prefix("bare:") {
        let (_, _, ctx) = bundled_macro(slug);
        return (
            Script::new("bare.py", "def render(c): return {'html': ''}\n"),
            ctx,
        );
    }
    let (_, script, ctx) = bundled_macro(what);
    (script, ctx)
}

fn bundled_macro(what: &str) -> (String, Script, Value) {
    bundled_macros()
        .into_iter()
        .find(|(slug, _, _)| slug == what)
        .unwrap_or_else(|| panic!("no bundled macro called {what}"))
}

fn main() {
    let guest = match std::env::var("BDS_GUEST").as_deref() {
        Ok("cpython") => Guest::CPython,
        _ => Guest::RustPython,
    };
    let only = std::env::var("BDS_PROFILE").ok();
    let cache = tempfile::tempdir().expect("tempdir");
    let opts = CallOptions::default();
    if let Ok(other) = std::env::var("BDS_PROFILE_AB") {
        let a = pool(guest, None, cache.path());
        let b = pool(guest, Some(&other), cache.path());
        let workloads: Vec<(String, Script, Value)> = match &only {
            Some(w) => {
                let (s, c) = workload(w);
                vec![(w.clone(), s, c)]
            }
            None => bundled_macros(),
        };
        println!("| workload | A p50 | B p50 | B ÷ A |\n|---|---|---|---|");
        let mut ratios = Vec::new();
        for (name, script, ctx) in &workloads {
            assert_eq!(
                a.call(script, ctx, &opts).expect("A runs it").value,
                b.call(script, ctx, &opts).expect("B runs it").value,
                "{name}: the two builds disagree"
            );
            let (mut sa, mut sb) = (Vec::new(), Vec::new());
            for _ in 0..20 {
                for (p, s) in [(&a, &mut sa), (&b, &mut sb)] {
                    for _ in 0..50 {
                        s.push(p.call(script, ctx, &opts).expect("call").duration);
                    }
                }
            }
            let (pa, pb) = (Stats::of(sa).p50, Stats::of(sb).p50);
            let r = pb.as_secs_f64() / pa.as_secs_f64().max(1e-9);
            ratios.push(r);
            println!("| {name} | {} | {} | {r:.2}× |", fmt(pa), fmt(pb));
        }
        let rss = |p: &Pool| p.worker_pids()[0].and_then(rss_bytes).unwrap_or(0) as f64 / 1e6;
        println!(
            "\nRSS of the worker after the runs: A {:.1} MB, B {:.1} MB",
            rss(&a),
            rss(&b)
        );
        ratios.sort_by(f64::total_cmp);
        println!(
            "\nB ÷ A over {} workloads: geomean {:.3}×, median {:.3}×",
            ratios.len(),
            geomean(&ratios),
            ratios[ratios.len() / 2]
        );
        return;
    }

    // `cargo bench` (and so `make bench`) runs every bench: this one only works when asked.
    let Some(what) = only else {
        println!(
            "profile: set BDS_PROFILE=<macro> (a loop for perf) or BDS_PROFILE_AB=<guest.wasm>"
        );
        return;
    };
    let seconds: u64 = std::env::var("BDS_PROFILE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let (script, ctx) = workload(&what);
    let p = pool(guest, None, cache.path());
    p.call(&script, &ctx, &opts).expect("the workload runs");
    println!("{what} on {guest:?}: looping for {seconds} s");
    let mut py = std::env::var_os("BDS_PROFILE_BASELINE").map(|_| bds_benches::CPython::start());
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        let second = Instant::now() + Duration::from_secs(1);
        let mut inside = Vec::new();
        while Instant::now() < second {
            inside.push(p.call(&script, &ctx, &opts).expect("call").duration);
        }
        let n = inside.len();
        let baseline = py.as_mut().map_or_else(String::new, |py| {
            let us: Vec<Duration> = (0..200)
                .map(|_| {
                    let reply = py.call(script.name(), script.source(), &ctx);
                    Duration::from_nanos((reply["us"].as_f64().unwrap_or(0.0) * 1e3) as u64)
                })
                .collect();
            format!("; CPython in-process {}", fmt(Stats::of(us).p50))
        });
        println!(
            "{n} calls, median inside the worker {}{baseline}",
            fmt(Stats::of(inside).p50)
        );
    }
}
