//! `bds run` (one call, its result or error as JSON) and `bds check` (compile only).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bds_engine::{CallOptions, Limits, Pool, ScriptError};
use serde_json::{Value, json};

use crate::RunArgs;
use crate::util::{emit, ms, print_json, read_script};

fn default_context() -> Value {
    json!({"abi": 1, "params": {}, "args": [], "inner": null, "post": {}, "site": {}})
}

fn read_context(src: Option<&str>) -> Result<Value> {
    let Some(src) = src else {
        return Ok(default_context());
    };
    let text = if src == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the context from stdin")?;
        s
    } else {
        std::fs::read_to_string(src).with_context(|| format!("cannot read the context {src}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("the context {src} is not JSON"))
}

/// Runs the script once with the Run button's limits; the exit status is the error's kind.
/// Like rendering, a macro sees the context's `post` and `site` as shared, read-only values.
pub(crate) fn run(args: RunArgs) -> Result<ExitCode> {
    let mut limits = Limits::run_button();
    let mut opts = CallOptions::run_button();
    if let Some(entry) = args.entry {
        opts = opts.with_entry(entry);
    }
    if let Some(ms) = args.timeout_ms {
        limits = limits.with_deadline(Duration::from_millis(ms));
    }
    if let Some(mb) = args.memory_mb {
        limits = limits.with_memory_mib(mb);
    }
    if let Some(seed) = args.seed {
        opts = opts.with_seed(seed);
    }
    if args.fresh {
        opts = opts.fresh(true);
    }
    let script = bds_engine::link(read_script(&args.script)?, &sibling_utilities(&args.script));
    let context = read_context(args.context.as_deref())?;
    let (own, shared) = bds_engine::split_shared(&script, context)?;
    let opts = opts.with_limits(limits);
    let started = Instant::now();
    let pool =
        Pool::new(crate::util::pool_config().workers(1)).context("cannot start the engine")?;
    let startup = started.elapsed();
    let t = Instant::now();
    let result = pool.call_shared(&script, &own, &shared, &opts);
    let call = t.elapsed();
    let (doc, code) = match result {
        Ok(out) => (
            json!({
                "ok": true,
                "result": out.value,
                "stdout": out.stdout,
                "stdout_truncated": out.stdout_truncated,
                "warnings": out.warnings.iter().map(|w| json!({
                    "category": w.category,
                    "message": w.message,
                    "file": w.file,
                    "line": w.line,
                })).collect::<Vec<_>>(),
                "timings": {
                    "startup_ms": ms(startup),
                    "call_ms": ms(call),
                    "worker_ms": ms(out.duration),
                },
            }),
            ExitCode::SUCCESS,
        ),
        Err(e) => (error_doc(&e), ExitCode::from(e.exit_code())),
    };
    print_json(&doc);
    pool.close();
    Ok(code)
}

/// The `kind: utility` scripts beside `script`, so that running a file of a project's
/// `scripts/` imports its utilities as rendering does.
fn sibling_utilities(script: &Path) -> bds_engine::Utilities {
    match script.parent() {
        Some(d) if !d.as_os_str().is_empty() => bds_engine::utilities_in(d),
        _ => bds_engine::utilities_in(Path::new(".")),
    }
}

fn error_doc(e: &ScriptError) -> Value {
    let mut error = serde_json::to_value(e).unwrap_or_else(|_| json!({}));
    let stdout = error
        .as_object_mut()
        .and_then(|o| o.remove("stdout"))
        .unwrap_or(Value::Null);
    json!({"ok": false, "error": error, "stdout": stdout})
}

/// Compiles each script; the exit status is the worst one met (2 for a file that cannot be read).
pub(crate) fn check(paths: &[PathBuf]) -> Result<ExitCode> {
    let pool =
        Pool::new(crate::util::pool_config().workers(1)).context("cannot start the engine")?;
    let mut worst: u8 = 0;
    for path in paths {
        let script = match read_script(path) {
            Ok(s) => s,
            Err(e) => {
                emit(&format!("{}: error: {e:#}\n", path.display()));
                worst = worst.max(2);
                continue;
            }
        };
        match pool.check(&script) {
            Ok(()) => emit(&format!("{}: ok\n", path.display())),
            Err(e) => {
                let kind = if e.exc_type.is_empty() {
                    e.kind.as_str().to_owned()
                } else {
                    e.exc_type.clone()
                };
                emit(&format!(
                    "{}:{}:{}: {}: {}\n",
                    path.display(),
                    e.line,
                    e.column,
                    kind,
                    e.message
                ));
                worst = worst.max(e.exit_code());
            }
        }
    }
    pool.close();
    Ok(ExitCode::from(worst))
}
