//! `bds-napi`: the bds-script engine as a Node-API addon, for Electron's main process.
//!
//! The model: `Engine.open(dir)` starts a project's sandboxed worker processes and its watcher,
//! and resolves with an `Engine`. Every method that touches the disk or Python returns a
//! Promise and runs on the engine's own threads (not libuv's pool, which the rest of the main
//! process needs for `fs`), so the JS thread never waits. Script changes, made through the
//! engine or by another program, reach JS through a thread-safe callback (`onChange`).
//!
//! ```js
//! const { Engine } = require('@bds/script')
//! const engine = await Engine.open('/path/to/project', { create: true })
//! const run = await engine.runScript('kbd', { params: { keys: 'Ctrl+C' } })
//! console.log(run.value.html, run.stdout, run.durationUs)
//! await engine.close()
//! ```
//!
//! On failure a Promise rejects with an `Error` named `BdsError` whose `code` says what the
//! caller can do (`compile`, `runtime`, `timeout`, `not-found`, `conflict`, `closed`, ...) and,
//! for a script error, which script, which line, the traceback and what it printed. A worker
//! that crashes or hangs is replaced; the engine stays usable. After `close()`, calls reject
//! with `closed`.
//!
//! The TypeScript declarations (`index.d.ts`) are generated from this crate by `@napi-rs/cli`;
//! `make addon` rebuilds both, and the Node tests fail when the committed file drifts.

mod engine;
mod error;
mod json;
mod lane;
mod locate;
mod types;

pub use engine::Engine;
pub use error::{BdsErrorFields, ErrorCode};
pub use types::{
    ChangeEvent, DefaultNote, Diagnostic, Diagnostics, Expansion, IgnoredFile, ListFilter,
    MacroMetrics, OpenOptions, OpenReport, Rename, RunOptions, RunResult, ScriptEntry, ScriptKind,
    ScriptProblem, ScriptSource, SyncReport, TraceFrame, TransformOutcome, TransformStep,
};
