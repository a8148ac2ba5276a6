//! The guest's whole view of the host: a deny-by-default `wasi_snapshot_preview1`.
//!
//! Every import the guest declares is defined here, and nothing else is reachable. What is
//! granted:
//! - `fd_write` to fds 1 and 2 (discarded; the tail of fd 2 is kept to explain a guest panic),
//!   `fd_read` on fd 0 (always end-of-file), and `fdstat`/`filestat` of those three fds;
//! - empty `args` and `environ`;
//! - the clock: frozen at the call's start time unless the call asks for real time;
//! - randomness from a generator seeded per call by the host;
//! - `sched_yield`, and `poll_oneoff` whose clock subscriptions fire at once (`time.sleep`
//!   returns immediately: the clock is frozen, so waiting would only burn the deadline).
//!
//! What is refused: every `path_*` call answers `ENOTCAPABLE`, every other fd `EBADF`, there are
//! no preopened directories (`fd_prestat_get` answers `EBADF` from fd 3 on), and `proc_exit` ends the call with a trap. An import this file
//! does not know by name answers `ENOSYS`. The guest has no socket calls at all: preview 1 only
//! defines `sock_*` on already-open sockets, and this linker defines none of them.

use std::time::{SystemTime, UNIX_EPOCH};

use wasmtime::{Caller, Extern, Linker, Memory, Module, Val};

use crate::guest::HostCtx;

pub(crate) const WASI: &str = "wasi_snapshot_preview1";

const SUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const ENOSYS: i32 = 52;
const ESPIPE: i32 = 70;
const ENOTCAPABLE: i32 = 76;

/// The imports defined one by one in [`define`]; any other is refused by family.
const DEFINED: &[&str] = &[
    "args_sizes_get",
    "environ_sizes_get",
    "args_get",
    "environ_get",
    "clock_res_get",
    "clock_time_get",
    "random_get",
    "fd_close",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_filestat_get",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_read",
    "fd_seek",
    "fd_sync",
    "fd_write",
    "sched_yield",
    "proc_exit",
    "poll_oneoff",
];

const STDERR_TAIL: usize = 8 * 1024;

/// The guest exited through `proc_exit`.
#[derive(Debug)]
pub(crate) struct GuestExit(pub(crate) i32);

impl std::fmt::Display for GuestExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the guest called proc_exit({})", self.0)
    }
}

impl std::error::Error for GuestExit {}

fn memory(caller: &mut Caller<'_, HostCtx>) -> Option<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Some(m),
        _ => None,
    }
}

fn write_bytes(caller: &mut Caller<'_, HostCtx>, ptr: i32, bytes: &[u8]) -> i32 {
    let Some(mem) = memory(caller) else {
        return EFAULT;
    };
    match mem.write(caller, ptr as u32 as usize, bytes) {
        Ok(()) => SUCCESS,
        Err(_) => EFAULT,
    }
}

fn stdio(fd: i32) -> bool {
    (0..=2).contains(&fd)
}

/// Defines every WASI import `module` declares, on `linker`.
pub(crate) fn define(linker: &mut Linker<HostCtx>, module: &Module) -> wasmtime::Result<()> {
    // No arguments and no environment: both counts (and their buffer sizes) are zero.
    let no_strings = |mut c: Caller<'_, HostCtx>, count: i32, size: i32| {
        let r = write_bytes(&mut c, count, &0u32.to_le_bytes());
        if r != SUCCESS {
            return r;
        }
        write_bytes(&mut c, size, &0u32.to_le_bytes())
    };
    linker.func_wrap(WASI, "args_sizes_get", no_strings)?;
    linker.func_wrap(WASI, "environ_sizes_get", no_strings)?;
    linker.func_wrap(
        WASI,
        "args_get",
        |_: Caller<'_, HostCtx>, _: i32, _: i32| SUCCESS,
    )?;
    linker.func_wrap(
        WASI,
        "environ_get",
        |_: Caller<'_, HostCtx>, _: i32, _: i32| SUCCESS,
    )?;
    linker.func_wrap(
        WASI,
        "clock_res_get",
        |mut c: Caller<'_, HostCtx>, id: i32, out: i32| {
            if !(0..=3).contains(&id) {
                return EINVAL;
            }
            write_bytes(&mut c, out, &1_000u64.to_le_bytes())
        },
    )?;
    linker.func_wrap(
        WASI,
        "clock_time_get",
        |mut c: Caller<'_, HostCtx>, id: i32, _precision: i64, out: i32| {
            if !(0..=3).contains(&id) {
                return EINVAL;
            }
            let now = c.data().now_nanos();
            write_bytes(&mut c, out, &now.to_le_bytes())
        },
    )?;
    linker.func_wrap(
        WASI,
        "random_get",
        |mut c: Caller<'_, HostCtx>, buf: i32, len: i32| {
            let len = len as u32 as usize;
            if len > 1 << 20 {
                return EINVAL;
            }
            let mut bytes = vec![0u8; len];
            c.data_mut().fill_random(&mut bytes);
            write_bytes(&mut c, buf, &bytes)
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_close",
        |_: Caller<'_, HostCtx>, fd: i32| {
            if stdio(fd) { SUCCESS } else { EBADF }
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_fdstat_get",
        |mut c: Caller<'_, HostCtx>, fd: i32, out: i32| {
            if !stdio(fd) {
                return EBADF;
            }
            // struct fdstat { u8 filetype; u16 flags; u64 rights_base; u64 rights_inheriting }
            let mut st = [0u8; 24];
            st[0] = 2; // character device
            let rights: u64 = if fd == 0 { 1 << 1 } else { 1 << 6 }; // fd_read / fd_write
            st[8..16].copy_from_slice(&rights.to_le_bytes());
            write_bytes(&mut c, out, &st)
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_fdstat_set_flags",
        |_: Caller<'_, HostCtx>, fd: i32, _: i32| {
            if stdio(fd) { SUCCESS } else { EBADF }
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_filestat_get",
        |mut c: Caller<'_, HostCtx>, fd: i32, out: i32| {
            if !stdio(fd) {
                return EBADF;
            }
            let mut st = [0u8; 64];
            st[16] = 2; // filetype: character device
            write_bytes(&mut c, out, &st)
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_prestat_get",
        |_: Caller<'_, HostCtx>, _: i32, _: i32| EBADF,
    )?;
    linker.func_wrap(
        WASI,
        "fd_prestat_dir_name",
        |_: Caller<'_, HostCtx>, _: i32, _: i32, _: i32| EBADF,
    )?;
    linker.func_wrap(
        WASI,
        "fd_read",
        |mut c: Caller<'_, HostCtx>, fd: i32, _iovs: i32, _n: i32, nread: i32| {
            if fd != 0 {
                return EBADF;
            }
            write_bytes(&mut c, nread, &0u32.to_le_bytes())
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_seek",
        |_: Caller<'_, HostCtx>, fd: i32, _: i64, _: i32, _: i32| {
            if stdio(fd) { ESPIPE } else { EBADF }
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_sync",
        |_: Caller<'_, HostCtx>, fd: i32| {
            if stdio(fd) { SUCCESS } else { EBADF }
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_write",
        |mut c: Caller<'_, HostCtx>, fd: i32, iovs: i32, n: i32, written: i32| {
            if fd != 1 && fd != 2 {
                return EBADF;
            }
            let Some(mem) = memory(&mut c) else {
                return EFAULT;
            };
            let data = mem.data(&c);
            let mut total: u32 = 0;
            let mut text = Vec::new();
            for i in 0..(n as u32 as usize).min(1024) {
                let at = iovs as u32 as usize + i * 8;
                let Some(iov) = data.get(at..at + 8) else {
                    return EFAULT;
                };
                let ptr = u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]) as usize;
                let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]) as usize;
                let Some(bytes) = data.get(ptr..ptr.saturating_add(len)) else {
                    return EFAULT;
                };
                if fd == 2 {
                    text.extend_from_slice(&bytes[bytes.len().saturating_sub(STDERR_TAIL)..]);
                }
                total = total.saturating_add(len as u32);
            }
            if !text.is_empty() {
                let tail = &mut c.data_mut().stderr_tail;
                tail.extend_from_slice(&text);
                if tail.len() > STDERR_TAIL {
                    let cut = tail.len() - STDERR_TAIL;
                    tail.drain(..cut);
                }
            }
            write_bytes(&mut c, written, &total.to_le_bytes())
        },
    )?;
    linker.func_wrap(WASI, "sched_yield", |_: Caller<'_, HostCtx>| SUCCESS)?;
    // Sleeping: every clock subscription fires at once (the guest's clock is frozen, so
    // waiting would only burn the deadline); fd subscriptions fail with EBADF.
    linker.func_wrap(
        WASI,
        "poll_oneoff",
        |mut c: Caller<'_, HostCtx>, subs: i32, events: i32, n: i32, nevents: i32| {
            let n = n as u32 as usize;
            if n == 0 || n > 64 {
                return EINVAL;
            }
            let Some(mem) = memory(&mut c) else {
                return EFAULT;
            };
            let mut out = Vec::with_capacity(n * 32);
            {
                let data = mem.data(&c);
                let start = subs as u32 as usize;
                let Some(subs) = data.get(start..start + n * 48) else {
                    return EFAULT;
                };
                for sub in subs.chunks_exact(48) {
                    let mut event = [0u8; 32];
                    event[..8].copy_from_slice(&sub[..8]);
                    let tag = sub[8];
                    if tag != 0 {
                        event[8..10].copy_from_slice(&(EBADF as u16).to_le_bytes());
                    }
                    event[10] = tag;
                    out.extend_from_slice(&event);
                }
            }
            let r = write_bytes(&mut c, events, &out);
            if r != SUCCESS {
                return r;
            }
            write_bytes(&mut c, nevents, &(n as u32).to_le_bytes())
        },
    )?;
    linker.func_wrap(
        WASI,
        "proc_exit",
        |_: Caller<'_, HostCtx>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(GuestExit(code)))
        },
    )?;

    // Everything else the guest imports: refused, by family.
    for import in module.imports() {
        if import.module() != WASI || DEFINED.contains(&import.name()) {
            continue;
        }
        let Some(ty) = import.ty().func().cloned() else {
            continue;
        };
        let errno = if import.name().starts_with("path_") {
            ENOTCAPABLE
        } else if import.name().starts_with("fd_") {
            EBADF
        } else {
            ENOSYS
        };
        linker.func_new(WASI, import.name(), ty, move |_, _, results| {
            if let Some(r) = results.first_mut() {
                *r = Val::I32(errno);
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// The host's real wall clock, for calls that declare they need it.
pub(crate) fn real_now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
