//! Batches: many calls spread over all workers in contiguous chunks, one request per worker,
//! results in the caller's order. A call whose worker forgot its script or shared value is
//! retried once on its own.

use std::thread;
use std::time::{Duration, Instant};

use bds_ipc::{ErrorKind, Reply, Request};
use serde_json::Value;

use super::wire::{call_spec, ensure_loaded, ensure_shared};
use super::{CallOutput, Item, Pool, SharedCall};
use crate::error::ScriptError;
use crate::limits::CallOptions;
use crate::process::Broken;
use crate::script::Script;

impl Pool {
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
}
