//! Errors: [`ScriptError`] for what a script did, [`EngineError`] for what the machinery could not do.

use std::path::PathBuf;

use serde::Serialize;

pub use bds_ipc::ErrorKind;

/// One line of a Python traceback, outermost first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TraceFrame {
    pub file: String,
    pub line: u32,
    pub function: String,
}

/// A load or call that failed. [`ScriptError::kind`] says what the caller can do:
///
/// | kind | meaning | what to do |
/// |---|---|---|
/// | `compile` | syntax error ([`ScriptError::line`], [`ScriptError::column`]) | fix the script |
/// | `runtime` | Python raised ([`ScriptError::traceback`]) | fix the script or its context |
/// | `timeout` | the deadline passed | make it faster, or raise the deadline |
/// | `memory` | the memory limit was reached | use less, or raise the limit |
/// | `output-too-large` | result or stdout over its limit | return less |
/// | `abi-violation` | the result is not a JSON object ABI v1 allows | return JSON values only |
/// | `worker-crash` | the worker died or misbehaved; it was replaced | retry; report if it repeats |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{script}: {kind} error{}: {message}", location(*line))]
pub struct ScriptError {
    #[serde(serialize_with = "kind_str")]
    pub kind: ErrorKind,
    /// The script's file name (`toc.py`).
    pub script: String,
    /// The Python exception type, when there is one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub exc_type: String,
    pub message: String,
    /// Line in the script (0 when unknown).
    pub line: u32,
    /// Column of a syntax error (0 otherwise).
    pub column: u32,
    pub traceback: Vec<TraceFrame>,
    /// What the script printed before it failed.
    pub stdout: String,
}

fn location(line: u32) -> String {
    if line > 0 {
        format!(" at line {line}")
    } else {
        String::new()
    }
}

fn kind_str<S: serde::Serializer>(k: &ErrorKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

impl ScriptError {
    pub(crate) fn new(kind: ErrorKind, script: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            script: script.to_owned(),
            exc_type: String::new(),
            message: message.into(),
            line: 0,
            column: 0,
            traceback: Vec::new(),
            stdout: String::new(),
        }
    }

    pub(crate) fn from_wire(script: &str, info: bds_ipc::ErrorInfo, stdout: String) -> Self {
        Self {
            kind: info.kind,
            script: script.to_owned(),
            exc_type: info.exc_type,
            message: info.message,
            line: info.line,
            column: info.column,
            traceback: info
                .traceback
                .into_iter()
                .map(|f| TraceFrame {
                    file: f.file,
                    line: f.line,
                    function: f.function,
                })
                .collect(),
            stdout,
        }
    }

    /// The process exit status `bds` uses for this kind (documented in the README).
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Compile => 10,
            ErrorKind::Runtime => 11,
            ErrorKind::Timeout => 12,
            ErrorKind::Memory => 13,
            ErrorKind::OutputTooLarge => 14,
            ErrorKind::AbiViolation => 15,
            ErrorKind::WorkerCrash | ErrorKind::NotLoaded | ErrorKind::NotShared => 16,
        }
    }
}

/// The engine could not start or keep its workers.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The worker binary is not where it was looked for.
    #[error("no worker binary: looked at {}", .looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    WorkerNotFound { looked: Vec<PathBuf> },
    /// The worker could not be started.
    #[error("cannot start the worker {path}: {source}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The worker started but did not complete the handshake.
    #[error("worker {path} failed its handshake: {detail}")]
    Handshake { path: PathBuf, detail: String },
    /// The worker speaks another protocol version.
    #[error("worker {path} speaks protocol {got}, the engine speaks {want}")]
    Version { path: PathBuf, got: u32, want: u32 },
    /// The pool is closed.
    #[error("the engine is closed")]
    Closed,
}
