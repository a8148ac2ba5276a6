//! The engine's last line: a thread that SIGKILLs a worker still busy past its kill time.
//!
//! The worker enforces each deadline itself (epoch interruption inside wasmtime). The watchdog
//! is for when that fails: a wedged worker, a host-side bug, a stopped process. A caller
//! registers `(pid, kill_at)` before it waits on a worker and finishes the [`Watch`] after.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Instant;

#[derive(Debug)]
struct Entry {
    pid: u32,
    kill_at: Instant,
    killed: Arc<AtomicBool>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<u64, Entry>,
    /// When the thread will next wake by itself (`None`: not until notified).
    wakes_at: Option<Instant>,
    shutdown: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    cv: Condvar,
    next: AtomicU64,
    kills: AtomicU64,
}

/// Handle to the watchdog thread; stops it on drop.
#[derive(Debug)]
pub(crate) struct Watchdog {
    shared: Arc<Shared>,
}

/// One registered wait. [`Watch::finish`] unregisters it and says whether the worker was killed.
#[derive(Debug)]
pub(crate) struct Watch<'a> {
    dog: &'a Watchdog,
    key: u64,
    killed: Arc<AtomicBool>,
}

impl Watch<'_> {
    pub(crate) fn finish(self) -> bool {
        self.dog.lock().entries.remove(&self.key);
        self.killed.load(Ordering::SeqCst)
    }
}

impl Watchdog {
    pub(crate) fn start() -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            next: AtomicU64::new(1),
            kills: AtomicU64::new(0),
        });
        let s = Arc::clone(&shared);
        let _ = thread::Builder::new()
            .name("bds-watchdog".into())
            .spawn(move || run(&s));
        Self { shared }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn watch(&self, pid: u32, kill_at: Instant) -> Watch<'_> {
        let key = self.shared.next.fetch_add(1, Ordering::Relaxed);
        let killed = Arc::new(AtomicBool::new(false));
        let mut st = self.lock();
        st.entries.insert(
            key,
            Entry {
                pid,
                kill_at,
                killed: Arc::clone(&killed),
            },
        );
        // Only wake the thread when it would sleep past this kill time.
        if st.wakes_at.is_none_or(|w| kill_at < w) {
            self.shared.cv.notify_one();
        }
        drop(st);
        Watch {
            dog: self,
            key,
            killed,
        }
    }

    /// How many workers the watchdog has killed.
    pub(crate) fn kills(&self) -> u64 {
        self.shared.kills.load(Ordering::Relaxed)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.lock().shutdown = true;
        self.shared.cv.notify_one();
    }
}

fn run(shared: &Shared) {
    let mut st = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if st.shutdown {
            return;
        }
        let now = Instant::now();
        for e in st.entries.values() {
            if e.kill_at <= now && !e.killed.swap(true, Ordering::SeqCst) {
                kill(e.pid);
                shared.kills.fetch_add(1, Ordering::Relaxed);
            }
        }
        let next = st
            .entries
            .values()
            .filter(|e| !e.killed.load(Ordering::SeqCst))
            .map(|e| e.kill_at)
            .min();
        st.wakes_at = next;
        st = match next {
            None => shared.cv.wait(st).unwrap_or_else(PoisonError::into_inner),
            Some(at) => {
                shared
                    .cv
                    .wait_timeout(st, at.saturating_duration_since(Instant::now()))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        };
    }
}

/// Kills a worker this engine spawned and has not reaped: the entry is removed before the owner
/// waits on the child, so the pid cannot have been reused.
#[cfg(unix)]
fn kill(pid: u32) {
    // SAFETY: kill(2) has no memory-safety preconditions; see above for the pid.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill(pid: u32) {
    let _ = std::process::Command::new("taskkill")
        .args(["/F", "/T", "/PID", &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}
