//! The in-worker deadline: a thread that bumps the engine's epoch the moment a call's time is
//! up, so wasmtime traps the guest wherever it is (bytecode loop, regex engine, big integers).
//!
//! `arm` and `disarm` take the same lock the thread holds while it bumps the epoch, so a bump
//! meant for one call can never land on the next one.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use wasmtime::Engine;

#[derive(Debug, Default)]
struct State {
    armed: Option<Instant>,
    /// When the thread will next wake by itself (`None`: not until notified).
    wakes_at: Option<Instant>,
    shutdown: bool,
}

#[derive(Debug)]
pub(crate) struct Deadline {
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl Deadline {
    pub(crate) fn start(engine: Engine) -> Self {
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let s = Arc::clone(&shared);
        thread::Builder::new()
            .name("bds-deadline".into())
            .spawn(move || run(&s, &engine))
            .expect("cannot start the deadline thread");
        Self { shared }
    }

    /// Traps the guest `after` from now unless [`Deadline::disarm`] comes first.
    pub(crate) fn arm(&self, after: Duration) {
        let (lock, cv) = &*self.shared;
        let at = Instant::now() + after;
        let mut st = lock.lock().unwrap_or_else(PoisonError::into_inner);
        st.armed = Some(at);
        // Wake the thread only if it would otherwise sleep past this deadline: calls that end
        // well before their deadline then cost no thread switch at all.
        if st.wakes_at.is_none_or(|w| at < w) {
            cv.notify_one();
        }
    }

    pub(crate) fn disarm(&self) {
        let (lock, _) = &*self.shared;
        lock.lock().unwrap_or_else(PoisonError::into_inner).armed = None;
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let (lock, cv) = &*self.shared;
        lock.lock().unwrap_or_else(PoisonError::into_inner).shutdown = true;
        cv.notify_one();
    }
}

fn run(shared: &(Mutex<State>, Condvar), engine: &Engine) {
    let (lock, cv) = shared;
    let mut st = lock.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if st.shutdown {
            return;
        }
        st = match st.armed {
            None => {
                st.wakes_at = None;
                cv.wait(st).unwrap_or_else(PoisonError::into_inner)
            }
            Some(at) => {
                let now = Instant::now();
                if now >= at {
                    engine.increment_epoch();
                    st.armed = None;
                    st
                } else {
                    st.wakes_at = Some(at);
                    cv.wait_timeout(st, at - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            }
        };
    }
}
