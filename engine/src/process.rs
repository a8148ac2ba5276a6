//! One worker process: spawn, handshake, request/reply, kill.

use std::collections::HashSet;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use bds_ipc::{FrameError, Hash, PROTOCOL_VERSION, Reply, Request, read_frame, write_frame};

use crate::error::EngineError;
use crate::watchdog::{Watch, Watchdog};

/// Largest reply frame the engine reads from a worker.
pub(crate) const MAX_REPLY: usize = 64 << 20;
const STDERR_TAIL: usize = 4096;
/// How long a caller polls for a reply before it sleeps (see [`bds_ipc::wait_readable`]).
const REPLY_SPIN: Duration = Duration::from_micros(300);

/// How to start workers.
#[derive(Debug, Clone)]
pub(crate) struct Spawner {
    pub(crate) worker: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) handshake_timeout: Duration,
}

/// Why talking to a worker failed. Any of these discards the worker.
#[derive(Debug)]
pub(crate) enum Broken {
    /// The watchdog killed it for missing its deadline.
    Killed,
    /// It died, closed its pipes or sent garbage.
    Crashed(String),
}

#[derive(Debug)]
pub(crate) struct WorkerProcess {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
    pub(crate) loaded: HashSet<Hash>,
    /// Shared values sent to this worker (it may have dropped some since: it then says so).
    pub(crate) shared: HashSet<Hash>,
    pub(crate) init: Duration,
    /// SHA-256 of the guest wasm this worker runs (from its handshake).
    pub(crate) guest_hash: Hash,
    next_id: u64,
}

impl WorkerProcess {
    pub(crate) fn spawn(spawner: &Spawner, watchdog: &Watchdog) -> Result<Self, EngineError> {
        let started = Instant::now();
        let mut attempts = 0;
        let mut child = loop {
            let spawned = Command::new(&spawner.worker)
                .args(&spawner.args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .env_clear()
                .envs(passthrough_env())
                .spawn();
            match spawned {
                Ok(c) => break c,
                // A binary that was just written can be "busy" while another thread of this
                // process forks with the writer's descriptor still open: wait and retry.
                Err(e) if is_text_busy(&e) && attempts < 20 => {
                    attempts += 1;
                    thread::sleep(Duration::from_millis(10));
                }
                Err(source) => {
                    return Err(EngineError::Spawn {
                        path: spawner.worker.clone(),
                        source,
                    });
                }
            }
        };
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(EngineError::Handshake {
                path: spawner.worker.clone(),
                detail: "no pipes".into(),
            });
        };
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        drain_stderr(stderr, Arc::clone(&stderr_tail));
        let mut w = Self {
            child,
            stdin: BufWriter::with_capacity(1 << 16, stdin),
            stdout: BufReader::with_capacity(1 << 16, stdout),
            stderr_tail,
            loaded: HashSet::new(),
            shared: HashSet::new(),
            init: Duration::ZERO,
            guest_hash: [0; 32],
            next_id: 1,
        };
        let watch = watchdog.watch(w.pid(), Instant::now() + spawner.handshake_timeout);
        let first = read_frame(&mut w.stdout, MAX_REPLY);
        let killed = watch.finish();
        let fail = |w: &mut Self, detail: String| {
            w.kill();
            let tail = w.stderr_tail();
            Err(EngineError::Handshake {
                path: spawner.worker.clone(),
                detail: if tail.is_empty() {
                    detail
                } else {
                    format!("{detail}; stderr: {tail}")
                },
            })
        };
        let payload = match first {
            Ok(p) => p,
            Err(_) if killed => {
                return fail(
                    &mut w,
                    format!("no answer within {:?}", spawner.handshake_timeout),
                );
            }
            Err(e) => return fail(&mut w, e.to_string()),
        };
        match Reply::decode(&payload) {
            Ok(Reply::Ready { protocol, .. }) if protocol != PROTOCOL_VERSION => {
                w.kill();
                Err(EngineError::Version {
                    path: spawner.worker.clone(),
                    got: protocol,
                    want: PROTOCOL_VERSION,
                })
            }
            Ok(Reply::Ready { guest_hash, .. }) => {
                w.init = started.elapsed();
                w.guest_hash = guest_hash;
                Ok(w)
            }
            Ok(other) => fail(&mut w, format!("expected Ready, got {other:?}")),
            Err(e) => fail(&mut w, format!("malformed first frame: {e}")),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Sends `request` and waits for its reply; the watchdog kills the worker at `kill_at`.
    pub(crate) fn round_trip(
        &mut self,
        request: &Request,
        watchdog: &Watchdog,
        kill_at: Instant,
    ) -> Result<Reply, Broken> {
        let watch: Watch<'_> = watchdog.watch(self.pid(), kill_at);
        let sent = write_frame(&mut self.stdin, &request.encode());
        let reply = sent.map_err(FrameError::Io).and_then(|()| {
            #[cfg(unix)]
            if self.stdout.buffer().is_empty() {
                use std::os::fd::AsRawFd;
                bds_ipc::wait_readable(self.stdout.get_ref().as_raw_fd(), REPLY_SPIN)?;
            }
            read_frame(&mut self.stdout, MAX_REPLY)
        });
        if watch.finish() {
            return Err(Broken::Killed);
        }
        let payload = reply.map_err(|e| Broken::Crashed(self.describe_death(&e.to_string())))?;
        let reply = Reply::decode(&payload)
            .map_err(|e| Broken::Crashed(format!("malformed reply: {e}")))?;
        let id = match &reply {
            Reply::Loaded { id, .. }
            | Reply::Called { id, .. }
            | Reply::Batch { id, .. }
            | Reply::Done { id } => *id,
            Reply::Fatal { message, .. } => {
                return Err(Broken::Crashed(format!("worker gave up: {message}")));
            }
            Reply::Ready { .. } => return Err(Broken::Crashed("unexpected second Ready".into())),
        };
        if id != request.id() {
            return Err(Broken::Crashed(format!(
                "reply to request {id}, expected {}",
                request.id()
            )));
        }
        Ok(reply)
    }

    fn describe_death(&mut self, io: &str) -> String {
        // Give the process a moment to be reaped so its exit status can be reported.
        let mut status = None;
        for _ in 0..20 {
            if let Ok(Some(s)) = self.child.try_wait() {
                status = Some(s);
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
        let tail = self.stderr_tail();
        let mut msg = match status {
            Some(s) => format!("the worker exited ({s})"),
            None => format!("the worker stopped answering ({io})"),
        };
        if !tail.is_empty() {
            msg.push_str("; stderr: ");
            msg.push_str(&tail);
        }
        msg
    }

    fn stderr_tail(&self) -> String {
        let tail = self
            .stderr_tail
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&tail).trim().to_owned()
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the worker to exit, and kills it if it does not within `grace`.
    pub(crate) fn shutdown(mut self, watchdog: &Watchdog, grace: Duration) {
        let id = self.next_id();
        let _ = self.round_trip(&Request::Shutdown { id }, watchdog, Instant::now() + grace);
        self.kill();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The only environment a worker inherits: what Rust and the dynamic loader need, plus the
/// engine's own `BDS_*` overrides. The guest never sees any of it.
fn passthrough_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| {
            k == "PATH" || k == "HOME" || k == "RUST_BACKTRACE" || k.starts_with("BDS_")
        })
        .collect()
}

fn drain_stderr(mut stderr: impl Read + Send + 'static, tail: Arc<Mutex<Vec<u8>>>) {
    let _ = thread::Builder::new()
        .name("bds-worker-stderr".into())
        .spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = tail.lock().unwrap_or_else(PoisonError::into_inner);
                t.extend_from_slice(&buf[..n]);
                if t.len() > STDERR_TAIL {
                    let cut = t.len() - STDERR_TAIL;
                    t.drain(..cut);
                }
            }
        });
}

/// Where the worker binary is: explicit, `$BDS_WORKER`, beside this executable, or one up
/// (tests and benches run from `target/release/deps`).
pub(crate) fn find_worker(explicit: Option<&Path>) -> Result<PathBuf, EngineError> {
    if let Some(p) = explicit {
        return Ok(p.to_owned());
    }
    if let Some(p) = std::env::var_os("BDS_WORKER") {
        return Ok(PathBuf::from(p));
    }
    let name = format!("bds-worker{}", std::env::consts::EXE_SUFFIX);
    let mut looked = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(Path::to_path_buf);
        for _ in 0..2 {
            let Some(d) = dir else { break };
            let candidate = d.join(&name);
            if candidate.is_file() {
                return Ok(candidate);
            }
            looked.push(candidate);
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    Err(EngineError::WorkerNotFound { looked })
}

#[cfg(unix)]
fn is_text_busy(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ETXTBSY)
}

#[cfg(not(unix))]
fn is_text_busy(_: &std::io::Error) -> bool {
    false
}
