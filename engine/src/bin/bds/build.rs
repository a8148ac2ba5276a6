//! `bds build`: every post of a content folder, expanded against one site, written as HTML.
//!
//! Posts are read by [`crate::content`], built with [`Project::build`] (the whole site: stored
//! renderings of posts that are gone are forgotten; unchanged posts are reused unless
//! `--no-reuse`), and written to `OUT/<id with .md replaced by .html>`. A file is written only
//! when its content changes, through a temporary file in the same folder and a rename, so a
//! reader never sees half a page.
//!
//! On stderr: diagnostics as `CONTENT_DIR/ID:LINE:COL: kind script: message` (the line in the
//! file, front matter included), files that could
//! not be read as `PATH:LINE: message`, then one summary line. A progress bar is drawn on
//! stderr when it is a terminal; otherwise a build that runs longer than two seconds writes a
//! plain `bds: N of M posts built` line every two seconds. `--json` prints one JSON object on
//! stdout instead (summary, posts, errors) and nothing on stderr but the bar.
//!
//! Exit status: 0 clean, 1 diagnostics or files that could not be read or written (everything
//! else is still written), 3 the site, the content folder or the project could not be opened.

use std::collections::HashMap;
use std::io::{IsTerminal, Write as _};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bds_engine::{
    BuildEvent, BuildOptions, Diagnostic, DocOutput, Document, ProjectError, Severity, SharedValue,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::json;

use crate::BuildArgs;
use crate::content::read_content;
use crate::render::open_project;
use crate::util::{print_json, read_json};

/// A file that was not built (or whose HTML could not be written).
#[derive(Debug, Serialize)]
struct FileError {
    path: String,
    line: Option<usize>,
    message: String,
}

impl FileError {
    fn report(&self, bar: &ProgressBar) {
        let at = match self.line {
            Some(line) => format!("{}:{line}", self.path),
            None => self.path.clone(),
        };
        bar.suspend(|| eprintln!("{at}: {}", self.message));
    }
}

/// One built post, for `--json`.
#[derive(Debug, Serialize)]
struct PostReport {
    id: String,
    /// The HTML file (null when the post's id could not be mapped into the output folder).
    output: Option<String>,
    /// The file was (re)written by this build.
    written: bool,
    calls: usize,
    cache_hits: usize,
    reused: bool,
    diagnostics: Vec<Diagnostic>,
}

/// Where a post's HTML goes: `out/<id with .md replaced by .html>`, or why it cannot go there.
fn output_path(out: &Path, id: &str) -> Result<PathBuf, String> {
    let rel = Path::new(id);
    if id.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!(
            "refusing to write `{id}`: it would leave the output folder"
        ));
    }
    let html = match id.strip_suffix(".md") {
        Some(stem) => format!("{stem}.html"),
        None => format!("{id}.html"),
    };
    Ok(out.join(html))
}

/// Writes `text` to `path` unless it already holds exactly that; true when it wrote.
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(false);
    }
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent folder"))?;
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".bds-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    // No fsync: a page is output, rebuilt from the content at will, and the rename alone keeps
    // a reader from ever seeing half of one. (Syncing each of 2,000 pages doubled a cold
    // build's wall time.)
    tmp.write_all(text.as_bytes())?;
    // A temporary file is private (0600); a page is for everyone to read, like `fs::write`'s.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o777);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(true)
}

/// How often a build writes a plain progress line when stderr is not a terminal (a build that
/// takes less prints none): 2 s, or `$BDS_PROGRESS_EVERY_MS`.
fn plain_progress_every() -> Duration {
    std::env::var("BDS_PROGRESS_EVERY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(2), Duration::from_millis)
}

/// The progress bar: drawn on stderr when it is a terminal, hidden otherwise.
fn progress_bar(total: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} building [{bar:30}] {pos}/{len} posts ({elapsed})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// `1 post`, `2 posts`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Builds the content folder; see the module's documentation.
pub(crate) fn build(args: BuildArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let BuildArgs {
        content: content_dir,
        site: site_path,
        out,
        project: project_dir,
        workers,
        json: as_json,
        no_reuse,
    } = args;
    let site = read_json(&site_path, "site")?;
    // Checked here to name the file; the engine would refuse it too.
    if let Err(e) = SharedValue::new(&site) {
        bail!("the site {site_path} {e}");
    }
    std::fs::read_dir(&content_dir)
        .with_context(|| format!("cannot read the content folder {}", content_dir.display()))?;

    let mut errors: Vec<FileError> = Vec::new();
    let mut docs: Vec<Document> = Vec::new();
    let mut paths: HashMap<String, (PathBuf, usize)> = HashMap::new();
    for found in read_content(&content_dir) {
        match found {
            Ok(file) => {
                paths.insert(file.id.clone(), (file.path, file.body_line));
                docs.push(Document {
                    id: file.id,
                    content: file.content,
                    post: file.post,
                });
            }
            Err(e) => errors.push(FileError {
                path: e.path().display().to_string(),
                line: e.line(),
                message: e.message(),
            }),
        }
    }
    let bar = progress_bar(docs.len());
    if !as_json {
        for e in &errors {
            e.report(&bar);
        }
    }

    let project = open_project(&project_dir, workers)?;
    let opts = BuildOptions {
        reuse: !no_reuse,
        whole_site: true,
        ..BuildOptions::default()
    };
    // A post's file, and the line of the file its body starts on.
    let source_of = |id: &str| {
        paths
            .get(id)
            .cloned()
            .unwrap_or_else(|| (content_dir.join(id), 1))
    };
    let mut posts: Vec<PostReport> = Vec::new();
    let mut written = 0usize;
    // Not on a terminal (a log, CI): no bar, but a plain line when a build runs long.
    let mut plain = (!as_json && !std::io::stderr().is_terminal()).then(Instant::now);
    let every = plain_progress_every();
    let summary = loop {
        let mut write_errors: Vec<FileError> = Vec::new();
        let mut on_event = |event: BuildEvent<'_>| match event {
            BuildEvent::Progress { done, total } => {
                bar.set_position(done as u64);
                if let Some(last) = plain.as_mut()
                    && last.elapsed() >= every
                    && done < total
                {
                    eprintln!("bds: {done} of {total} posts built");
                    *last = Instant::now();
                }
            }
            BuildEvent::Doc(doc) => {
                let (report, error) = finish(doc, &out, &source_of, as_json, &bar);
                written += usize::from(report.written);
                posts.push(report);
                write_errors.extend(error);
            }
        };
        match project.build(&docs, &site, &opts, &mut on_event) {
            Ok(summary) => {
                errors.extend(write_errors);
                break summary;
            }
            // A post the engine refuses (its metadata does not fit the post schema) stops the
            // build before anything runs: report it like an unreadable file, build the others.
            Err(ProjectError::InvalidPost { index, message, .. }) => {
                let doc = docs.remove(index);
                let error = FileError {
                    path: source_of(&doc.id).0.display().to_string(),
                    line: None,
                    message: format!("invalid post: {message}"),
                };
                if !as_json {
                    error.report(&bar);
                }
                errors.push(error);
                bar.set_length(docs.len() as u64);
                posts.clear();
                written = 0;
            }
            Err(ProjectError::InvalidInput {
                what: "site",
                message,
            }) => return Err(anyhow!("the site {site_path}: {message}")),
            Err(e) => return Err(anyhow::Error::new(e).context("the build failed")),
        }
    };
    bar.finish_and_clear();
    project.pool().close();

    if as_json {
        let mut summary_json = serde_json::to_value(&summary)?;
        if let Some(o) = summary_json.as_object_mut() {
            o.insert("files_written".into(), json!(written));
            o.insert("errors".into(), json!(errors.len()));
        }
        print_json(&json!({"summary": summary_json, "posts": posts, "errors": errors}));
    } else {
        let diagnostics = if summary.diagnostics == 0 {
            "no diagnostics".to_owned()
        } else {
            let warnings = if summary.warnings == 0 {
                String::new()
            } else {
                format!(
                    ", {} of them {}",
                    summary.warnings,
                    if summary.warnings == 1 {
                        "a warning"
                    } else {
                        "warnings"
                    }
                )
            };
            format!(
                "{} in {}{warnings}",
                count(summary.diagnostics as u64, "diagnostic", "diagnostics"),
                count(summary.posts_with_diagnostics as u64, "post", "posts")
            )
        };
        let mut line = format!(
            "bds: built {} in {:.2} s: {} rendered, {} unchanged; {} ({} from cache); {diagnostics}; {} written",
            count(summary.posts as u64, "post", "posts"),
            started.elapsed().as_secs_f64(),
            summary.rendered,
            summary.reused,
            count(summary.calls as u64, "macro call", "macro calls"),
            summary.cache_hits,
            count(written as u64, "file", "files"),
        );
        if !errors.is_empty() {
            line += &format!("; {}", count(errors.len() as u64, "error", "errors"));
        }
        if summary.forgotten > 0 {
            line += &format!(
                "; {} no longer in the site forgotten",
                count(summary.forgotten, "post", "posts")
            );
        }
        eprintln!("{line}");
    }
    // Warnings are printed but do not fail the build.
    Ok(
        if summary.diagnostics == summary.warnings && errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// `warning: ` before a warning's kind (unless the kind says it already), nothing for errors.
pub(crate) fn warning_prefix(d: &Diagnostic) -> &'static str {
    if d.severity == Severity::Warning && d.kind != "warning" {
        "warning: "
    } else {
        ""
    }
}

/// Writes one post's HTML and reports its diagnostics (unless `--json`).
fn finish(
    doc: &DocOutput,
    out: &Path,
    source_of: &dyn Fn(&str) -> (PathBuf, usize),
    as_json: bool,
    bar: &ProgressBar,
) -> (PostReport, Option<FileError>) {
    let (source, body_line) = source_of(&doc.id);
    // Lines in the file, not in the body the engine saw (0, a transform's, stays 0).
    let mut diagnostics = doc.diagnostics.clone();
    let shift = u32::try_from(body_line.saturating_sub(1)).unwrap_or(u32::MAX);
    for d in &mut diagnostics {
        if d.line > 0 {
            d.line = d.line.saturating_add(shift);
        }
    }
    if !as_json {
        bar.suspend(|| {
            for d in &diagnostics {
                eprintln!(
                    "{}:{}:{}: {}{} {}: {}",
                    source.display(),
                    d.line,
                    d.column,
                    warning_prefix(d),
                    d.kind,
                    d.script,
                    d.message
                );
            }
        });
    }
    let mut report = PostReport {
        id: doc.id.clone(),
        output: None,
        written: false,
        calls: doc.calls,
        cache_hits: doc.cache_hits,
        reused: doc.reused,
        diagnostics,
    };
    let error = match output_path(out, &doc.id) {
        Ok(dest) => {
            let outcome = write_if_changed(&dest, &doc.html);
            report.output = Some(dest.display().to_string());
            match outcome {
                Ok(w) => {
                    report.written = w;
                    None
                }
                Err(e) => Some(FileError {
                    path: dest.display().to_string(),
                    line: None,
                    message: format!("cannot write: {e}"),
                }),
            }
        }
        Err(message) => Some(FileError {
            path: source.display().to_string(),
            line: None,
            message,
        }),
    };
    if let (Some(e), false) = (&error, as_json) {
        e.report(bar);
    }
    (report, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_keep_the_folders_and_never_leave_out() {
        let out = Path::new("/srv/public");
        assert_eq!(
            output_path(out, "posts/hello.md"),
            Ok(PathBuf::from("/srv/public/posts/hello.html"))
        );
        assert_eq!(
            output_path(out, "about.md"),
            Ok(PathBuf::from("/srv/public/about.html"))
        );
        for bad in ["../x.md", "posts/../../x.md", "/etc/x.md", "./x.md", ""] {
            assert!(output_path(out, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_file_is_written_only_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("a/b/page.html");
        assert!(write_if_changed(&page, "<p>1</p>").unwrap());
        assert!(!write_if_changed(&page, "<p>1</p>").unwrap());
        assert!(write_if_changed(&page, "<p>2</p>").unwrap());
        assert_eq!(std::fs::read_to_string(&page).unwrap(), "<p>2</p>");
        // Only the page: no temporary file left behind.
        assert_eq!(
            std::fs::read_dir(page.parent().unwrap()).unwrap().count(),
            1
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&page).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
    }
}
