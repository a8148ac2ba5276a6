//! `bds init` (a new project) and `bds scripts …` (the project's scripts and their index).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use bds_engine::{Checker, ListFilter, Pool, ScriptKind, ScriptStore, StoreError};
use serde_json::json;

use crate::util::{emit, print_json, read_input};
use crate::{ScriptsArgs, ScriptsCommand};

/// What `bds scripts create SLUG` writes without `--file`.
const NEW_SCRIPT: &str = "# ---\n# title: {slug}\n# kind: macro\n# entrypoint: render\n# enabled: true\n# version: 1\n# ---\nimport html\n\n\ndef render(context):\n    args = context.get(\"args\") or []\n    return {\"html\": html.escape(\" \".join(str(a) for a in args))}\n";

/// A pool to compile scripts for the index's status, or none (with a warning) if it cannot start.
fn checker() -> Option<Arc<dyn Checker>> {
    match Pool::new(crate::util::pool_config().workers(1)) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            eprintln!("bds: scripts will not be compiled ({e})");
            None
        }
    }
}

/// Creates (or reopens) a project and prints what was seeded.
pub(crate) fn init(dir: &Path) -> Result<ExitCode> {
    let (store, report) = ScriptStore::init(dir, checker())
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

/// `used by 2 posts (from the last build): posts/a.md (2 calls), posts/b.md (1 call)`.
/// A macro's declared parameters, one per line, as `bds scripts show` prints them.
fn params_text(slug: &str, params: &[bds_engine::ParamDecl]) -> String {
    let mut out = format!("{slug} declares {} parameter(s):", params.len());
    for p in params {
        let mut flags = vec![p.ty.to_string()];
        if p.required {
            flags.push("required".into());
        }
        if let Some(d) = &p.default {
            flags.push(format!("default {d}"));
        }
        if let Some(n) = p.position {
            flags.push(format!("position {n}"));
        }
        out.push_str(&format!("\n  {}: {}", p.name, flags.join(", ")));
        if !p.doc.is_empty() {
            out.push_str(&format!(" -- {}", p.doc));
        }
    }
    out
}

fn usages_line(usages: &[(String, u64)]) -> String {
    if usages.is_empty() {
        return "used by no post (from the last build)".to_owned();
    }
    let list: Vec<String> = usages
        .iter()
        .map(|(post, calls)| {
            format!(
                "{post} ({calls} call{})",
                if *calls == 1 { "" } else { "s" }
            )
        })
        .collect();
    format!(
        "used by {} post{} (from the last build): {}",
        usages.len(),
        if usages.len() == 1 { "" } else { "s" },
        list.join(", ")
    )
}

/// The source given by `--file FILE|-`, as a store error so that it exits like one (3).
fn source_from(file: &str) -> Result<String, StoreError> {
    read_input(file).map_err(|e| StoreError::Io {
        path: PathBuf::from(file),
        source: std::io::Error::other(format!("{e:#}")),
    })
}

/// Opens the project (which reconciles the index with the files) and runs one subcommand.
/// Exit status 4 when the store refuses the request, 3 when the project cannot be opened.
pub(crate) fn scripts(args: ScriptsArgs) -> Result<ExitCode> {
    let project = args.project.unwrap_or_else(|| PathBuf::from("."));
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
        match args.command {
            ScriptsCommand::List {
                kind,
                enabled,
                disabled,
                json,
            } => {
                let filter = ListFilter {
                    kind,
                    enabled: (enabled || disabled).then_some(enabled),
                };
                let list = store.list(filter)?;
                if json {
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
            ScriptsCommand::Show { slug } => {
                let entry = store.get(&slug)?;
                print_json(&entry);
                // Where the macro is used, on stderr: stdout stays the entry, as JSON.
                if entry.kind == ScriptKind::Macro {
                    if let Some(params) = &entry.params {
                        eprintln!("{}", params_text(&slug, params));
                    }
                    eprintln!("{}", usages_line(&store.usages(&slug)?));
                }
                if entry.kind == ScriptKind::Utility {
                    let importers = store.importers(&slug)?;
                    if importers.is_empty() {
                        eprintln!("imported by no script");
                    } else {
                        eprintln!("imported by {}", importers.join(", "));
                    }
                }
            }
            ScriptsCommand::Create { slug, file } => {
                let source = match &file {
                    Some(f) => source_from(f)?,
                    None => NEW_SCRIPT.replace("{slug}", &slug),
                };
                print_json(&store.create(&slug, &source)?);
            }
            ScriptsCommand::Update { slug, file, base } => {
                let source = source_from(&file)?;
                print_json(&store.update(&slug, &source, base.as_deref())?);
            }
            ScriptsCommand::Delete { slug } => {
                let to = store.delete(&slug)?;
                emit(&format!("moved {} to {}\n", slug, to.display()));
            }
            ScriptsCommand::Rename { from, to } => print_json(&store.rename(&from, &to)?),
            ScriptsCommand::Enable { slug } => print_json(&store.set_enabled(&slug, true)?),
            ScriptsCommand::Disable { slug } => print_json(&store.set_enabled(&slug, false)?),
            ScriptsCommand::Sync => print_json(&opened.sync),
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
