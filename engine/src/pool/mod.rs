//! The pool: N worker processes, dispatch, batches, respawn, metrics.
//!
//! A call may refer to shared values ([`SharedValue`]: `post`, `site`); each worker is sent
//! each value once (its process remembers which), and a worker that dropped one answers
//! `not-shared`, after which the engine sends it again and retries the call once.
//!
//! This file is the pool itself (starting, single calls, checks, counters, closing); `config`
//! is its builder, `batch` spreads many calls over the workers, `slots` hands out workers and
//! checks what they answer, and `wire` builds the requests.

mod batch;
mod config;
mod slots;
mod wire;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use bds_ipc::{ErrorKind, Read, Reply, Request, Warning};
use serde_json::Value;

pub use config::PoolConfig;
pub(crate) use wire::CALL_KEY;

use crate::error::{EngineError, ScriptError};
use crate::limits::{CallOptions, Limits};
use crate::metrics::{Metrics, ScriptMetrics};
use crate::process::{Broken, Spawner, WorkerProcess, find_worker};
use crate::script::Script;
use crate::shared::SharedValue;
use crate::watchdog::Watchdog;
use wire::{call_spec, ensure_loaded, ensure_shared, load_request};

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
