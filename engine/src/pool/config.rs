//! [`PoolConfig`]: how many workers, which worker binary and guest, and the limits each worker
//! is started with, as a builder.

use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use bds_ipc::Guest;

/// How the pool starts and watches its workers.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub(super) workers: usize,
    pub(super) worker: Option<PathBuf>,
    pub(super) guest: Option<PathBuf>,
    pub(super) guest_kind: Option<Guest>,
    pub(super) cache_dir: Option<PathBuf>,
    pub(super) grace: Duration,
    pub(super) max_live: usize,
    pub(super) shared_mib: usize,
    pub(super) budget_mib: usize,
    pub(super) handshake_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let cores = thread::available_parallelism().map_or(1, usize::from);
        Self {
            workers: cores.clamp(1, 4),
            worker: None,
            guest: None,
            guest_kind: None,
            cache_dir: None,
            grace: Duration::from_millis(200),
            max_live: 16,
            shared_mib: 256,
            budget_mib: 512,
            handshake_timeout: Duration::from_secs(300),
        }
    }
}

impl PoolConfig {
    /// Number of worker processes (default: the number of cores, at most 4).
    #[must_use]
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }
    /// The number of worker processes this configuration starts.
    pub fn worker_count(&self) -> usize {
        self.workers
    }
    /// The `bds-worker` binary (default: `$BDS_WORKER`, else beside this executable).
    #[must_use]
    pub fn worker_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.worker = Some(path.into());
        self
    }
    /// The guest wasm (default: the worker's own lookup).
    #[must_use]
    pub fn guest_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.guest = Some(path.into());
        self
    }
    /// Which Python runs the scripts: [`Guest::RustPython`] or [`Guest::CPython`] (default:
    /// `$BDS_GUEST` when set, else RustPython). A [`Self::guest_path`] wins over it.
    #[must_use]
    pub fn guest(mut self, kind: Guest) -> Self {
        self.guest_kind = Some(kind);
        self
    }
    /// The guest this configuration asked for, if it asked.
    pub fn guest_kind(&self) -> Option<Guest> {
        self.guest_kind
    }
    /// Where workers cache the compiled guest.
    #[must_use]
    pub fn cache_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(path.into());
        self
    }
    /// How long past a call's deadline the watchdog waits before it kills the worker.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
    /// Live guest instances per worker (one per script, least recently used dropped first).
    #[must_use]
    pub fn max_live_instances(mut self, n: usize) -> Self {
        self.max_live = n.max(1);
        self
    }
    /// The linear memory a worker's live instances may hold together, in MiB (default 512):
    /// past it the least recently used instances are dropped (their scripts start again from
    /// the snapshot on their next call). It bounds the guests' memory, not the worker's whole
    /// RSS: add the compiled guest (mapped, shared between workers), wasmtime's own
    /// structures and the shared-value cache ([`Self::shared_cache_mib`]). One instance may
    /// exceed it alone, up to its call's memory limit; an instance that grew by more than
    /// 64 MiB during a call is dropped after that call.
    #[must_use]
    pub fn memory_budget_mib(mut self, mib: usize) -> Self {
        self.budget_mib = mib.max(1);
        self
    }
    /// Bytes of shared values (`post`, `site`) each worker keeps, in MiB (default 256); past
    /// it the least recently used go, and the engine sends them again when a call needs them.
    #[must_use]
    pub fn shared_cache_mib(mut self, mib: usize) -> Self {
        self.shared_mib = mib.max(1);
        self
    }
    /// How long a starting worker may take to say it is ready (the first start compiles the
    /// guest, which takes seconds).
    #[must_use]
    pub fn handshake_timeout(mut self, t: Duration) -> Self {
        self.handshake_timeout = t;
        self
    }
}
