//! The messages, and their encodings.

use crate::codec::{DecodeError, Reader, Writer};

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

// ---- encodings -------------------------------------------------------------------------------

impl WireLimits {
    fn put(&self, w: &mut Writer) {
        w.u64(self.deadline_us)
            .u64(self.memory_bytes)
            .u32(self.max_result_bytes)
            .u32(self.max_stdout_bytes)
            .u32(self.max_depth);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            deadline_us: r.u64()?,
            memory_bytes: r.u64()?,
            max_result_bytes: r.u32()?,
            max_stdout_bytes: r.u32()?,
            max_depth: r.u32()?,
        })
    }
}

impl SharedRef {
    const MIN_SIZE: usize = 4 + 32;
    fn put_all(all: &[SharedRef], w: &mut Writer) {
        w.u32(all.len() as u32);
        for s in all {
            w.str(&s.name).raw(&s.hash);
        }
    }
    fn get_all(r: &mut Reader<'_>) -> Result<Vec<SharedRef>, DecodeError> {
        let n = r.count(Self::MIN_SIZE)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(SharedRef {
                name: r.string()?,
                hash: r.array()?,
            });
        }
        Ok(out)
    }
}

impl Read {
    const MIN_SIZE: usize = 4 + 1;
    fn put_all(all: &[Read], w: &mut Writer) {
        w.u32(all.len() as u32);
        for read in all {
            w.str(&read.root);
            match &read.key {
                Some(k) => {
                    w.u8(1).str(k);
                }
                None => {
                    w.u8(0);
                }
            }
        }
    }
    fn get_all(r: &mut Reader<'_>) -> Result<Vec<Read>, DecodeError> {
        let n = r.count(Self::MIN_SIZE)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let root = r.string()?;
            let key = match r.u8()? {
                0 => None,
                1 => Some(r.string()?),
                tag => return Err(DecodeError::UnknownTag { what: "read", tag }),
            };
            out.push(Read { root, key });
        }
        Ok(out)
    }
}

impl ModuleSource {
    const MIN_SIZE: usize = 4 + 4;
    fn put_all(all: &[ModuleSource], w: &mut Writer) {
        w.u32(all.len() as u32);
        for m in all {
            w.str(&m.name).str(&m.source);
        }
    }
    fn get_all(r: &mut Reader<'_>) -> Result<Vec<ModuleSource>, DecodeError> {
        let n = r.count(Self::MIN_SIZE)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(ModuleSource {
                name: r.string()?,
                source: r.string()?,
            });
        }
        Ok(out)
    }
}

impl Warning {
    const MIN_SIZE: usize = 4 + 4 + 4 + 4;
    fn put_all(all: &[Warning], w: &mut Writer) {
        w.u32(all.len() as u32);
        for x in all {
            w.str(&x.category).str(&x.message).str(&x.file).u32(x.line);
        }
    }
    fn get_all(r: &mut Reader<'_>) -> Result<Vec<Warning>, DecodeError> {
        let n = r.count(Self::MIN_SIZE)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(Warning {
                category: r.string()?,
                message: r.string()?,
                file: r.string()?,
                line: r.u32()?,
            });
        }
        Ok(out)
    }
}

impl CallSpec {
    const MIN_SIZE: usize = 32 + 4 + 4 + 28 + 17 + 1 + 4;
    fn put(&self, w: &mut Writer) {
        w.raw(&self.hash).str(&self.entry).bytes(&self.context);
        self.limits.put(w);
        w.u64(self.clock.unix_nanos)
            .u64(self.clock.seed)
            .bool(self.clock.real_time)
            .bool(self.fresh);
        SharedRef::put_all(&self.shared, w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hash: r.array()?,
            entry: r.string()?,
            context: r.bytes()?.to_vec(),
            limits: WireLimits::get(r)?,
            clock: ClockSpec {
                unix_nanos: r.u64()?,
                seed: r.u64()?,
                real_time: r.bool()?,
            },
            fresh: r.bool()?,
            shared: SharedRef::get_all(r)?,
        })
    }
}

impl ErrorInfo {
    fn put(&self, w: &mut Writer) {
        w.u8(self.kind.tag())
            .str(&self.exc_type)
            .str(&self.message)
            .u32(self.line)
            .u32(self.column)
            .u32(self.traceback.len() as u32);
        for f in &self.traceback {
            w.str(&f.file).u32(f.line).str(&f.function);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let kind = ErrorKind::from_tag(r.u8()?)?;
        let exc_type = r.string()?;
        let message = r.string()?;
        let line = r.u32()?;
        let column = r.u32()?;
        let n = r.count(12)?;
        let mut traceback = Vec::with_capacity(n);
        for _ in 0..n {
            traceback.push(TraceFrame {
                file: r.string()?,
                line: r.u32()?,
                function: r.string()?,
            });
        }
        Ok(Self {
            kind,
            exc_type,
            message,
            line,
            column,
            traceback,
        })
    }
}

impl GuestOutcome {
    fn put(&self, w: &mut Writer) {
        match &self.result {
            Ok(json) => {
                w.u8(0).bytes(json);
            }
            Err(e) => {
                w.u8(1);
                e.put(w);
            }
        }
        w.str(&self.stdout).bool(self.stdout_truncated);
        Read::put_all(&self.reads, w);
        Warning::put_all(&self.warnings, w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let result = match r.u8()? {
            0 => Ok(r.bytes()?.to_vec()),
            1 => Err(ErrorInfo::get(r)?),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "outcome",
                    tag,
                });
            }
        };
        Ok(Self {
            result,
            stdout: r.string()?,
            stdout_truncated: r.bool()?,
            reads: Read::get_all(r)?,
            warnings: Warning::get_all(r)?,
        })
    }

    /// Encodes this outcome alone (the guest's answer to the worker).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        self.put(&mut w);
        w.buf
    }

    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let v = Self::get(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

impl Outcome {
    const MIN_SIZE: usize = 1 + 4 + 4 + 1 + 4 + 4 + 8;
    fn put(&self, w: &mut Writer) {
        self.guest.put(w);
        w.u64(self.duration_us);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            guest: GuestOutcome::get(r)?,
            duration_us: r.u64()?,
        })
    }
}

impl Request {
    pub fn id(&self) -> u64 {
        match self {
            Request::Load { id, .. }
            | Request::Call { id, .. }
            | Request::Batch { id, .. }
            | Request::Share { id, .. }
            | Request::Reset { id }
            | Request::Shutdown { id } => *id,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            Request::Load {
                id,
                hash,
                name,
                source,
                modules,
                compile_only,
                limits,
            } => {
                w.u8(1).u64(*id).raw(hash).str(name).str(source);
                ModuleSource::put_all(modules, &mut w);
                w.bool(*compile_only);
                limits.put(&mut w);
            }
            Request::Call { id, call } => {
                w.u8(2).u64(*id);
                call.put(&mut w);
            }
            Request::Batch { id, calls } => {
                w.u8(3).u64(*id).u32(calls.len() as u32);
                for c in calls {
                    c.put(&mut w);
                }
            }
            Request::Reset { id } => {
                w.u8(4).u64(*id);
            }
            Request::Share { id, hash, json } => {
                w.u8(6).u64(*id).raw(hash).bytes(json);
            }
            Request::Shutdown { id } => {
                w.u8(5).u64(*id);
            }
        }
        w.buf
    }

    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let tag = r.u8()?;
        let id = r.u64()?;
        let req = match tag {
            1 => Request::Load {
                id,
                hash: r.array()?,
                name: r.string()?,
                source: r.string()?,
                modules: ModuleSource::get_all(&mut r)?,
                compile_only: r.bool()?,
                limits: WireLimits::get(&mut r)?,
            },
            2 => Request::Call {
                id,
                call: CallSpec::get(&mut r)?,
            },
            3 => {
                let n = r.count(CallSpec::MIN_SIZE)?;
                let mut calls = Vec::with_capacity(n);
                for _ in 0..n {
                    calls.push(CallSpec::get(&mut r)?);
                }
                Request::Batch { id, calls }
            }
            4 => Request::Reset { id },
            5 => Request::Shutdown { id },
            6 => Request::Share {
                id,
                hash: r.array()?,
                json: r.bytes()?.to_vec(),
            },
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "request",
                    tag,
                });
            }
        };
        r.finish()?;
        Ok(req)
    }
}

impl Reply {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            Reply::Ready {
                protocol,
                worker_version,
                guest_hash,
                init_us,
            } => {
                // The protocol version comes first so any version can read it.
                w.u8(1)
                    .u32(*protocol)
                    .str(worker_version)
                    .raw(guest_hash)
                    .u64(*init_us);
            }
            Reply::Loaded { id, outcome } => {
                w.u8(2).u64(*id);
                outcome.put(&mut w);
            }
            Reply::Called { id, outcome } => {
                w.u8(3).u64(*id);
                outcome.put(&mut w);
            }
            Reply::Batch { id, outcomes } => {
                w.u8(4).u64(*id).u32(outcomes.len() as u32);
                for o in outcomes {
                    o.put(&mut w);
                }
            }
            Reply::Done { id } => {
                w.u8(5).u64(*id);
            }
            Reply::Fatal { id, message } => {
                w.u8(6).u64(*id).str(message);
            }
        }
        w.buf
    }

    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let reply = match r.u8()? {
            1 => Reply::Ready {
                protocol: r.u32()?,
                worker_version: r.string()?,
                guest_hash: r.array()?,
                init_us: r.u64()?,
            },
            2 => Reply::Loaded {
                id: r.u64()?,
                outcome: Outcome::get(&mut r)?,
            },
            3 => Reply::Called {
                id: r.u64()?,
                outcome: Outcome::get(&mut r)?,
            },
            4 => {
                let id = r.u64()?;
                let n = r.count(Outcome::MIN_SIZE)?;
                let mut outcomes = Vec::with_capacity(n);
                for _ in 0..n {
                    outcomes.push(Outcome::get(&mut r)?);
                }
                Reply::Batch { id, outcomes }
            }
            5 => Reply::Done { id: r.u64()? },
            6 => Reply::Fatal {
                id: r.u64()?,
                message: r.string()?,
            },
            tag => return Err(DecodeError::UnknownTag { what: "reply", tag }),
        };
        r.finish()?;
        Ok(reply)
    }
}

impl GuestLoad {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.str(&self.name).str(&self.source);
        ModuleSource::put_all(&self.modules, &mut w);
        w.bool(self.compile_only).u32(self.max_stdout_bytes);
        w.buf
    }
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let v = Self {
            name: r.string()?,
            source: r.string()?,
            modules: ModuleSource::get_all(&mut r)?,
            compile_only: r.bool()?,
            max_stdout_bytes: r.u32()?,
        };
        r.finish()?;
        Ok(v)
    }
}

impl GuestCall {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.str(&self.entry)
            .bytes(&self.context)
            .u32(self.max_result_bytes)
            .u32(self.max_stdout_bytes)
            .u32(self.max_depth)
            .u64(self.seed);
        SharedRef::put_all(&self.shared, &mut w);
        w.buf
    }
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let v = Self {
            entry: r.string()?,
            context: r.bytes()?.to_vec(),
            max_result_bytes: r.u32()?,
            max_stdout_bytes: r.u32()?,
            max_depth: r.u32()?,
            seed: r.u64()?,
            shared: SharedRef::get_all(&mut r)?,
        };
        r.finish()?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> WireLimits {
        WireLimits {
            deadline_us: 250_000,
            memory_bytes: 128 << 20,
            max_result_bytes: 1 << 20,
            max_stdout_bytes: 64 << 10,
            max_depth: 64,
        }
    }

    fn call() -> CallSpec {
        CallSpec {
            hash: [7; 32],
            entry: "render".into(),
            context: br#"{"abi":1}"#.to_vec(),
            limits: limits(),
            clock: ClockSpec {
                unix_nanos: 1_700_000_000_000_000_000,
                seed: 42,
                real_time: false,
            },
            fresh: true,
            shared: vec![
                SharedRef {
                    name: "post".into(),
                    hash: [3; 32],
                },
                SharedRef {
                    name: "site".into(),
                    hash: [4; 32],
                },
            ],
        }
    }

    fn outcome(ok: bool) -> Outcome {
        Outcome {
            guest: GuestOutcome {
                result: if ok {
                    Ok(r#"{"html":"é"}"#.as_bytes().to_vec())
                } else {
                    Err(ErrorInfo {
                        kind: ErrorKind::Runtime,
                        exc_type: "ValueError".into(),
                        message: "bad".into(),
                        line: 3,
                        column: 0,
                        traceback: vec![TraceFrame {
                            file: "a.py".into(),
                            line: 3,
                            function: "render".into(),
                        }],
                    })
                },
                stdout: "hi\n".into(),
                stdout_truncated: !ok,
                reads: if ok {
                    vec![
                        Read {
                            root: "post".into(),
                            key: Some("title".into()),
                        },
                        Read {
                            root: "site".into(),
                            key: None,
                        },
                    ]
                } else {
                    Vec::new()
                },
                warnings: if ok {
                    vec![Warning {
                        category: "UserWarning".into(),
                        message: "careful".into(),
                        file: "a.py".into(),
                        line: 4,
                    }]
                } else {
                    Vec::new()
                },
            },
            duration_us: 12,
        }
    }

    #[test]
    fn every_request_round_trips() {
        let all = [
            Request::Load {
                id: 1,
                hash: [1; 32],
                name: "toc.py".into(),
                source: "def render(c): return {}".into(),
                modules: vec![ModuleSource {
                    name: "helpers".into(),
                    source: "X = 1".into(),
                }],
                compile_only: true,
                limits: limits(),
            },
            Request::Call {
                id: 2,
                call: call(),
            },
            Request::Batch {
                id: 3,
                calls: vec![call(), call()],
            },
            Request::Reset { id: 4 },
            Request::Shutdown { id: 5 },
            Request::Share {
                id: 6,
                hash: [5; 32],
                json: br#"{"posts":[]}"#.to_vec(),
            },
        ];
        for req in all {
            assert_eq!(Request::decode(&req.encode()).unwrap(), req);
            assert_eq!(req.id(), Request::decode(&req.encode()).unwrap().id());
        }
    }

    #[test]
    fn every_reply_round_trips() {
        let all = [
            Reply::Ready {
                protocol: PROTOCOL_VERSION,
                worker_version: "0.1.0".into(),
                guest_hash: [9; 32],
                init_us: 1234,
            },
            Reply::Loaded {
                id: 1,
                outcome: outcome(false),
            },
            Reply::Called {
                id: 2,
                outcome: outcome(true),
            },
            Reply::Batch {
                id: 3,
                outcomes: vec![outcome(true), outcome(false)],
            },
            Reply::Done { id: 4 },
            Reply::Fatal {
                id: 5,
                message: "no".into(),
            },
        ];
        for reply in all {
            assert_eq!(Reply::decode(&reply.encode()).unwrap(), reply);
        }
    }

    #[test]
    fn guest_messages_round_trip() {
        let load = GuestLoad {
            name: "a.py".into(),
            source: "x = 1".into(),
            modules: vec![
                ModuleSource {
                    name: "a".into(),
                    source: String::new(),
                },
                ModuleSource {
                    name: "b".into(),
                    source: "import a".into(),
                },
            ],
            compile_only: false,
            max_stdout_bytes: 10,
        };
        assert_eq!(GuestLoad::decode(&load.encode()).unwrap(), load);
        let c = GuestCall {
            entry: "render".into(),
            context: b"{}".to_vec(),
            max_result_bytes: 1,
            max_stdout_bytes: 2,
            max_depth: 3,
            seed: 4,
            shared: call().shared,
        };
        assert_eq!(GuestCall::decode(&c.encode()).unwrap(), c);
        let o = outcome(false).guest;
        assert_eq!(GuestOutcome::decode(&o.encode()).unwrap(), o);
    }

    #[test]
    fn every_truncation_of_a_reply_is_an_error_not_a_panic() {
        let bytes = Reply::Batch {
            id: 3,
            outcomes: vec![outcome(true), outcome(false)],
        }
        .encode();
        for cut in 0..bytes.len() {
            assert!(Reply::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(Reply::decode(&long), Err(DecodeError::Trailing(1)));
    }

    #[test]
    fn hostile_counts_and_tags_are_refused() {
        // A batch claiming four billion outcomes in a 13-byte payload.
        let mut w = Writer::default();
        w.u8(4).u64(1).u32(u32::MAX);
        assert!(matches!(
            Reply::decode(&w.buf),
            Err(DecodeError::BadCount { .. })
        ));
        assert_eq!(
            Reply::decode(&[99]),
            Err(DecodeError::UnknownTag {
                what: "reply",
                tag: 99
            })
        );
        // Invalid UTF-8 in a Fatal message.
        let mut w = Writer::default();
        w.u8(6).u64(1).bytes(&[0xff, 0xfe]);
        assert!(matches!(
            Reply::decode(&w.buf),
            Err(DecodeError::NotUtf8 { .. })
        ));
        // Unknown error kind inside an outcome.
        let mut bytes = Reply::Called {
            id: 1,
            outcome: outcome(false),
        }
        .encode();
        bytes[1 + 8 + 1] = 200;
        assert!(matches!(
            Reply::decode(&bytes),
            Err(DecodeError::UnknownTag {
                what: "error kind",
                ..
            })
        ));
    }
}
