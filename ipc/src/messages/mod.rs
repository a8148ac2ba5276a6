//! The messages: what the engine, a worker and the guest say to each other. Their binary
//! encodings (`encode`/`decode` on each top-level message) are in `encoding`.

mod encoding;
#[cfg(test)]
mod tests;

use crate::codec::DecodeError;

/// Version of this protocol. The engine refuses a worker that announces another one.
pub const PROTOCOL_VERSION: u32 = 3;

/// SHA-256 of a script's source: its identity on the wire.
pub type Hash = [u8; 32];

/// Limits of one load or call, as sent to the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireLimits {
    /// Wall-clock budget of the guest code, in microseconds.
    pub deadline_us: u64,
    /// Cap on the guest's linear memory, in bytes.
    pub memory_bytes: u64,
    /// Largest serialized JSON result, in bytes.
    pub max_result_bytes: u32,
    /// Largest captured stdout, in bytes (the rest is cut, with a marker).
    pub max_stdout_bytes: u32,
    /// Deepest nesting of arrays and objects in a result.
    pub max_depth: u32,
}

/// What the guest's clock and randomness read during a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSpec {
    /// Wall-clock time the guest sees, frozen for the call (ns since the Unix epoch).
    pub unix_nanos: u64,
    /// Seed of the guest's randomness (`random_get`, and Python's `random`).
    pub seed: u64,
    /// When true the guest reads the host's real clock instead of `unix_nanos`.
    pub real_time: bool,
}

/// A shared value a call refers to: `context[name]` is the value whose JSON hashes to `hash`
/// (sent once with [`Request::Share`]; see `engine/schemas/shared-data.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRef {
    /// The context key it appears under (`post`, `site`).
    pub name: String,
    pub hash: Hash,
}

/// What a call read of one shared value: a top-level key, or (`key: None`) the whole value
/// (iterated, copied, compared, printed…).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Read {
    /// The shared value's context key (`post`, `site`).
    pub root: String,
    pub key: Option<String>,
}

/// A utility module a script may import (`import helpers` finds `helpers.py`): sent with the
/// script that imports it, and importable only by that script's guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSource {
    /// The module name (`helpers`); its file name in tracebacks is `helpers.py`.
    pub name: String,
    pub source: String,
}

/// A `warnings.warn(...)` a call raised: reported beside its result, never failing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The warning's category (`UserWarning`).
    pub category: String,
    pub message: String,
    /// Where it was raised (`toc.py`, line 12).
    pub file: String,
    pub line: u32,
}

/// One call of a script's entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSpec {
    pub hash: Hash,
    pub entry: String,
    /// The context, as JSON text (an object).
    pub context: Vec<u8>,
    pub limits: WireLimits,
    pub clock: ClockSpec,
    /// Run on a brand-new guest that is thrown away afterwards (strict isolation).
    pub fresh: bool,
    /// Shared values added to the context by reference.
    pub shared: Vec<SharedRef>,
}

/// Engine → worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Make a script known to the worker. With `compile_only`, just compile it and report.
    Load {
        id: u64,
        hash: Hash,
        /// File name shown in tracebacks, e.g. `toc.py`.
        name: String,
        source: String,
        /// The utility modules the script imports, transitively.
        modules: Vec<ModuleSource>,
        compile_only: bool,
        limits: WireLimits,
    },
    Call {
        id: u64,
        call: CallSpec,
    },
    /// Several calls, answered by one [`Reply::Batch`] in the same order.
    Batch {
        id: u64,
        calls: Vec<CallSpec>,
    },
    /// Keep a shared value (JSON text of an object) for calls that refer to it by `hash`.
    /// Answered by [`Reply::Done`]. The worker may drop it later (LRU by bytes); a call that
    /// refers to a value the worker does not have fails with [`ErrorKind::NotShared`].
    Share {
        id: u64,
        hash: Hash,
        json: Vec<u8>,
    },
    /// Forget every script and guest instance.
    Reset {
        id: u64,
    },
    Shutdown {
        id: u64,
    },
}

/// Why a load or call failed, grouped by what the caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The script does not compile: fix its syntax.
    Compile,
    /// Python raised: fix the script or its input.
    Runtime,
    /// The deadline passed.
    Timeout,
    /// The memory limit was reached.
    Memory,
    /// The result or captured output is over its limit.
    OutputTooLarge,
    /// The result is not what ABI v1 allows (not a JSON object, NaN, non-string keys…).
    AbiViolation,
    /// The worker died or misbehaved; the engine replaced it.
    WorkerCrash,
    /// The worker does not know this script hash (internal: the engine loads it and retries).
    NotLoaded,
    /// The worker does not hold a shared value the call refers to (internal: the engine sends
    /// it again and retries).
    NotShared,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Compile,
        ErrorKind::Runtime,
        ErrorKind::Timeout,
        ErrorKind::Memory,
        ErrorKind::OutputTooLarge,
        ErrorKind::AbiViolation,
        ErrorKind::WorkerCrash,
        ErrorKind::NotLoaded,
        ErrorKind::NotShared,
    ];

    /// The stable name used in JSON output and in the Node API.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Compile => "compile",
            ErrorKind::Runtime => "runtime",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Memory => "memory",
            ErrorKind::OutputTooLarge => "output-too-large",
            ErrorKind::AbiViolation => "abi-violation",
            ErrorKind::WorkerCrash => "worker-crash",
            ErrorKind::NotLoaded => "not-loaded",
            ErrorKind::NotShared => "not-shared",
        }
    }

    fn tag(self) -> u8 {
        match self {
            ErrorKind::Compile => 1,
            ErrorKind::Runtime => 2,
            ErrorKind::Timeout => 3,
            ErrorKind::Memory => 4,
            ErrorKind::OutputTooLarge => 5,
            ErrorKind::AbiViolation => 6,
            ErrorKind::WorkerCrash => 7,
            ErrorKind::NotLoaded => 8,
            ErrorKind::NotShared => 9,
        }
    }

    fn from_tag(tag: u8) -> Result<Self, DecodeError> {
        ErrorKind::ALL
            .into_iter()
            .find(|k| k.tag() == tag)
            .ok_or(DecodeError::UnknownTag {
                what: "error kind",
                tag,
            })
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a Python traceback, outermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFrame {
    pub file: String,
    pub line: u32,
    pub function: String,
}

/// A failed load or call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    /// The Python exception type (`ValueError`, `SyntaxError`…), or empty.
    pub exc_type: String,
    pub message: String,
    /// Line in the script the error points at (0 when unknown).
    pub line: u32,
    /// Column (1-based) for syntax errors, 0 otherwise.
    pub column: u32,
    pub traceback: Vec<TraceFrame>,
}

impl ErrorInfo {
    /// An error with no Python details.
    pub fn plain(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            exc_type: String::new(),
            message: message.into(),
            line: 0,
            column: 0,
            traceback: Vec::new(),
        }
    }
}

/// The outcome of one load or call as the guest reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestOutcome {
    /// JSON text of the result (empty for a load), or the error.
    pub result: Result<Vec<u8>, ErrorInfo>,
    /// Captured `print()` output, already cut to its limit.
    pub stdout: String,
    pub stdout_truncated: bool,
    /// What the call read of its shared values (empty for a load), sorted, no duplicates.
    pub reads: Vec<Read>,
    /// Warnings the call raised (empty on error).
    pub warnings: Vec<Warning>,
}

impl GuestOutcome {
    /// An outcome that is only the error `info` (no output, no reads): a load or call that
    /// failed before its script ran, in the guest or in the worker.
    pub fn failed(info: ErrorInfo) -> Self {
        GuestOutcome {
            result: Err(info),
            stdout: String::new(),
            stdout_truncated: false,
            reads: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// A [`GuestOutcome`] plus how long the worker spent on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub guest: GuestOutcome,
    pub duration_us: u64,
}

/// Worker → engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// First frame of every worker.
    Ready {
        protocol: u32,
        worker_version: String,
        /// SHA-256 of the guest wasm the worker runs.
        guest_hash: Hash,
        /// Time from process start to ready, in microseconds.
        init_us: u64,
    },
    Loaded {
        id: u64,
        outcome: Outcome,
    },
    Called {
        id: u64,
        outcome: Outcome,
    },
    Batch {
        id: u64,
        outcomes: Vec<Outcome>,
    },
    /// Acknowledges `Reset` and `Shutdown`.
    Done {
        id: u64,
    },
    /// The worker could not understand a request; it exits after sending this.
    Fatal {
        id: u64,
        message: String,
    },
}

/// Worker → guest: compile (and unless `compile_only`, execute) a script's module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestLoad {
    pub name: String,
    pub source: String,
    pub modules: Vec<ModuleSource>,
    pub compile_only: bool,
    pub max_stdout_bytes: u32,
}

/// Worker → guest: call the loaded script's entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestCall {
    pub entry: String,
    pub context: Vec<u8>,
    pub max_result_bytes: u32,
    pub max_stdout_bytes: u32,
    pub max_depth: u32,
    pub seed: u64,
    /// The call's shared values, added to the context under their names.
    pub shared: Vec<SharedRef>,
}
