//! Shared values in the CPython guest: `context["post"]` and `context["site"]` by reference.
//!
//! The same model as the RustPython guest's `shared.rs`: a call names its shared values by hash
//! ([`bds_ipc::SharedRef`]); each becomes a `SharedRoot` (`shared.py`) kept per instance and
//! reused by later calls naming the same value, filled once from the worker (imports
//! `bds.shared_len` / `bds.shared_read`) into read-only `FrozenDict`/`FrozenList` objects.
//! Filled roots are kept within a byte budget, least recently used dropped first
//! ([`bds_ipc::guest_side::RootCache`]).

use std::cell::RefCell;

use bds_ipc::SharedRef;
use bds_ipc::guest_side::{FetchError, RootCache, fetch_shared, hex, unhex};
use pyo3_ffi as ffi;

use crate::py::{Obj, PyErr, PyResult, check};

/// The classes of `shared.py`, taken from the bootstrap namespace at initialisation.
pub(crate) struct Classes {
    pub(crate) root: Obj,
    pub(crate) dict: Obj,
    pub(crate) list: Obj,
}

thread_local! {
    static CLASSES: RefCell<Option<Classes>> = const { RefCell::new(None) };
    static ROOTS: RefCell<RootCache<Obj>> = RefCell::new(RootCache::default());
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

/// The roots of one call, in the order of `refs`: reused when this instance has them.
pub(crate) fn roots_for(refs: &[SharedRef]) -> PyResult<Vec<Obj>> {
    let root_cls = classes(|c| Ok(c.root.clone()))?;
    let mut created = Vec::new();
    let out = ROOTS.with(|r| {
        let mut roots = r.borrow_mut();
        roots.begin_call();
        let mut out = Vec::with_capacity(refs.len());
        for s in refs {
            let key = (s.name.clone(), s.hash);
            if let Some(obj) = roots.get(&key) {
                out.push(obj);
                continue;
            }
            let obj = new_root(&root_cls, &s.name, &hex(&s.hash), true)?;
            roots.insert(key, obj.clone());
            created.push(obj.clone());
            out.push(obj);
        }
        roots.evict();
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
    let buf = fetch_shared(&hash).map_err(|e| match e {
        FetchError::Gone => runtime_error(format!(
            "context['{name}'] belongs to an earlier call and is no longer available \
             (keep a copy, not the shared value, between calls)"
        )),
        FetchError::Unreadable => runtime_error(format!("context['{name}'] could not be read")),
    })?;
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
    ROOTS.with(|r| r.borrow_mut().filled(&(name, hash), buf.len()));
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
