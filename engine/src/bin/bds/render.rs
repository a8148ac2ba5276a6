//! `bds expand` (the macros of a post) and `bds transform` (the project's transforms on a post).

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use bds_engine::{Project, ProjectError, Severity, StoreError};
use serde_json::{Value, json};

use crate::util::{emit, ms, print_json, read_input, read_json};
use crate::{ExpandArgs, TransformArgs};

/// Opens a project with `workers` worker processes (the default when `None`).
pub(crate) fn open_project(dir: &Path, workers: Option<usize>) -> Result<Project> {
    let mut cfg = crate::util::pool_config();
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

/// Prints the expanded HTML (or everything as JSON); exit status 1 when there are diagnostics.
pub(crate) fn expand(args: ExpandArgs) -> Result<ExitCode> {
    let post = match &args.post {
        Some(path) => read_json(path, "post")?,
        None => Value::Object(Default::default()),
    };
    let site = match &args.site {
        Some(path) => read_json(path, "site")?,
        None => json!({}),
    };
    let file = args.file;
    let content = read_input(&file)?;
    let started = Instant::now();
    let project = open_project(&args.project, args.workers)?;
    let opened = started.elapsed();
    let t = Instant::now();
    let out = project.expand(&content, &post, &site)?;
    let took = t.elapsed();
    if args.json {
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
                "{file}:{}:{}: {}{} {}: {}",
                d.line,
                d.column,
                crate::build::warning_prefix(d),
                d.kind,
                d.script,
                d.message
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
    // Warnings are printed but do not fail the render.
    Ok(
        if out
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning)
        {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// Prints the final post and each step's outcome; exit status 1 when a step failed.
pub(crate) fn transform(args: TransformArgs) -> Result<ExitCode> {
    let post = read_json(&args.file, "post")?;
    let project = open_project(&args.project, Some(1))?;
    let out = project.transform(&post)?;
    print_json(&out);
    project.pool().close();
    Ok(if out.steps.iter().all(|s| s.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
