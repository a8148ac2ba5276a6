//! `cargo bench -p bds-benches --bench guests`: two builds of the guest side by side, in one
//! run: `BDS_GUEST_A=old.wasm BDS_GUEST_B=new.wasm` (default: the built guest against itself).
//! Warm calls of a one-line macro, the bundled `kbd`, and the bundled `toc` over 200 headings,
//! interleaved in blocks of 100 calls so both pools see the same machine; one worker each.
//!
//! `BDS_BENCH_QUICK=1` runs fewer blocks.

use std::time::Instant;

use bds_benches::{ONE_LINE, Stats, bundled_script, fmt, post_with_headings};
use bds_engine::{CallOptions, Pool, PoolConfig, Script};
use serde_json::{Value, json};

fn pool(guest: Option<&str>, cache: &std::path::Path) -> Pool {
    let mut config = PoolConfig::default().workers(1).cache_dir(cache);
    if let Some(g) = guest {
        config = config.guest_path(g);
    }
    Pool::new(config).expect("the pool starts (run `make build` first)")
}

fn main() {
    let a_path = std::env::var("BDS_GUEST_A").ok();
    let b_path = std::env::var("BDS_GUEST_B").ok();
    let blocks = if std::env::var_os("BDS_BENCH_QUICK").is_some() {
        3
    } else {
        15
    };
    let cache = tempfile::tempdir().expect("tempdir");
    let a = pool(a_path.as_deref(), cache.path());
    let b = pool(b_path.as_deref(), cache.path());
    let opts = CallOptions::default();
    let toc_post = json!({"content": post_with_headings(200)});
    let workloads: Vec<(&str, Script, Value)> = vec![
        (
            "one-line macro",
            Script::new("oneline.py", ONE_LINE),
            json!({"abi": 1, "args": ["Ctrl"], "params": {}}),
        ),
        (
            "kbd (bundled)",
            bundled_script("kbd.py"),
            json!({"abi": 1, "args": ["Ctrl+Shift+<P>"], "params": {}}),
        ),
        (
            "toc, 200 headings (bundled)",
            bundled_script("toc.py"),
            json!({"abi": 1, "params": {"depth": 3}, "post": toc_post}),
        ),
    ];
    println!("# Two guests, one run\n");
    println!(
        "A: {}; B: {}\n",
        a_path.as_deref().unwrap_or("the built guest"),
        b_path.as_deref().unwrap_or("the built guest")
    );
    println!("| workload | A p50 | A p95 | B p50 | B p95 | B/A p50 |");
    println!("|---|---|---|---|---|---|");
    for (name, script, ctx) in &workloads {
        let per_block = if name.starts_with("toc") { 20 } else { 100 };
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        for p in [&a, &b] {
            for _ in 0..20 {
                p.call(script, ctx, &opts).expect("warm-up call");
            }
        }
        for _ in 0..blocks {
            for (p, t) in [(&a, &mut ta), (&b, &mut tb)] {
                for _ in 0..per_block {
                    let start = Instant::now();
                    p.call(script, ctx, &opts).expect("call");
                    t.push(start.elapsed());
                }
            }
        }
        let (sa, sb) = (Stats::of(ta), Stats::of(tb));
        println!(
            "| {name} | {} | {} | {} | {} | {:.2} |",
            fmt(sa.p50),
            fmt(sa.p95),
            fmt(sb.p50),
            fmt(sb.p95),
            sb.p50.as_secs_f64() / sa.p50.as_secs_f64()
        );
    }
}
