//! The guest's native helpers, handed to its private Python (`importer.py`, `glue.py`):
//! - `_stdlib_kind(name)` / `_stdlib_code(name)`: the built-in standard library table
//!   (`stdlib.py` writes it; it is compiled into this module as bytes);
//! - `_markdown(text, inline)`: [`bds_ipc::markdown_to_html`] for `bds_markdown.render`;
//! - `_fill(root)`: fills a shared root from the worker ([`crate::shared::fill`]);
//! - `_key(root, key)` / `_whole(root)`: `shared.py`'s record of a read
//!   ([`crate::shared::read_key`]).
//!
//! Each is a CPython builtin function object made from a static `PyMethodDef`; none is reachable
//! from a script except through the Python wrappers that use them.

use std::collections::HashMap;
use std::ffi::c_char;
use std::sync::OnceLock;

use pyo3_ffi as ffi;

use crate::py::{MethodDefs, Obj, PyErr, PyResult, wrap};

static STDLIB: &[u8] = include_bytes!(env!("BDS_STDLIB_BIN"));

/// Module name → (kind: 1 module, 2 package; marshalled code).
fn table() -> &'static HashMap<&'static str, (u8, &'static [u8])> {
    static TABLE: OnceLock<HashMap<&'static str, (u8, &'static [u8])>> = OnceLock::new();
    TABLE.get_or_init(|| parse(STDLIB).expect("the built-in stdlib table is malformed"))
}

fn parse(b: &'static [u8]) -> Option<HashMap<&'static str, (u8, &'static [u8])>> {
    let rest = b.strip_prefix(b"BDSLIB1\0")?;
    let (count, mut rest) = rest.split_at_checked(4)?;
    let count = u32::from_le_bytes(count.try_into().ok()?);
    let mut out = HashMap::with_capacity(count as usize);
    for _ in 0..count {
        let (n, r) = rest.split_at_checked(2)?;
        let (name, r) = r.split_at_checked(u16::from_le_bytes(n.try_into().ok()?) as usize)?;
        let (&kind, r) = r.split_first()?;
        let (len, r) = r.split_at_checked(4)?;
        let (code, r) = r.split_at_checked(u32::from_le_bytes(len.try_into().ok()?) as usize)?;
        out.insert(std::str::from_utf8(name).ok()?, (kind, code));
        rest = r;
    }
    rest.is_empty().then_some(out)
}

fn arg(args: *mut ffi::PyObject, i: isize) -> Option<Obj> {
    // SAFETY: `args` is the positional tuple CPython passes to a METH_VARARGS function.
    unsafe {
        if i >= ffi::PyTuple_GET_SIZE(args) {
            return None;
        }
        Obj::borrowed(ffi::PyTuple_GET_ITEM(args, i))
    }
}

unsafe extern "C" fn stdlib_kind(
    _: *mut ffi::PyObject,
    name: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    wrap(|| {
        let name = Obj::borrowed(name).ok_or_else(PyErr::take)?;
        let kind = name
            .to_str()
            .and_then(|n| table().get(n))
            .map_or(0, |e| e.0);
        Obj::int(i64::from(kind))
    })
}

unsafe extern "C" fn stdlib_code(
    _: *mut ffi::PyObject,
    name: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    wrap(|| {
        let name = Obj::borrowed(name).ok_or_else(PyErr::take)?;
        let Some((_, code)) = name.to_str().and_then(|n| table().get(n)) else {
            // SAFETY: a live exception class.
            return Err(PyErr::new(
                unsafe { ffi::PyExc_ImportError },
                "not in the built-in stdlib",
            ));
        };
        // SAFETY: marshal data written by CPython 3.11 (stdlib.py), read-only and static.
        Obj::owned(unsafe {
            ffi::PyMarshal_ReadObjectFromString(
                code.as_ptr().cast::<c_char>(),
                code.len() as ffi::Py_ssize_t,
            )
        })
    })
}

unsafe extern "C" fn markdown(
    _: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    wrap(|| {
        let text = arg(args, 0).ok_or_else(PyErr::take)?;
        // SAFETY: a live exception class.
        let value_error = unsafe { ffi::PyExc_ValueError };
        let Some(text) = text.to_str() else {
            // The wrapper checked it is a str: it holds a lone surrogate.
            return Err(PyErr::new(
                value_error,
                "render() argument 'text' holds a lone surrogate",
            ));
        };
        // Its truth value, which may raise (a `__bool__` of the script's).
        let inline = match arg(args, 1) {
            // SAFETY: a live object.
            Some(o) => match unsafe { ffi::PyObject_IsTrue(o.as_ptr()) } {
                -1 => return Err(PyErr::take()),
                t => t == 1,
            },
            None => false,
        };
        Obj::str(&bds_ipc::markdown_to_html(text, inline))
    })
}

unsafe extern "C" fn fill(_: *mut ffi::PyObject, root: *mut ffi::PyObject) -> *mut ffi::PyObject {
    wrap(|| {
        let root = Obj::borrowed(root).ok_or_else(PyErr::take)?;
        crate::shared::fill(&root)?;
        Ok(Obj::none())
    })
}

unsafe extern "C" fn key(
    _: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    wrap(|| {
        if nargs != 2 {
            // SAFETY: a live exception class.
            return Err(PyErr::new(
                unsafe { ffi::PyExc_TypeError },
                "_key(root, key)",
            ));
        }
        // SAFETY: CPython passes `nargs` live arguments.
        let (root, key) = unsafe { (*args, *args.add(1)) };
        crate::shared::read_key(root, key)?;
        Ok(Obj::none())
    })
}

unsafe extern "C" fn whole(_: *mut ffi::PyObject, root: *mut ffi::PyObject) -> *mut ffi::PyObject {
    wrap(|| {
        crate::shared::read_whole(root)?;
        Ok(Obj::none())
    })
}

static DEFS: MethodDefs<6> = MethodDefs([
    ffi::PyMethodDef {
        ml_name: c"_stdlib_kind".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: stdlib_kind,
        },
        ml_flags: ffi::METH_O,
        ml_doc: std::ptr::null(),
    },
    ffi::PyMethodDef {
        ml_name: c"_stdlib_code".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: stdlib_code,
        },
        ml_flags: ffi::METH_O,
        ml_doc: std::ptr::null(),
    },
    ffi::PyMethodDef {
        ml_name: c"_markdown".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: markdown,
        },
        ml_flags: ffi::METH_VARARGS,
        ml_doc: std::ptr::null(),
    },
    ffi::PyMethodDef {
        ml_name: c"_fill".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunction: fill },
        ml_flags: ffi::METH_O,
        ml_doc: std::ptr::null(),
    },
    // shared.py's `_key` and `_whole` (what a read of a root records), natively.
    ffi::PyMethodDef {
        ml_name: c"_key".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFast: key,
        },
        ml_flags: ffi::METH_FASTCALL,
        ml_doc: std::ptr::null(),
    },
    ffi::PyMethodDef {
        ml_name: c"_whole".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunction: whole },
        ml_flags: ffi::METH_O,
        ml_doc: std::ptr::null(),
    },
]);

/// Puts the native helpers into `globals` under their names.
pub(crate) fn install(globals: &Obj) -> PyResult<()> {
    for def in &DEFS.0 {
        let ptr = std::ptr::from_ref(def).cast_mut();
        // SAFETY: a static definition; no self, no module.
        let f = Obj::owned(unsafe {
            ffi::PyCFunction_NewEx(ptr, std::ptr::null_mut(), std::ptr::null_mut())
        })?;
        let name = crate::py::c(def.ml_name);
        globals.dict_set(&name, &f)?;
    }
    Ok(())
}
