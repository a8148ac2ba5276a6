//! The worker's state and its answer to each request: scripts by hash, each with at most one
//! live instance (an LRU of `--max-live`, and together within the memory budget), the shared
//! values, and the deadline armed around every load and call.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bds_ipc::{
    CallSpec, ErrorInfo, ErrorKind, GuestCall, GuestLoad, GuestOutcome, Hash, ModuleSource,
    Outcome, Reply, Request, WireLimits,
};

use crate::deadline::Deadline;
use crate::guest::{CallEnv, Export, Instance, Runtime};
use crate::shared::SharedCache;
use crate::wasi;

/// Scripts whose source the worker remembers (their instances are bounded by `max_live`).
const MAX_SCRIPTS: usize = 4096;
/// An instance whose linear memory grew by more than this during one call is dropped after
/// it (wasm memory never shrinks; the script's next call starts from the snapshot again).
const RESET_GROWTH: usize = 64 << 20;

struct Script {
    name: String,
    source: String,
    /// The utility modules it imports (sent with it; part of its identity, `hash`).
    modules: Vec<ModuleSource>,
    instance: Option<Instance>,
    last_used: u64,
}

pub(crate) struct Worker {
    pub(crate) runtime: Runtime,
    deadline: Deadline,
    scripts: HashMap<Hash, Script>,
    shared: SharedCache,
    tick: u64,
    max_live: usize,
    /// The most linear memory the live instances may hold together (see `evict_instances`).
    budget_bytes: usize,
}

fn env_for(limits: &WireLimits, frozen_nanos: u64, real_time: bool, seed: u64) -> CallEnv {
    CallEnv {
        memory_bytes: limits.memory_bytes,
        frozen_nanos,
        real_time,
        seed,
        max_reply_bytes: limits.max_result_bytes as usize
            + limits.max_stdout_bytes as usize * 4
            + (256 << 10),
        shared: Vec::new(),
    }
}

impl Worker {
    /// A worker on `runtime` with no script loaded yet.
    pub(crate) fn new(
        runtime: Runtime,
        max_live: usize,
        shared_bytes: usize,
        budget_bytes: usize,
    ) -> Self {
        Worker {
            deadline: Deadline::start(runtime.engine.clone()),
            runtime,
            scripts: HashMap::new(),
            shared: SharedCache::new(shared_bytes),
            tick: 0,
            max_live,
            budget_bytes,
        }
    }

    pub(crate) fn handle(&mut self, request: Request) -> (Reply, bool) {
        match request {
            Request::Load {
                id,
                hash,
                name,
                source,
                modules,
                compile_only,
                limits,
            } => {
                let t = Instant::now();
                let guest = self.load(hash, name, source, modules, compile_only, &limits);
                let outcome = Outcome {
                    guest,
                    duration_us: t.elapsed().as_micros() as u64,
                };
                (Reply::Loaded { id, outcome }, false)
            }
            Request::Call { id, call } => {
                let outcome = self.call(&call);
                (Reply::Called { id, outcome }, false)
            }
            Request::Batch { id, calls } => {
                let outcomes = calls.iter().map(|c| self.call(c)).collect();
                (Reply::Batch { id, outcomes }, false)
            }
            Request::Share { id, hash, json } => {
                self.shared.insert(hash, json);
                (Reply::Done { id }, false)
            }
            Request::Reset { id } => {
                self.scripts.clear();
                self.shared.clear();
                (Reply::Done { id }, false)
            }
            Request::Shutdown { id } => (Reply::Done { id }, true),
        }
    }

    fn load(
        &mut self,
        hash: Hash,
        name: String,
        source: String,
        modules: Vec<ModuleSource>,
        compile_only: bool,
        limits: &WireLimits,
    ) -> GuestOutcome {
        let env = env_for(limits, wasi::real_now_nanos(), false, 0);
        let request = GuestLoad {
            name: name.clone(),
            source: source.clone(),
            modules: modules.clone(),
            compile_only,
            max_stdout_bytes: limits.max_stdout_bytes,
        };
        self.deadline.arm(Duration::from_micros(limits.deadline_us));
        let result = (|| {
            self.runtime.check_memory_limit(limits.memory_bytes)?;
            let mut instance = self.runtime.instantiate(limits.memory_bytes).map_err(|e| {
                ErrorInfo::plain(ErrorKind::WorkerCrash, format!("cannot start a guest: {e}"))
            })?;
            let outcome = instance
                .invoke(Export::Load, &request.encode(), &env)
                .map_err(|b| b.0)?;
            Ok((instance, outcome))
        })();
        self.deadline.disarm();
        let (instance, outcome) = match result {
            Ok((instance, outcome)) => (Some(instance), outcome),
            Err(info) => (None, GuestOutcome::failed(info)),
        };
        if !compile_only {
            self.tick += 1;
            if self.scripts.len() >= MAX_SCRIPTS && !self.scripts.contains_key(&hash) {
                self.evict_script();
            }
            self.scripts.insert(
                hash,
                Script {
                    name,
                    source,
                    modules,
                    instance: instance.filter(|_| outcome.result.is_ok()),
                    last_used: self.tick,
                },
            );
            self.evict_instances(hash);
        }
        outcome
    }

    fn call(&mut self, spec: &CallSpec) -> Outcome {
        let t = Instant::now();
        let mut env = env_for(
            &spec.limits,
            spec.clock.unix_nanos,
            spec.clock.real_time,
            spec.clock.seed,
        );
        match self.shared.resolve(&spec.shared) {
            Ok(values) => env.shared = values,
            Err(missing) => {
                let hex: String = missing[..8].iter().map(|b| format!("{b:02x}")).collect();
                return Outcome {
                    guest: GuestOutcome::failed(ErrorInfo::plain(
                        ErrorKind::NotShared,
                        format!("shared value {hex}… is not held by this worker"),
                    )),
                    duration_us: t.elapsed().as_micros() as u64,
                };
            }
        }
        let call = GuestCall {
            entry: spec.entry.clone(),
            context: spec.context.clone(),
            max_result_bytes: spec.limits.max_result_bytes,
            max_stdout_bytes: spec.limits.max_stdout_bytes,
            max_depth: spec.limits.max_depth,
            seed: spec.clock.seed,
            shared: spec.shared.clone(),
        };
        self.deadline
            .arm(Duration::from_micros(spec.limits.deadline_us));
        let guest = self.call_armed(spec, &env, &call);
        self.deadline.disarm();
        Outcome {
            guest,
            duration_us: t.elapsed().as_micros() as u64,
        }
    }

    fn call_armed(&mut self, spec: &CallSpec, env: &CallEnv, call: &GuestCall) -> GuestOutcome {
        self.tick += 1;
        let tick = self.tick;
        let Some(script) = self.scripts.get_mut(&spec.hash) else {
            return GuestOutcome::failed(ErrorInfo::plain(
                ErrorKind::NotLoaded,
                "script not loaded in this worker",
            ));
        };
        script.last_used = tick;
        let reuse = if spec.fresh {
            None
        } else {
            script.instance.take()
        };
        let mut instance = match reuse {
            Some(i) => i,
            None => match self
                .runtime
                .check_memory_limit(spec.limits.memory_bytes)
                .and_then(|()| {
                    self.runtime
                        .instantiate(spec.limits.memory_bytes)
                        .map_err(|e| {
                            ErrorInfo::plain(
                                ErrorKind::WorkerCrash,
                                format!("cannot start a guest: {e}"),
                            )
                        })
                }) {
                Ok(mut i) => match i.invoke(Export::Load, &load_request(script, spec), env) {
                    Ok(o) if o.result.is_ok() => i,
                    Ok(o) => return o,
                    Err(b) => return GuestOutcome::failed(b.0),
                },
                Err(info) => return GuestOutcome::failed(info),
            },
        };
        let before = instance.memory_bytes();
        let outcome = match instance.invoke(Export::Call, &call.encode(), env) {
            Ok(o) => o,
            // The instance trapped: it is dropped here, and the next call starts a fresh one.
            Err(b) => return GuestOutcome::failed(b.0),
        };
        // A call that made the instance much bigger leaves it behind: keeping it would keep
        // that memory for as long as the script stays live.
        let grew = instance.memory_bytes().saturating_sub(before) > RESET_GROWTH;
        if !spec.fresh
            && !grew
            && let Some(script) = self.scripts.get_mut(&spec.hash)
        {
            script.instance = Some(instance);
            self.evict_instances(spec.hash);
        }
        outcome
    }

    /// Keeps at most `max_live` instances whose linear memory together stays within the
    /// budget, dropping the least recently used ones (never `keep`, the one just used: a
    /// single instance over the budget stays, within its own memory limit).
    fn evict_instances(&mut self, keep: Hash) {
        loop {
            let live: Vec<(&Hash, u64, usize)> = self
                .scripts
                .iter()
                .filter_map(|(h, s)| Some((h, s.last_used, s.instance.as_ref()?.memory_bytes())))
                .collect();
            let total: usize = live.iter().map(|(_, _, bytes)| bytes).sum();
            if live.len() <= self.max_live && total <= self.budget_bytes {
                return;
            }
            let Some(oldest) = live
                .iter()
                .filter(|(h, _, _)| **h != keep)
                .min_by_key(|(_, t, _)| *t)
                .map(|(h, _, _)| **h)
            else {
                return;
            };
            if let Some(s) = self.scripts.get_mut(&oldest) {
                s.instance = None;
            }
        }
    }

    fn evict_script(&mut self) {
        if let Some(oldest) = self
            .scripts
            .iter()
            .min_by_key(|(_, s)| s.last_used)
            .map(|(h, _)| *h)
        {
            self.scripts.remove(&oldest);
        }
    }
}

/// The load request that makes a fresh instance of `script` for a call (only built when the
/// call has no live instance to reuse: it copies the script's source and modules).
fn load_request(script: &Script, spec: &CallSpec) -> Vec<u8> {
    GuestLoad {
        name: script.name.clone(),
        source: script.source.clone(),
        modules: script.modules.clone(),
        compile_only: false,
        max_stdout_bytes: spec.limits.max_stdout_bytes,
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_budget_covers_result_and_stdout() {
        let limits = WireLimits {
            deadline_us: 1,
            memory_bytes: 1,
            max_result_bytes: 1000,
            max_stdout_bytes: 10,
            max_depth: 1,
        };
        let env = env_for(&limits, 5, false, 9);
        assert_eq!(env.max_reply_bytes, 1000 + 40 + (256 << 10));
        assert_eq!((env.frozen_nanos, env.seed), (5, 9));
    }
}
