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
mod options;
mod shared;
mod wasi;
mod worker;

use std::io::{self, BufReader, BufWriter, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bds_ipc::{FrameError, PROTOCOL_VERSION, Reply, Request, read_frame, write_frame};

use crate::guest::Runtime;
use crate::options::{Options, cache_dir, find_guest, parse_args};
use crate::worker::Worker;

/// Largest request frame accepted from the engine.
const MAX_REQUEST: usize = 256 << 20;
/// How long the worker polls for the next request before it sleeps.
const REQUEST_SPIN: Duration = Duration::from_micros(300);
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
    let mut worker = Worker::new(
        runtime,
        opts.max_live,
        opts.shared_mib << 20,
        opts.budget_mib << 20,
    );
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
