//! The messages' binary encodings: each type writes itself with a [`Writer`] and reads itself
//! back with a [`Reader`], fields in declaration order. Decoding checks every count against the
//! bytes left (`MIN_SIZE` is the least an item can take) and every tag; see the crate's docs.

use super::*;
use crate::codec::{DecodeError, Reader, Writer};

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
