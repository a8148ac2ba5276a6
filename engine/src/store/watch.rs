//! Live sync: a `notify` watcher on `scripts/`, debounced, reconciling after each burst.

use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use super::{ScriptStore, StoreError};

/// A running watch. Dropping it stops the watcher and its thread.
pub struct Watcher {
    watcher: Option<notify::RecommendedWatcher>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

impl Watcher {
    pub(super) fn start(
        store: ScriptStore,
        dir: &Path,
        debounce: Duration,
    ) -> Result<Self, StoreError> {
        let (tx, rx) = channel::<()>();
        let io = |e: notify::Error| StoreError::Io {
            path: dir.to_owned(),
            source: std::io::Error::other(e),
        };
        let mut watcher =
            notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
                let _ = tx.send(());
            })
            .map_err(io)?;
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(io)?;
        let thread = std::thread::Builder::new()
            .name("bds-store-watch".into())
            .spawn(move || {
                // Each burst: wait until it has been quiet for `debounce` (at most 20 of them).
                while rx.recv().is_ok() {
                    let give_up = Instant::now() + debounce * 20;
                    loop {
                        match rx.recv_timeout(debounce) {
                            Ok(()) if Instant::now() < give_up => {}
                            Ok(()) | Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    if let Err(e) = store.sync() {
                        eprintln!("bds: live sync of {} failed: {e}", store.root().display());
                    }
                }
            })
            .map_err(|e| StoreError::Io {
                path: dir.to_owned(),
                source: e,
            })?;
        Ok(Self {
            watcher: Some(watcher),
            thread: Some(thread),
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Dropping the notify watcher drops the sender, which ends the thread's loop.
        self.watcher.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
