//! What a JS caller passes, checked: the Run button's context and options, and the ranges every
//! number must be in (JS numbers like -1 arrive as huge `u32`s). A bad value is an
//! `invalid-argument` failure naming the option.

use std::time::Duration;

use bds_engine::{CallOptions, Limits, Script};
use serde_json::{Map, Value, json};

use super::jobs::State;
use crate::error::Failure;
use crate::json;
use crate::types::{RunOptions, RunResult};

pub(super) fn run(
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
pub(super) const MAX_WORKERS: u32 = 64;
/// Longest deadline a call may ask for: an hour.
pub(super) const MAX_DEADLINE_MS: u32 = 3_600_000;
/// The guest is 32-bit wasm: it cannot address more than 4 GiB.
pub(super) const MAX_MEMORY_MIB: u32 = 4096;

/// `v`, if it is within `min..=max` (JS numbers like -1 arrive as huge u32s).
pub(super) fn within(name: &str, v: u32, min: u32, max: u32) -> Result<u32, Failure> {
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(Failure::invalid(format!(
            "{name} must be from {min} to {max}, not {v}"
        )))
    }
}

pub(super) fn run_options(o: RunOptions) -> Result<CallOptions, Failure> {
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

pub(super) fn object_or_empty(v: Option<Value>, what: &str) -> Result<Value, Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

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
