//! The pool: N worker processes, dispatch, batches, respawn, metrics.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bds_ipc::{CallSpec, ClockSpec, ErrorKind, Outcome, Reply, Request};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{EngineError, ScriptError};
use crate::limits::{CallOptions, Clock, Limits};
use crate::metrics::{Metrics, ScriptMetrics};
use crate::process::{Broken, Spawner, WorkerProcess, find_worker};
use crate::script::Script;
use crate::watchdog::Watchdog;

/// How the pool starts and watches its workers.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    workers: usize,
    worker: Option<PathBuf>,
    guest: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    grace: Duration,
    max_live: usize,
    handshake_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let cores = thread::available_parallelism().map_or(1, usize::from);
        Self {
            workers: cores.clamp(1, 4),
            worker: None,
            guest: None,
            cache_dir: None,
            grace: Duration::from_millis(200),
            max_live: 16,
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
        let mut args = vec!["--max-live".to_owned(), config.max_live.to_string()];
        if let Some(g) = &config.guest {
            args.extend(["--guest".to_owned(), g.display().to_string()]);
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
            }),
        })
    }

    /// Calls `opts.entry` of `script` with `context` (a JSON object) on some worker.
    pub fn call(
        &self,
        script: &Script,
        context: &Value,
        opts: &CallOptions,
    ) -> Result<CallOutput, ScriptError> {
        let started = Instant::now();
        let result = self.call_inner(script, context, opts);
        self.inner.metrics.record(
            script.name(),
            result.as_ref().map_or(started.elapsed(), |o| o.duration),
            result.as_ref().err().map(|e| e.kind),
        );
        result
    }

    fn call_inner(
        &self,
        script: &Script,
        context: &Value,
        opts: &CallOptions,
    ) -> Result<CallOutput, ScriptError> {
        let spec = call_spec(script, context, opts)?;
        let limits = opts.limits;
        let mut slot = self.acquire(script)?;
        for attempt in 0..2 {
            let outcome = self.with_worker(&mut slot, script, |w, inner| {
                if let Some(err) = ensure_loaded(w, inner, script, &limits)? {
                    return Ok(Err(err));
                }
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
                && info.kind == ErrorKind::NotLoaded
                && attempt == 0
            {
                if let Some(w) = slot.guard.as_mut() {
                    w.loaded.remove(script.hash());
                }
                continue;
            }
            return self.finish(&mut slot, script, &limits, outcome);
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
        if items.is_empty() {
            return Vec::new();
        }
        // Contiguous chunks in the caller's order, one per worker. (Grouping calls by script
        // was measured: fewer loads, but it unbalanced the workers when scripts differ in cost,
        // and a 1,000-call expansion got 25% slower.)
        let items: Vec<&(Script, Value)> = items.iter().collect();
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
        chunk: &[&(Script, Value)],
        opts: &CallOptions,
    ) -> Vec<Result<CallOutput, ScriptError>> {
        let mut results: Vec<Option<Result<CallOutput, ScriptError>>> = vec![None; chunk.len()];
        let mut specs = Vec::new();
        let mut index = Vec::new();
        for (i, (script, context)) in chunk.iter().enumerate() {
            match call_spec(script, context, opts) {
                Ok(spec) => {
                    specs.push(spec);
                    index.push(i);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let limits = opts.limits;
        let first = &chunk[0].0;
        let sent = self.acquire(first).and_then(|mut slot| {
            let outcomes = self.with_worker(&mut slot, first, |w, inner| {
                let mut load_errors = Vec::new();
                for &i in &index {
                    let script = &chunk[i].0;
                    if !w.loaded.contains(script.hash())
                        && let Some(e) = ensure_loaded(w, inner, script, &limits)?
                    {
                        load_errors.push((i, e));
                    }
                }
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
                        let script = &chunk[index[k]].0;
                        out.push((index[k], self.finish(&mut slot, script, &limits, outcome)));
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
        // A worker that forgot a script (after a reset, or past its cache) gets a single retry.
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let r = r.unwrap_or_else(|| {
                    Err(ScriptError::new(
                        ErrorKind::WorkerCrash,
                        chunk[i].0.name(),
                        "lost result",
                    ))
                });
                match r {
                    Err(e) if e.kind == ErrorKind::NotLoaded => {
                        self.call(&chunk[i].0, &chunk[i].1, opts)
                    }
                    r => {
                        let took = r.as_ref().map_or(Duration::ZERO, |o| o.duration);
                        self.inner.metrics.record(
                            chunk[i].0.name(),
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
        script: &Script,
        limits: &Limits,
        outcome: Outcome,
    ) -> Result<CallOutput, ScriptError> {
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

fn load_request(
    w: &mut WorkerProcess,
    script: &Script,
    limits: &Limits,
    compile_only: bool,
) -> Request {
    Request::Load {
        id: w.next_id(),
        hash: *script.hash(),
        name: script.name().to_owned(),
        source: script.source().to_owned(),
        compile_only,
        limits: limits.wire(),
    }
}

/// Makes sure the worker knows `script`. `Ok(Some(e))`: the script failed to load.
fn ensure_loaded(
    w: &mut WorkerProcess,
    inner: &Inner,
    script: &Script,
    limits: &Limits,
) -> Result<Option<ScriptError>, Broken> {
    if w.loaded.contains(script.hash()) {
        return Ok(None);
    }
    let req = load_request(w, script, limits, false);
    let kill_at = Instant::now() + limits.deadline() + inner.grace;
    match w.round_trip(&req, &inner.watchdog, kill_at)? {
        Reply::Loaded { outcome, .. } => {
            // The worker keeps the source even when loading failed: later calls retry it.
            w.loaded.insert(*script.hash());
            Ok(outcome
                .guest
                .result
                .err()
                .map(|info| ScriptError::from_wire(script.name(), info, outcome.guest.stdout)))
        }
        other => Err(Broken::Crashed(format!(
            "expected a load reply, got {other:?}"
        ))),
    }
}

fn call_spec(
    script: &Script,
    context: &Value,
    opts: &CallOptions,
) -> Result<CallSpec, ScriptError> {
    if !context.is_object() {
        return Err(ScriptError::new(
            ErrorKind::AbiViolation,
            script.name(),
            "the context must be a JSON object",
        ));
    }
    let context = serde_json::to_vec(context)
        .map_err(|e| ScriptError::new(ErrorKind::AbiViolation, script.name(), e.to_string()))?;
    let unix_nanos = match opts.clock {
        Clock::CallStart | Clock::Real => SystemTime::now(),
        Clock::Fixed(t) => t,
    }
    .duration_since(UNIX_EPOCH)
    .map_or(0, |d| d.as_nanos() as u64);
    let seed = opts.seed.unwrap_or_else(|| {
        let mut h = Sha256::new();
        h.update(script.hash());
        h.update(&context);
        let d = h.finalize();
        u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
    });
    Ok(CallSpec {
        hash: *script.hash(),
        entry: opts.entry.clone(),
        context,
        limits: opts.limits.wire(),
        clock: ClockSpec {
            unix_nanos,
            seed,
            real_time: opts.clock == Clock::Real,
        },
        fresh: opts.fresh,
    })
}

/// The engine's own check of a result: size, JSON, an object, nesting.
fn check_result(
    json: &[u8],
    limits: &Limits,
) -> Result<serde_json::Map<String, Value>, (ErrorKind, String)> {
    if json.len() > limits.max_result_bytes() as usize {
        return Err((
            ErrorKind::OutputTooLarge,
            format!(
                "the result is {} bytes, over the {}-byte limit",
                json.len(),
                limits.max_result_bytes()
            ),
        ));
    }
    let value: Value = serde_json::from_slice(json).map_err(|e| {
        (
            ErrorKind::WorkerCrash,
            format!("the worker sent a result that is not JSON: {e}"),
        )
    })?;
    let depth = json_depth(&value);
    if depth > limits.max_depth() as usize {
        return Err((
            ErrorKind::AbiViolation,
            format!(
                "the result nests {depth} levels deep, over the limit of {}",
                limits.max_depth()
            ),
        ));
    }
    match value {
        Value::Object(map) => Ok(map),
        _ => Err((
            ErrorKind::AbiViolation,
            "the result is not a JSON object".into(),
        )),
    }
}

fn json_depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(a) => {
                max = max.max(d);
                stack.extend(a.iter().map(|x| (x, d + 1)));
            }
            Value::Object(o) => {
                max = max.max(d);
                stack.extend(o.values().map(|x| (x, d + 1)));
            }
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let a = call_spec(&s, &serde_json::json!({"k": 1}), &o).unwrap();
        let b = call_spec(&s, &serde_json::json!({"k": 1}), &o).unwrap();
        let c = call_spec(&s, &serde_json::json!({"k": 2}), &o).unwrap();
        assert_eq!(a.clock.seed, b.clock.seed);
        assert_ne!(a.clock.seed, c.clock.seed);
        assert_eq!(a.clock.unix_nanos, 0);
        assert!(call_spec(&s, &serde_json::json!([1]), &o).is_err());
    }
}
