//! What the pool says to a worker: load and share requests, call specs, and the checks on
//! what comes back.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bds_ipc::{CallSpec, ClockSpec, ErrorKind, Read, Reply, Request, SharedRef, Warning};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Inner;
use crate::error::ScriptError;
use crate::limits::{CallOptions, Clock, Limits};
use crate::process::{Broken, WorkerProcess};
use crate::script::Script;
use crate::shared::SharedValue;

/// The context key of a macro call's metadata, whose reads the guest records like a shared
/// value's.
pub(crate) const CALL_KEY: &str = "call";

pub(super) fn load_request(
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
        modules: if compile_only {
            Vec::new()
        } else {
            script
                .modules()
                .iter()
                .map(|m| bds_ipc::ModuleSource {
                    name: m.name().to_owned(),
                    source: m.source().to_owned(),
                })
                .collect()
        },
        compile_only,
        limits: limits.wire(),
    }
}

/// Makes sure the worker knows `script`. `Ok(Some(e))`: the script failed to load.
pub(super) fn ensure_loaded(
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

/// Sends the worker every value of `values` it has not been sent yet (each once).
pub(super) fn ensure_shared<'a>(
    w: &mut WorkerProcess,
    inner: &Inner,
    values: impl Iterator<Item = &'a SharedValue>,
) -> Result<(), Broken> {
    for v in values {
        if w.shared.contains(v.hash()) {
            continue;
        }
        let req = Request::Share {
            id: w.next_id(),
            hash: *v.hash(),
            json: v.json().to_vec(),
        };
        // Generous: a 64 MiB site takes a while to copy through a pipe on a busy machine.
        let kill_at = Instant::now() + Duration::from_secs(30) + inner.grace;
        match w.round_trip(&req, &inner.watchdog, kill_at)? {
            Reply::Done { .. } => {
                w.shared.insert(*v.hash());
            }
            other => {
                return Err(Broken::Crashed(format!(
                    "expected a share reply, got {other:?}"
                )));
            }
        }
    }
    Ok(())
}

/// Most reads one call may report; past it every shared value counts as read whole.
const MAX_READS: usize = 1024;
/// Longest key a reported read may name; a longer one counts as a read of the whole value.
const MAX_READ_KEY: usize = 1024;

/// A worker's report of what a call read, checked: only the call's own tracked values (its
/// shared values, and `call` when its context has one), at most [`MAX_READS`] entries, sorted
/// and without duplicates. What cannot be trusted is widened to "read the whole value", never
/// narrowed.
pub(super) fn sanitize_reads(
    reads: Vec<Read>,
    context: &Value,
    shared: &[(String, SharedValue)],
) -> Vec<Read> {
    let mut roots: Vec<&str> = shared.iter().map(|(n, _)| n.as_str()).collect();
    if context.get(CALL_KEY).is_some_and(Value::is_object) {
        roots.push(CALL_KEY);
    }
    if roots.is_empty() {
        return Vec::new();
    }
    let whole = |root: &str| Read {
        root: root.to_owned(),
        key: None,
    };
    if reads.len() > MAX_READS {
        return roots.iter().map(|n| whole(n)).collect();
    }
    let mut out: Vec<Read> = reads
        .into_iter()
        .filter(|r| roots.contains(&r.root.as_str()))
        .map(|r| match &r.key {
            Some(k) if k.len() > MAX_READ_KEY => whole(&r.root),
            _ => r,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Most warnings a call reports, and the longest message and file name kept.
const MAX_WARNINGS: usize = 16;
const MAX_WARNING_TEXT: usize = 1000;

/// A worker's report of a call's warnings, bounded: a lying worker cannot make the engine keep
/// more than [`MAX_WARNINGS`] short entries.
pub(super) fn sanitize_warnings(mut warnings: Vec<Warning>) -> Vec<Warning> {
    fn cut(s: &mut String) {
        if s.len() > MAX_WARNING_TEXT {
            let mut at = MAX_WARNING_TEXT;
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            s.truncate(at);
        }
    }
    warnings.truncate(MAX_WARNINGS);
    for w in &mut warnings {
        cut(&mut w.category);
        cut(&mut w.message);
        cut(&mut w.file);
    }
    warnings
}

pub(super) fn call_spec(
    script: &Script,
    context: &Value,
    shared: &[(String, SharedValue)],
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
        shared: shared
            .iter()
            .map(|(name, v)| SharedRef {
                name: name.clone(),
                hash: *v.hash(),
            })
            .collect(),
    })
}

/// The engine's own check of a result: size, JSON, an object, nesting.
pub(super) fn check_result(
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

pub(super) fn json_depth(v: &Value) -> usize {
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
    use crate::limits::{CallOptions, Clock};
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
