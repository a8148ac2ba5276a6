//! A thin, owned view of CPython objects for the rest of the guest.
//!
//! [`Obj`] owns one strong reference (dropped with `Py_DECREF`); functions that can fail return
//! `Err(PyErr)`, the exception CPython raised, taken out of the thread state. The guest is
//! single-threaded and holds the GIL from `bds_init` on, so nothing here takes it.

use std::ffi::{CStr, c_char};
use std::ptr::NonNull;

use pyo3_ffi as ffi;

/// One strong reference to a Python object.
pub(crate) struct Obj(NonNull<ffi::PyObject>);

/// An exception CPython raised, normalised, with its traceback attached.
pub(crate) struct PyErr(pub(crate) Obj);

pub(crate) type PyResult<T> = Result<T, PyErr>;

impl Obj {
    /// Takes a new reference; a null pointer means an exception is set.
    pub(crate) fn owned(p: *mut ffi::PyObject) -> PyResult<Obj> {
        NonNull::new(p).map(Obj).ok_or_else(PyErr::take)
    }

    /// Takes a borrowed reference (adding a strong one); `None` for null.
    pub(crate) fn borrowed(p: *mut ffi::PyObject) -> Option<Obj> {
        let p = NonNull::new(p)?;
        // SAFETY: `p` is a live object the caller borrowed.
        unsafe { ffi::Py_INCREF(p.as_ptr()) };
        Some(Obj(p))
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::PyObject {
        self.0.as_ptr()
    }

    /// Gives the reference away (to a function that steals it).
    pub(crate) fn into_ptr(self) -> *mut ffi::PyObject {
        let p = self.0.as_ptr();
        std::mem::forget(self);
        p
    }

    pub(crate) fn none() -> Obj {
        // SAFETY: None is immortal enough: we hold a reference of our own.
        Obj::borrowed(unsafe { ffi::Py_None() }).expect("None exists")
    }

    pub(crate) fn bool(b: bool) -> Obj {
        // SAFETY: the two booleans always exist.
        Obj::borrowed(unsafe { if b { ffi::Py_True() } else { ffi::Py_False() } })
            .expect("bools exist")
    }

    pub(crate) fn str(s: &str) -> PyResult<Obj> {
        // SAFETY: a valid UTF-8 buffer of that length.
        Obj::owned(unsafe {
            ffi::PyUnicode_FromStringAndSize(s.as_ptr().cast(), s.len() as ffi::Py_ssize_t)
        })
    }

    pub(crate) fn int(v: i64) -> PyResult<Obj> {
        // SAFETY: plain constructor.
        Obj::owned(unsafe { ffi::PyLong_FromLongLong(v) })
    }

    pub(crate) fn uint(v: u64) -> PyResult<Obj> {
        // SAFETY: plain constructor.
        Obj::owned(unsafe { ffi::PyLong_FromUnsignedLongLong(v) })
    }

    pub(crate) fn float(v: f64) -> PyResult<Obj> {
        // SAFETY: plain constructor.
        Obj::owned(unsafe { ffi::PyFloat_FromDouble(v) })
    }

    pub(crate) fn dict() -> PyResult<Obj> {
        // SAFETY: plain constructor.
        Obj::owned(unsafe { ffi::PyDict_New() })
    }

    pub(crate) fn tuple(items: Vec<Obj>) -> PyResult<Obj> {
        // SAFETY: a fresh tuple of that size, each slot filled once with a stolen reference.
        unsafe {
            let t = Obj::owned(ffi::PyTuple_New(items.len() as ffi::Py_ssize_t))?;
            for (i, item) in items.into_iter().enumerate() {
                ffi::PyTuple_SET_ITEM(t.as_ptr(), i as ffi::Py_ssize_t, item.into_ptr());
            }
            Ok(t)
        }
    }

    pub(crate) fn is(&self, other: *mut ffi::PyObject) -> bool {
        self.as_ptr() == other
    }

    /// `self(*args)`.
    pub(crate) fn call(&self, args: Vec<Obj>) -> PyResult<Obj> {
        let args = Obj::tuple(args)?;
        // SAFETY: a callable (or CPython raises TypeError) and a tuple.
        Obj::owned(unsafe {
            ffi::PyObject_Call(self.as_ptr(), args.as_ptr(), std::ptr::null_mut())
        })
    }

    /// `self(arg)`, without building an argument tuple.
    pub(crate) fn call1(&self, arg: &Obj) -> PyResult<Obj> {
        // SAFETY: a callable (or CPython raises TypeError) and a live argument.
        Obj::owned(unsafe { ffi::PyObject_CallOneArg(self.as_ptr(), arg.as_ptr()) })
    }

    /// A new, empty instance of `cls` made by its base's constructor (`base.__new__(cls)`),
    /// without running the class's `__init__`: for `shared.py`'s read-only classes, whose
    /// `__init__` only refuses arguments.
    pub(crate) fn new_empty(cls: &Obj, base: *mut ffi::PyTypeObject) -> PyResult<Obj> {
        // SAFETY: `cls` is a subclass of `base` (checked); the empty tuple is a singleton.
        unsafe {
            if ffi::PyType_Check(cls.as_ptr()) == 0
                || ffi::PyType_IsSubtype(cls.as_ptr().cast(), base) == 0
            {
                return Err(PyErr::new(
                    ffi::PyExc_TypeError,
                    "not a subclass of the base",
                ));
            }
            let Some(new) = (*base).tp_new else {
                return Err(PyErr::new(
                    ffi::PyExc_TypeError,
                    "the base has no constructor",
                ));
            };
            let args = Obj::owned(ffi::PyTuple_New(0))?;
            Obj::owned(new(
                cls.as_ptr().cast(),
                args.as_ptr(),
                std::ptr::null_mut(),
            ))
        }
    }

    /// `self.name`, the name interned once (no string is built per call).
    pub(crate) fn getattr(&self, name: &'static CStr) -> PyResult<Obj> {
        let name = interned(name)?;
        // SAFETY: a live object and a `str` name.
        Obj::owned(unsafe { ffi::PyObject_GetAttr(self.as_ptr(), name.as_ptr()) })
    }

    pub(crate) fn setattr(&self, name: &'static CStr, value: &Obj) -> PyResult<()> {
        let name = interned(name)?;
        // SAFETY: a live object, a `str` name and a live value.
        check(unsafe { ffi::PyObject_SetAttr(self.as_ptr(), name.as_ptr(), value.as_ptr()) })
    }

    /// `dict[key] = value` through the C API: a dict subclass's own `__setitem__` is not run.
    pub(crate) fn dict_set(&self, key: &str, value: &Obj) -> PyResult<()> {
        let key = Obj::str(key)?;
        // SAFETY: `self` is a dict (or subclass) and both objects live.
        check(unsafe { ffi::PyDict_SetItem(self.as_ptr(), key.as_ptr(), value.as_ptr()) })
    }

    /// `dict.get(key)` without running a subclass's methods; `None` when absent.
    pub(crate) fn dict_get(&self, key: &CStr) -> Option<Obj> {
        // SAFETY: `self` is a dict; the result is borrowed.
        Obj::borrowed(unsafe { ffi::PyDict_GetItemString(self.as_ptr(), key.as_ptr()) })
    }

    /// `dict.get(key)` without running a subclass's methods; `Ok(None)` when absent.
    pub(crate) fn dict_get_obj(&self, key: &Obj) -> PyResult<Option<Obj>> {
        // SAFETY: `self` is a dict; the result is borrowed, null with an error on failure.
        unsafe {
            let p = ffi::PyDict_GetItemWithError(self.as_ptr(), key.as_ptr());
            if p.is_null() && !ffi::PyErr_Occurred().is_null() {
                return Err(PyErr::take());
            }
            Ok(Obj::borrowed(p))
        }
    }

    /// The `str`'s text, when it is a `str` that UTF-8 can hold (no lone surrogate).
    pub(crate) fn to_str(&self) -> Option<&str> {
        // SAFETY: the buffer CPython returns lives as long as the object.
        unsafe {
            if ffi::PyUnicode_Check(self.as_ptr()) == 0 {
                return None;
            }
            let mut len: ffi::Py_ssize_t = 0;
            let p = ffi::PyUnicode_AsUTF8AndSize(self.as_ptr(), &mut len);
            if p.is_null() {
                ffi::PyErr_Clear();
                return None;
            }
            let bytes = std::slice::from_raw_parts(p.cast::<u8>(), len as usize);
            std::str::from_utf8(bytes).ok()
        }
    }

    /// The text of a `str`, lone surrogates replaced.
    pub(crate) fn lossy(&self) -> String {
        if let Some(s) = self.to_str() {
            return s.to_owned();
        }
        // SAFETY: encode with a replacing error handler; the bytes live as long as `b`.
        unsafe {
            let b = ffi::PyUnicode_AsEncodedString(
                self.as_ptr(),
                c"utf-8".as_ptr(),
                c"replace".as_ptr(),
            );
            let Ok(b) = Obj::owned(b) else {
                ffi::PyErr_Clear();
                return String::new();
            };
            let p = ffi::PyBytes_AsString(b.as_ptr());
            let n = ffi::PyBytes_Size(b.as_ptr());
            String::from_utf8_lossy(std::slice::from_raw_parts(p.cast::<u8>(), n as usize))
                .into_owned()
        }
    }

    /// An `int` that fits `u64`; `None` otherwise (the error cleared).
    pub(crate) fn to_u64(&self) -> Option<u64> {
        // SAFETY: checked conversion; an overflow or a non-int sets an error, cleared here.
        unsafe {
            if ffi::PyLong_Check(self.as_ptr()) == 0 {
                return None;
            }
            let v = ffi::PyLong_AsUnsignedLongLong(self.as_ptr());
            if v == u64::MAX && !ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_Clear();
                return None;
            }
            Some(v)
        }
    }

    /// The items of a tuple.
    pub(crate) fn tuple_items(&self) -> Option<Vec<Obj>> {
        // SAFETY: checked to be a tuple; items are borrowed and taken with a new reference.
        unsafe {
            if ffi::PyTuple_Check(self.as_ptr()) == 0 {
                return None;
            }
            let n = ffi::PyTuple_GET_SIZE(self.as_ptr());
            (0..n)
                .map(|i| Obj::borrowed(ffi::PyTuple_GET_ITEM(self.as_ptr(), i)))
                .collect()
        }
    }

    /// The items of a list (a copy of its item pointers, each with a reference).
    pub(crate) fn list_items(&self) -> Option<Vec<Obj>> {
        // SAFETY: checked to be a list; items are borrowed and taken with a new reference.
        unsafe {
            if ffi::PyList_Check(self.as_ptr()) == 0 {
                return None;
            }
            let n = ffi::PyList_GET_SIZE(self.as_ptr());
            (0..n)
                .map(|i| Obj::borrowed(ffi::PyList_GET_ITEM(self.as_ptr(), i)))
                .collect()
        }
    }

    /// The name of the object's type.
    pub(crate) fn type_name(&self) -> String {
        // SAFETY: every object has a type with a NUL-terminated name.
        unsafe {
            let t = ffi::Py_TYPE(self.as_ptr());
            CStr::from_ptr((*t).tp_name)
                .to_string_lossy()
                .rsplit('.')
                .next()
                .unwrap_or("?")
                .to_owned()
        }
    }
}

impl Clone for Obj {
    fn clone(&self) -> Obj {
        // SAFETY: we hold a reference, so the object is alive.
        unsafe { ffi::Py_INCREF(self.as_ptr()) };
        Obj(self.0)
    }
}

impl Drop for Obj {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { ffi::Py_DECREF(self.as_ptr()) }
    }
}

impl PyErr {
    /// Takes the current exception (a `SystemError` if, wrongly, none is set).
    pub(crate) fn take() -> PyErr {
        // SAFETY: the 3.11 fetch/normalise protocol; every pointer is owned or null.
        unsafe {
            let (mut t, mut v, mut tb) = (
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
            if t.is_null() {
                return PyErr::new(
                    ffi::PyExc_SystemError,
                    "an error was reported without an exception",
                );
            }
            ffi::PyErr_NormalizeException(&mut t, &mut v, &mut tb);
            if !tb.is_null() && !v.is_null() {
                ffi::PyException_SetTraceback(v, tb);
            }
            drop(Obj::owned(t));
            drop(Obj::owned(tb));
            match Obj::owned(v) {
                Ok(v) => PyErr(v),
                Err(_) => PyErr::new(
                    ffi::PyExc_SystemError,
                    "an exception could not be normalised",
                ),
            }
        }
    }

    /// A new exception of type `kind` with `message`.
    pub(crate) fn new(kind: *mut ffi::PyObject, message: &str) -> PyErr {
        let Ok(msg) = Obj::str(message) else {
            return PyErr::take();
        };
        // SAFETY: exception classes are callables taking one argument.
        let args = match Obj::tuple(vec![msg]) {
            Ok(a) => a,
            Err(e) => return e,
        };
        match Obj::owned(unsafe { ffi::PyObject_Call(kind, args.as_ptr(), std::ptr::null_mut()) }) {
            Ok(e) => PyErr(e),
            Err(e) => e,
        }
    }

    /// Raises this exception in the thread state (for a native function's `NULL` return).
    pub(crate) fn restore(self) {
        // SAFETY: `PyErr_SetObject` takes the type and the instance (both borrowed).
        unsafe {
            let t = ffi::Py_TYPE(self.0.as_ptr()).cast::<ffi::PyObject>();
            ffi::PyErr_SetObject(t, self.0.as_ptr());
        }
    }
}

thread_local! {
    static INTERNED: std::cell::RefCell<Vec<(&'static CStr, Obj)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The interned `str` of a name the guest uses on every call (attribute and dict keys).
pub(crate) fn interned(name: &'static CStr) -> PyResult<Obj> {
    INTERNED.with(|t| {
        // By address first: each call site passes its own literal, so this finds it at once.
        let found = {
            let t = t.borrow();
            t.iter()
                .find(|(n, _)| std::ptr::eq(n.as_ptr(), name.as_ptr()))
                .or_else(|| t.iter().find(|(n, _)| *n == name))
                .map(|(_, o)| o.clone())
        };
        if let Some(o) = found {
            return Ok(o);
        }
        // SAFETY: a NUL-terminated name.
        let o = Obj::owned(unsafe { ffi::PyUnicode_InternFromString(name.as_ptr()) })?;
        t.borrow_mut().push((name, o.clone()));
        Ok(o)
    })
}

/// The next item of an iterator; `Ok(None)` at its end.
pub(crate) fn next(it: &Obj) -> PyResult<Option<Obj>> {
    // SAFETY: `it` is an iterator; a null return with no exception set is its end.
    unsafe {
        let p = ffi::PyIter_Next(it.as_ptr());
        if p.is_null() {
            if ffi::PyErr_Occurred().is_null() {
                return Ok(None);
            }
            return Err(PyErr::take());
        }
        Ok(Some(Obj(NonNull::new_unchecked(p))))
    }
}

/// Runs a native function's body, turning `Err` into a raised exception and a null return.
pub(crate) fn wrap(f: impl FnOnce() -> PyResult<Obj>) -> *mut ffi::PyObject {
    match f() {
        Ok(o) => o.into_ptr(),
        Err(e) => {
            e.restore();
            std::ptr::null_mut()
        }
    }
}

/// Static method definitions: CPython keeps a pointer to each for the function's lifetime.
pub(crate) struct MethodDefs<const N: usize>(pub(crate) [ffi::PyMethodDef; N]);
// SAFETY: the definitions are immutable after construction and the guest is single-threaded.
unsafe impl<const N: usize> Sync for MethodDefs<N> {}

/// `-1` from the C API means an exception is set.
pub(crate) fn check(status: i32) -> PyResult<()> {
    if status < 0 {
        Err(PyErr::take())
    } else {
        Ok(())
    }
}

/// A `&'static CStr` from a literal-ish `&str` known to hold no NUL (names in this crate).
pub(crate) fn cstr(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s).expect("no NUL in a guest name")
}

/// Compiles and runs `source` in `globals` (a dict), as a module body.
pub(crate) fn exec(source: &str, filename: &CStr, globals: &Obj) -> PyResult<()> {
    let source = cstr(source);
    // SAFETY: NUL-terminated source and name; `globals` is a dict.
    unsafe {
        let code = Obj::owned(ffi::Py_CompileString(
            source.as_ptr(),
            filename.as_ptr(),
            ffi::Py_file_input,
        ))?;
        Obj::owned(ffi::PyEval_EvalCode(
            code.as_ptr(),
            globals.as_ptr(),
            globals.as_ptr(),
        ))?;
    }
    Ok(())
}

pub(crate) fn c(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: a NUL-terminated C string from CPython.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}
