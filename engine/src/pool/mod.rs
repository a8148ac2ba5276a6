//! The pool: N worker processes, dispatch, batches, respawn, metrics.
//!
//! A call may refer to shared values ([`SharedValue`]: `post`, `site`); each worker is sent
//! each value once (its process remembers which), and a worker that dropped one answers
//! `not-shared`, after which the engine sends it again and retries the call once.

mod wire;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use bds_ipc::{ErrorKind, Guest, Outcome, Read, Reply, Request, Warning};
use serde_json::Value;

use crate::error::{EngineError, ScriptError};
use crate::limits::{CallOptions, Limits};
use crate::metrics::{Metrics, ScriptMetrics};
use crate::process::{Broken, Spawner, WorkerProcess, find_worker};
use crate::script::Script;
use crate::shared::SharedValue;
use crate::watchdog::Watchdog;
pub(crate) use wire::CALL_KEY;
use wire::{
    call_spec, check_result, ensure_loaded, ensure_shared, load_request, sanitize_reads,
    sanitize_warnings,
};

/// How the pool starts and watches its workers.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    workers: usize,
    worker: Option<PathBuf>,
    guest: Option<PathBuf>,
    guest_kind: Option<Guest>,
    cache_dir: Option<PathBuf>,
    grace: Duration,
    max_live: usize,
    shared_mib: usize,
    budget_mib: usize,
    handshake_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let cores = thread::available_parallelism().map_or(1, usize::from);
        Self {
            workers: cores.clamp(1, 4),
            worker: None,
            guest: None,
            guest_kind: None,
            cache_dir: None,
            grace: Duration::from_millis(200),
            max_live: 16,
            shared_mib: 256,
            budget_mib: 512,
            handshake_timeout: Duration::from_secs(300),
        }
    }
}

impl PoolConfig {
    /// Number of worker processes (default: the number of cores, at most 4).
    #[must_use]
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }
    /// The number of worker processes this configuration starts.
    pub fn worker_count(&self) -> usize {
        self.workers
    }
    /// The `bds-worker` binary (default: `$BDS_WORKER`, else beside this executable).
    #[must_use]
    pub fn worker_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.worker = Some(path.into());
        self
    }
    /// The guest wasm (default: the worker's own lookup).
    #[must_use]
    pub fn guest_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.guest = Some(path.into());
        self
    }
    /// Which Python runs the scripts: [`Guest::RustPython`] or [`Guest::CPython`] (default:
    /// `$BDS_GUEST` when set, else RustPython). A [`Self::guest_path`] wins over it.
    #[must_use]
    pub fn guest(mut self, kind: Guest) -> Self {
        self.guest_kind = Some(kind);
        self
    }
    /// The guest this configuration asked for, if it asked.
    pub fn guest_kind(&self) -> Option<Guest> {
        self.guest_kind
    }
    /// Where workers cache the compiled guest.
    #[must_use]
    pub fn cache_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(path.into());
        self
    }
    /// How long past a call's deadline the watchdog waits before it kills the worker.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
    /// Live guest instances per worker (one per script, least recently used dropped first).
    #[must_use]
    pub fn max_live_instances(mut self, n: usize) -> Self {
        self.max_live = n.max(1);
        self
    }
    /// The linear memory a worker's live instances may hold together, in MiB (default 512):
    /// past it the least recently used instances are dropped (their scripts start again from
    /// the snapshot on their next call). It bounds the guests' memory, not the worker's whole
    /// RSS: add the compiled guest (mapped, shared between workers), wasmtime's own
    /// structures and the shared-value cache ([`Self::shared_cache_mib`]). One instance may
    /// exceed it alone, up to its call's memory limit; an instance that grew by more than
    /// 64 MiB during a call is dropped after that call.
    #[must_use]
    pub fn memory_budget_mib(mut self, mib: usize) -> Self {
        self.budget_mib = mib.max(1);
        self
    }
    /// Bytes of shared values (`post`, `site`) each worker keeps, in MiB (default 256); past
    /// it the least recently used go, and the engine sends them again when a call needs them.
    #[must_use]
    pub fn shared_cache_mib(mut self, mib: usize) -> Self {
        self.shared_mib = mib.max(1);
        self
    }
    /// How long a starting worker may take to say it is ready (the first start compiles the
    /// guest, which takes seconds).
    #[must_use]
    pub fn handshake_timeout(mut self, t: Duration) -> Self {
        self.handshake_timeout = t;
        self
    }
}

/// What a successful call returns.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutput {
    /// The JSON object the entry point returned.
    pub value: serde_json::Map<String, Value>,
    /// What the script printed (cut at the limit, with a marker).
    pub stdout: String,
    pub stdout_truncated: bool,
    /// Time spent in the worker.
    pub duration: Duration,
    /// What the call read of its shared values (sorted, no duplicates; empty without any).
    pub reads: Vec<Read>,
    /// What it passed to `warnings.warn` (at most 16, each once).
    pub warnings: Vec<Warning>,
}

/// One call of a batch: a script, its own context (a JSON object), and the shared values
/// added to that context by reference under their names (`post`, `site`).
#[derive(Debug, Clone)]
pub struct SharedCall {
    pub script: Script,
    pub context: Value,
    pub shared: Vec<(String, SharedValue)>,
}

/// A call as the pool handles it.
#[derive(Clone, Copy)]
struct Item<'a> {
    script: &'a Script,
    context: &'a Value,
    shared: &'a [(String, SharedValue)],
}

/// Pool-wide counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub workers: usize,
    /// Workers started after the first ones (replacing crashed or killed ones).
    pub respawns: u64,
    /// Workers the watchdog killed.
    pub watchdog_kills: u64,
}

#[derive(Debug)]
struct Inner {
    spawner: Spawner,
    slots: Vec<Mutex<Option<WorkerProcess>>>,
    pids: Mutex<Vec<Option<u32>>>,
    free: Mutex<Vec<usize>>,
    free_cv: Condvar,
    watchdog: Watchdog,
    metrics: Metrics,
    grace: Duration,
    closed: AtomicBool,
    respawns: AtomicU64,
    /// The guest the workers run, as its first worker said (they share one `--guest`).
    guest_hash: bds_ipc::Hash,
}

/// N sandboxed worker processes. Cheap to clone (shared); every method blocks the calling
/// thread only, and many threads may call at once.
///
/// ```no_run
/// use bds_engine::{CallOptions, Pool, PoolConfig, Script};
/// let pool = Pool::new(PoolConfig::default().workers(2))?;
/// let script = Script::new("hello.py", "def render(c):\n    return {'html': c['params']['who']}\n");
/// let out = pool.call(&script, &serde_json::json!({"params": {"who": "world"}}), &CallOptions::default())?;
/// assert_eq!(out.value["html"], "world");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Slot<'a> {
    inner: &'a Inner,
    idx: usize,
    guard: MutexGuard<'a, Option<WorkerProcess>>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut free = self
            .inner
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        free.push(self.idx);
        self.inner.free_cv.notify_one();
    }
}

impl Pool {
    /// Starts the workers (in parallel) and waits for each to complete its handshake.
    pub fn new(config: PoolConfig) -> Result<Self, EngineError> {
        let worker = find_worker(config.worker.as_deref())?;
        let mut args = vec![
            "--max-live".to_owned(),
            config.max_live.to_string(),
            "--shared-mib".to_owned(),
            config.shared_mib.to_string(),
            "--memory-budget-mib".to_owned(),
            config.budget_mib.to_string(),
        ];
        if let Some(g) = &config.guest {
            args.extend(["--guest".to_owned(), g.display().to_string()]);
        }
        if let Some(k) = config.guest_kind {
            args.extend(["--guest-kind".to_owned(), k.name().to_owned()]);
        }
        if let Some(c) = &config.cache_dir {
            args.extend(["--cache-dir".to_owned(), c.display().to_string()]);
        }
        let spawner = Spawner {
            worker,
            args,
            handshake_timeout: config.handshake_timeout,
        };
        let watchdog = Watchdog::start();
        let n = config.workers;
        // The first worker alone: on a cold cache it builds the compiled guest that the
        // others then load.
        let first = WorkerProcess::spawn(&spawner, &watchdog)?;
        let rest: Vec<Result<WorkerProcess, EngineError>> = thread::scope(|s| {
            let handles: Vec<_> = (1..n)
                .map(|_| s.spawn(|| WorkerProcess::spawn(&spawner, &watchdog)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err(EngineError::Closed)))
                .collect()
        });
        let guest_hash = first.guest_hash;
        let mut workers = vec![first];
        for w in rest {
            workers.push(w?);
        }
        let pids = workers.iter().map(|w| Some(w.pid())).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                spawner,
                slots: workers.into_iter().map(|w| Mutex::new(Some(w))).collect(),
                pids: Mutex::new(pids),
                free: Mutex::new((0..n).rev().collect()),
                free_cv: Condvar::new(),
                watchdog,
                metrics: Metrics::default(),
                grace: config.grace,
                closed: AtomicBool::new(false),
                respawns: AtomicU64::new(0),
                guest_hash,
            }),
        })
    }

    /// The SHA-256 of the guest wasm the workers run, in hex: which interpreter, which build.
    /// A result cache keys on it, since two guests (or builds) may answer differently.
    pub fn guest_hash(&self) -> String {
        self.inner
            .guest_hash
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Calls `opts.entry` of `script` with `context` (a JSON object) on some worker.
    pub fn call(
        &self,
        script: &Script,
        context: &Value,
        opts: &CallOptions,
    ) -> Result<CallOutput, ScriptError> {
        self.call_shared(script, context, &[], opts)
    }

    /// Like [`Pool::call`], with shared values added to the context by reference:
    /// `context[name]` is the value, read-only in the script.
    pub fn call_shared(
        &self,
        script: &Script,
        context: &Value,
        shared: &[(String, SharedValue)],
        opts: &CallOptions,
    ) -> Result<CallOutput, ScriptError> {
        let started = Instant::now();
        let item = Item {
            script,
            context,
            shared,
        };
        let result = self.call_inner(item, opts);
        self.inner.metrics.record(
            script.name(),
            result.as_ref().map_or(started.elapsed(), |o| o.duration),
            result.as_ref().err().map(|e| e.kind),
        );
        result
    }

    fn call_inner(&self, item: Item<'_>, opts: &CallOptions) -> Result<CallOutput, ScriptError> {
        let script = item.script;
        let spec = call_spec(script, item.context, item.shared, opts)?;
        let limits = opts.limits;
        let mut slot = self.acquire(script)?;
        for attempt in 0..2 {
            let outcome = self.with_worker(&mut slot, script, |w, inner| {
                if let Some(err) = ensure_loaded(w, inner, script, &limits)? {
                    return Ok(Err(err));
                }
                ensure_shared(w, inner, item.shared.iter().map(|(_, v)| v))?;
                let id = w.next_id();
                let kill_at = Instant::now() + limits.deadline() + inner.grace;
                match w.round_trip(
                    &Request::Call {
                        id,
                        call: spec.clone(),
                    },
                    &inner.watchdog,
                    kill_at,
                )? {
                    Reply::Called { outcome, .. } => Ok(Ok(outcome)),
                    other => Err(Broken::Crashed(format!(
                        "expected a call reply, got {other:?}"
                    ))),
                }
            })?;
            let outcome = outcome?;
            if let Err(info) = &outcome.guest.result
                && matches!(info.kind, ErrorKind::NotLoaded | ErrorKind::NotShared)
                && attempt == 0
            {
                if let Some(w) = slot.guard.as_mut() {
                    w.loaded.remove(script.hash());
                    if info.kind == ErrorKind::NotShared {
                        w.shared.clear();
                    }
                }
                continue;
            }
            return self.finish(&mut slot, item, &limits, outcome);
        }
        Err(ScriptError::new(
            ErrorKind::WorkerCrash,
            script.name(),
            "the worker keeps forgetting the script",
        ))
    }

    /// Calls many `(script, context)` pairs, spread over all workers; results come back in order.
    pub fn call_many(
        &self,
        items: &[(Script, Value)],
        opts: &CallOptions,
    ) -> Vec<Result<CallOutput, ScriptError>> {
        let items: Vec<Item<'_>> = items
            .iter()
            .map(|(script, context)| Item {
                script,
                context,
                shared: &[],
            })
            .collect();
        self.spread(&items, opts)
    }

    /// Calls many scripts with their own contexts and shared values, spread over all workers;
    /// results come back in order. Each worker receives each shared value at most once.
    pub fn call_many_shared(
        &self,
        items: &[SharedCall],
        opts: &CallOptions,
    ) -> Vec<Result<CallOutput, ScriptError>> {
        let items: Vec<Item<'_>> = items
            .iter()
            .map(|c| Item {
                script: &c.script,
                context: &c.context,
                shared: &c.shared,
            })
            .collect();
        self.spread(&items, opts)
    }

    fn spread(
        &self,
        items: &[Item<'_>],
        opts: &CallOptions,
    ) -> Vec<Result<CallOutput, ScriptError>> {
        if items.is_empty() {
            return Vec::new();
        }
        // Contiguous chunks in the caller's order, one per worker. (Grouping calls by script
        // was measured: fewer loads, but it unbalanced the workers when scripts differ in cost,
        // and a 1,000-call expansion got 25% slower.) Contiguous chunks also keep a post's
        // calls, and so its shared value, on one worker.
        let parts = self.inner.slots.len().min(items.len());
        let size = items.len().div_ceil(parts);
        thread::scope(|s| {
            let handles: Vec<_> = items
                .chunks(size)
                .map(|chunk| (chunk.len(), s.spawn(move || self.batch(chunk, opts))))
                .collect();
            handles
                .into_iter()
                .flat_map(|(len, h)| {
                    h.join().unwrap_or_else(|_| {
                        let e =
                            ScriptError::new(ErrorKind::WorkerCrash, "", "batch thread panicked");
                        vec![Err(e); len]
                    })
                })
                .collect()
        })
    }

    fn batch(
        &self,
        chunk: &[Item<'_>],
        opts: &CallOptions,
    ) -> Vec<Result<CallOutput, ScriptError>> {
        let mut results: Vec<Option<Result<CallOutput, ScriptError>>> = vec![None; chunk.len()];
        let mut specs = Vec::new();
        let mut index = Vec::new();
        for (i, item) in chunk.iter().enumerate() {
            match call_spec(item.script, item.context, item.shared, opts) {
                Ok(spec) => {
                    specs.push(spec);
                    index.push(i);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let limits = opts.limits;
        let first = chunk[0].script;
        let sent = self.acquire(first).and_then(|mut slot| {
            let outcomes = self.with_worker(&mut slot, first, |w, inner| {
                let mut load_errors = Vec::new();
                for &i in &index {
                    let script = chunk[i].script;
                    if !w.loaded.contains(script.hash())
                        && let Some(e) = ensure_loaded(w, inner, script, &limits)?
                    {
                        load_errors.push((i, e));
                    }
                }
                ensure_shared(
                    w,
                    inner,
                    index
                        .iter()
                        .flat_map(|&i| chunk[i].shared.iter().map(|(_, v)| v)),
                )?;
                let id = w.next_id();
                let total = limits.deadline().saturating_mul(specs.len() as u32);
                let kill_at = Instant::now() + total + inner.grace;
                match w.round_trip(
                    &Request::Batch {
                        id,
                        calls: specs.clone(),
                    },
                    &inner.watchdog,
                    kill_at,
                )? {
                    Reply::Batch { outcomes, .. } if outcomes.len() == specs.len() => {
                        Ok((outcomes, load_errors))
                    }
                    other => Err(Broken::Crashed(format!(
                        "expected {} batch outcomes, got {other:?}",
                        specs.len()
                    ))),
                }
            });
            match outcomes {
                Ok((outcomes, load_errors)) => {
                    let mut out = Vec::with_capacity(outcomes.len());
                    for (k, outcome) in outcomes.into_iter().enumerate() {
                        let item = chunk[index[k]];
                        out.push((index[k], self.finish(&mut slot, item, &limits, outcome)));
                    }
                    for (i, e) in load_errors {
                        out.retain(|(j, _)| *j != i);
                        out.push((i, Err(e)));
                    }
                    Ok(out)
                }
                Err(e) => Err(e),
            }
        });
        match sent {
            Ok(done) => {
                for (i, r) in done {
                    results[i] = Some(r);
                }
            }
            Err(e) => {
                for r in results.iter_mut().filter(|r| r.is_none()) {
                    *r = Some(Err(e.clone()));
                }
            }
        }
        // A worker that forgot a script or a shared value (after a reset, or past its cache)
        // gets a single retry.
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let item = chunk[i];
                let r = r.unwrap_or_else(|| {
                    Err(ScriptError::new(
                        ErrorKind::WorkerCrash,
                        item.script.name(),
                        "lost result",
                    ))
                });
                match r {
                    Err(e) if matches!(e.kind, ErrorKind::NotLoaded | ErrorKind::NotShared) => {
                        self.call_shared(item.script, item.context, item.shared, opts)
                    }
                    r => {
                        let took = r.as_ref().map_or(Duration::ZERO, |o| o.duration);
                        self.inner.metrics.record(
                            item.script.name(),
                            took,
                            r.as_ref().err().map(|e| e.kind),
                        );
                        r
                    }
                }
            })
            .collect()
    }

    /// Compiles `script` without running it: `Ok` or a `compile` error with line and column.
    pub fn check(&self, script: &Script) -> Result<(), ScriptError> {
        let limits = Limits::run_button();
        let mut slot = self.acquire(script)?;
        let outcome = self.with_worker(&mut slot, script, |w, inner| {
            let req = load_request(w, script, &limits, true);
            match w.round_trip(
                &req,
                &inner.watchdog,
                Instant::now() + limits.deadline() + inner.grace,
            )? {
                Reply::Loaded { outcome, .. } => Ok(outcome),
                other => Err(Broken::Crashed(format!(
                    "expected a load reply, got {other:?}"
                ))),
            }
        })?;
        match outcome.guest.result {
            Ok(_) => Ok(()),
            Err(info) => Err(ScriptError::from_wire(
                script.name(),
                info,
                outcome.guest.stdout,
            )),
        }
    }

    /// Per-script calls, errors, timeouts and latency quantiles.
    pub fn metrics(&self) -> Vec<ScriptMetrics> {
        self.inner.metrics.snapshot()
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            workers: self.inner.slots.len(),
            respawns: self.inner.respawns.load(Ordering::Relaxed),
            watchdog_kills: self.inner.watchdog.kills(),
        }
    }

    /// Process ids of the live workers (a slot whose worker died shows `None` until respawned).
    pub fn worker_pids(&self) -> Vec<Option<u32>> {
        self.inner
            .pids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Time each live worker took from spawn to ready.
    pub fn worker_startup(&self) -> Vec<Duration> {
        let mut out = Vec::new();
        for slot in &self.inner.slots {
            if let Ok(g) = slot.try_lock()
                && let Some(w) = g.as_ref()
            {
                out.push(w.init);
            }
        }
        out
    }

    /// Stops every worker. Later calls fail with `worker-crash` ("the engine is closed").
    /// Calling it twice is harmless.
    pub fn close(&self) {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        for slot in &self.inner.slots {
            let w = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(w) = w {
                w.shutdown(&self.inner.watchdog, Duration::from_secs(1));
            }
        }
        self.inner.free_cv.notify_all();
    }

    fn acquire(&self, script: &Script) -> Result<Slot<'_>, ScriptError> {
        let inner = &*self.inner;
        let closed = || {
            ScriptError::new(
                ErrorKind::WorkerCrash,
                script.name(),
                EngineError::Closed.to_string(),
            )
        };
        let mut free = inner.free.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if inner.closed.load(Ordering::SeqCst) {
                return Err(closed());
            }
            if let Some(idx) = free.pop() {
                drop(free);
                let guard = inner.slots[idx]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                return Ok(Slot { inner, idx, guard });
            }
            free = inner
                .free_cv
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Runs `f` on the slot's worker, starting one if the slot is empty. A [`Broken`] worker is
    /// killed and removed; the next use of the slot starts a new one.
    fn with_worker<T>(
        &self,
        slot: &mut Slot<'_>,
        script: &Script,
        f: impl FnOnce(&mut WorkerProcess, &Inner) -> Result<T, Broken>,
    ) -> Result<T, ScriptError> {
        let inner = &*self.inner;
        if inner.closed.load(Ordering::SeqCst) {
            return Err(ScriptError::new(
                ErrorKind::WorkerCrash,
                script.name(),
                EngineError::Closed.to_string(),
            ));
        }
        if slot.guard.is_none() {
            let w = WorkerProcess::spawn(&inner.spawner, &inner.watchdog).map_err(|e| {
                ScriptError::new(ErrorKind::WorkerCrash, script.name(), e.to_string())
            })?;
            inner.respawns.fetch_add(1, Ordering::Relaxed);
            self.set_pid(slot.idx, Some(w.pid()));
            *slot.guard = Some(w);
        }
        let Some(w) = slot.guard.as_mut() else {
            return Err(ScriptError::new(
                ErrorKind::WorkerCrash,
                script.name(),
                "no worker",
            ));
        };
        match f(w, inner) {
            Ok(v) => Ok(v),
            Err(broken) => {
                if let Some(mut w) = slot.guard.take() {
                    w.kill();
                }
                self.set_pid(slot.idx, None);
                Err(match broken {
                    Broken::Killed => ScriptError::new(
                        ErrorKind::Timeout,
                        script.name(),
                        format!(
                            "the worker did not stop at the deadline and was killed {} ms after it",
                            inner.grace.as_millis()
                        ),
                    ),
                    Broken::Crashed(why) => {
                        ScriptError::new(ErrorKind::WorkerCrash, script.name(), why)
                    }
                })
            }
        }
    }

    fn set_pid(&self, idx: usize, pid: Option<u32>) {
        self.inner
            .pids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)[idx] = pid;
    }

    /// Checks a worker's outcome again on this side; a worker caught lying is discarded.
    fn finish(
        &self,
        slot: &mut Slot<'_>,
        item: Item<'_>,
        limits: &Limits,
        outcome: Outcome,
    ) -> Result<CallOutput, ScriptError> {
        let script = item.script;
        let mut stdout = outcome.guest.stdout;
        let cap = limits.max_stdout_bytes() as usize + 64;
        if stdout.len() > cap {
            let mut cut = cap;
            while !stdout.is_char_boundary(cut) {
                cut -= 1;
            }
            stdout.truncate(cut);
        }
        let json = match outcome.guest.result {
            Ok(json) => json,
            Err(info) => return Err(ScriptError::from_wire(script.name(), info, stdout)),
        };
        let checked = check_result(&json, limits);
        match checked {
            Ok(value) => Ok(CallOutput {
                value,
                stdout,
                stdout_truncated: outcome.guest.stdout_truncated,
                duration: Duration::from_micros(outcome.duration_us),
                reads: sanitize_reads(outcome.guest.reads, item.context, item.shared),
                warnings: sanitize_warnings(outcome.guest.warnings),
            }),
            Err((kind, why)) => {
                if kind == ErrorKind::WorkerCrash
                    && let Some(mut w) = slot.guard.take()
                {
                    w.kill();
                    self.set_pid(slot.idx, None);
                }
                let mut e = ScriptError::new(kind, script.name(), why);
                e.stdout = stdout;
                Err(e)
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for slot in &self.slots {
            if let Some(w) = slot.lock().unwrap_or_else(PoisonError::into_inner).take() {
                w.shutdown(&self.watchdog, Duration::from_millis(200));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wire::json_depth;
    use super::*;
    use crate::limits::Clock;
    use std::time::UNIX_EPOCH;

    #[test]
    fn result_checks() {
        let l = Limits::macro_call()
            .with_max_depth(2)
            .with_max_result_bytes(30);
        assert!(check_result(br#"{"a":[1]}"#, &l).is_ok());
        assert_eq!(
            check_result(br#"{"a":[[1]]}"#, &l).unwrap_err().0,
            ErrorKind::AbiViolation
        );
        assert_eq!(
            check_result(br#"[1]"#, &l).unwrap_err().0,
            ErrorKind::AbiViolation
        );
        assert_eq!(
            check_result(br#"{"a":NaN}"#, &l).unwrap_err().0,
            ErrorKind::WorkerCrash
        );
        assert_eq!(
            check_result(&[b' '; 31], &l).unwrap_err().0,
            ErrorKind::OutputTooLarge
        );
    }

    #[test]
    fn depth_counts_containers() {
        assert_eq!(json_depth(&serde_json::json!(1)), 0);
        assert_eq!(json_depth(&serde_json::json!({})), 1);
        assert_eq!(json_depth(&serde_json::json!({"a": [{"b": []}]})), 4);
    }

    #[test]
    fn default_seed_depends_on_script_and_context_only() {
        let s = Script::new("a.py", "x");
        let o = CallOptions::default().with_clock(Clock::Fixed(UNIX_EPOCH));
        let a = call_spec(&s, &serde_json::json!({"k": 1}), &[], &o).unwrap();
        let b = call_spec(&s, &serde_json::json!({"k": 1}), &[], &o).unwrap();
        let c = call_spec(&s, &serde_json::json!({"k": 2}), &[], &o).unwrap();
        assert_eq!(a.clock.seed, b.clock.seed);
        assert_ne!(a.clock.seed, c.clock.seed);
        assert_eq!(a.clock.unix_nanos, 0);
        assert!(call_spec(&s, &serde_json::json!([1]), &[], &o).is_err());
    }
}
