//! Runaway scripts: each ends in a clear error near its deadline or memory cap, and the pool
//! answers the next call. These run against the real worker binary.

mod common;

use std::time::{Duration, Instant};

use bds_engine::{CallOptions, ErrorKind, Limits};
use common::*;

const DEADLINE_MS: u64 = 200;

/// Runs `source` under a 200 ms deadline; it must time out, well before the watchdog's
/// grace period would have killed the worker, and the pool must answer the next call.
fn assert_times_out(source: &str) {
    let pool = pool(1);
    let pid = pool.worker_pids()[0];
    let started = Instant::now();
    let err = pool
        .call(&script("runaway.py", source), &ctx(), &opts_ms(DEADLINE_MS))
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:#?}");
    assert_eq!(err.script, "runaway.py");
    assert!(
        took >= Duration::from_millis(DEADLINE_MS),
        "stopped early: {took:?}"
    );
    // Generous for a loaded 2-core CI machine; a hang would take the watchdog's 200 ms grace and more.
    assert!(
        took < Duration::from_millis(DEADLINE_MS + 1500),
        "stopped late: {took:?}"
    );
    // The in-guest deadline fired: the same worker process is still there.
    assert_eq!(
        pool.worker_pids()[0],
        pid,
        "the worker was replaced, so the in-guest deadline failed"
    );
    assert_eq!(pool.stats().watchdog_kills, 0);
    assert_healthy(&pool);
}

#[test]
fn an_infinite_loop_times_out() {
    assert_times_out("def render(c):\n    while True:\n        pass\n");
}

#[test]
fn catastrophic_regex_backtracking_times_out_inside_the_regex_engine() {
    assert_times_out(
        "import re\ndef render(c):\n    return {'m': bool(re.match('(a+)+$', 'a' * 40 + 'b'))}\n",
    );
}

#[test]
fn a_huge_sum_times_out() {
    assert_times_out("def render(c):\n    return {'n': sum(range(10**11))}\n");
}

#[test]
fn big_integer_exponentiation_times_out() {
    assert_times_out("def render(c):\n    return {'n': 7 ** 10**8 % 10}\n");
}

#[test]
fn a_loop_at_module_level_times_out_at_load() {
    assert_times_out("while True:\n    pass\ndef render(c):\n    return {}\n");
}

#[test]
fn a_timeout_only_costs_that_script_its_instance() {
    let pool = pool(1);
    let counter = script(
        "counter.py",
        "n = 0\ndef render(c):\n    global n\n    n += 1\n    return {'n': n}\n",
    );
    let spin = script("spin.py", "def render(c):\n    while True: pass\n");
    let call = |s| pool.call(s, &ctx(), &opts_ms(DEADLINE_MS));
    assert_eq!(call(&counter).unwrap().value["n"], 1);
    assert_eq!(call(&counter).unwrap().value["n"], 2);
    assert_eq!(call(&spin).unwrap_err().kind, ErrorKind::Timeout);
    // The counter's instance was untouched by the other script's trap.
    assert_eq!(call(&counter).unwrap().value["n"], 3);
    // The spinning script itself gets a fresh instance and times out again, cleanly.
    assert_eq!(call(&spin).unwrap_err().kind, ErrorKind::Timeout);
    let m = pool.metrics();
    let spin_m = m.iter().find(|m| m.script == "spin.py").unwrap();
    assert_eq!((spin_m.calls, spin_m.errors, spin_m.timeouts), (2, 2, 2));
}

fn assert_memory_error(source: &str, mib: u64) {
    let pool = pool(1);
    let opts = CallOptions::default().with_limits(
        Limits::macro_call()
            .with_memory_mib(mib)
            .with_deadline(Duration::from_secs(20)),
    );
    let err = pool
        .call(&script("hog.py", source), &ctx(), &opts)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Memory, "{err:#?}");
    assert_healthy(&pool);
}

#[test]
fn a_giant_string_is_a_memory_error() {
    assert_memory_error("def render(c):\n    return {'n': len('a' * 10**9)}\n", 64);
}

#[test]
fn a_string_beyond_the_address_space_is_a_memory_error() {
    assert_memory_error("def render(c):\n    return {'n': len('a' * 10**10)}\n", 64);
}

#[test]
fn unbounded_list_growth_is_a_memory_error() {
    assert_memory_error(
        "def render(c):\n    l = []\n    while True:\n        l.append('x' * 1000)\n",
        48,
    );
}

/// Allocations past the cap are refused as they are asked for, so they end in `memory` under
/// the macro deadline (250 ms), not in a timeout: a 48 MiB cap, below what each needs beside
/// the interpreter (RustPython's snapshot is 35 MiB, CPython's 16).
#[test]
fn big_allocations_reach_the_memory_cap_before_the_deadline() {
    let pool = pool(1);
    let opts = CallOptions::default().with_limits(Limits::macro_call().with_memory_mib(48));
    for expr in [
        "'x' * (64 << 20)",
        "b'x' * (64 << 20)",
        "bytearray(64 << 20)",
        "[0] * 10**7",
        "list(range(10**7))",
    ] {
        let src = format!("def render(c):\n    v = {expr}\n    return {{'n': len(v)}}\n");
        let err = pool
            .call(&script("big.py", &src), &ctx(), &opts)
            .unwrap_err();
        assert_eq!(
            (err.kind, err.exc_type.as_str()),
            (ErrorKind::Memory, "MemoryError"),
            "{expr}: {err:#?}"
        );
    }
    assert_healthy(&pool);
}

#[test]
fn a_memory_error_the_script_catches_leaves_it_working() {
    let pool = pool(1);
    let src = "def render(c):\n    try:\n        s = 'a' * 10**9\n    except MemoryError:\n        return {'caught': True}\n    return {'caught': False}\n";
    let opts = CallOptions::default().with_limits(Limits::macro_call().with_memory_mib(64));
    let out = pool.call(&script("catch.py", src), &ctx(), &opts).unwrap();
    assert_eq!(out.value["caught"], true);
}

#[test]
fn deep_recursion_is_a_runtime_error_with_a_bounded_traceback() {
    let pool = pool(1);
    let err = run(
        &pool,
        "def f(n):\n    return f(n + 1)\ndef render(c):\n    return {'x': f(0)}\n",
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Runtime);
    assert_eq!(err.exc_type, "RecursionError");
    assert!(err.traceback.len() <= 65, "{} frames", err.traceback.len());
    assert_eq!(
        (err.traceback[0].function.as_str(), err.traceback[0].line),
        ("render", 4)
    );
    assert_healthy(&pool);
}

#[test]
fn output_over_the_result_limit_is_refused() {
    let pool = pool(1);
    let opts = CallOptions::default().with_limits(Limits::macro_call().with_max_result_bytes(1000));
    let err = pool
        .call(
            &script(
                "big.py",
                "def render(c):\n    return {'html': 'x' * 2000}\n",
            ),
            &ctx(),
            &opts,
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::OutputTooLarge, "{err:#?}");
    let ok = pool
        .call(
            &script(
                "small.py",
                "def render(c):\n    return {'html': 'x' * 900}\n",
            ),
            &ctx(),
            &opts,
        )
        .unwrap();
    assert_eq!(ok.value["html"].as_str().unwrap().len(), 900);
}

#[test]
fn stdout_is_captured_apart_and_cut_with_a_marker() {
    let pool = pool(1);
    let opts = CallOptions::default().with_limits(Limits::macro_call().with_max_stdout_bytes(10));
    let out = pool
        .call(
            &script(
                "chatty.py",
                "def render(c):\n    print('0123456789abcdef')\n    return {'html': 'ok'}\n",
            ),
            &ctx(),
            &opts,
        )
        .unwrap();
    assert_eq!(out.stdout, "0123456789\n[stdout truncated]\n");
    assert!(out.stdout_truncated);
    assert_eq!(out.value["html"], "ok");
}

/// A limit below the interpreter's own starting memory can never work: every script fails
/// the same way, so it says exactly that, as a `memory` error (not a crashed worker), for a
/// cached instance's load and for a fresh instance alike.
#[test]
fn a_memory_limit_below_the_interpreters_baseline_says_so() {
    let pool = pool(1);
    let tiny = Limits::macro_call().with_memory_mib(8);
    let ok = script("ok.py", "def render(c):\n    return {'a': 1}\n");
    for fresh in [false, true] {
        let opts = CallOptions::default().with_limits(tiny).fresh(fresh);
        let err = pool.call(&ok, &ctx(), &opts).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Memory, "{err:#?}");
        let (limit, rest) = err.message.split_once(" MiB) is below the ").unwrap();
        assert_eq!(limit, "the memory limit (8");
        let baseline: u64 = rest
            .strip_suffix(" MiB the interpreter starts with")
            .unwrap()
            .parse()
            .unwrap();
        assert!((9..=128).contains(&baseline), "{baseline}");
    }
    assert_healthy(&pool);
}

/// The resident memory of process `pid`, from `/proc` (Linux).
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix(" kB"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    kb >> 10
}

/// Sixteen scripts that each keep 48 MiB alive would hold ~1.2 GiB of instances in one worker
/// (16 live instances of ~75 MiB); the worker's 512 MiB budget drops the least recently used
/// ones instead, and every script still answers, on its instance or on a fresh one.
#[test]
fn sixteen_scripts_holding_48_mib_each_stay_within_the_workers_budget() {
    let pool = pool(1);
    let pid = pool.worker_pids()[0].unwrap();
    let opts = opts_ms(5_000);
    let mut peak = 0;
    for round in 0..2 {
        for i in 0..16 {
            let source = format!(
                "DATA = bytearray(48 << 20)\nDATA[-1] = {i}\n\ndef render(c):\n    return {{'n': len(DATA), 'tag': DATA[-1]}}\n"
            );
            let out = pool
                .call(&script(&format!("big{i}.py"), &source), &ctx(), &opts)
                .unwrap_or_else(|e| panic!("round {round}, script {i}: {e}"));
            assert_eq!(
                serde_json::Value::Object(out.value),
                serde_json::json!({"n": 48 << 20, "tag": i})
            );
            peak = peak.max(rss_mib(pid));
        }
    }
    // The budget counts linear memory; the rest of the worker (the mapped compiled guest,
    // wasmtime, the shared cache) is well under 200 MiB.
    assert!(peak < 512 + 200, "the worker reached {peak} MiB");
    assert_healthy(&pool);
}

/// A call that grows its instance by more than 64 MiB leaves it behind: the memory goes back,
/// and the script's next call starts from the snapshot.
#[test]
fn an_instance_that_grew_during_a_call_is_dropped_after_it() {
    let pool = pool(1);
    let pid = pool.worker_pids()[0].unwrap();
    let before = {
        assert_healthy(&pool);
        rss_mib(pid)
    };
    let big = script(
        "grow.py",
        "calls = 0\n\ndef render(c):\n    global calls\n    calls += 1\n    x = bytearray(80 << 20)\n    return {'n': len(x), 'calls': calls}\n",
    );
    for _ in 0..3 {
        let out = pool.call(&big, &ctx(), &opts_ms(5_000)).unwrap();
        // A fresh instance each time: the module's counter starts again.
        assert_eq!(
            serde_json::Value::Object(out.value),
            serde_json::json!({"n": 80 << 20, "calls": 1})
        );
    }
    let after = rss_mib(pid);
    assert!(
        after < before + 64,
        "{before} MiB before, {after} MiB after"
    );
}
