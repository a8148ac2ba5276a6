//! The cached artifact: the guest snapshotted with wizer after `bds_init` (interpreter started,
//! standard library imported), compiled by Cranelift and serialised, once per guest build,
//! wasmtime version and configuration (all part of its file name). Building writes it
//! atomically under a lock, so concurrent workers build it once; stale artifacts of the same
//! guest are removed, other guests' are kept.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Linker, Module, Store};

use super::HostCtx;
use crate::wasi;

/// Bumped whenever what goes into the cached artifact changes (snapshot recipe, exports).
const ARTIFACT_FORMAT: u32 = 3;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the cached artifact for `guest` lives.
pub(super) fn artifact_paths(
    engine: &Engine,
    guest: &Path,
    cache_dir: &Path,
) -> wasmtime::Result<(PathBuf, PathBuf)> {
    let meta = fs::metadata(guest)
        .map_err(|e| wasmtime::format_err!("cannot read the guest at {}: {e}", guest.display()))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut h);
    let compat = std::hash::Hasher::finish(&h);
    let key = Sha256::digest(
        format!(
            "{}|{}|{}|{}|{}|{}",
            guest
                .canonicalize()
                .unwrap_or_else(|_| guest.to_owned())
                .display(),
            meta.len(),
            mtime,
            compat,
            ARTIFACT_FORMAT,
            env!("CARGO_PKG_VERSION")
        )
        .as_bytes(),
    );
    // Named after the guest's file, so that each guest (RustPython, CPython) keeps its own.
    let stem = format!("{}-{}", artifact_prefix(guest), &hex(&key)[..24]);
    Ok((
        cache_dir.join(format!("{stem}.cwasm")),
        cache_dir.join(format!("{stem}.sha256")),
    ))
}

/// Reads the guest, snapshots it after `bds_init`, compiles the snapshot and writes it out.
pub(super) fn build_artifact(
    engine: &Engine,
    guest: &Path,
    artifact: &Path,
    hash_file: &Path,
) -> wasmtime::Result<()> {
    let started = Instant::now();
    let wasm = fs::read(guest)
        .map_err(|e| wasmtime::format_err!("cannot read the guest at {}: {e}", guest.display()))?;
    let guest_hash = Sha256::digest(&wasm);
    let mut wizer = wasmtime_wizer::Wizer::new();
    wizer.init_func("bds_init");
    let (cx, instrumented) = wizer.instrument(&wasm)?;
    let module = Module::new(engine, &instrumented)?;
    let mut store = Store::new(engine, HostCtx::new(u64::MAX));
    store.limiter(|c| &mut c.limiter);
    store.set_epoch_deadline(u64::MAX / 2);
    let mut linker = Linker::new(engine);
    wasi::define(&mut linker, &module)?;
    crate::shared::define(&mut linker)?;
    let instance = linker.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&mut store, "bds_init")?
        .call(&mut store, ())
        .map_err(|e| {
            let tail = String::from_utf8_lossy(&store.data().stderr_tail).into_owned();
            wasmtime::format_err!("the guest's bds_init failed: {e}\n{tail}")
        })?;
    let snapshot = block_on(wizer.snapshot(
        &cx,
        &mut Snapshotting {
            store: &mut store,
            instance,
        },
    ))?;
    let compiled = engine.precompile_module(&snapshot)?;
    let tmp = artifact.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&compiled)?;
        f.sync_all()?;
    }
    fs::write(hash_file, hex(&guest_hash))?;
    fs::rename(&tmp, artifact)?;
    remove_stale_artifacts(artifact, hash_file);
    eprintln!(
        "bds-worker: built {} ({} MB wasm -> {} MB snapshot) in {:.1}s",
        artifact.display(),
        wasm.len() >> 20,
        snapshot.len() >> 20,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What the cached artifacts of `guest` are named after: its file's stem (`bds_guest`,
/// `bds_guest_cpython`).
fn artifact_prefix(guest: &Path) -> String {
    guest
        .file_stem()
        .map_or_else(|| "guest".to_owned(), |s| s.to_string_lossy().into_owned())
}

/// Drops artifacts of earlier builds of the same guest (each is 30–75 MB), and those of the
/// unnamed format before (`guest-*`). Another guest's artifacts stay. A worker still mapping
/// one keeps its mapping: unlinking a file does not unmap it.
fn remove_stale_artifacts(keep: &Path, keep_hash: &Path) {
    let Some(dir) = keep.parent() else { return };
    let Some(prefix) = keep
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit_once('-'))
        .map(|(p, _)| format!("{p}-"))
    else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = (name.starts_with(&prefix) || name.starts_with("guest-"))
            && (name.ends_with(".cwasm") || name.ends_with(".sha256"));
        if ours && path != keep && path != keep_hash {
            let _ = fs::remove_file(&path);
        }
    }
}

struct Snapshotting<'a> {
    store: &'a mut Store<HostCtx>,
    instance: wasmtime::Instance,
}

impl wasmtime_wizer::InstanceState for Snapshotting<'_> {
    async fn global_get(
        &mut self,
        name: &str,
        _: wasmtime_wizer::ValType,
    ) -> wasmtime_wizer::SnapshotVal {
        use wasmtime::Val;
        use wasmtime_wizer::SnapshotVal;
        let Some(global) = self.instance.get_global(&mut *self.store, name) else {
            panic!("wizer asked for a global the instrumented guest does not export: {name}");
        };
        match global.get(&mut *self.store) {
            Val::I32(x) => SnapshotVal::I32(x),
            Val::I64(x) => SnapshotVal::I64(x),
            Val::F32(x) => SnapshotVal::F32(x),
            Val::F64(x) => SnapshotVal::F64(x),
            Val::V128(x) => SnapshotVal::V128(x.as_u128()),
            other => panic!("unsupported global type in the guest: {other:?}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let Some(memory) = self.instance.get_memory(&mut *self.store, name) else {
            panic!("wizer asked for a memory the instrumented guest does not export: {name}");
        };
        contents(memory.data(&*self.store));
    }
}

/// Runs a future that never waits (wizer's snapshot over a synchronous instance) to completion.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_guest_keeps_its_own_artifact_and_drops_only_its_stale_ones() {
        let dir = std::env::temp_dir().join(format!("bds-artifacts-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let names = [
            "bds_guest-aaa.cwasm",
            "bds_guest-aaa.sha256",
            "bds_guest-old.cwasm",
            "bds_guest_cpython-bbb.cwasm",
            "bds_guest_cpython-bbb.sha256",
            "guest-legacy.cwasm",
            "unrelated.txt",
        ];
        for n in names {
            fs::write(dir.join(n), b"x").expect("write");
        }
        assert_eq!(
            artifact_prefix(Path::new("/x/bds_guest_cpython.wasm")),
            "bds_guest_cpython"
        );
        remove_stale_artifacts(
            &dir.join("bds_guest-aaa.cwasm"),
            &dir.join("bds_guest-aaa.sha256"),
        );
        let mut left: Vec<String> = fs::read_dir(&dir)
            .expect("read")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(
            left,
            [
                "bds_guest-aaa.cwasm",
                "bds_guest-aaa.sha256",
                "bds_guest_cpython-bbb.cwasm",
                "bds_guest_cpython-bbb.sha256",
                "unrelated.txt",
            ]
        );
    }
}
