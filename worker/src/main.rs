//! `bds-worker`: one process of the engine's pool.
//!
//! It reads [`bds_ipc::Request`] frames on stdin and answers [`bds_ipc::Reply`] frames on stdout,
//! one request at a time, running every script inside the guest (RustPython or CPython, compiled
//! to wasm32-wasip1) under wasmtime.
//!
//! - **Isolation**: each script gets its own guest instance, created from the pre-initialised
//!   snapshot and reused only for that script's calls (an LRU keeps at most `--max-live` of them).
//!   A call marked `fresh` gets a brand-new instance that is dropped afterwards. Nothing a script
//!   does to its interpreter (builtins, stdlib classes, module globals) is visible to another.
//! - **Limits**: every load and call runs under an epoch deadline and a memory cap. A trap
//!   (deadline, memory, stack, crash) discards that instance only; the process goes on.
//! - **Failure**: a request that cannot be decoded gets a `Fatal` reply and the process exits
//!   with status 2; end of stdin ends it with status 0.
//!
//! - **Shared data**: `post` and `site` arrive once per content hash ([`Request::Share`]) and
//!   are kept in an LRU bounded by bytes (`--shared-mib`, default 256); calls refer to them.
//!
//! Usage: `bds-worker [--guest-kind rustpython|cpython] [--guest PATH] [--cache-dir DIR]
//! [--max-live N] [--shared-mib N] [--memory-budget-mib N] [prepare]`.
//! `prepare` builds the cached, pre-initialised and compiled guest and exits. The guest is
//! RustPython unless `--guest-kind` (or `$BDS_GUEST`) says `cpython`; `--guest` (or
//! `$BDS_GUEST_WASM`) names a wasm file directly.

#![warn(clippy::unwrap_used)]

mod deadline;
mod guest;
mod shared;
mod wasi;

use std::collections::HashMap;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bds_ipc::{
    CallSpec, ErrorInfo, ErrorKind, FrameError, Guest, GuestCall, GuestLoad, GuestOutcome, Hash,
    ModuleSource, Outcome, PROTOCOL_VERSION, Reply, Request, WireLimits, read_frame, write_frame,
};

use crate::deadline::Deadline;
use crate::guest::{CallEnv, Export, Instance, Runtime};
use crate::shared::SharedCache;

/// Largest request frame accepted from the engine.
const MAX_REQUEST: usize = 256 << 20;
/// How long the worker polls for the next request before it sleeps.
const REQUEST_SPIN: Duration = Duration::from_micros(300);
/// Scripts whose source the worker remembers (their instances are bounded by `max_live`).
const MAX_SCRIPTS: usize = 4096;
/// An instance whose linear memory grew by more than this during one call is dropped after
/// it (wasm memory never shrinks; the script's next call starts from the snapshot again).
const RESET_GROWTH: usize = 64 << 20;

#[derive(Debug)]
struct Options {
    guest: Option<PathBuf>,
    kind: Option<Guest>,
    cache_dir: Option<PathBuf>,
    max_live: usize,
    shared_mib: usize,
    budget_mib: usize,
    prepare: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        guest: None,
        kind: None,
        cache_dir: None,
        max_live: 16,
        shared_mib: 256,
        budget_mib: 512,
        prepare: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--guest" => o.guest = Some(args.next().ok_or("--guest needs a path")?.into()),
            "--guest-kind" => {
                let name = args
                    .next()
                    .ok_or("--guest-kind needs rustpython or cpython")?;
                o.kind = Some(
                    name.parse()
                        .map_err(|e: bds_ipc::UnknownGuest| e.to_string())?,
                );
            }
            "--cache-dir" => {
                o.cache_dir = Some(args.next().ok_or("--cache-dir needs a path")?.into())
            }
            "--max-live" => {
                o.max_live = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--max-live needs a positive number")?;
            }
            "--shared-mib" => {
                o.shared_mib = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--shared-mib needs a positive number")?;
            }
            "--memory-budget-mib" => {
                o.budget_mib = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--memory-budget-mib needs a positive number")?;
            }
            "prepare" => o.prepare = true,
            "--version" => {
                println!(
                    "bds-worker {} (protocol {PROTOCOL_VERSION})",
                    env!("CARGO_PKG_VERSION")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(o)
}

/// The guest wasm: `--guest`, `$BDS_GUEST_WASM`, else the file of the kind of guest
/// (`--guest-kind`, `$BDS_GUEST`, else RustPython) next to this binary, or in the build tree.
fn find_guest(explicit: Option<PathBuf>, kind: Option<Guest>) -> Result<PathBuf, String> {
    if let Some(p) = explicit.or_else(|| std::env::var_os("BDS_GUEST_WASM").map(PathBuf::from)) {
        return Ok(p);
    }
    let kind = match kind {
        Some(k) => k,
        None => match std::env::var("BDS_GUEST") {
            Ok(name) if !name.is_empty() => name
                .parse()
                .map_err(|e: bds_ipc::UnknownGuest| format!("$BDS_GUEST: {e}"))?,
            _ => Guest::default(),
        },
    };
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let file = kind.wasm_file();
    let candidates = [
        dir.join(file),
        dir.join("../wasm32-wasip1/release").join(file),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "no {kind} guest wasm: looked at {} (build it with `make {}`, or set BDS_GUEST_WASM)",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                match kind {
                    Guest::RustPython => "guest",
                    Guest::CPython => "guest-cpython",
                }
            )
        })
}

/// The compiled-guest cache: `--cache-dir`, `$BDS_CACHE_DIR`, else `bds-cache/` beside the
/// guest when that folder can be written (a development tree), else the user's cache folder
/// (`$XDG_CACHE_HOME/bds-script` or `~/.cache/bds-script`: an installed app's resources are
/// read-only).
fn cache_dir(explicit: Option<PathBuf>, guest: &Path) -> PathBuf {
    if let Some(dir) = explicit.or_else(|| std::env::var_os("BDS_CACHE_DIR").map(PathBuf::from)) {
        return dir;
    }
    let beside = guest.parent().unwrap_or(Path::new(".")).join("bds-cache");
    if std::fs::create_dir_all(&beside).is_ok() && tempfile_probe(&beside) {
        return beside;
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map_or(beside, |c| c.join("bds-script"))
}

/// Whether a file can be created in `dir`.
fn tempfile_probe(dir: &Path) -> bool {
    let probe = dir.join(format!(".probe-{}", std::process::id()));
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

fn main() -> ExitCode {
    let started = Instant::now();
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bds-worker: {e}");
            return ExitCode::from(2);
        }
    };
    // Guest code runs on this thread: give it room for wasmtime's 8 MiB guest stack.
    let handle = std::thread::Builder::new()
        .name("bds-worker".into())
        .stack_size(64 << 20)
        .spawn(move || run(opts, started));
    match handle.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => ExitCode::from(3),
    }
}

fn run(opts: Options, started: Instant) -> ExitCode {
    let guest = match find_guest(opts.guest.clone(), opts.kind) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("bds-worker: {e}");
            return ExitCode::from(2);
        }
    };
    let cache = cache_dir(opts.cache_dir.clone(), &guest);
    let runtime = match Runtime::open(&guest, &cache) {
        Ok((rt, _)) => rt,
        Err(e) => {
            eprintln!(
                "bds-worker: cannot open the guest {}: {e:?}",
                guest.display()
            );
            return ExitCode::from(2);
        }
    };
    if opts.prepare {
        eprintln!(
            "bds-worker: guest ready in {:.1} ms ({})",
            started.elapsed().as_secs_f64() * 1e3,
            cache.display()
        );
        return ExitCode::SUCCESS;
    }
    let mut worker = Worker {
        deadline: Deadline::start(runtime.engine.clone()),
        runtime,
        scripts: HashMap::new(),
        shared: SharedCache::new(opts.shared_mib << 20),
        tick: 0,
        max_live: opts.max_live,
        budget_bytes: opts.budget_mib << 20,
    };
    let stdin = io::stdin();
    let mut input = BufReader::with_capacity(1 << 16, stdin.lock());
    let stdout = io::stdout();
    let mut output = BufWriter::with_capacity(1 << 16, stdout.lock());
    let ready = Reply::Ready {
        protocol: PROTOCOL_VERSION,
        worker_version: env!("CARGO_PKG_VERSION").to_owned(),
        guest_hash: worker.runtime.guest_hash,
        init_us: started.elapsed().as_micros() as u64,
    };
    if write_frame(&mut output, &ready.encode()).is_err() {
        return ExitCode::from(2);
    }
    loop {
        #[cfg(unix)]
        if input.buffer().is_empty() {
            use std::os::fd::AsRawFd;
            // Keep polling briefly after each reply: the next request of a render usually
            // follows within microseconds, and a sleeping worker costs a wake-up to reach.
            if let Err(e) = bds_ipc::wait_readable(io::stdin().as_raw_fd(), REQUEST_SPIN) {
                return fatal(&mut output, 0, &format!("cannot wait on stdin: {e}"));
            }
        }
        let payload = match read_frame(&mut input, MAX_REQUEST) {
            Ok(p) => p,
            Err(FrameError::Closed) => return ExitCode::SUCCESS,
            Err(e) => return fatal(&mut output, 0, &e.to_string()),
        };
        let request = match Request::decode(&payload) {
            Ok(r) => r,
            Err(e) => return fatal(&mut output, 0, &format!("malformed request: {e}")),
        };
        let (reply, stop) = worker.handle(request);
        if write_frame(&mut output, &reply.encode()).is_err() {
            return ExitCode::from(2);
        }
        if stop {
            return ExitCode::SUCCESS;
        }
    }
}

fn fatal(out: &mut impl Write, id: u64, message: &str) -> ExitCode {
    eprintln!("bds-worker: {message}");
    let _ = write_frame(
        out,
        &Reply::Fatal {
            id,
            message: message.to_owned(),
        }
        .encode(),
    );
    ExitCode::from(2)
}

struct Script {
    name: String,
    source: String,
    /// The utility modules it imports (sent with it; part of its identity, `hash`).
    modules: Vec<ModuleSource>,
    instance: Option<Instance>,
    last_used: u64,
}

struct Worker {
    runtime: Runtime,
    deadline: Deadline,
    scripts: HashMap<Hash, Script>,
    shared: SharedCache,
    tick: u64,
    max_live: usize,
    /// The most linear memory the live instances may hold together (see `evict_instances`).
    budget_bytes: usize,
}

fn env_for(limits: &WireLimits, frozen_nanos: u64, real_time: bool, seed: u64) -> CallEnv {
    CallEnv {
        memory_bytes: limits.memory_bytes,
        frozen_nanos,
        real_time,
        seed,
        max_reply_bytes: limits.max_result_bytes as usize
            + limits.max_stdout_bytes as usize * 4
            + (256 << 10),
        shared: Vec::new(),
    }
}

fn error_outcome(info: ErrorInfo) -> GuestOutcome {
    GuestOutcome {
        result: Err(info),
        stdout: String::new(),
        stdout_truncated: false,
        reads: Vec::new(),
        warnings: Vec::new(),
    }
}

impl Worker {
    fn handle(&mut self, request: Request) -> (Reply, bool) {
        match request {
            Request::Load {
                id,
                hash,
                name,
                source,
                modules,
                compile_only,
                limits,
            } => {
                let t = Instant::now();
                let guest = self.load(hash, name, source, modules, compile_only, &limits);
                let outcome = Outcome {
                    guest,
                    duration_us: t.elapsed().as_micros() as u64,
                };
                (Reply::Loaded { id, outcome }, false)
            }
            Request::Call { id, call } => {
                let outcome = self.call(&call);
                (Reply::Called { id, outcome }, false)
            }
            Request::Batch { id, calls } => {
                let outcomes = calls.iter().map(|c| self.call(c)).collect();
                (Reply::Batch { id, outcomes }, false)
            }
            Request::Share { id, hash, json } => {
                self.shared.insert(hash, json);
                (Reply::Done { id }, false)
            }
            Request::Reset { id } => {
                self.scripts.clear();
                self.shared.clear();
                (Reply::Done { id }, false)
            }
            Request::Shutdown { id } => (Reply::Done { id }, true),
        }
    }

    fn load(
        &mut self,
        hash: Hash,
        name: String,
        source: String,
        modules: Vec<ModuleSource>,
        compile_only: bool,
        limits: &WireLimits,
    ) -> GuestOutcome {
        let env = env_for(limits, wasi::real_now_nanos(), false, 0);
        let request = GuestLoad {
            name: name.clone(),
            source: source.clone(),
            modules: modules.clone(),
            compile_only,
            max_stdout_bytes: limits.max_stdout_bytes,
        };
        self.deadline.arm(Duration::from_micros(limits.deadline_us));
        let result = (|| {
            self.runtime.check_memory_limit(limits.memory_bytes)?;
            let mut instance = self.runtime.instantiate(limits.memory_bytes).map_err(|e| {
                ErrorInfo::plain(ErrorKind::WorkerCrash, format!("cannot start a guest: {e}"))
            })?;
            let outcome = instance
                .invoke(Export::Load, &request.encode(), &env)
                .map_err(|b| b.0)?;
            Ok((instance, outcome))
        })();
        self.deadline.disarm();
        let (instance, outcome) = match result {
            Ok((instance, outcome)) => (Some(instance), outcome),
            Err(info) => (None, error_outcome(info)),
        };
        if !compile_only {
            self.tick += 1;
            if self.scripts.len() >= MAX_SCRIPTS && !self.scripts.contains_key(&hash) {
                self.evict_script();
            }
            self.scripts.insert(
                hash,
                Script {
                    name,
                    source,
                    modules,
                    instance: instance.filter(|_| outcome.result.is_ok()),
                    last_used: self.tick,
                },
            );
            self.evict_instances(hash);
        }
        outcome
    }

    fn call(&mut self, spec: &CallSpec) -> Outcome {
        let t = Instant::now();
        let mut env = env_for(
            &spec.limits,
            spec.clock.unix_nanos,
            spec.clock.real_time,
            spec.clock.seed,
        );
        match self.shared.resolve(&spec.shared) {
            Ok(values) => env.shared = values,
            Err(missing) => {
                let hex: String = missing[..8].iter().map(|b| format!("{b:02x}")).collect();
                return Outcome {
                    guest: error_outcome(ErrorInfo::plain(
                        ErrorKind::NotShared,
                        format!("shared value {hex}… is not held by this worker"),
                    )),
                    duration_us: t.elapsed().as_micros() as u64,
                };
            }
        }
        let call = GuestCall {
            entry: spec.entry.clone(),
            context: spec.context.clone(),
            max_result_bytes: spec.limits.max_result_bytes,
            max_stdout_bytes: spec.limits.max_stdout_bytes,
            max_depth: spec.limits.max_depth,
            seed: spec.clock.seed,
            shared: spec.shared.clone(),
        };
        self.deadline
            .arm(Duration::from_micros(spec.limits.deadline_us));
        let guest = self.call_armed(spec, &env, &call);
        self.deadline.disarm();
        Outcome {
            guest,
            duration_us: t.elapsed().as_micros() as u64,
        }
    }

    fn call_armed(&mut self, spec: &CallSpec, env: &CallEnv, call: &GuestCall) -> GuestOutcome {
        self.tick += 1;
        let tick = self.tick;
        let Some(script) = self.scripts.get_mut(&spec.hash) else {
            return error_outcome(ErrorInfo::plain(
                ErrorKind::NotLoaded,
                "script not loaded in this worker",
            ));
        };
        script.last_used = tick;
        let reuse = if spec.fresh {
            None
        } else {
            script.instance.take()
        };
        let mut instance = match reuse {
            Some(i) => i,
            None => match self
                .runtime
                .check_memory_limit(spec.limits.memory_bytes)
                .and_then(|()| {
                    self.runtime
                        .instantiate(spec.limits.memory_bytes)
                        .map_err(|e| {
                            ErrorInfo::plain(
                                ErrorKind::WorkerCrash,
                                format!("cannot start a guest: {e}"),
                            )
                        })
                }) {
                Ok(mut i) => match i.invoke(Export::Load, &load_request(script, spec), env) {
                    Ok(o) if o.result.is_ok() => i,
                    Ok(o) => return o,
                    Err(b) => return error_outcome(b.0),
                },
                Err(info) => return error_outcome(info),
            },
        };
        let before = instance.memory_bytes();
        let outcome = match instance.invoke(Export::Call, &call.encode(), env) {
            Ok(o) => o,
            // The instance trapped: it is dropped here, and the next call starts a fresh one.
            Err(b) => return error_outcome(b.0),
        };
        // A call that made the instance much bigger leaves it behind: keeping it would keep
        // that memory for as long as the script stays live.
        let grew = instance.memory_bytes().saturating_sub(before) > RESET_GROWTH;
        if !spec.fresh
            && !grew
            && let Some(script) = self.scripts.get_mut(&spec.hash)
        {
            script.instance = Some(instance);
            self.evict_instances(spec.hash);
        }
        outcome
    }

    /// Keeps at most `max_live` instances whose linear memory together stays within the
    /// budget, dropping the least recently used ones (never `keep`, the one just used: a
    /// single instance over the budget stays, within its own memory limit).
    fn evict_instances(&mut self, keep: Hash) {
        loop {
            let live: Vec<(&Hash, u64, usize)> = self
                .scripts
                .iter()
                .filter_map(|(h, s)| Some((h, s.last_used, s.instance.as_ref()?.memory_bytes())))
                .collect();
            let total: usize = live.iter().map(|(_, _, bytes)| bytes).sum();
            if live.len() <= self.max_live && total <= self.budget_bytes {
                return;
            }
            let Some(oldest) = live
                .iter()
                .filter(|(h, _, _)| **h != keep)
                .min_by_key(|(_, t, _)| *t)
                .map(|(h, _, _)| **h)
            else {
                return;
            };
            if let Some(s) = self.scripts.get_mut(&oldest) {
                s.instance = None;
            }
        }
    }

    fn evict_script(&mut self) {
        if let Some(oldest) = self
            .scripts
            .iter()
            .min_by_key(|(_, s)| s.last_used)
            .map(|(h, _)| *h)
        {
            self.scripts.remove(&oldest);
        }
    }
}

/// The load request that makes a fresh instance of `script` for a call (only built when the
/// call has no live instance to reuse: it copies the script's source and modules).
fn load_request(script: &Script, spec: &CallSpec) -> Vec<u8> {
    GuestLoad {
        name: script.name.clone(),
        source: script.source.clone(),
        modules: script.modules.clone(),
        compile_only: false,
        max_stdout_bytes: spec.limits.max_stdout_bytes,
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_budget_covers_result_and_stdout() {
        let limits = WireLimits {
            deadline_us: 1,
            memory_bytes: 1,
            max_result_bytes: 1000,
            max_stdout_bytes: 10,
            max_depth: 1,
        };
        let env = env_for(&limits, 5, false, 9);
        assert_eq!(env.max_reply_bytes, 1000 + 40 + (256 << 10));
        assert_eq!((env.frozen_nanos, env.seed), (5, 9));
    }
}
