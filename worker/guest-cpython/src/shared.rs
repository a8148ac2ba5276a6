//! Shared values in the CPython guest: `context["post"]` and `context["site"]` by reference.
//!
//! The same model as the RustPython guest's `shared.rs`: a call names its shared values by hash
//! ([`bds_ipc::SharedRef`]); each becomes a `SharedRoot` (`shared.py`) kept per instance and
//! reused by later calls naming the same value, filled once from the worker (imports
//! `bds.shared_len` / `bds.shared_read`) into read-only `FrozenDict`/`FrozenList` objects.
//! Filled roots are kept within a byte budget, least recently used dropped first.

use std::cell::RefCell;
use std::collections::HashMap;

use bds_ipc::{Hash, SharedRef};
use pyo3_ffi as ffi;

use crate::py::{Obj, PyErr, PyResult, check};

#[link(wasm_import_module = "bds")]
unsafe extern "C" {
    fn shared_len(hash: *const u8) -> i64;
    fn shared_read(hash: *const u8, dst: *mut u8, len: i32) -> i32;
}

/// JSON bytes of filled roots an instance keeps (beyond the current call's).
const FILLED_BUDGET: usize = 48 << 20;
/// Roots (filled or not) an instance keeps.
const MAX_ROOTS: usize = 1024;

/// The classes of `shared.py`, taken from the bootstrap namespace at initialisation.
pub(crate) struct Classes {
    pub(crate) root: Obj,
    pub(crate) dict: Obj,
    pub(crate) list: Obj,
}

struct Root {
    obj: Obj,
    filled: usize,
    tick: u64,
}

#[derive(Default)]
struct Roots {
    by_key: HashMap<(String, Hash), Root>,
    tick: u64,
    filled: usize,
}

thread_local! {
    static CLASSES: RefCell<Option<Classes>> = const { RefCell::new(None) };
    static ROOTS: RefCell<Option<Roots>> = const { RefCell::new(None) };
}

pub(crate) fn install(classes: Classes) {
    CLASSES.with(|c| *c.borrow_mut() = Some(classes));
}

fn runtime_error(message: String) -> PyErr {
    // SAFETY: a live exception class.
    PyErr::new(unsafe { ffi::PyExc_RuntimeError }, &message)
}

fn type_error(message: String) -> PyErr {
    // SAFETY: a live exception class.
    PyErr::new(unsafe { ffi::PyExc_TypeError }, &message)
}

fn classes<T>(f: impl FnOnce(&Classes) -> PyResult<T>) -> PyResult<T> {
    CLASSES.with(|c| match c.borrow().as_ref() {
        Some(classes) => f(classes),
        None => Err(runtime_error("shared data is not initialised".to_owned())),
    })
}

fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Hash> {
    let mut h = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, b) in h.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(h)
}

/// The roots of one call, in the order of `refs`: reused when this instance has them.
pub(crate) fn roots_for(refs: &[SharedRef]) -> PyResult<Vec<Obj>> {
    let root_cls = classes(|c| Ok(c.root.clone()))?;
    let mut created = Vec::new();
    let out = ROOTS.with(|r| {
        let mut guard = r.borrow_mut();
        let roots = guard.get_or_insert_with(Roots::default);
        roots.tick += 1;
        let tick = roots.tick;
        let mut out = Vec::with_capacity(refs.len());
        for s in refs {
            let key = (s.name.clone(), s.hash);
            if let Some(root) = roots.by_key.get_mut(&key) {
                root.tick = tick;
                out.push(root.obj.clone());
                continue;
            }
            let obj = new_root(&root_cls, &s.name, &hex(&s.hash), true)?;
            roots.by_key.insert(
                key,
                Root {
                    obj: obj.clone(),
                    filled: 0,
                    tick,
                },
            );
            created.push(obj.clone());
            out.push(obj);
        }
        roots.evict(tick);
        Ok::<_, PyErr>(out)
    })?;
    // Filled now, not on first touch: C-level readers (the result's conversion to JSON, the
    // fast paths of dict and list) read the storage without the methods that would fill it.
    for obj in created {
        fill(&obj)?;
    }
    Ok(out)
}

fn new_root(cls: &Obj, name: &str, key: &str, pending: bool) -> PyResult<Obj> {
    let obj = cls.call(Vec::new())?;
    obj.setattr(c"_name", &Obj::str(name)?)?;
    obj.setattr(c"_key", &Obj::str(key)?)?;
    obj.setattr(c"_pending", &Obj::bool(pending))?;
    Ok(obj)
}

fn put_all(root: &Obj, map: &serde_json::Map<String, serde_json::Value>) -> PyResult<()> {
    classes(|c| {
        for (k, v) in map {
            root.dict_set(k, &frozen(c, v)?)?;
        }
        Ok(())
    })
}

/// A root made from a value the call carries itself (`context["call"]`): read-only and
/// recording reads like a shared root, but not kept beyond the call.
pub(crate) fn local_root(name: &str, value: &serde_json::Value) -> PyResult<Obj> {
    let serde_json::Value::Object(map) = value else {
        return Err(type_error(format!(
            "context['{name}'] is not a JSON object"
        )));
    };
    let cls = classes(|c| Ok(c.root.clone()))?;
    let obj = new_root(&cls, name, "", false)?;
    put_all(&obj, map)?;
    Ok(obj)
}

impl Roots {
    /// Drops least recently used roots (never those of the call at `now`) while over budget.
    fn evict(&mut self, now: u64) {
        while self.filled > FILLED_BUDGET || self.by_key.len() > MAX_ROOTS {
            let Some(oldest) = self
                .by_key
                .iter()
                .filter(|(_, r)| r.tick != now)
                .min_by_key(|(_, r)| r.tick)
                .map(|(k, _)| k.clone())
            else {
                return;
            };
            if let Some(r) = self.by_key.remove(&oldest) {
                self.filled -= r.filled;
            }
        }
    }
}

/// `_fill(root)`: loads a pending root's contents from the worker.
pub(crate) fn fill(root: &Obj) -> PyResult<()> {
    let name = root
        .getattr(c"_name")?
        .to_str()
        .unwrap_or("shared")
        .to_owned();
    let key = root.getattr(c"_key")?;
    let Some(hash) = key.to_str().and_then(unhex) else {
        return Err(runtime_error(format!(
            "context['{name}'] has lost its identity"
        )));
    };
    // SAFETY: the host reads 32 bytes at `hash`, which lives on this frame.
    let len = unsafe { shared_len(hash.as_ptr()) };
    if len < 0 {
        return Err(runtime_error(format!(
            "context['{name}'] belongs to an earlier call and is no longer available \
             (keep a copy, not the shared value, between calls)"
        )));
    }
    let mut buf = vec![0u8; len as usize];
    // SAFETY: `buf` has exactly `len` writable bytes; the host writes at most that many.
    let status = unsafe { shared_read(hash.as_ptr(), buf.as_mut_ptr(), len as i32) };
    if status != 0 {
        return Err(runtime_error(format!(
            "context['{name}'] could not be read"
        )));
    }
    let value: serde_json::Value = serde_json::from_slice(&buf).map_err(|e| {
        // SAFETY: a live exception class.
        PyErr::new(
            unsafe { ffi::PyExc_ValueError },
            &format!("context['{name}'] is not JSON: {e}"),
        )
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(type_error(format!(
            "context['{name}'] is not a JSON object"
        )));
    };
    put_all(root, &map)?;
    root.setattr(c"_pending", &Obj::bool(false))?;
    ROOTS.with(|r| {
        if let Some(roots) = r.borrow_mut().as_mut()
            && let Some(entry) = roots.by_key.get_mut(&(name, hash))
        {
            entry.filled = buf.len();
            roots.filled += buf.len();
            let now = roots.tick;
            roots.evict(now);
        }
    });
    Ok(())
}

/// A JSON value as read-only Python objects.
fn frozen(c: &Classes, v: &serde_json::Value) -> PyResult<Obj> {
    use serde_json::Value;
    match v {
        Value::Array(a) => {
            let list = c.list.call(Vec::new())?;
            for x in a {
                let item = frozen(c, x)?;
                // SAFETY: `list` is a list subclass instance; the C call skips its `append`.
                check(unsafe { ffi::PyList_Append(list.as_ptr(), item.as_ptr()) })?;
            }
            Ok(list)
        }
        Value::Object(o) => {
            let d = c.dict.call(Vec::new())?;
            for (k, x) in o {
                d.dict_set(k, &frozen(c, x)?)?;
            }
            Ok(d)
        }
        scalar => crate::convert::json_to_py(scalar),
    }
}
