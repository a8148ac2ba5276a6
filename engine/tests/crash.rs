//! Dead, wedged and lying workers: the engine detects each, fails only the call at hand with a
//! clear error, discards the worker and starts another. Fake workers are small Python programs
//! speaking (or mangling) the frame protocol.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bds_engine::{CallOptions, EngineError, ErrorKind, Pool, PoolConfig};
use common::*;

#[test]
fn a_worker_killed_mid_call_fails_that_call_and_is_replaced() {
    let pool = pool(1);
    let pid = pool.worker_pids()[0].unwrap();
    let victim = std::thread::spawn({
        let pool = pool.clone();
        move || {
            pool.call(
                &script("slow.py", "def render(c):\n    while True: pass\n"),
                &ctx(),
                &opts_ms(10_000),
            )
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) on the worker this test's pool spawned.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    let err = victim.join().unwrap().unwrap_err();
    assert_eq!(err.kind, ErrorKind::WorkerCrash, "{err:#?}");
    assert!(err.message.contains("signal: 9"), "{}", err.message);
    assert_healthy(&pool);
    let new_pid = pool.worker_pids()[0].unwrap();
    assert_ne!(new_pid, pid);
    assert_eq!(pool.stats().respawns, 1);
}

/// A fake worker: Python reading request frames and answering with `reply(req_id)` bytes.
fn fake_worker(name: &str, ready: &str, reply: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let src = format!(
        r#"#!/usr/bin/env python3
import struct, sys, time
out = sys.stdout.buffer
def frame(body):
    out.write(struct.pack('<I', len(body)) + body); out.flush()
def s(b):
    return struct.pack('<I', len(b)) + b
def ready_ok(protocol=3):
    return b'\x01' + struct.pack('<I', protocol) + s(b'fake') + b'\x00' * 32 + struct.pack('<Q', 1)
def outcome_ok(json_bytes):
    return b'\x00' + s(json_bytes) + s(b'') + b'\x00' + struct.pack('<I', 0) + struct.pack('<I', 0) + struct.pack('<Q', 5)
{ready}
while True:
    head = sys.stdin.buffer.read(4)
    if len(head) < 4:
        break
    n = struct.unpack('<I', head)[0]
    body = sys.stdin.buffer.read(n)
    tag, req_id = body[0], struct.unpack('<Q', body[1:9])[0]
    if tag == 1:  # Load: always fine
        frame(b'\x02' + struct.pack('<Q', req_id) + outcome_ok(b''))
        continue
    if tag == 5:
        frame(b'\x05' + struct.pack('<Q', req_id)); break
{reply}
"#
    );
    std::fs::write(&path, src).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (dir, path)
}

fn fake_pool(ready: &str, reply: &str) -> Result<(tempfile::TempDir, Pool), EngineError> {
    let (dir, path) = fake_worker("fake-worker", ready, reply);
    Pool::new(
        PoolConfig::default()
            .workers(1)
            .worker_path(path)
            .grace(Duration::from_millis(100))
            .handshake_timeout(Duration::from_secs(5)),
    )
    .map(|p| (dir, p))
}

const READY: &str = "frame(ready_ok())";

fn call_fake(pool: &Pool) -> bds_engine::ScriptError {
    pool.call(
        &script("a.py", "def render(c): return {}"),
        &ctx(),
        &opts_ms(100),
    )
    .unwrap_err()
}

#[test]
fn a_wrong_protocol_version_is_fatal_at_the_handshake() {
    let e = fake_pool("frame(ready_ok(protocol=99))", "    pass").unwrap_err();
    assert!(
        matches!(
            e,
            EngineError::Version {
                got: 99,
                want: 3,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn a_garbage_handshake_is_refused() {
    let e = fake_pool("frame(b'\\x07garbage')", "    pass").unwrap_err();
    assert!(matches!(e, EngineError::Handshake { .. }), "{e:?}");
    let e = fake_pool(
        "out.write(b'not a frame at all'); out.flush(); time.sleep(10)",
        "    pass",
    )
    .unwrap_err();
    assert!(matches!(e, EngineError::Handshake { .. }), "{e:?}");
}

#[test]
fn a_silent_worker_at_startup_is_killed_after_the_handshake_timeout() {
    let (_dir, path) = fake_worker("mute", "time.sleep(60)", "    pass");
    let started = Instant::now();
    let e = Pool::new(
        PoolConfig::default()
            .workers(1)
            .worker_path(path)
            .handshake_timeout(Duration::from_millis(500)),
    )
    .unwrap_err();
    assert!(matches!(e, EngineError::Handshake { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_oversized_frame_discards_the_worker() {
    let (_dir, pool) = fake_pool(
        READY,
        "    out.write(struct.pack('<I', 0xFFFFFFF0)); out.flush(); time.sleep(5)",
    )
    .unwrap();
    let e = call_fake(&pool);
    assert_eq!(e.kind, ErrorKind::WorkerCrash);
    assert!(e.message.contains("over the"), "{}", e.message);
    assert_eq!(pool.worker_pids(), vec![None]);
}

#[test]
fn a_malformed_reply_discards_the_worker() {
    let (_dir, pool) = fake_pool(
        READY,
        "    frame(b'\\x03' + struct.pack('<Q', req_id) + b'\\x09junk')",
    )
    .unwrap();
    let e = call_fake(&pool);
    assert_eq!(e.kind, ErrorKind::WorkerCrash);
    assert!(e.message.starts_with("malformed reply"), "{}", e.message);
    assert_eq!(pool.worker_pids(), vec![None]);
}

#[test]
fn a_reply_to_another_request_discards_the_worker() {
    let (_dir, pool) = fake_pool(
        READY,
        "    frame(b'\\x03' + struct.pack('<Q', req_id + 7) + outcome_ok(b'{}'))",
    )
    .unwrap();
    let e = call_fake(&pool);
    assert_eq!(e.kind, ErrorKind::WorkerCrash);
    assert!(e.message.starts_with("reply to request"), "{}", e.message);
}

#[test]
fn a_forged_result_that_is_not_json_discards_the_worker() {
    let (_dir, pool) = fake_pool(
        READY,
        "    frame(b'\\x03' + struct.pack('<Q', req_id) + outcome_ok(b'{\"a\": NaN}'))",
    )
    .unwrap();
    let e = call_fake(&pool);
    assert_eq!(e.kind, ErrorKind::WorkerCrash);
    assert!(e.message.contains("not JSON"), "{}", e.message);
    assert_eq!(pool.worker_pids(), vec![None]);
}

#[test]
fn a_result_over_the_limits_is_refused_even_from_the_worker() {
    let (_dir, pool) = fake_pool(READY, "    frame(b'\\x03' + struct.pack('<Q', req_id) + outcome_ok(b'{\"a\":' * 70 + b'1' + b'}' * 70))").unwrap();
    let e = call_fake(&pool);
    assert_eq!(e.kind, ErrorKind::AbiViolation, "{e:#?}");
}

#[test]
fn a_wedged_worker_is_killed_by_the_watchdog() {
    let (_dir, pool) = fake_pool(READY, "    time.sleep(60)").unwrap();
    let started = Instant::now();
    let e = call_fake(&pool);
    let took = started.elapsed();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e:#?}");
    assert!(e.message.contains("killed"), "{}", e.message);
    // deadline 100 ms + grace 100 ms, with room for a busy machine.
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(pool.stats().watchdog_kills, 1);
}

#[test]
fn a_worker_that_exits_mid_call_is_reported_with_its_exit_status() {
    let (_dir, pool) = fake_pool(READY, "    sys.stderr.write('boom\\n'); sys.exit(7)").unwrap();
    let e = call_fake(&pool);
    assert_eq!(e.kind, ErrorKind::WorkerCrash);
    assert!(e.message.contains("exit status: 7"), "{}", e.message);
    assert!(e.message.contains("boom"), "{}", e.message);
}

#[test]
fn closing_twice_and_calling_after_close_are_clean_errors() {
    let pool = pool(2);
    assert_healthy(&pool);
    pool.close();
    pool.close();
    let e = pool
        .call(
            &script("a.py", "def render(c): return {}"),
            &ctx(),
            &CallOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::WorkerCrash, "the engine is closed")
    );
}

#[test]
fn many_threads_share_the_pool() {
    let pool = pool(2);
    let s = script(
        "sq.py",
        "def render(c):\n    return {'sq': c['params']['n'] ** 2}\n",
    );
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (pool, s) = (&pool, &s);
            scope.spawn(move || {
                for i in 0..25 {
                    let n = t * 100 + i;
                    let out = pool
                        .call(
                            s,
                            &serde_json::json!({"params": {"n": n}}),
                            &CallOptions::default(),
                        )
                        .unwrap();
                    assert_eq!(out.value["sq"], n * n);
                }
            });
        }
    });
    assert_eq!(pool.metrics()[0].calls, 200);
}

#[test]
fn a_batch_is_answered_in_order_across_workers() {
    let pool = pool(2);
    let double = script(
        "double.py",
        "def render(c):\n    return {'v': c['params']['n'] * 2}\n",
    );
    let fail = script(
        "fail.py",
        "def render(c):\n    raise ValueError(c['params']['n'])\n",
    );
    let items: Vec<_> = (0..40)
        .map(|n| {
            (
                if n % 7 == 3 {
                    fail.clone()
                } else {
                    double.clone()
                },
                serde_json::json!({"params": {"n": n}}),
            )
        })
        .collect();
    let results = pool.call_many(&items, &CallOptions::default());
    assert_eq!(results.len(), 40);
    for (n, r) in results.iter().enumerate() {
        if n % 7 == 3 {
            let e = r.as_ref().unwrap_err();
            assert_eq!(
                (e.exc_type.as_str(), e.message.clone()),
                ("ValueError", n.to_string())
            );
        } else {
            assert_eq!(r.as_ref().unwrap().value["v"], n * 2);
        }
    }
}
