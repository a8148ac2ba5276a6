//! Shared values in the guest: `context["post"]` and `context["site"]` by reference.
//!
//! A call names its shared values by hash ([`bds_ipc::SharedRef`]). Each one becomes a
//! `SharedRoot` (a read-only dict subclass defined in `shared.py`) kept per instance and reused
//! by every later call that names the same value, so a script can even memoise on it (`is`).
//! A root is filled when a call first refers to it, fetching the JSON from the worker (imports
//! `bds.shared_len` / `bds.shared_read`) and converting it once into read-only Python objects
//! (`FrozenDict`, `FrozenList`). (Filling on first touch instead was tried: the result's
//! conversion to JSON reads a returned root's storage directly and saw it empty.) Filled roots
//! are kept within a byte budget, least recently used dropped first.

use std::cell::RefCell;

use bds_ipc::SharedRef;
use bds_ipc::guest_side::{FetchError, RootCache, fetch_shared, hex, unhex};
use rustpython_vm::PyPayload;
use rustpython_vm::builtins::{PyDict, PyList, PyStr, PyTypeRef};
use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};

/// The classes of `shared.py`, taken from the bootstrap namespace at initialisation.
pub(crate) struct Classes {
    pub(crate) root: PyObjectRef,
    pub(crate) dict: PyTypeRef,
    pub(crate) list: PyTypeRef,
}

thread_local! {
    static CLASSES: RefCell<Option<Classes>> = const { RefCell::new(None) };
    static ROOTS: RefCell<RootCache<PyObjectRef>> = RefCell::new(RootCache::default());
}

pub(crate) fn install(classes: Classes) {
    CLASSES.with(|c| *c.borrow_mut() = Some(classes));
}

/// The roots of one call, in the order of `refs`: reused when this instance has them.
pub(crate) fn roots_for(vm: &VirtualMachine, refs: &[SharedRef]) -> PyResult<Vec<PyObjectRef>> {
    let Some(root_cls) = CLASSES.with(|c| c.borrow().as_ref().map(|c| c.root.clone())) else {
        return Err(vm.new_runtime_error("shared data is not initialised".to_owned()));
    };
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
            let obj = new_root(vm, &root_cls, &s.name, &hex(&s.hash), true)?;
            roots.insert(key, obj.clone());
            created.push(obj.clone());
            out.push(obj);
        }
        roots.evict();
        Ok::<_, rustpython_vm::builtins::PyBaseExceptionRef>(out)
    })?;
    // Filled now, not on first touch: Rust-level readers (the result's conversion to JSON,
    // C-level fast paths of dict and list) read the storage without going through the
    // methods that would fill it.
    for obj in created {
        fill(obj, vm)?;
    }
    Ok(out)
}

/// A new `SharedRoot` for `context[name]`, identified by `key` (a hash in hex; empty for a
/// call's own value), to be filled now or (`pending`) from the worker.
fn new_root(
    vm: &VirtualMachine,
    cls: &PyObjectRef,
    name: &str,
    key: &str,
    pending: bool,
) -> PyResult<PyObjectRef> {
    let obj = cls.call((), vm)?;
    obj.set_attr("_name", vm.ctx.new_str(name), vm)?;
    obj.set_attr("_key", vm.ctx.new_str(key), vm)?;
    obj.set_attr("_pending", vm.ctx.new_bool(pending), vm)?;
    Ok(obj)
}

/// Puts `map`'s entries into the root `root` as read-only Python values.
fn put_all(
    vm: &VirtualMachine,
    root: &PyObjectRef,
    map: &serde_json::Map<String, serde_json::Value>,
) -> PyResult<()> {
    let Some(dict) = root.downcast_ref::<PyDict>() else {
        return Err(vm.new_type_error("a shared root must be a dict".to_owned()));
    };
    CLASSES.with(|c| {
        let c = c.borrow();
        let Some(classes) = c.as_ref() else {
            return Err(vm.new_runtime_error("shared data is not initialised".to_owned()));
        };
        // Every value is made before any goes in: a value Python refuses (an integer past the
        // digit limit) leaves nothing half-filled behind.
        let values = map
            .values()
            .map(|v| frozen(vm, classes, v))
            .collect::<PyResult<Vec<_>>>()?;
        for (k, v) in map.keys().zip(values) {
            dict.inner_setitem(k.as_str(), v, vm)?;
        }
        Ok(())
    })
}

/// A root made from a value the call carries itself (`context["call"]`): read-only and
/// recording reads like a shared root, but not kept beyond the call.
pub(crate) fn local_root(
    vm: &VirtualMachine,
    name: &str,
    value: &serde_json::Value,
) -> PyResult<PyObjectRef> {
    let serde_json::Value::Object(map) = value else {
        return Err(vm.new_type_error(format!("context['{name}'] is not a JSON object")));
    };
    let Some(cls) = CLASSES.with(|c| c.borrow().as_ref().map(|c| c.root.clone())) else {
        return Err(vm.new_runtime_error("shared data is not initialised".to_owned()));
    };
    let obj = new_root(vm, &cls, name, "", false)?;
    put_all(vm, &obj, map)?;
    Ok(obj)
}

/// `_fill(root)`: loads a pending root's contents from the worker (the native side of
/// `shared.py`'s `_fill`).
pub(crate) fn fill(root: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
    let key = root.get_attr("_key", vm)?;
    let name = root.get_attr("_name", vm)?;
    let name = name
        .downcast_ref::<PyStr>()
        .and_then(|s| s.to_str())
        .unwrap_or("shared")
        .to_owned();
    let Some(hash) = key
        .downcast_ref::<PyStr>()
        .and_then(|s| s.to_str())
        .and_then(unhex)
    else {
        return Err(vm.new_runtime_error(format!("context['{name}'] has lost its identity")));
    };
    let buf = fetch_shared(&hash).map_err(|e| match e {
        FetchError::Gone => vm.new_runtime_error(format!(
            "context['{name}'] belongs to an earlier call and is no longer available \
             (keep a copy, not the shared value, between calls)"
        )),
        FetchError::Unreadable => {
            vm.new_runtime_error(format!("context['{name}'] could not be read"))
        }
    })?;
    let value: serde_json::Value = serde_json::from_slice(&buf)
        .map_err(|e| vm.new_value_error(format!("context['{name}'] is not JSON: {e}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(vm.new_type_error(format!("context['{name}'] is not a JSON object")));
    };
    put_all(vm, &root, &map)?;
    root.set_attr("_pending", vm.ctx.new_bool(false), vm)?;
    ROOTS.with(|r| r.borrow_mut().filled(&(name, hash), buf.len()));
    Ok(())
}

/// A JSON value as read-only Python objects.
fn frozen(vm: &VirtualMachine, c: &Classes, v: &serde_json::Value) -> PyResult<PyObjectRef> {
    use serde_json::Value;
    Ok(match v {
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| frozen(vm, c, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::from(items)
                .into_ref_with_type(vm, c.list.clone())?
                .into()
        }
        Value::Object(o) => {
            let d = PyDict::default().into_ref_with_type(vm, c.dict.clone())?;
            for (k, x) in o {
                d.inner_setitem(k.as_str(), frozen(vm, c, x)?, vm)?;
            }
            d.into()
        }
        scalar => crate::convert::json_to_py(vm, scalar)?,
    })
}
