//! `bds`: the command line of bds-script.
//!
//! ```text
//! bds run SCRIPT.py [--context FILE|-] [--entry NAME] [--timeout-ms N] [--memory-mb N] [--fresh] [--seed N]
//! bds check SCRIPT.py...
//! bds expand FILE [--post META.json] [--site SITE.json] [--project DIR] [--workers N] [--json]
//! bds transform POST.json [--project DIR]
//! bds init [DIR]
//! bds scripts list [--kind K] [--enabled|--disabled] [--json] [--project DIR]
//! bds scripts show|delete|enable|disable SLUG [--project DIR]
//! bds scripts create SLUG [--file F|-] [--project DIR]
//! bds scripts update SLUG --file F|- [--base HASH] [--project DIR]
//! bds scripts rename OLD NEW [--project DIR]
//! bds scripts sync [--project DIR]
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
use std::sync::Arc;

use bds_engine::{
    CallOptions, Checker, Limits, ListFilter, Pool, PoolConfig, Project, ProjectError, Script,
    ScriptError, ScriptKind, ScriptStore, StoreError,
};
use serde_json::{Value, json};

const USAGE: &str = "usage:
  bds run SCRIPT.py [--context FILE|-] [--entry NAME] [--timeout-ms N] [--memory-mb N] [--fresh] [--seed N]
  bds check SCRIPT.py...
  bds expand FILE [--post META.json] [--site SITE.json] [--project DIR] [--workers N] [--json]
  bds transform POST.json [--project DIR]
  bds init [DIR]
  bds scripts list [--kind macro|utility|transform] [--enabled|--disabled] [--json] [--project DIR]
  bds scripts show|delete|enable|disable SLUG [--project DIR]
  bds scripts create SLUG [--file FILE|-] [--project DIR]
  bds scripts update SLUG --file FILE|- [--base HASH] [--project DIR]
  bds scripts rename OLD NEW [--project DIR]
  bds scripts sync [--project DIR]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("check") => check(&args[1..]),
        Some("init") => init(&args[1..]),
        Some("expand") => expand(&args[1..]),
        Some("transform") => transform(&args[1..]),
        Some("scripts") => scripts(&args[1..]),
        Some("--help" | "-h" | "help") => {
            emit(&format!("{USAGE}\n"));
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
    print_json(&doc);
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

/// A pool to compile scripts for the index's status, or none (with a warning) if it cannot start.
fn checker() -> Option<Arc<dyn Checker>> {
    match Pool::new(PoolConfig::default().workers(1)) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            eprintln!("bds: scripts will not be compiled ({e})");
            None
        }
    }
}

fn init(args: &[String]) -> Result<ExitCode> {
    let dir = match args {
        [] => PathBuf::from("."),
        [d] => PathBuf::from(d),
        _ => bail!(Usage(format!("init takes at most one folder\n{USAGE}"))),
    };
    let (store, report) = ScriptStore::init(&dir, checker())
        .with_context(|| format!("cannot create a project in {}", dir.display()))?;
    let list = store.list(ListFilter::default())?;
    emit(&format!(
        "{}\n",
        serde_json::to_string_pretty(&json!({
            "project": dir.display().to_string(),
            "rebuilt_index": report.rebuilt_index,
            "defaults": report.defaults,
            "scripts": list.iter().map(|e| &e.slug).collect::<Vec<_>>(),
        }))?
    ));
    Ok(ExitCode::SUCCESS)
}

fn read_input(src: &str) -> Result<String> {
    if src == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(src).with_context(|| format!("cannot read {src}"))
    }
}

const NEW_SCRIPT: &str = "# ---\n# title: {slug}\n# kind: macro\n# entrypoint: render\n# enabled: true\n# version: 1\n# ---\nimport html\n\n\ndef render(context):\n    args = context.get(\"args\") or []\n    return {\"html\": html.escape(\" \".join(str(a) for a in args))}\n";

fn scripts(args: &[String]) -> Result<ExitCode> {
    let mut project = PathBuf::from(".");
    let mut positional: Vec<&str> = Vec::new();
    let mut file: Option<String> = None;
    let mut base: Option<String> = None;
    let mut json_out = false;
    let mut filter = ListFilter::default();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--project" => project = PathBuf::from(value_of(args, &mut i, "--project")?),
            "--file" => file = Some(value_of(args, &mut i, "--file")?.to_owned()),
            "--base" => base = Some(value_of(args, &mut i, "--base")?.to_owned()),
            "--json" => json_out = true,
            "--enabled" => filter.enabled = Some(true),
            "--disabled" => filter.enabled = Some(false),
            "--kind" => {
                let k = value_of(args, &mut i, "--kind")?;
                filter.kind =
                    Some(ScriptKind::parse(k).ok_or_else(|| Usage(format!("unknown kind `{k}`")))?);
            }
            flag if flag.starts_with("--") => {
                bail!(Usage(format!("unknown option {flag}\n{USAGE}")))
            }
            word => positional.push(word),
        }
        i += 1;
    }
    // Opening reconciles the index with the files: its report is what `sync` prints.
    let (store, opened) = match ScriptStore::open(&project, checker()) {
        Ok(s) => s,
        Err(e @ StoreError::NotAProject(_)) => bail!(e),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot open the project {}", project.display()));
        }
    };
    let outcome: Result<(), StoreError> = (|| {
        match positional.as_slice() {
            ["list"] => {
                let list = store.list(filter)?;
                if json_out {
                    print_json(&list);
                } else {
                    for e in &list {
                        let status = match (&e.error, e.error_line) {
                            (Some(err), Some(line)) => {
                                format!("{} (line {line}: {err})", e.status.as_str())
                            }
                            (Some(err), None) => format!("{} ({err})", e.status.as_str()),
                            _ => e.status.as_str().to_owned(),
                        };
                        emit(&format!(
                            "{:<20} {:<9} {:<3} {:<40} {}\n",
                            e.slug,
                            e.kind.as_str(),
                            if e.enabled { "on" } else { "off" },
                            e.title,
                            status
                        ));
                    }
                }
            }
            ["show", slug] => {
                print_json(&store.get(slug)?);
            }
            ["create", slug] => {
                let source = match &file {
                    Some(f) => read_input(f).map_err(|e| StoreError::Io {
                        path: PathBuf::from(f),
                        source: std::io::Error::other(format!("{e:#}")),
                    })?,
                    None => NEW_SCRIPT.replace("{slug}", slug),
                };
                print_json(&store.create(slug, &source)?);
            }
            ["update", slug] => {
                let Some(f) = &file else {
                    return Err(StoreError::Io {
                        path: PathBuf::from("-"),
                        source: std::io::Error::other("update needs --file FILE (or - for stdin)"),
                    });
                };
                let source = read_input(f).map_err(|e| StoreError::Io {
                    path: PathBuf::from(f),
                    source: std::io::Error::other(format!("{e:#}")),
                })?;
                print_json(&store.update(slug, &source, base.as_deref())?);
            }
            ["delete", slug] => {
                let to = store.delete(slug)?;
                emit(&format!("moved {} to {}\n", slug, to.display()));
            }
            ["rename", from, to] => {
                print_json(&store.rename(from, to)?);
            }
            ["enable", slug] => {
                print_json(&store.set_enabled(slug, true)?);
            }
            ["disable", slug] => {
                print_json(&store.set_enabled(slug, false)?);
            }
            ["sync"] => {
                print_json(&opened.sync);
            }
            _ => {
                return Err(StoreError::InvalidName {
                    name: positional.join(" "),
                    why: "not a `bds scripts` command (see `bds --help`)",
                });
            }
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("bds: {e}");
            Ok(ExitCode::from(match e {
                StoreError::InvalidName { .. }
                | StoreError::NotFound(_)
                | StoreError::AlreadyExists(_)
                | StoreError::Conflict { .. } => 4,
                _ => 3,
            }))
        }
    }
}

fn print_json(v: &impl serde::Serialize) {
    match serde_json::to_string_pretty(v) {
        Ok(text) => emit(&format!("{text}\n")),
        Err(e) => eprintln!("bds: cannot print the result: {e}"),
    }
}

/// Writes to stdout; a closed pipe (`bds … | head`) is not an error worth a panic.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn read_json(path: &str, what: &str) -> Result<Value> {
    let text = read_input(path)?;
    serde_json::from_str(&text).with_context(|| format!("the {what} {path} is not JSON"))
}

fn open_project(dir: &Path, workers: Option<usize>) -> Result<Project> {
    let mut cfg = PoolConfig::default();
    if let Some(n) = workers {
        cfg = cfg.workers(n);
    }
    Project::open(dir, cfg).map_err(|e| match e {
        ProjectError::Store(e @ StoreError::NotAProject(_)) => anyhow::Error::new(e),
        other => {
            anyhow::Error::new(other).context(format!("cannot open the project {}", dir.display()))
        }
    })
}

fn expand(args: &[String]) -> Result<ExitCode> {
    let mut file: Option<String> = None;
    let mut post = Value::Object(Default::default());
    let mut site = json!({});
    let mut project = PathBuf::from(".");
    let mut workers = None;
    let mut json_out = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--post" => post = read_json(value_of(args, &mut i, "--post")?, "post")?,
            "--site" => site = read_json(value_of(args, &mut i, "--site")?, "site")?,
            "--project" => project = PathBuf::from(value_of(args, &mut i, "--project")?),
            "--workers" => {
                workers = Some(number(value_of(args, &mut i, "--workers")?, "--workers")? as usize)
            }
            "--json" => json_out = true,
            flag if flag.starts_with("--") => {
                bail!(Usage(format!("unknown option {flag}\n{USAGE}")))
            }
            path if file.is_none() => file = Some(path.to_owned()),
            extra => bail!(Usage(format!("unexpected argument `{extra}`\n{USAGE}"))),
        }
        i += 1;
    }
    let Some(file) = file else {
        bail!(Usage(format!("expand needs a file\n{USAGE}")));
    };
    let content = read_input(&file)?;
    let started = Instant::now();
    let project = open_project(&project, workers)?;
    let opened = started.elapsed();
    let t = Instant::now();
    let out = project.expand(&content, &post, &site)?;
    let took = t.elapsed();
    if json_out {
        print_json(&json!({
            "html": out.html,
            "diagnostics": out.diagnostics,
            "calls": out.calls,
            "cache_hits": out.cache_hits,
            "timings": {"open_ms": ms(opened), "expand_ms": ms(took)},
            "metrics": project.metrics(),
        }));
    } else {
        emit(&out.html);
        for d in &out.diagnostics {
            eprintln!(
                "{file}:{}:{}: {} {}: {}",
                d.line, d.column, d.kind, d.script, d.message
            );
        }
        eprintln!(
            "bds: {} macro calls ({} from cache) in {:.2} ms; project opened in {:.2} ms",
            out.calls,
            out.cache_hits,
            ms(took),
            ms(opened)
        );
    }
    project.pool().close();
    Ok(if out.diagnostics.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn transform(args: &[String]) -> Result<ExitCode> {
    let mut file: Option<String> = None;
    let mut project = PathBuf::from(".");
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--project" => project = PathBuf::from(value_of(args, &mut i, "--project")?),
            flag if flag.starts_with("--") => {
                bail!(Usage(format!("unknown option {flag}\n{USAGE}")))
            }
            path if file.is_none() => file = Some(path.to_owned()),
            extra => bail!(Usage(format!("unexpected argument `{extra}`\n{USAGE}"))),
        }
        i += 1;
    }
    let Some(file) = file else {
        bail!(Usage(format!("transform needs a post (JSON)\n{USAGE}")));
    };
    let post = read_json(&file, "post")?;
    let project = open_project(&project, Some(1))?;
    let out = project.transform(&post)?;
    print_json(&out);
    project.pool().close();
    Ok(if out.steps.iter().all(|s| s.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
