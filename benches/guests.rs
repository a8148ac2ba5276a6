//! `cargo bench -p bds-benches --bench guests`: the two guests side by side, in one run, with a
//! CPython worker process as the baseline: RustPython in wasm, CPython 3.11 in wasm, and
//! `python3` running `cpython_worker.py` (no sandbox, no deadline).
//!
//! Rows: every bundled macro on its first golden case, the one-line macro, the bundled `toc`
//! over 200 headings (warm calls, interleaved in blocks of 50 so all three see the same
//! machine; one worker each), timed twice: the round trip from Rust, and inside the worker
//! against CPython in-process (no pipe); cold start to the first result; recovery after a
//! runaway; RSS per worker after the warm rows. Ratios are of medians, against CPython.
//!
//! `BDS_GUEST_A=x.wasm BDS_GUEST_B=y.wasm` replace the two guests by wasm files (to compare two
//! builds of one guest). `BDS_BENCH_QUICK=1` runs fewer blocks.

use std::time::{Duration, Instant};

use bds_benches::{
    CPython, ONE_LINE, Stats, bundled_macros, bundled_script, fmt, geomean, guest_config,
    post_with_headings, rss_bytes,
};
use bds_engine::{CallOptions, ErrorKind, Guest, Limits, Pool, Script};
use serde_json::{Value, json};

const SPIN: &str = "def render(c):\n    while True: pass\n";

fn main() {
    let a_path = std::env::var("BDS_GUEST_A").ok();
    let b_path = std::env::var("BDS_GUEST_B").ok();
    let quick = std::env::var_os("BDS_BENCH_QUICK").is_some();
    let blocks = if quick { 3 } else { 12 };
    let cache = tempfile::tempdir().expect("tempdir");
    let rp = Pool::new(guest_config(
        Guest::RustPython,
        a_path.as_deref(),
        cache.path(),
    ))
    .expect("the RustPython pool starts (run `make build` first)");
    let cp = Pool::new(guest_config(
        Guest::CPython,
        b_path.as_deref(),
        cache.path(),
    ))
    .expect("the CPython pool starts (run `make build` first)");
    let mut py = CPython::start();
    let opts = CallOptions::default();

    let mut workloads: Vec<(String, Script, Value)> = vec![
        (
            "one-line macro".to_owned(),
            Script::new("oneline.py", ONE_LINE),
            json!({"abi": 1, "args": ["Ctrl"], "params": {}}),
        ),
        (
            "toc, 200 headings".to_owned(),
            bundled_script("toc.py"),
            json!({"abi": 1, "params": {"depth": 3}, "post": {"content": post_with_headings(200)}}),
        ),
    ];
    workloads.extend(bundled_macros());

    println!("# The guests side by side, one run\n");
    println!(
        "RustPython: {}; CPython: {}; baseline: python3 {} in a worker process\n",
        a_path.as_deref().unwrap_or("bds_guest.wasm"),
        b_path.as_deref().unwrap_or("bds_guest_cpython.wasm"),
        py_version()
    );
    println!(
        "| workload | RustPython p50 | p95 | CPython-wasm p50 | p95 | CPython process p50 | p95 | RP ÷ process | CPw ÷ process |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let (mut rp_ratios, mut cp_ratios) = (Vec::new(), Vec::new());
    let mut inside: Vec<(String, Duration, Duration, Duration)> = Vec::new();
    for (name, script, ctx) in &workloads {
        let a = rp.call(script, ctx, &opts).expect("RustPython runs it");
        let b = cp.call(script, ctx, &opts).expect("CPython-wasm runs it");
        assert_eq!(a.value, b.value, "{name}: the two guests disagree");
        let native = py.call(script.name(), script.source(), ctx);
        let native_ok = native["ok"] == json!(true);
        let (mut ra, mut rb, mut rc) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ia, mut ib, mut ic) = (Vec::new(), Vec::new(), Vec::new());
        let per_block = 50;
        for _ in 0..blocks {
            for _ in 0..per_block {
                let t = Instant::now();
                ia.push(rp.call(script, ctx, &opts).expect("call").duration);
                ra.push(t.elapsed());
            }
            for _ in 0..per_block {
                let t = Instant::now();
                ib.push(cp.call(script, ctx, &opts).expect("call").duration);
                rb.push(t.elapsed());
            }
            if native_ok {
                for _ in 0..per_block {
                    let t = Instant::now();
                    let reply = py.call(script.name(), script.source(), ctx);
                    rc.push(t.elapsed());
                    let us = reply["us"].as_f64().unwrap_or(0.0);
                    ic.push(Duration::from_nanos((us * 1e3) as u64));
                }
            }
        }
        if native_ok {
            let [a, b, c] = [ia, ib, ic].map(|v| Stats::of(v).p50);
            inside.push((name.clone(), a, b, c));
        }
        let (sa, sb) = (Stats::of(ra), Stats::of(rb));
        if native_ok {
            let sc = Stats::of(rc);
            let (x, y) = (ratio(sa.p50, sc.p50), ratio(sb.p50, sc.p50));
            if name.as_str() != "one-line macro" && name.as_str() != "toc, 200 headings" {
                rp_ratios.push(x);
                cp_ratios.push(y);
            }
            println!(
                "| {name} | {} | {} | {} | {} | {} | {} | {x:.2}× | {y:.2}× |",
                fmt(sa.p50),
                fmt(sa.p95),
                fmt(sb.p50),
                fmt(sb.p95),
                fmt(sc.p50),
                fmt(sc.p95)
            );
        } else {
            println!(
                "| {name} | {} | {} | {} | {} | — | — | — | — |",
                fmt(sa.p50),
                fmt(sa.p95),
                fmt(sb.p50),
                fmt(sb.p95)
            );
        }
    }
    if !cp_ratios.is_empty() {
        let mut sorted = cp_ratios.clone();
        sorted.sort_by(f64::total_cmp);
        let mut rsorted = rp_ratios.clone();
        rsorted.sort_by(f64::total_cmp);
        println!(
            "\nBundled macros ({}), ratio of medians to the CPython process: RustPython geomean \
             {:.2}×, median {:.2}×; CPython-wasm geomean {:.2}×, median {:.2}×",
            cp_ratios.len(),
            geomean(&rp_ratios),
            rsorted[rsorted.len() / 2],
            geomean(&cp_ratios),
            sorted[sorted.len() / 2],
        );
    }

    // The same calls without the pipe: the time inside the worker (the guests: reading the
    // context, the call, writing the result) against CPython in-process doing the same three.
    println!(
        "\n| workload, inside the worker | RustPython p50 | CPython-wasm p50 | CPython in-process p50 | RP ÷ in-process | CPw ÷ in-process |"
    );
    println!("|---|---|---|---|---|---|");
    let (mut rp_in, mut cp_in) = (Vec::new(), Vec::new());
    for (name, a, b, c) in &inside {
        let (x, y) = (ratio(*a, *c), ratio(*b, *c));
        if name.as_str() != "one-line macro" && name.as_str() != "toc, 200 headings" {
            rp_in.push(x);
            cp_in.push(y);
        }
        println!(
            "| {name} | {} | {} | {} | {x:.2}× | {y:.2}× |",
            fmt(*a),
            fmt(*b),
            fmt(*c)
        );
    }
    if !cp_in.is_empty() {
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "\nBundled macros ({}), inside the worker ÷ CPython in-process: RustPython geomean \
             {:.2}×, median {:.2}×; CPython-wasm geomean {:.2}×, median {:.2}×",
            cp_in.len(),
            geomean(&rp_in),
            median(&mut rp_in.clone()),
            geomean(&cp_in),
            median(&mut cp_in.clone()),
        );
    }

    // RSS per worker after the warm rows (every workload's script loaded, one instance each).
    let rss = |p: &Pool| p.worker_pids()[0].and_then(rss_bytes).unwrap_or(0) as f64 / 1e6;
    println!(
        "\nRSS per worker after the warm rows: RustPython {:.1} MB, CPython-wasm {:.1} MB, \
         CPython process {:.1} MB",
        rss(&rp),
        rss(&cp),
        rss_bytes(py.pid()).unwrap_or(0) as f64 / 1e6
    );
    py.kill();

    // Cold start (a new one-worker pool, compiled guest cached) to the first result of kbd,
    // and recovery: a runaway hits its 20 ms deadline, then the time to the next result.
    let kbd = bundled_script("kbd.py");
    let kbd_ctx = json!({"abi": 1, "args": ["Ctrl+C"], "params": {}});
    let spin = Script::new("spin.py", SPIN);
    let deadline = Duration::from_millis(20);
    let spin_opts =
        CallOptions::default().with_limits(Limits::macro_call().with_deadline(deadline));
    let rounds = if quick { 5 } else { 20 };
    println!("\n| | RustPython p50 | p95 | CPython-wasm p50 | p95 | CPython process p50 | p95 |");
    println!("|---|---|---|---|---|---|---|");
    let mut cold: [Vec<Duration>; 3] = Default::default();
    let mut recovery: [Vec<Duration>; 3] = Default::default();
    for _ in 0..rounds {
        for (i, (kind, path)) in [(Guest::RustPython, &a_path), (Guest::CPython, &b_path)]
            .into_iter()
            .enumerate()
        {
            let t = Instant::now();
            let p = Pool::new(guest_config(kind, path.as_deref(), cache.path())).expect("pool");
            p.call(&kbd, &kbd_ctx, &opts).expect("first call");
            cold[i].push(t.elapsed());
            let e = p.call(&spin, &json!({}), &spin_opts).expect_err("spins");
            assert_eq!(e.kind, ErrorKind::Timeout);
            let t = Instant::now();
            p.call(&kbd, &kbd_ctx, &opts).expect("recovers");
            recovery[i].push(t.elapsed());
            p.close();
        }
        let t = Instant::now();
        let mut p = CPython::start();
        p.call(kbd.name(), kbd.source(), &kbd_ctx);
        cold[2].push(t.elapsed());
        // CPython has no in-process deadline that stops C code: the baseline kills and respawns.
        let t = Instant::now();
        p.kill();
        let mut p = CPython::start();
        p.call(kbd.name(), kbd.source(), &kbd_ctx);
        recovery[2].push(t.elapsed());
        p.kill();
    }
    for (label, rows) in [
        ("cold start → first result", cold),
        ("timeout → next result", recovery),
    ] {
        let [a, b, c] = rows.map(Stats::of);
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} |",
            fmt(a.p50),
            fmt(a.p95),
            fmt(b.p50),
            fmt(b.p95),
            fmt(c.p50),
            fmt(c.p95)
        );
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn py_version() -> String {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace("Python ", "")
        })
        .unwrap_or_default()
}
