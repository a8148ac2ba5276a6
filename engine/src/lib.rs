//! bds-script's engine: runs users' Python macros and transforms in sandboxed worker processes.
//!
//! # Model
//! A [`Pool`] owns N `bds-worker` processes. Each worker runs a Python compiled to WebAssembly
//! ([`Guest::RustPython`] or [`Guest::CPython`], chosen by [`PoolConfig::guest`]) inside
//! wasmtime, with no WASI capabilities (no files, no environment, no sockets, no
//! processes). A script ([`Script`]) is identified by the SHA-256 of its source (and, when it
//! imports the project's utility modules, of theirs: see [`link`]); a worker loads it once into a
//! guest instance of its own and reuses that instance for the script's later calls, so scripts
//! cannot see each other's changes.
//!
//! A call sends a JSON object (the context) and gets a JSON object back ([`CallOutput`]), with
//! what the script printed kept apart. [`Limits`] bound each call: a deadline, a memory cap, the
//! result's size and nesting, the captured stdout.
//!
//! # Failure
//! Every failure is a [`ScriptError`] whose [`ErrorKind`] says what the caller can do: fix the
//! script (`compile`, `runtime`, `abi-violation`, `output-too-large`), give it more room
//! (`timeout`, `memory`), or retry (`worker-crash`). A runaway script is stopped inside the
//! worker at its deadline; if the worker itself does not answer by the deadline plus a grace
//! period, the engine's watchdog kills it and the next call on that slot starts a new one.
//! Replies are checked again here: a worker that sends a malformed frame or result is
//! discarded. The engine never panics on what a worker or a script does.
//!
//! ```no_run
//! use bds_engine::{CallOptions, Limits, Pool, PoolConfig, Script};
//! use std::time::Duration;
//!
//! let pool = Pool::new(PoolConfig::default())?;
//! let script = Script::new("kbd.py", "import html\ndef render(c):\n    return {'html': '<kbd>' + html.escape(c['args'][0]) + '</kbd>'}\n");
//! let opts = CallOptions::default().with_limits(Limits::macro_call().with_deadline(Duration::from_millis(100)));
//! let out = pool.call(&script, &serde_json::json!({"abi": 1, "args": ["Ctrl<C>"]}), &opts)?;
//! assert_eq!(out.value["html"], "<kbd>Ctrl&lt;C&gt;</kbd>");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(clippy::unwrap_used)]

mod error;
mod imports;
mod limits;
mod macros;
mod metrics;
mod params;
mod pool;
mod process;
mod script;
mod shared;
mod store;
mod watchdog;

pub use bds_ipc::{Guest, Read, UnknownGuest, Warning};
pub use error::{EngineError, ErrorKind, ScriptError, TraceFrame};
pub use imports::{
    Utilities, imported_modules, is_stdlib_module, link, utilities_in, utility_closure,
    utility_name_problem,
};
pub use limits::{CallOptions, Clock, Limits};
pub use macros::{
    Alias, BuildEvent, BuildOptions, BuildSummary, CONFIG_FILE, ConfigError, Diagnostic, DocOutput,
    Document, Expansion, MacroCall, MacroMetrics, Node, ParseError, Project, ProjectConfig,
    ProjectError, Severity, TransformOutcome, TransformStep, error_marker, parse, parse_config,
    typed,
};
pub use metrics::ScriptMetrics;
pub use params::{Checked, ParamDecl, ParamErrors, ParamType, check_call};
pub use pool::{CallOutput, Pool, PoolConfig, PoolStats, SharedCall};
pub use script::{Module, Script};
pub use shared::{ContextError, MAX_SHARED_BYTES, SharedError, SharedValue, split_shared};
pub use store::{
    CachedResult, Checker, DefaultAction, DefaultScript, DocEntry, HeaderError, ListFilter,
    MAX_SOURCE_BYTES, Meta, OpenReport, Origin, ResultEntry, ScriptEntry, ScriptKind, ScriptStatus,
    ScriptStore, StoreError, StoreEvent, SyncReport, Watcher, bundled_defaults, parse_header,
    validate_slug,
};
