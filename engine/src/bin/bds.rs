//! `bds`: the command line of bds-script.
//!
//! ```text
//! bds run SCRIPT.py [--context FILE|-] [--entry NAME] [--timeout-ms N] [--memory-mb N] [--fresh] [--seed N]
//! bds check SCRIPT.py...
//! ```
//!
//! `run` prints one JSON object on stdout: `{"ok": true, "result": …, "stdout": …, "timings": …}`
//! or `{"ok": false, "error": {"kind", "message", "line", "traceback", …}, "stdout": …}`.
//! Exit status: 0 ok, 2 usage, 3 engine could not start, 10 compile, 11 runtime, 12 timeout,
//! 13 memory, 14 output-too-large, 15 abi-violation, 16 worker-crash.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bds_engine::{CallOptions, Limits, Pool, PoolConfig, Script, ScriptError};
use serde_json::{Value, json};

const USAGE: &str = "usage:
  bds run SCRIPT.py [--context FILE|-] [--entry NAME] [--timeout-ms N] [--memory-mb N] [--fresh] [--seed N]
  bds check SCRIPT.py...";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("check") => check(&args[1..]),
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(Usage(format!("expected a command\n{USAGE}")).into()),
    };
    match outcome {
        Ok(code) => code,
        Err(e) if e.is::<Usage>() => {
            eprintln!("bds: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("bds: {e:#}");
            ExitCode::from(3)
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

fn value_of<'a>(args: &'a [String], i: &mut usize, flag: &str) -> Result<&'a str> {
    *i += 1;
    args.get(*i)
        .map(String::as_str)
        .ok_or_else(|| Usage(format!("{flag} needs a value")).into())
}

fn number(s: &str, flag: &str) -> Result<u64> {
    s.parse()
        .map_err(|_| Usage(format!("{flag} takes a whole number, not `{s}`")).into())
}

fn read_script(path: &Path) -> Result<Script> {
    Script::from_file(path).with_context(|| format!("cannot read {}", path.display()))
}

fn default_context() -> Value {
    json!({"abi": 1, "params": {}, "args": [], "inner": null, "post": {}, "site": {}})
}

fn run(args: &[String]) -> Result<ExitCode> {
    let mut script: Option<PathBuf> = None;
    let mut context_src: Option<String> = None;
    let mut limits = Limits::run_button();
    let mut opts = CallOptions::run_button();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--context" => context_src = Some(value_of(args, &mut i, "--context")?.to_owned()),
            "--entry" => opts = opts.with_entry(value_of(args, &mut i, "--entry")?),
            "--timeout-ms" => {
                let ms = number(value_of(args, &mut i, "--timeout-ms")?, "--timeout-ms")?;
                limits = limits.with_deadline(Duration::from_millis(ms));
            }
            "--memory-mb" => {
                let mb = number(value_of(args, &mut i, "--memory-mb")?, "--memory-mb")?;
                limits = limits.with_memory_mib(mb);
            }
            "--seed" => opts = opts.with_seed(number(value_of(args, &mut i, "--seed")?, "--seed")?),
            "--fresh" => opts = opts.fresh(true),
            flag if flag.starts_with("--") => {
                bail!(Usage(format!("unknown option {flag}\n{USAGE}")))
            }
            path if script.is_none() => script = Some(PathBuf::from(path)),
            extra => bail!(Usage(format!("unexpected argument `{extra}`\n{USAGE}"))),
        }
        i += 1;
    }
    let Some(path) = script else {
        bail!(Usage(format!("run needs a script\n{USAGE}")));
    };
    let script = read_script(&path)?;
    let context: Value = match context_src.as_deref() {
        None => default_context(),
        Some(src) => {
            let text = if src == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("cannot read the context from stdin")?;
                s
            } else {
                std::fs::read_to_string(src)
                    .with_context(|| format!("cannot read the context {src}"))?
            };
            serde_json::from_str(&text).with_context(|| format!("the context {src} is not JSON"))?
        }
    };
    let opts = opts.with_limits(limits);
    let started = Instant::now();
    let pool = Pool::new(PoolConfig::default().workers(1)).context("cannot start the engine")?;
    let startup = started.elapsed();
    let t = Instant::now();
    let result = pool.call(&script, &context, &opts);
    let call = t.elapsed();
    let (doc, code) = match result {
        Ok(out) => (
            json!({
                "ok": true,
                "result": out.value,
                "stdout": out.stdout,
                "stdout_truncated": out.stdout_truncated,
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
    println!("{}", serde_json::to_string_pretty(&doc)?);
    pool.close();
    Ok(code)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn error_doc(e: &ScriptError) -> Value {
    let mut error = serde_json::to_value(e).unwrap_or_else(|_| json!({}));
    let stdout = error
        .as_object_mut()
        .and_then(|o| o.remove("stdout"))
        .unwrap_or(Value::Null);
    json!({"ok": false, "error": error, "stdout": stdout})
}

fn check(paths: &[String]) -> Result<ExitCode> {
    if paths.is_empty() {
        bail!(Usage(format!("check needs at least one script\n{USAGE}")));
    }
    let pool = Pool::new(PoolConfig::default().workers(1)).context("cannot start the engine")?;
    let mut worst: u8 = 0;
    for p in paths {
        let path = Path::new(p);
        let script = match read_script(path) {
            Ok(s) => s,
            Err(e) => {
                println!("{}: error: {e:#}", path.display());
                worst = worst.max(2);
                continue;
            }
        };
        match pool.check(&script) {
            Ok(()) => println!("{}: ok", path.display()),
            Err(e) => {
                let kind = if e.exc_type.is_empty() {
                    e.kind.as_str().to_owned()
                } else {
                    e.exc_type.clone()
                };
                println!(
                    "{}:{}:{}: {}: {}",
                    path.display(),
                    e.line,
                    e.column,
                    kind,
                    e.message
                );
                worst = worst.max(e.exit_code());
            }
        }
    }
    pool.close();
    Ok(ExitCode::from(worst))
}
