//! A worker's slot: taking a free one ([`Pool::acquire`], waiting while all are busy), running
//! on its worker and replacing a broken one ([`Pool::with_worker`]), and checking what the
//! worker answered before it reaches the caller ([`Pool::finish`]): a worker caught lying is
//! discarded.

use std::sync::atomic::Ordering;
use std::sync::{MutexGuard, PoisonError};
use std::time::Duration;

use bds_ipc::{ErrorKind, Outcome};

use super::wire::{check_result, sanitize_reads, sanitize_warnings};
use super::{CallOutput, Inner, Item, Pool};
use crate::error::{EngineError, ScriptError};
use crate::limits::Limits;
use crate::process::{Broken, WorkerProcess};
use crate::script::Script;

/// A worker slot held by one caller; dropping it frees the slot for the next.
pub(super) struct Slot<'a> {
    inner: &'a Inner,
    pub(super) idx: usize,
    pub(super) guard: MutexGuard<'a, Option<WorkerProcess>>,
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
    pub(super) fn acquire(&self, script: &Script) -> Result<Slot<'_>, ScriptError> {
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
    pub(super) fn with_worker<T>(
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
    pub(super) fn finish(
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
