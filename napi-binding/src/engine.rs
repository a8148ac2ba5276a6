//! The `Engine` class: one open project, its worker pool, its watcher and its listeners.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::Duration;

use bds_engine::{self as engine, CallOptions, Limits, Pool, PoolConfig, Project, Script};
use napi::bindgen_prelude::{JsValue, PromiseRaw, ToNapiValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use serde_json::{Map, Value, json};

use crate::error::{ErrorCode, Failure};
use crate::json;
use crate::lane::Lane;
use crate::types::{
    BuildPost, BuildProgress, BuildResult, BuiltPost, ChangeEvent, Diagnostic, Diagnostics,
    Expansion, ListFilter, MacroMetrics, OpenOptions, OpenReport, RunOptions, RunResult,
    ScriptEntry, ScriptProblem, ScriptSource, SyncReport, TransformOutcome, Usage,
};

type Listener = ThreadsafeFunction<ChangeEvent, (), ChangeEvent, Status, false, true>;
type Resolver<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;
type Listeners = Arc<Mutex<Vec<(u32, Arc<Listener>)>>>;

/// Everything an open engine owns. Dropped when the engine is closed (or collected) and the
/// last job that holds it has finished.
struct State {
    project: Project,
    /// Python work: runs, expansions, transforms. One thread per worker process.
    calls: Lane,
    /// Store work: reading, saving, listing (never queued behind a slow script).
    io: Lane,
    watcher: Mutex<Option<engine::Watcher>>,
    /// Every job holds it for reading while it runs; `close()` takes it for writing (so it
    /// waits for the jobs in progress) and sets it, so jobs that start later reject `closed`.
    gate: RwLock<bool>,
    last_render: Mutex<Vec<Diagnostic>>,
}

impl State {
    /// Waits for the jobs in progress, then stops the watcher (its thread finishes a sync it
    /// is in, with the workers still there) and the workers.
    fn shut_down(&self) {
        *self.gate.write().unwrap_or_else(PoisonError::into_inner) = true;
        lock(&self.watcher).take();
        self.project.pool().close();
    }
}

/// Set once the engine has shut down; a second `close()` waits for it.
#[derive(Default)]
struct Done {
    done: Mutex<bool>,
    cv: Condvar,
}

impl Done {
    fn finish(&self) {
        *lock(&self.done) = true;
        self.cv.notify_all();
    }
    fn wait(&self) {
        let mut done = lock(&self.done);
        while !*done {
            done = self.cv.wait(done).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[derive(Clone, Copy)]
enum Which {
    Calls,
    Io,
}

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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Settles `deferred` with `result` (on the JS thread, where the value is converted).
fn settle<T: ToNapiValue + Send + 'static>(
    deferred: napi::JsDeferred<T, Resolver<T>>,
    result: Result<T, Failure>,
) {
    match result {
        Ok(v) => deferred.resolve(Box::new(move |_| Ok(v))),
        Err(f) => deferred.resolve(Box::new(move |env| Err(f.into_js(&env)))),
    }
}

fn promise<'env, T>(
    env: &'env Env,
    raw: napi::bindgen_prelude::Object<'env>,
) -> PromiseRaw<'env, T> {
    PromiseRaw::new(env.raw(), raw.raw())
}

/// Runs `work` on a thread of its own (for `open`, which has no lanes yet).
fn detached<'env, T, F>(env: &'env Env, work: F) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: FnOnce() -> Result<T, Failure> + Send + 'static,
{
    let (deferred, raw) = env.create_deferred::<T, Resolver<T>>()?;
    let spawned = std::thread::Builder::new()
        .name("bds-open".into())
        .spawn(move || settle(deferred, guarded(work)));
    if let Err(e) = spawned {
        return Err(napi::Error::from_reason(format!(
            "cannot start a thread: {e}"
        )));
    }
    Ok(promise(env, raw))
}

/// `work()`, with a panic turned into an `internal` failure.
fn guarded<T>(work: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Failure::new(
            ErrorCode::Internal,
            format!("internal error (please report): {what}"),
        ))
    })
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

    fn open_blocking(dir: &Path, o: &OpenOptions) -> Result<Engine, Failure> {
        if dir.as_os_str().is_empty() {
            return Err(Failure::invalid("the project folder is empty"));
        }
        let workers = match o.workers {
            Some(n) => within("workers", n, 1, MAX_WORKERS)? as usize,
            None => PoolConfig::default().worker_count(),
        };
        let mut config = PoolConfig::default().workers(workers);
        if let Some(p) = crate::locate::worker(o.worker_path.as_deref()) {
            config = config.worker_path(p);
        }
        if let Some(g) = o.guest {
            config = config.guest(match g {
                crate::types::Guest::RustPython => bds_engine::Guest::RustPython,
                crate::types::Guest::CPython => bds_engine::Guest::CPython,
            });
        }
        if let Some(p) = &o.guest_path {
            config = config.guest_path(p);
        }
        if let Some(p) = &o.cache_dir {
            config = config.cache_dir(p);
        }
        if let Some(n) = o.max_live_instances {
            config = config.max_live_instances(within("maxLiveInstances", n, 1, 1024)? as usize);
        }
        if let Some(n) = o.memory_budget_mib {
            config = config.memory_budget_mib(within("memoryBudgetMib", n, 16, 1 << 20)? as usize);
        }
        let mut limits = Limits::macro_call();
        if let Some(ms) = o.macro_deadline_ms {
            let ms = within("macroDeadlineMs", ms, 1, MAX_DEADLINE_MS)?;
            limits = limits.with_deadline(Duration::from_millis(u64::from(ms)));
        }
        if let Some(mib) = o.macro_memory_mib {
            limits = limits.with_memory_mib(u64::from(within(
                "macroMemoryMib",
                mib,
                1,
                MAX_MEMORY_MIB,
            )?));
        }
        let debounce = within(
            "watchDebounceMs",
            o.watch_debounce_ms.unwrap_or(100),
            0,
            60_000,
        )?;

        let pool = Pool::new(config)?;
        let checker: Arc<dyn engine::Checker> = Arc::new(pool.clone());
        let opened = if o.create.unwrap_or(false) {
            engine::ScriptStore::init(dir, Some(checker))
        } else {
            engine::ScriptStore::open(dir, Some(checker))
        };
        let (store, report) = match opened {
            Ok(x) => x,
            Err(e) => {
                pool.close();
                return Err(e.into());
            }
        };
        let events = store.subscribe();
        let watcher = if o.watch.unwrap_or(true) {
            match store.watch(Duration::from_millis(u64::from(debounce))) {
                Ok(w) => Some(w),
                Err(e) => {
                    pool.close();
                    return Err(e.into());
                }
            }
        } else {
            None
        };
        let project = Project::new(store, pool)
            .with_macro_options(CallOptions::default().with_limits(limits));
        let lane_err = |e: std::io::Error| {
            Failure::new(ErrorCode::Internal, format!("cannot start a thread: {e}"))
        };
        let state = State {
            calls: Lane::new("bds-calls", workers + 1).map_err(lane_err)?,
            io: Lane::new("bds-io", 2).map_err(lane_err)?,
            project,
            watcher: Mutex::new(watcher),
            gate: RwLock::new(false),
            last_render: Mutex::new(Vec::new()),
        };
        let listeners: Listeners = Arc::default();
        let forward = listeners.clone();
        std::thread::Builder::new()
            .name("bds-events".into())
            .spawn(move || {
                // Ends when the store is gone (engine closed and dropped).
                for event in events {
                    let event = ChangeEvent::from(event);
                    let targets: Vec<Arc<Listener>> =
                        lock(&forward).iter().map(|(_, l)| l.clone()).collect();
                    for l in targets {
                        l.call(event.clone(), ThreadsafeFunctionCallMode::NonBlocking);
                    }
                }
            })
            .map_err(lane_err)?;
        Ok(Engine {
            state: Arc::new(Mutex::new(Some(Arc::new(state)))),
            shut_down: Arc::default(),
            listeners,
            next_listener: AtomicU32::new(1),
            root: dir.display().to_string(),
            report: report.into(),
        })
    }

    /// Queues `work` on a lane of this engine; the Promise settles with its result.
    fn schedule<'env, T, F>(
        &self,
        env: &'env Env,
        which: Which,
        work: F,
    ) -> napi::Result<PromiseRaw<'env, T>>
    where
        T: ToNapiValue + Send + 'static,
        F: FnOnce(&State) -> Result<T, Failure> + Send + 'static,
    {
        let (deferred, raw) = env.create_deferred::<T, Resolver<T>>()?;
        let state = lock(&self.state).clone();
        let Some(state) = state else {
            settle(deferred, Err(Failure::closed()));
            return Ok(promise(env, raw));
        };
        let lane = match which {
            Which::Calls => &state.calls,
            Which::Io => &state.io,
        };
        let job_state = state.clone();
        let job = Box::new(move || {
            let closed = job_state
                .gate
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let result = if *closed {
                Err(Failure::closed())
            } else {
                guarded(|| work(&job_state))
            };
            drop(closed);
            settle(deferred, result);
        });
        if lane.submit(job).is_err() {
            // Only a closed lane refuses, and lanes close with their engine. The job (and its
            // deferred) was dropped with the refusal; this cannot happen while `state` is held.
            return Err(napi::Error::from_reason("the engine is closed"));
        }
        Ok(promise(env, raw))
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

fn run(
    s: &State,
    script: &Script,
    context: &Value,
    opts: &CallOptions,
) -> Result<RunResult, Failure> {
    let out = s.project.run(script, context, opts)?;
    Ok(RunResult {
        value: json::to_js(Value::Object(out.value)),
        stdout: out.stdout,
        stdout_truncated: out.stdout_truncated,
        duration_us: out.duration.as_micros() as f64,
        warnings: out.warnings.into_iter().map(Into::into).collect(),
    })
}

/// The Run button's context: what the user gave, with the ABI's empty defaults filled in.
pub(crate) fn run_context(context: Option<Value>) -> Result<Value, Failure> {
    let mut ctx = match context {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Failure::invalid(format!(
                "the context must be an object, not {}",
                type_name(&other)
            )));
        }
    };
    let defaults =
        json!({"abi": 1, "params": {}, "args": [], "inner": null, "post": {}, "site": {}});
    if let Value::Object(d) = defaults {
        for (k, v) in d {
            ctx.entry(k).or_insert(v);
        }
    }
    Ok(Value::Object(ctx))
}

/// Most workers one engine starts.
const MAX_WORKERS: u32 = 64;
/// Longest deadline a call may ask for: an hour.
const MAX_DEADLINE_MS: u32 = 3_600_000;
/// The guest is 32-bit wasm: it cannot address more than 4 GiB.
const MAX_MEMORY_MIB: u32 = 4096;

/// `v`, if it is within `min..=max` (JS numbers like -1 arrive as huge u32s).
fn within(name: &str, v: u32, min: u32, max: u32) -> Result<u32, Failure> {
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(Failure::invalid(format!(
            "{name} must be from {min} to {max}, not {v}"
        )))
    }
}

fn run_options(o: RunOptions) -> Result<CallOptions, Failure> {
    let mut limits = Limits::run_button();
    if let Some(ms) = o.deadline_ms {
        let ms = within("deadlineMs", ms, 1, MAX_DEADLINE_MS)?;
        limits = limits.with_deadline(Duration::from_millis(u64::from(ms)));
    }
    if let Some(mib) = o.memory_mib {
        limits = limits.with_memory_mib(u64::from(within("memoryMib", mib, 1, MAX_MEMORY_MIB)?));
    }
    let mut opts = CallOptions::run_button().with_limits(limits);
    if let Some(entry) = o.entry {
        opts = opts.with_entry(entry);
    }
    if let Some(seed) = o.seed {
        opts = opts.with_seed(seed as u64);
    }
    Ok(opts.fresh(o.fresh.unwrap_or(false)))
}

fn object_or_empty(v: Option<Value>, what: &str) -> Result<Value, Failure> {
    match v {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(v @ Value::Object(_)) => Ok(v),
        Some(other) => Err(Failure::invalid(format!(
            "the {what} must be an object, not {}",
            type_name(&other)
        ))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// Lane jobs carry the state to other threads.
const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<State>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_context_fills_missing_keys_and_keeps_given_ones() {
        let ctx = run_context(Some(json!({"params": {"a": 1}}))).unwrap();
        assert_eq!(
            ctx,
            json!({"params": {"a": 1}, "abi": 1, "args": [], "inner": null, "post": {}, "site": {}})
        );
        assert_eq!(
            run_context(None).unwrap(),
            json!({"abi": 1, "params": {}, "args": [], "inner": null, "post": {}, "site": {}})
        );
        let e = run_context(Some(json!([1]))).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert_eq!(e.message, "the context must be an object, not an array");
    }

    #[test]
    fn run_options_refuse_zero_limits() {
        let e = run_options(RunOptions {
            deadline_ms: Some(0),
            ..RunOptions::default()
        })
        .unwrap_err();
        assert_eq!(e.message, "deadlineMs must be from 1 to 3600000, not 0");
        let o = run_options(RunOptions {
            deadline_ms: Some(50),
            memory_mib: Some(16),
            ..RunOptions::default()
        })
        .unwrap();
        assert_eq!(o.limits().deadline(), Duration::from_millis(50));
        assert_eq!(o.limits().memory_bytes(), 16 << 20);
    }
}
