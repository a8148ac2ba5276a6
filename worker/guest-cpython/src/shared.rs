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
use crate::py::{MethodDefs, Obj, PyErr, PyResult, check, wrap};

/// The classes of `shared.py`, taken from the bootstrap namespace at initialisation.
#[derive(Clone)]
pub(crate) struct Classes {
    pub(crate) root: Obj,
    pub(crate) dict: Obj,
    pub(crate) list: Obj,
    /// `_reads`, the set of `(root name, key | None)` a call read.
    pub(crate) reads: Obj,
}

thread_local! {
    static CLASSES: RefCell<Option<Classes>> = const { RefCell::new(None) };
    static ROOTS: RefCell<RootCache<Obj>> = RefCell::new(RootCache::default());
}

/// Keeps the classes, and gives `SharedRoot` native `get`, `__getitem__` and `__contains__`
/// (the reads of a key, which scripts make most): they record the read and answer as `dict`
/// does, as the Python methods they replace do, without running Python.
pub(crate) fn install(classes: Classes) -> PyResult<()> {
    let root = classes.root.as_ptr();
    let slots = Slots {
        name: slot_offset(&classes.root, c"_name")?,
        key: slot_offset(&classes.root, c"_key")?,
        pending: slot_offset(&classes.root, c"_pending")?,
    };
    SLOTS.with(|s| s.set(Some(slots)));
    CLASSES.with(|c| *c.borrow_mut() = Some(classes));
    // SAFETY: `root` is the `SharedRoot` type; a method descriptor keeps a pointer to its
    // static definition.
    unsafe {
        if ffi::PyType_Check(root) == 0 {
            return Err(type_error("SharedRoot is not a class".to_owned()));
        }
        for def in &METHODS.0 {
            let d = Obj::owned(ffi::PyDescr_NewMethod(
                root.cast(),
                std::ptr::from_ref(def).cast_mut(),
            ))?;
            check(ffi::PyObject_SetAttrString(root, def.ml_name, d.as_ptr()))?;
        }
    }
    Ok(())
}

/// Where `SharedRoot`'s three `__slots__` sit in its instances (and its subclasses'), read
/// from their member descriptors once: the guest reads and writes them there, whatever a script
/// later does to the class's attributes.
#[derive(Clone, Copy)]
struct Slots {
    name: ffi::Py_ssize_t,
    key: ffi::Py_ssize_t,
    pending: ffi::Py_ssize_t,
}

thread_local! {
    static SLOTS: std::cell::Cell<Option<Slots>> = const { std::cell::Cell::new(None) };
}

fn slot_offset(cls: &Obj, name: &'static std::ffi::CStr) -> PyResult<ffi::Py_ssize_t> {
    // SAFETY: `cls` is a type; its namespace is a dict; the descriptor is checked to be a member
    // descriptor (an object slot) before its definition is read.
    unsafe {
        let dict = (*cls.as_ptr().cast::<ffi::PyTypeObject>()).tp_dict;
        let d = ffi::PyDict_GetItemString(dict, name.as_ptr());
        if d.is_null()
            || ffi::Py_TYPE(d) != std::ptr::addr_of_mut!(ffi::PyMemberDescr_Type)
            || (*(*d.cast::<ffi::PyMemberDescrObject>()).d_member).type_code != ffi::Py_T_OBJECT_EX
        {
            return Err(type_error(format!("SharedRoot has no slot {name:?}")));
        }
        Ok((*(*d.cast::<ffi::PyMemberDescrObject>()).d_member).offset)
    }
}

/// The offsets, once `root` is checked to be a `SharedRoot` (or a subclass).
fn slots_of(root: *mut ffi::PyObject) -> PyResult<Slots> {
    let slots = SLOTS.with(std::cell::Cell::get);
    let cls = CLASSES.with(|c| c.borrow().as_ref().map(|c| c.root.as_ptr()));
    match (slots, cls) {
        // SAFETY: a type check of a live object against a type.
        (Some(slots), Some(cls)) if unsafe { ffi::PyObject_TypeCheck(root, cls.cast()) } != 0 => {
            Ok(slots)
        }
        _ => Err(type_error("not a shared root".to_owned())),
    }
}

/// The value in the slot at `offset` of `root` (`None` when unset).
fn slot(root: *mut ffi::PyObject, offset: ffi::Py_ssize_t) -> Option<Obj> {
    // SAFETY: `root` is an instance whose layout has an object slot at `offset` (checked by
    // `slots_of`).
    Obj::borrowed(unsafe {
        *root
            .cast::<u8>()
            .offset(offset)
            .cast::<*mut ffi::PyObject>()
    })
}

/// Puts `value` in the slot at `offset` of `root`, dropping what was there.
fn set_slot(root: &Obj, offset: ffi::Py_ssize_t, value: Obj) {
    // SAFETY: as in `slot`; the slot owns one reference, handed over here.
    unsafe {
        let p = root
            .as_ptr()
            .cast::<u8>()
            .offset(offset)
            .cast::<*mut ffi::PyObject>();
        let old = std::mem::replace(&mut *p, value.into_ptr());
        ffi::Py_XDECREF(old);
    }
}

/// A read of `root` (of `key`, or of the whole value for `None`), as shared.py's `_key` and
/// `_whole` do it: a pending root is filled first (`if root._pending: _fill(root)`), then
/// `(root._name, key)` goes into `_reads`. An unset slot (a root a script made itself) raises
/// what reading the attribute raises.
fn read(root: &Obj, key: Option<&Obj>) -> PyResult<()> {
    let slots = slots_of(root.as_ptr())?;
    let pending = match slot(root.as_ptr(), slots.pending) {
        Some(p) => p,
        None => root.getattr(c"_pending")?,
    };
    // SAFETY: a live object.
    match unsafe { ffi::PyObject_IsTrue(pending.as_ptr()) } {
        -1 => return Err(PyErr::take()),
        0 => {}
        _ => fill(root)?,
    }
    let reads = CLASSES.with(|c| c.borrow().as_ref().map(|c| c.reads.clone()));
    let Some(reads) = reads else {
        return Err(runtime_error("shared data is not initialised".to_owned()));
    };
    let name = match slot(root.as_ptr(), slots.name) {
        Some(n) => n,
        None => root.getattr(c"_name")?,
    };
    let entry = Obj::tuple(vec![name, key.cloned().unwrap_or_else(Obj::none)])?;
    // SAFETY: `_reads` is a set; the entry is a tuple of hashable values.
    check(unsafe { ffi::PySet_Add(reads.as_ptr(), entry.as_ptr()) })
}

/// shared.py's `_key(root, key)`: a read of one key (recorded by name when it is a `str`).
pub(crate) fn read_key(root: *mut ffi::PyObject, key: *mut ffi::PyObject) -> PyResult<()> {
    let (Some(root), Some(key)) = (Obj::borrowed(root), Obj::borrowed(key)) else {
        return Err(PyErr::take());
    };
    // SAFETY: a type check on a live object.
    let named = unsafe { ffi::PyUnicode_Check(key.as_ptr()) } != 0;
    read(&root, named.then_some(&key))
}

/// shared.py's `_whole(root)`: a read of the whole value.
pub(crate) fn read_whole(root: *mut ffi::PyObject) -> PyResult<()> {
    let Some(root) = Obj::borrowed(root) else {
        return Err(PyErr::take());
    };
    read(&root, None)
}

unsafe extern "C" fn root_getitem(
    root: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    wrap(|| {
        read_key(root, key)?;
        // SAFETY: `dict.__getitem__(root, key)`: the root is a dict.
        unsafe {
            let mapping = (*std::ptr::addr_of!(ffi::PyDict_Type)).tp_as_mapping;
            match (*mapping).mp_subscript {
                Some(get) => Obj::owned(get(root, key)),
                None => Err(runtime_error("dict has no __getitem__".to_owned())),
            }
        }
    })
}

unsafe extern "C" fn root_get(
    root: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    wrap(|| {
        // The messages of the Python method this replaces (`def get(self, key, default=None, /)`).
        if nargs == 0 {
            return Err(type_error(
                "SharedRoot.get() missing 1 required positional argument: 'key'".to_owned(),
            ));
        }
        if nargs > 2 {
            return Err(type_error(format!(
                "SharedRoot.get() takes from 2 to 3 positional arguments but {} were given",
                nargs + 1
            )));
        }
        // SAFETY: CPython passes `nargs` live arguments.
        let key = unsafe { *args };
        read_key(root, key)?;
        // SAFETY: `dict.get(root, key, default)`: the root is a dict; the item is borrowed.
        unsafe {
            let found = ffi::PyDict_GetItemWithError(root, key);
            if !found.is_null() {
                return Obj::borrowed(found).ok_or_else(PyErr::take);
            }
            if !ffi::PyErr_Occurred().is_null() {
                return Err(PyErr::take());
            }
            Ok(if nargs == 2 {
                Obj::borrowed(*args.add(1)).ok_or_else(PyErr::take)?
            } else {
                Obj::none()
            })
        }
    })
}

unsafe extern "C" fn root_contains(
    root: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    wrap(|| {
        read_key(root, key)?;
        // SAFETY: `dict.__contains__(root, key)`: the root is a dict.
        match unsafe { ffi::PyDict_Contains(root, key) } {
            -1 => Err(PyErr::take()),
            n => Ok(Obj::bool(n == 1)),
        }
    })
}

static METHODS: MethodDefs<3> = MethodDefs([
    ffi::PyMethodDef {
        ml_name: c"__getitem__".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: root_getitem,
        },
        ml_flags: ffi::METH_O,
        ml_doc: std::ptr::null(),
    },
    ffi::PyMethodDef {
        ml_name: c"get".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFast: root_get,
        },
        ml_flags: ffi::METH_FASTCALL,
        ml_doc: std::ptr::null(),
    },
    ffi::PyMethodDef {
        ml_name: c"__contains__".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: root_contains,
        },
        ml_flags: ffi::METH_O,
        ml_doc: std::ptr::null(),
    },
]);

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
    let slots = slots_of(obj.as_ptr())?;
    set_slot(&obj, slots.name, Obj::str(name)?);
    set_slot(&obj, slots.key, Obj::str(key)?);
    set_slot(&obj, slots.pending, Obj::bool(pending));
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
