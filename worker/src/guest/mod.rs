//! The guest inside wasmtime: one compiled module, many short-lived instances.
//!
//! [`Runtime::open`] finds the pre-initialised, pre-compiled guest in the cache (or builds it:
//! wizer snapshot of `bds_init`, then cranelift, then `serialize`), and maps it with
//! `Module::deserialize_file`. Every [`Instance`] is a new store on that module: copy-on-write
//! memory from the snapshot, its own memory limit, the engine's epoch deadline. How the
//! artifact is built and kept is in `artifact`.

mod artifact;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use bds_ipc::{ErrorInfo, ErrorKind, GuestOutcome, Hash};
use wasmtime::{
    Config, Engine, InstancePre, Linker, Module, ResourceLimiter, Store, Trap, TypedFunc,
};

use crate::wasi::{self, GuestExit};
use artifact::{artifact_paths, build_artifact};

/// The state each store carries: limits, clock, randomness, the tail of the guest's stderr.
#[derive(Debug)]
pub(crate) struct HostCtx {
    pub(crate) limiter: MemoryLimiter,
    pub(crate) frozen_nanos: u64,
    pub(crate) real_time: bool,
    rng: u64,
    pub(crate) stderr_tail: Vec<u8>,
    /// The shared values the current call may read (see [`crate::shared`]).
    pub(crate) shared: Vec<(Hash, Arc<[u8]>)>,
}

impl HostCtx {
    fn new(memory_bytes: u64) -> Self {
        Self {
            limiter: MemoryLimiter {
                max_bytes: memory_bytes as usize,
                denied: false,
            },
            frozen_nanos: wasi::real_now_nanos(),
            real_time: false,
            rng: 0x853c_49e6_748f_ea9b,
            stderr_tail: Vec::new(),
            shared: Vec::new(),
        }
    }

    pub(crate) fn now_nanos(&self) -> u64 {
        if self.real_time {
            wasi::real_now_nanos()
        } else {
            self.frozen_nanos
        }
    }

    /// splitmix64: reproducible per seed, which is the point (a render is cacheable).
    pub(crate) fn fill_random(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// Caps linear memory; remembers a refusal so a following trap is reported as `memory`.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    pub(crate) max_bytes: usize,
    pub(crate) denied: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.denied = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }

    fn instances(&self) -> usize {
        1
    }
    fn tables(&self) -> usize {
        4
    }
    fn memories(&self) -> usize {
        1
    }
}

/// Per-call settings an instance applies before running guest code.
#[derive(Debug, Clone)]
pub(crate) struct CallEnv {
    pub(crate) memory_bytes: u64,
    pub(crate) frozen_nanos: u64,
    pub(crate) real_time: bool,
    pub(crate) seed: u64,
    /// Largest outcome accepted back from the guest.
    pub(crate) max_reply_bytes: usize,
    /// The shared values this call refers to.
    pub(crate) shared: Vec<(Hash, Arc<[u8]>)>,
}

/// The compiled guest, shared by all instances of this worker.
pub(crate) struct Runtime {
    pub(crate) engine: Engine,
    pre: InstancePre<HostCtx>,
    pub(crate) guest_hash: Hash,
    /// The linear memory the snapshot starts with: a memory limit below it can never work.
    baseline_bytes: u64,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

fn config() -> Config {
    let mut c = Config::new();
    c.epoch_interruption(true);
    // async is off, but the engine still checks max_wasm_stack against async_stack_size.
    c.async_stack_size(9 << 20);
    c.max_wasm_stack(8 << 20);
    c.parallel_compilation(true);
    c.cranelift_opt_level(wasmtime::OptLevel::Speed);
    // For `perf`: `$BDS_WORKER_PERFMAP=1` writes /tmp/perf-PID.map, naming the guest's compiled
    // functions (see `benches/profile.rs`). It changes no generated code.
    if std::env::var_os("BDS_WORKER_PERFMAP").is_some() {
        c.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    c
}

impl Runtime {
    /// Opens the guest, building and caching the pre-initialised, compiled artifact if needed.
    /// Returns the runtime and whether it had to build the artifact.
    pub(crate) fn open(guest: &Path, cache_dir: &Path) -> wasmtime::Result<(Self, bool)> {
        let engine = Engine::new(&config())?;
        let (artifact, hash_file) = artifact_paths(&engine, guest, cache_dir)?;
        let mut built = false;
        if !artifact.exists() {
            fs::create_dir_all(cache_dir).map_err(|e| {
                wasmtime::format_err!("cannot create the cache {}: {e}", cache_dir.display())
            })?;
            // One builder at a time: other workers wait here, then find the artifact.
            let lock = fs::File::create(cache_dir.join("build.lock"))?;
            lock.lock()?;
            if !artifact.exists() {
                build_artifact(&engine, guest, &artifact, &hash_file)?;
                built = true;
            }
            lock.unlock()?;
        }
        // SAFETY: the artifact was written by this same worker build (its key includes the
        // wasmtime version and configuration), atomically, into the worker's own cache.
        let module = unsafe { Module::deserialize_file(&engine, &artifact) }.map_err(|e| {
            wasmtime::format_err!("cannot load the compiled guest {}: {e}", artifact.display())
        })?;
        let mut guest_hash = [0u8; 32];
        if let Ok(text) = fs::read_to_string(&hash_file) {
            for (i, b) in guest_hash.iter_mut().enumerate() {
                *b =
                    u8::from_str_radix(text.get(i * 2..i * 2 + 2).unwrap_or("00"), 16).unwrap_or(0);
            }
        }
        let mut linker = Linker::new(&engine);
        wasi::define(&mut linker, &module)?;
        crate::shared::define(&mut linker)?;
        let pre = linker.instantiate_pre(&module)?;
        let baseline_bytes = module
            .exports()
            .find_map(|e| match e.ty() {
                wasmtime::ExternType::Memory(m) => Some(m.minimum().saturating_mul(65536)),
                _ => None,
            })
            .unwrap_or(0);
        Ok((
            Self {
                engine,
                pre,
                guest_hash,
                baseline_bytes,
            },
            built,
        ))
    }

    /// Refuses a memory limit below what the snapshot starts with, as a `memory` error that
    /// says so (instantiating would fail before any script code runs).
    pub(crate) fn check_memory_limit(&self, memory_bytes: u64) -> Result<(), bds_ipc::ErrorInfo> {
        if memory_bytes >= self.baseline_bytes {
            return Ok(());
        }
        let mib = |b: u64| b.div_ceil(1 << 20);
        Err(bds_ipc::ErrorInfo::plain(
            bds_ipc::ErrorKind::Memory,
            format!(
                "the memory limit ({} MiB) is below the {} MiB the interpreter starts with",
                memory_bytes >> 20,
                mib(self.baseline_bytes)
            ),
        ))
    }

    /// A fresh guest from the snapshot.
    pub(crate) fn instantiate(&self, memory_bytes: u64) -> wasmtime::Result<Instance> {
        let mut store = Store::new(&self.engine, HostCtx::new(memory_bytes));
        store.limiter(|c| &mut c.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
        let instance = self.pre.instantiate(&mut store)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| wasmtime::format_err!("the guest exports no memory"))?;
        Ok(Instance {
            alloc: instance.get_typed_func(&mut store, "bds_alloc")?,
            load: instance.get_typed_func(&mut store, "bds_load")?,
            call: instance.get_typed_func(&mut store, "bds_call")?,
            store,
            memory,
        })
    }
}

/// One live guest: a store, its memory and the three exports the worker uses.
pub(crate) struct Instance {
    store: Store<HostCtx>,
    memory: wasmtime::Memory,
    alloc: TypedFunc<u32, u32>,
    load: TypedFunc<(u32, u32), u64>,
    call: TypedFunc<(u32, u32), u64>,
}

/// What went wrong below Python: the instance must be thrown away.
#[derive(Debug)]
pub(crate) struct Broken(pub(crate) ErrorInfo);

#[derive(Debug, Clone, Copy)]
pub(crate) enum Export {
    Load,
    Call,
}

impl Instance {
    /// The size of its linear memory now (wasm memory never shrinks).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// Runs one export with `input`, under the epoch deadline the caller armed.
    pub(crate) fn invoke(
        &mut self,
        export: Export,
        input: &[u8],
        env: &CallEnv,
    ) -> Result<GuestOutcome, Broken> {
        {
            let ctx = self.store.data_mut();
            ctx.limiter.max_bytes = env.memory_bytes as usize;
            ctx.limiter.denied = false;
            ctx.frozen_nanos = env.frozen_nanos;
            ctx.real_time = env.real_time;
            ctx.rng = env.seed ^ 0x6a09_e667_f3bc_c908;
            ctx.stderr_tail.clear();
            ctx.shared.clone_from(&env.shared);
        }
        self.store.set_epoch_deadline(1);
        let len = u32::try_from(input.len()).map_err(|_| {
            Broken(ErrorInfo::plain(
                ErrorKind::OutputTooLarge,
                "request over 4 GiB",
            ))
        })?;
        let packed = self
            .alloc
            .call(&mut self.store, len)
            .and_then(|ptr| {
                self.memory.write(&mut self.store, ptr as usize, input)?;
                let f = match export {
                    Export::Load => &self.load,
                    Export::Call => &self.call,
                };
                f.call(&mut self.store, (ptr, len))
            })
            .map_err(|e| Broken(self.classify_trap(&e)));
        // The values stay in the worker's cache; the instance keeps no reference to them.
        self.store.data_mut().shared.clear();
        let packed = packed?;
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        if len > env.max_reply_bytes {
            return Err(Broken(ErrorInfo::plain(
                ErrorKind::OutputTooLarge,
                format!(
                    "the guest's reply of {len} bytes is over the {}-byte limit",
                    env.max_reply_bytes
                ),
            )));
        }
        let data = self.memory.data(&self.store);
        let bytes = data.get(ptr..ptr.saturating_add(len)).ok_or_else(|| {
            Broken(ErrorInfo::plain(
                ErrorKind::WorkerCrash,
                "the guest pointed its reply outside its memory",
            ))
        })?;
        GuestOutcome::decode(bytes).map_err(|e| {
            Broken(ErrorInfo::plain(
                ErrorKind::WorkerCrash,
                format!("the guest sent a malformed reply: {e}"),
            ))
        })
    }

    fn classify_trap(&self, e: &wasmtime::Error) -> ErrorInfo {
        let ctx = self.store.data();
        let tail = String::from_utf8_lossy(&ctx.stderr_tail);
        let tail = tail.trim();
        if let Some(trap) = e.downcast_ref::<Trap>() {
            match trap {
                Trap::Interrupt => {
                    return ErrorInfo::plain(
                        ErrorKind::Timeout,
                        "the script ran past its deadline",
                    );
                }
                Trap::StackOverflow => {
                    let mut info = ErrorInfo::plain(
                        ErrorKind::Runtime,
                        "maximum recursion depth exceeded (the interpreter's stack ran out)",
                    );
                    info.exc_type = "RecursionError".into();
                    return info;
                }
                _ => {}
            }
        }
        if ctx.limiter.denied {
            let mut info = ErrorInfo::plain(
                ErrorKind::Memory,
                format!(
                    "the script used more than its {} MiB of memory",
                    ctx.limiter.max_bytes >> 20
                ),
            );
            info.exc_type = "MemoryError".into();
            return info;
        }
        if let Some(exit) = e.downcast_ref::<GuestExit>() {
            return ErrorInfo::plain(ErrorKind::Runtime, exit.to_string());
        }
        let detail = if tail.is_empty() {
            String::new()
        } else {
            format!(": {tail}")
        };
        ErrorInfo::plain(
            ErrorKind::WorkerCrash,
            format!("the guest crashed ({e}){detail}"),
        )
    }
}
