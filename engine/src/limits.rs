//! Limits of one call, and how a call sees time and randomness.

use std::time::{Duration, SystemTime};

use bds_ipc::WireLimits;

/// What one load or call may use. Enforced twice: inside the worker (epoch deadline, memory
/// cap, result checks in the guest) and again by the engine (watchdog, result checks).
///
/// ```
/// use bds_engine::Limits;
/// use std::time::Duration;
/// let l = Limits::macro_call().with_deadline(Duration::from_millis(50)).with_memory_mib(64);
/// assert_eq!(l.deadline(), Duration::from_millis(50));
/// assert_eq!(l.memory_bytes(), 64 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    deadline: Duration,
    memory_bytes: u64,
    max_result_bytes: u32,
    max_stdout_bytes: u32,
    max_depth: u32,
}

impl Limits {
    /// Defaults for a macro expanded during render: 250 ms, 128 MiB, 1 MiB result, 64 KiB
    /// stdout, nesting depth 64.
    pub const fn macro_call() -> Self {
        Self {
            deadline: Duration::from_millis(250),
            memory_bytes: 128 << 20,
            max_result_bytes: 1 << 20,
            max_stdout_bytes: 64 << 10,
            max_depth: 64,
        }
    }

    /// Defaults for the editor's Run button: as [`Limits::macro_call`] with a 2 s deadline.
    pub const fn run_button() -> Self {
        Self {
            deadline: Duration::from_secs(2),
            ..Self::macro_call()
        }
    }

    #[must_use]
    pub const fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
    #[must_use]
    pub const fn with_memory_mib(mut self, mib: u64) -> Self {
        self.memory_bytes = mib << 20;
        self
    }
    #[must_use]
    pub const fn with_memory_bytes(mut self, bytes: u64) -> Self {
        self.memory_bytes = bytes;
        self
    }
    #[must_use]
    pub const fn with_max_result_bytes(mut self, bytes: u32) -> Self {
        self.max_result_bytes = bytes;
        self
    }
    #[must_use]
    pub const fn with_max_stdout_bytes(mut self, bytes: u32) -> Self {
        self.max_stdout_bytes = bytes;
        self
    }
    #[must_use]
    pub const fn with_max_depth(mut self, depth: u32) -> Self {
        self.max_depth = depth;
        self
    }

    pub const fn deadline(&self) -> Duration {
        self.deadline
    }
    pub const fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }
    pub const fn max_result_bytes(&self) -> u32 {
        self.max_result_bytes
    }
    pub const fn max_stdout_bytes(&self) -> u32 {
        self.max_stdout_bytes
    }
    pub const fn max_depth(&self) -> u32 {
        self.max_depth
    }

    pub(crate) fn wire(&self) -> WireLimits {
        WireLimits {
            deadline_us: self.deadline.as_micros().min(u128::from(u64::MAX)) as u64,
            memory_bytes: self.memory_bytes,
            max_result_bytes: self.max_result_bytes,
            max_stdout_bytes: self.max_stdout_bytes,
            max_depth: self.max_depth,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::macro_call()
    }
}

/// What the guest's clock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The time the call started, frozen for the whole call (the default: reproducible).
    #[default]
    CallStart,
    /// A fixed instant, e.g. for tests and golden fixtures.
    Fixed(SystemTime),
    /// The host's real clock, for scripts that declare they need it.
    Real,
}

/// How one call runs: entry point, limits, clock, randomness and isolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOptions {
    pub(crate) entry: String,
    pub(crate) limits: Limits,
    pub(crate) clock: Clock,
    pub(crate) seed: Option<u64>,
    pub(crate) fresh: bool,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            entry: "render".to_owned(),
            limits: Limits::macro_call(),
            clock: Clock::CallStart,
            seed: None,
            fresh: false,
        }
    }
}

impl CallOptions {
    /// Options for the Run button: 2 s deadline.
    pub fn run_button() -> Self {
        Self {
            limits: Limits::run_button(),
            ..Self::default()
        }
    }
    #[must_use]
    pub fn with_entry(mut self, entry: impl Into<String>) -> Self {
        self.entry = entry.into();
        self
    }
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
    /// Seeds the guest's randomness. Without it the seed derives from the script and context,
    /// so the same call gives the same result.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Runs the call on a brand-new guest, dropped afterwards (strict isolation, e.g. for
    /// transforms of captured web content). Costs an instantiation and a module load per call.
    #[must_use]
    pub fn fresh(mut self, fresh: bool) -> Self {
        self.fresh = fresh;
        self
    }
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
    pub fn entry(&self) -> &str {
        &self.entry
    }
}
