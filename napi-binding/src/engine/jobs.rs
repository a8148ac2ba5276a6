//! How the engine's work runs off the JS thread: its state ([`State`]), the lanes a job is
//! queued on ([`Engine::schedule`]), and how a job's result settles its Promise (a panic
//! becomes an `internal` failure, never a crash of the host).

use std::sync::{Condvar, Mutex, PoisonError, RwLock};

use bds_engine::{self as engine, Project};
use napi::Env;
use napi::bindgen_prelude::{JsValue, PromiseRaw, ToNapiValue};

use super::{Engine, Resolver};
use crate::error::{ErrorCode, Failure};
use crate::lane::Lane;
use crate::types::Diagnostic;

/// Everything an open engine owns. Dropped when the engine is closed (or collected) and the
/// last job that holds it has finished.
pub(super) struct State {
    pub(super) project: Project,
    /// Python work: runs, expansions, transforms. One thread per worker process.
    pub(super) calls: Lane,
    /// Store work: reading, saving, listing (never queued behind a slow script).
    pub(super) io: Lane,
    pub(super) watcher: Mutex<Option<engine::Watcher>>,
    /// Every job holds it for reading while it runs; `close()` takes it for writing (so it
    /// waits for the jobs in progress) and sets it, so jobs that start later reject `closed`.
    pub(super) gate: RwLock<bool>,
    pub(super) last_render: Mutex<Vec<Diagnostic>>,
}

impl State {
    /// Waits for the jobs in progress, then stops the watcher (its thread finishes a sync it
    /// is in, with the workers still there) and the workers.
    pub(super) fn shut_down(&self) {
        *self.gate.write().unwrap_or_else(PoisonError::into_inner) = true;
        lock(&self.watcher).take();
        self.project.pool().close();
    }
}

/// Set once the engine has shut down; a second `close()` waits for it.
#[derive(Default)]
pub(super) struct Done {
    done: Mutex<bool>,
    cv: Condvar,
}

impl Done {
    pub(super) fn finish(&self) {
        *lock(&self.done) = true;
        self.cv.notify_all();
    }
    pub(super) fn wait(&self) {
        let mut done = lock(&self.done);
        while !*done {
            done = self.cv.wait(done).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[derive(Clone, Copy)]
pub(super) enum Which {
    Calls,
    Io,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Settles `deferred` with `result` (on the JS thread, where the value is converted).
pub(super) fn settle<T: ToNapiValue + Send + 'static>(
    deferred: napi::JsDeferred<T, Resolver<T>>,
    result: Result<T, Failure>,
) {
    match result {
        Ok(v) => deferred.resolve(Box::new(move |_| Ok(v))),
        Err(f) => deferred.resolve(Box::new(move |env| Err(f.into_js(&env)))),
    }
}

pub(super) fn promise<'env, T>(
    env: &'env Env,
    raw: napi::bindgen_prelude::Object<'env>,
) -> PromiseRaw<'env, T> {
    PromiseRaw::new(env.raw(), raw.raw())
}

/// Runs `work` on a thread of its own (for `open`, which has no lanes yet).
pub(super) fn detached<'env, T, F>(env: &'env Env, work: F) -> napi::Result<PromiseRaw<'env, T>>
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
pub(super) fn guarded<T>(work: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
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

impl Engine {
    /// Queues `work` on a lane of this engine; the Promise settles with its result.
    pub(super) fn schedule<'env, T, F>(
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
}

// Lane jobs carry the state to other threads.
const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<State>();
};
