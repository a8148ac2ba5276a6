//! The `Engine` class: one open project, its worker pool, its watcher and its listeners.
//!
//! This file is the class and what JS can call on it; `open` is the work of opening a
//! project, `jobs` how that work (and every other) runs off the JS thread and settles its
//! Promise, and `options` the checks on what a caller passes.

mod jobs;
mod open;
mod options;

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use bds_engine::{self as engine, CallOptions, Script};
use napi::bindgen_prelude::PromiseRaw;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use serde_json::Value;

use crate::error::Failure;
use crate::json;
use crate::types::{
    BuildPost, BuildProgress, BuildResult, BuiltPost, ChangeEvent, Diagnostics, Expansion,
    ListFilter, MacroMetrics, OpenOptions, OpenReport, RunOptions, RunResult, ScriptEntry,
    ScriptProblem, ScriptSource, SyncReport, TransformOutcome, Usage,
};
use jobs::{Done, State, Which, detached, lock};
pub(crate) use options::run_context;
use options::{object_or_empty, run, run_options};

type Listener = ThreadsafeFunction<ChangeEvent, (), ChangeEvent, Status, false, true>;
type Resolver<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;
type Listeners = Arc<Mutex<Vec<(u32, Arc<Listener>)>>>;

/// An open bDS project: its scripts, sandboxed workers to run them, and a watcher that sees
/// changes made outside the app.
///
/// Every method that touches the disk or Python returns a Promise and does its work on the
/// engine's own threads, never on the JS thread. A rejected Promise carries an `Error` whose
/// `name` is `BdsError` and whose `code` is an {@link ErrorCode} (see {@link BdsErrorFields}).
#[napi]
pub struct Engine {
    state: Arc<Mutex<Option<Arc<State>>>>,
    shut_down: Arc<Done>,
    listeners: Listeners,
    next_listener: AtomicU32,
    root: String,
    report: OpenReport,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// An engine collected without `close()` shuts down on a thread of its own: joining the
/// watcher and stopping workers must not hold up the JS thread the finalizer runs on.
impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(state) = lock(&self.state).take() {
            let done = self.shut_down.clone();
            let _ = std::thread::Builder::new()
                .name("bds-close".into())
                .spawn(move || {
                    state.shut_down();
                    done.finish();
                });
        }
    }
}

#[napi]
impl Engine {
    /// Opens the bDS project in `dir` (the folder holding `scripts/`), starts its workers and,
    /// unless `watch: false`, its watcher. The first open on a machine compiles the guest once
    /// (about 15 s) and caches it; later opens take milliseconds.
    #[napi(ts_return_type = "Promise<Engine>")]
    pub fn open<'env>(
        env: &'env Env,
        dir: String,
        options: Option<OpenOptions>,
    ) -> napi::Result<PromiseRaw<'env, Engine>> {
        let options = options.unwrap_or_default();
        detached(env, move || {
            Engine::open_blocking(Path::new(&dir), &options)
        })
    }

    /// The project folder.
    #[napi(getter)]
    pub fn root(&self) -> String {
        self.root.clone()
    }

    /// What opening the project did: index rebuilt, bundled scripts seeded or upgraded, files
    /// found changed since the last run.
    #[napi(getter)]
    pub fn open_report(&self) -> OpenReport {
        self.report.clone()
    }

    /// True once `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        lock(&self.state).is_none()
    }

    /// The scripts in the index, by slug.
    #[napi(ts_return_type = "Promise<Array<ScriptEntry>>")]
    pub fn list_scripts<'env>(
        &self,
        env: &'env Env,
        filter: Option<ListFilter>,
    ) -> napi::Result<PromiseRaw<'env, Vec<ScriptEntry>>> {
        let filter = filter.unwrap_or_default();
        let filter = engine::ListFilter {
            kind: filter.kind.map(Into::into),
            enabled: filter.enabled,
        };
        self.schedule(env, Which::Io, move |s| {
            let list = s.project.store().list(filter)?;
            Ok(list.into_iter().map(Into::into).collect())
        })
    }

    /// One script's index entry and its source, for the editor.
    #[napi(ts_return_type = "Promise<ScriptSource>")]
    pub fn read_script<'env>(
        &self,
        env: &'env Env,
        slug: String,
    ) -> napi::Result<PromiseRaw<'env, ScriptSource>> {
        self.schedule(env, Which::Io, move |s| {
            // The entry must describe the very bytes returned: its hash is what a later save
            // checks for conflicts. A file changed between the two reads is synced and read again.
            let store = s.project.store();
            let mut tries = 0;
            loop {
                let source = store.read(&slug)?;
                let mut entry = store.get(&slug)?;
                let hash = Script::new("", source.as_str()).hash_hex();
                if entry.content_hash == hash || tries == 2 {
                    entry.content_hash = hash;
                    return Ok(ScriptSource {
                        entry: entry.into(),
                        source,
                    });
                }
                store.sync()?;
                tries += 1;
            }
        })
    }

    /// Creates `scripts/<slug>.py`. Never replaces a file: rejects with `already-exists`.
    #[napi(ts_return_type = "Promise<ScriptEntry>")]
    pub fn create_script<'env>(
        &self,
        env: &'env Env,
        slug: String,
        source: String,
    ) -> napi::Result<PromiseRaw<'env, ScriptEntry>> {
        self.schedule(env, Which::Io, move |s| {
            Ok(s.project.store().create(&slug, &source)?.into())
        })
    }

    /// Saves a new source for an existing script. With `baseHash` (the `contentHash` the editor
    /// loaded), rejects with `conflict` if the file changed on disk since, and writes nothing.
    /// The entry that comes back has the compile status of the new source.
    #[napi(ts_return_type = "Promise<ScriptEntry>")]
    pub fn save_script<'env>(
        &self,
        env: &'env Env,
        slug: String,
        source: String,
        base_hash: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, ScriptEntry>> {
        self.schedule(env, Which::Io, move |s| {
            Ok(s.project
                .store()
                .update(&slug, &source, base_hash.as_deref())?
                .into())
        })
    }

    /// Turns a script on or off (rewrites the `enabled:` line of its header).
    #[napi(ts_return_type = "Promise<ScriptEntry>")]
    pub fn set_enabled<'env>(
        &self,
        env: &'env Env,
        slug: String,
        enabled: bool,
    ) -> napi::Result<PromiseRaw<'env, ScriptEntry>> {
        self.schedule(env, Which::Io, move |s| {
            Ok(s.project.store().set_enabled(&slug, enabled)?.into())
        })
    }

    /// Moves `scripts/<slug>.py` to `.bds/trash/` (nothing is erased) and resolves with the
    /// path it was moved to.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn delete_script<'env>(
        &self,
        env: &'env Env,
        slug: String,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        self.schedule(env, Which::Io, move |s| {
            Ok(s.project.store().delete(&slug)?.display().to_string())
        })
    }

    /// Renames `scripts/<from>.py` to `scripts/<to>.py`. Never replaces a file.
    #[napi(ts_return_type = "Promise<ScriptEntry>")]
    pub fn rename_script<'env>(
        &self,
        env: &'env Env,
        from: String,
        to: String,
    ) -> napi::Result<PromiseRaw<'env, ScriptEntry>> {
        self.schedule(env, Which::Io, move |s| {
            Ok(s.project.store().rename(&from, &to)?.into())
        })
    }

    /// Reconciles the index with the files now (the watcher does this on its own).
    #[napi(ts_return_type = "Promise<SyncReport>")]
    pub fn sync<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, SyncReport>> {
        self.schedule(env, Which::Io, move |s| {
            Ok(s.project.store().sync()?.into())
        })
    }

    /// The Run button: calls the saved script `slug` with `context` (missing keys get the ABI's
    /// empty defaults: `params: {}`, `args: []`, `inner: null`, `post: {}`, `site: {}`).
    /// Resolves with the result and what the script printed; rejects with the script's error
    /// (`compile`, `runtime` with `traceback` and `line`, `timeout`, ...) and its `stdout`.
    #[napi(ts_return_type = "Promise<RunResult>")]
    pub fn run_script<'env>(
        &self,
        env: &'env Env,
        slug: String,
        #[napi(ts_arg_type = "Record<string, unknown>")] context: Option<Value>,
        options: Option<RunOptions>,
    ) -> napi::Result<PromiseRaw<'env, RunResult>> {
        self.schedule(env, Which::Calls, move |s| {
            let context = run_context(context.map(json::from_js))?;
            let opts = run_options(options.unwrap_or_default())?;
            let store = s.project.store();
            let source = store.read(&slug)?;
            run(
                s,
                &Script::new(format!("{slug}.py"), source),
                &context,
                &opts,
            )
        })
    }

    /// The Run button on an unsaved buffer: like `runScript`, with the source given. `name`
    /// (default `untitled`) is the file name tracebacks show, without `.py`.
    #[napi(ts_return_type = "Promise<RunResult>")]
    pub fn run_source<'env>(
        &self,
        env: &'env Env,
        source: String,
        #[napi(ts_arg_type = "Record<string, unknown>")] context: Option<Value>,
        options: Option<RunOptions>,
        name: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, RunResult>> {
        self.schedule(env, Which::Calls, move |s| {
            let name = name.unwrap_or_else(|| "untitled".to_owned());
            engine::validate_slug(&name)?;
            let context = run_context(context.map(json::from_js))?;
            let opts = run_options(options.unwrap_or_default())?;
            run(
                s,
                &Script::new(format!("{name}.py"), source),
                &context,
                &opts,
            )
        })
    }

    /// Expands the macros of one post. `post` is its metadata (`title`, `content`, ...; default
    /// `{}`), `site` the site's (default `{}`). A failing macro does not reject: it becomes a
    /// `bds-macro-error` span in the HTML and a diagnostic.
    #[napi(ts_return_type = "Promise<Expansion>")]
    pub fn expand<'env>(
        &self,
        env: &'env Env,
        content: String,
        #[napi(ts_arg_type = "Record<string, unknown>")] post: Option<Value>,
        #[napi(ts_arg_type = "Record<string, unknown>")] site: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Expansion>> {
        self.schedule(env, Which::Calls, move |s| {
            let post = object_or_empty(post.map(json::from_js), "post")?;
            let site = object_or_empty(site.map(json::from_js), "site")?;
            let out = s.project.expand(&content, &post, &site)?;
            let out = Expansion::from(out);
            *lock(&s.last_render) = out.diagnostics.clone();
            Ok(out)
        })
    }

    /// Builds many posts against one site: each post is expanded (or, when nothing it depends
    /// on changed since its last build, its stored rendering reused), all calls sharing
    /// batches, `site` sent to each worker once. `onProgress` (optional) is called on the JS
    /// thread after each chunk of posts. A failing macro does not reject: it is a diagnostic
    /// of its post. Rejects with `invalid-input` for a post or site that is not an object, or a
    /// site over 64 MiB of JSON. The posts given are taken as the whole site: renderings and
    /// usages of other post ids are forgotten.
    #[napi(ts_return_type = "Promise<BuildResult>")]
    pub fn build<'env>(
        &self,
        env: &'env Env,
        posts: Vec<BuildPost>,
        #[napi(ts_arg_type = "Record<string, unknown>")] site: Option<Value>,
        on_progress: Option<
            ThreadsafeFunction<BuildProgress, (), BuildProgress, Status, false, true>,
        >,
    ) -> napi::Result<PromiseRaw<'env, BuildResult>> {
        self.schedule(env, Which::Calls, move |s| {
            let site = object_or_empty(site.map(json::from_js), "site")?;
            let docs = posts
                .into_iter()
                .map(|p| {
                    Ok(engine::Document {
                        id: p.id,
                        content: p.content,
                        post: object_or_empty(p.post.map(json::from_js), "post")?,
                    })
                })
                .collect::<Result<Vec<_>, Failure>>()?;
            let mut built = Vec::with_capacity(docs.len());
            let summary = s.project.build(
                &docs,
                &site,
                &engine::BuildOptions::default(),
                &mut |event| match event {
                    engine::BuildEvent::Doc(d) => built.push(BuiltPost::from(d.clone())),
                    engine::BuildEvent::Progress { done, total } => {
                        if let Some(f) = &on_progress {
                            let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
                            f.call(
                                BuildProgress {
                                    done: n(done),
                                    total: n(total),
                                },
                                ThreadsafeFunctionCallMode::NonBlocking,
                            );
                        }
                    }
                },
            )?;
            *lock(&s.last_render) = built
                .iter()
                .flat_map(|p| p.diagnostics.iter().cloned())
                .collect();
            Ok(BuildResult {
                posts: built,
                summary: summary.into(),
            })
        })
    }

    /// The scripts that import the utility `slug`, directly or through other utilities: the
    /// scripts an edit of it re-runs.
    #[napi(ts_return_type = "Promise<Array<string>>")]
    pub fn importers<'env>(
        &self,
        env: &'env Env,
        slug: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<String>>> {
        self.schedule(env, Which::Io, move |s| {
            Ok(s.project.store().importers(&slug)?)
        })
    }

    /// The posts whose last build called the macro `slug`, with how many calls each.
    #[napi(ts_return_type = "Promise<Array<Usage>>")]
    pub fn usages<'env>(
        &self,
        env: &'env Env,
        slug: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<Usage>>> {
        self.schedule(env, Which::Io, move |s| {
            Ok(s.project
                .store()
                .usages(&slug)?
                .into_iter()
                .map(|(post, calls)| Usage {
                    post,
                    calls: u32::try_from(calls).unwrap_or(u32::MAX),
                })
                .collect())
        })
    }

    /// Runs the enabled transforms on a post captured by the bookmarklet. Each step's output is
    /// validated; a step that fails is skipped and the post from before it kept.
    #[napi(ts_return_type = "Promise<TransformOutcome>")]
    pub fn transform<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "Record<string, unknown>")] post: Value,
    ) -> napi::Result<PromiseRaw<'env, TransformOutcome>> {
        self.schedule(env, Which::Calls, move |s| {
            let mut out = TransformOutcome::from(s.project.transform(&json::from_js(post))?);
            out.post = json::to_js(out.post);
            *lock(&s.last_render) = out.steps.iter().filter_map(|st| st.error.clone()).collect();
            Ok(out)
        })
    }

    /// Scripts that do not compile or cannot be read, and the diagnostics of the last render.
    #[napi(ts_return_type = "Promise<Diagnostics>")]
    pub fn diagnostics<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Diagnostics>> {
        self.schedule(env, Which::Io, move |s| {
            let scripts = s
                .project
                .store()
                .list(engine::ListFilter::default())?
                .into_iter()
                .filter(|e| e.status != engine::ScriptStatus::Ok)
                .map(|e| ScriptProblem {
                    slug: e.slug,
                    status: e.status.as_str().to_owned(),
                    message: e.error.unwrap_or_default(),
                    line: e.error_line,
                })
                .collect();
            Ok(Diagnostics {
                scripts,
                last_render: lock(&s.last_render).clone(),
            })
        })
    }

    /// Calls, errors, timeouts, cache hits and latency per script since the engine opened.
    #[napi(ts_return_type = "Promise<Array<MacroMetrics>>")]
    pub fn metrics<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Vec<MacroMetrics>>> {
        self.schedule(env, Which::Io, move |s| {
            Ok(s.project.metrics().into_iter().map(Into::into).collect())
        })
    }

    /// For benchmarks: times `iterations` Run-button calls of `slug` made directly from Rust on
    /// an engine thread (no JS in between), and resolves with each call's time in
    /// microseconds. The baseline for what the addon itself adds.
    #[napi(ts_return_type = "Promise<Array<number>>")]
    pub fn measure_engine<'env>(
        &self,
        env: &'env Env,
        slug: String,
        #[napi(ts_arg_type = "Record<string, unknown>")] context: Option<Value>,
        iterations: u32,
    ) -> napi::Result<PromiseRaw<'env, Vec<f64>>> {
        self.schedule(env, Which::Calls, move |s| {
            let context = run_context(context.map(json::from_js))?;
            let opts = CallOptions::run_button();
            let source = s.project.store().read(&slug)?;
            let script = Script::new(format!("{slug}.py"), source);
            let pool = s.project.pool();
            (0..iterations)
                .map(|_| {
                    let t = std::time::Instant::now();
                    pool.call(&script, &context, &opts)?;
                    Ok(t.elapsed().as_nanos() as f64 / 1000.0)
                })
                .collect()
        })
    }

    /// Calls `callback` on the JS thread for every script change, made through this engine
    /// (`origin: 'app'`) or outside it (`'external'`). Returns an id for `offChange`. The
    /// subscription does not keep Node's event loop alive. A callback that throws is reported
    /// like any uncaught exception (as from a timer); the other callbacks still run.
    #[napi]
    pub fn on_change(
        &self,
        callback: ThreadsafeFunction<ChangeEvent, (), ChangeEvent, Status, false, true>,
    ) -> napi::Result<u32> {
        if self.closed() {
            return Err(napi::Error::from_reason("the engine is closed"));
        }
        let id = self.next_listener.fetch_add(1, Ordering::Relaxed);
        lock(&self.listeners).push((id, Arc::new(callback)));
        Ok(id)
    }

    /// Stops a subscription. Returns false if there was none with that id.
    #[napi]
    pub fn off_change(&self, id: u32) -> bool {
        let mut l = lock(&self.listeners);
        let before = l.len();
        l.retain(|(i, _)| *i != id);
        l.len() != before
    }

    /// Waits for the calls in progress, then stops the watcher and the workers, and drops every
    /// subscription. Calls still queued, and calls made afterwards, reject with `closed`.
    /// Closing twice is harmless: every `close()` resolves once the engine has shut down.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let state = lock(&self.state).take();
        lock(&self.listeners).clear();
        let done = self.shut_down.clone();
        detached(env, move || {
            match state {
                Some(state) => {
                    state.shut_down();
                    done.finish();
                }
                None => done.wait(),
            }
            Ok(())
        })
    }
}
