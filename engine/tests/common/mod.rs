//! Shared by the integration tests: every test runs against the real `bds-worker` binary and
//! the real guest, found the way the engine finds them (beside `target/release/deps`).
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of these helpers"
)]

use std::time::Duration;

use bds_engine::{CallOptions, CallOutput, Limits, Pool, PoolConfig, Script, ScriptError};
use serde_json::{Value, json};

pub fn pool(workers: usize) -> Pool {
    Pool::new(PoolConfig::default().workers(workers))
        .expect("the pool starts (run `make build` first)")
}

pub fn script(name: &str, source: &str) -> Script {
    Script::new(name, source)
}

pub fn ctx() -> Value {
    json!({"abi": 1, "params": {}, "args": [], "inner": null, "post": {}, "site": {}})
}

pub fn opts_ms(deadline_ms: u64) -> CallOptions {
    CallOptions::default()
        .with_limits(Limits::macro_call().with_deadline(Duration::from_millis(deadline_ms)))
}

pub fn run(pool: &Pool, source: &str) -> Result<CallOutput, ScriptError> {
    pool.call(&script("t.py", source), &ctx(), &CallOptions::default())
}

/// A script that must succeed, returning its result object as a JSON value.
pub fn ok(pool: &Pool, source: &str) -> Value {
    match run(pool, source) {
        Ok(out) => Value::Object(out.value),
        Err(e) => panic!("expected success, got {e:#?}"),
    }
}

/// The pool still answers a trivial call correctly.
pub fn assert_healthy(pool: &Pool) {
    let v = ok(
        pool,
        "def render(c):\n    return {'html': 'ok', 'n': sum(range(10))}\n",
    );
    assert_eq!(v, json!({"html": "ok", "n": 45}));
}

/// Calls `script` the way the engine calls it while rendering (see [`bds_engine::split_shared`]).
pub fn call_as_rendered(
    pool: &Pool,
    script: &Script,
    context: &Value,
    opts: &CallOptions,
) -> Result<CallOutput, ScriptError> {
    let (own, shared) =
        bds_engine::split_shared(script, context.clone()).expect("a context that can be shared");
    pool.call_shared(script, &own, &shared, opts)
}

/// The bundled utilities (`default-scripts/*.py` whose header says `kind: utility`).
pub fn bundled_utilities() -> bds_engine::Utilities {
    bds_engine::utilities_in(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../default-scripts"),
    )
}

pub fn is_utility(source: &str) -> bool {
    bds_engine::parse_header(source).is_ok_and(|m| m.kind == bds_engine::ScriptKind::Utility)
}

/// A bundled script linked with the bundled utilities, as a project would run it.
pub fn bundled_script(path: &std::path::Path) -> Script {
    bds_engine::link(Script::from_file(path).unwrap(), &bundled_utilities())
}

/// A project in a temp folder with `scripts` (and no bundled defaults), its store checked by a
/// pool of `workers`.
pub fn project(
    workers: usize,
    scripts: &[(&str, &str)],
) -> (tempfile::TempDir, bds_engine::Project) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    let pool = Pool::new(PoolConfig::default().workers(workers)).unwrap();
    let checker: std::sync::Arc<dyn bds_engine::Checker> = std::sync::Arc::new(pool.clone());
    let (store, _) =
        bds_engine::ScriptStore::open_with_defaults(dir.path(), Some(checker), &[]).unwrap();
    for (slug, src) in scripts {
        store.create(slug, src).unwrap();
    }
    (dir, bds_engine::Project::new(store, pool))
}

/// Runs the `bds` CLI with `args`, and `stdin` on its standard input.
pub fn bds(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_bds"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// `v` with every float written the one way (the engine keeps a number's text exactly, and
/// CPython's `json` writes `1e-09` where Rust writes `1e-9`: the same number).
pub fn canonical(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(n), Value::Number),
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, canonical(v))).collect()),
        other => other,
    }
}
