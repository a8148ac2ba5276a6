//! A small fixed set of threads that run blocking engine work off the JS thread.
//!
//! Not libuv's thread pool: a Run-button script may hold a thread for seconds, and libuv's four
//! threads also serve `fs`, `dns` and `crypto` for the whole Electron main process.
//!
//! An idle thread polls its queue for a short while before it sleeps, because waking a sleeping
//! thread from another core costs tens of microseconds on small VMs, which is as much as a whole
//! warm macro call.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long an idle thread keeps polling before it sleeps.
const SPIN: Duration = Duration::from_micros(200);

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    sleeping: usize,
    /// Whether a thread is polling for jobs (at most one does).
    spinning: bool,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

/// Threads that take jobs in order. Dropping the lane lets queued jobs finish, then ends the
/// threads (without waiting for them).
pub(crate) struct Lane {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane")
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

impl Lane {
    pub(crate) fn new(name: &str, threads: usize) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
        });
        let threads = (0..threads.max(1))
            .map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || run(&shared))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Self { shared, threads })
    }

    /// Queues `job`. Returns it back if the lane is closed.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Job> {
        let mut q = self.lock();
        if q.closed {
            return Err(job);
        }
        q.jobs.push_back(job);
        let wake = q.sleeping > 0 && !q.spinning;
        drop(q);
        if wake {
            self.shared.ready.notify_one();
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

fn run(shared: &Shared) {
    loop {
        let job = {
            let mut q = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let mut spin_until = None;
            loop {
                if let Some(job) = q.jobs.pop_front() {
                    if spin_until.is_some() {
                        q.spinning = false;
                    }
                    // More work than this thread: hand it to a sleeping one.
                    if !q.jobs.is_empty() && q.sleeping > 0 {
                        shared.ready.notify_one();
                    }
                    break job;
                }
                if q.closed {
                    if spin_until.is_some() {
                        q.spinning = false;
                    }
                    return;
                }
                if spin_until.is_none() && !q.spinning {
                    q.spinning = true;
                    spin_until = Some(Instant::now() + SPIN);
                }
                if let Some(until) = spin_until {
                    if Instant::now() < until {
                        drop(q);
                        std::hint::spin_loop();
                        std::thread::yield_now();
                        q = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
                        continue;
                    }
                    q.spinning = false;
                    spin_until = None;
                }
                q.sleeping += 1;
                q = shared.ready.wait(q).unwrap_or_else(PoisonError::into_inner);
                q.sleeping -= 1;
            }
        };
        // A panicking job must not take the thread with it: the job's own promise is settled
        // by its guard (see `engine.rs`), and the lane keeps serving.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    #[test]
    fn runs_jobs_on_its_threads_and_survives_a_panic() {
        let lane = Lane::new("t", 2).unwrap();
        let (tx, rx) = channel();
        lane.submit(Box::new(|| panic!("boom")))
            .map_err(|_| ())
            .unwrap();
        for i in 0..100 {
            let tx = tx.clone();
            lane.submit(Box::new(move || {
                let name = std::thread::current().name().unwrap().to_owned();
                tx.send((i, name)).unwrap();
            }))
            .map_err(|_| ())
            .unwrap();
        }
        let mut got: Vec<(i32, String)> = (0..100).map(|_| rx.recv().unwrap()).collect();
        got.sort();
        assert_eq!(
            got.iter().map(|g| g.0).collect::<Vec<_>>(),
            (0..100).collect::<Vec<_>>()
        );
        assert!(got.iter().all(|g| g.1 == "t-0" || g.1 == "t-1"));
    }

    /// Two jobs queued at once run at once on two threads, whether the lane's threads are all
    /// asleep or one of them is polling: the first job waits for the second, so a lane that
    /// ran them one after the other would time out here.
    #[test]
    fn jobs_queued_together_run_together() {
        let lane = Lane::new("t", 2).unwrap();
        for idle in [SPIN * 10, Duration::ZERO, SPIN * 10, Duration::ZERO] {
            std::thread::sleep(idle);
            let (tx, rx) = channel::<()>();
            let (done_tx, done_rx) = channel::<bool>();
            lane.submit(Box::new(move || {
                done_tx
                    .send(rx.recv_timeout(Duration::from_secs(5)).is_ok())
                    .unwrap();
            }))
            .map_err(|_| ())
            .unwrap();
            lane.submit(Box::new(move || tx.send(()).unwrap()))
                .map_err(|_| ())
                .unwrap();
            assert!(
                done_rx.recv().unwrap(),
                "the second job did not run beside the first"
            );
        }
    }

    #[test]
    fn a_dropped_lane_finishes_queued_jobs_then_closes() {
        let lane = Lane::new("t", 1).unwrap();
        let (tx, rx) = channel();
        let (gate_tx, gate_rx) = channel::<()>();
        lane.submit(Box::new(move || gate_rx.recv().unwrap()))
            .map_err(|_| ())
            .unwrap();
        let tx2 = tx.clone();
        lane.submit(Box::new(move || tx2.send(1).unwrap()))
            .map_err(|_| ())
            .unwrap();
        let shared = lane.shared.clone();
        drop(lane);
        gate_tx.send(()).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 1);
        assert!(shared.queue.lock().unwrap().closed);
    }
}
