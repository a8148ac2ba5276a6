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

use crate::convert::Build;
use crate::py::{Obj, PyErr, PyResult};

/// The classes of `shared.py`, taken from the bootstrap namespace at initialisation.
#[derive(Clone)]
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

/// The classes (three references, cheap to take).
pub(crate) fn classes() -> PyResult<Classes> {
    CLASSES.with(|c| match c.borrow().as_ref() {
        Some(classes) => Ok(classes.clone()),
        None => Err(runtime_error("shared data is not initialised".to_owned())),
    })
}

/// The roots of one call, in the order of `refs`: reused when this instance has them.
pub(crate) fn roots_for(refs: &[SharedRef]) -> PyResult<Vec<Obj>> {
    let root_cls = classes()?.root;
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
    // `SharedRoot()` without running Python: `dict.__new__(SharedRoot)`, then its slots.
    let obj = Obj::new_empty(cls, std::ptr::addr_of_mut!(ffi::PyDict_Type))?;
    obj.setattr(c"_name", &Obj::str(name)?)?;
    obj.setattr(c"_key", &Obj::str(key)?)?;
    obj.setattr(c"_pending", &Obj::bool(pending))?;
    Ok(obj)
}

/// An empty root for a value the call carries itself (`context["call"]`): read-only and
/// recording reads like a shared root, but not kept beyond the call. The caller fills it.
pub(crate) fn call_root(name: &str) -> PyResult<Obj> {
    new_root(&classes()?.root, name, "", false)
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
    let classes = classes()?;
    let build = Build::frozen(&classes);
    let read = crate::convert::fill_from(&build, root, &buf);
    if !matches!(read, Ok(true)) {
        // Nothing half-filled stays behind.
        // SAFETY: a root is a dict.
        unsafe { ffi::PyDict_Clear(root.as_ptr()) };
    }
    if let Some(e) = build.take_error() {
        return Err(e);
    }
    match read {
        Ok(true) => {}
        Ok(false) => {
            return Err(type_error(format!(
                "context['{name}'] is not a JSON object"
            )));
        }
        Err(e) => {
            return Err(PyErr::new(
                // SAFETY: a live exception class.
                unsafe { ffi::PyExc_ValueError },
                &format!("context['{name}'] is not JSON: {e}"),
            ));
        }
    }
    root.setattr(c"_pending", &Obj::bool(false))?;
    ROOTS.with(|r| r.borrow_mut().filled(&(name, hash), buf.len()));
    Ok(())
}
