//! Python → JSON in the CPython guest: a result is checked as it is written, with the
//! RustPython guest's rules and messages: a `dict` at the top, `str` keys, finite floats,
//! integers of at most 4,300 digits (written exactly, as CPython's `json` writes them), nesting
//! and size within the call's limits. A check that fails names the path of the value
//! (`result['items'][3]`), an `abi-violation` (or `output-too-large`).

use bds_ipc::{ErrorInfo, ErrorKind, GuestCall};
use pyo3_ffi as ffi;

use crate::py::Obj;

fn abi(message: impl Into<String>) -> ErrorInfo {
    ErrorInfo::plain(ErrorKind::AbiViolation, message)
}

/// Where a value sits in the result, written out only for an error message.
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => f.write_str("result"),
            Path::Key(up, key) => write!(f, "{up}[{key:?}]"),
            Path::Index(up, n) => write!(f, "{up}[{n}]"),
        }
    }
}

struct Emit {
    out: Vec<u8>,
    max_bytes: usize,
    max_depth: u32,
}

impl Emit {
    fn check_size(&self) -> Result<(), ErrorInfo> {
        bds_ipc::guest_side::check_result_size(self.out.len(), self.max_bytes)
    }

    fn value(&mut self, o: &Obj, depth: u32, path: &Path<'_>) -> Result<(), ErrorInfo> {
        let p = o.as_ptr();
        // SAFETY: type checks and reads on a live object; borrowed items are taken with a
        // reference before anything else can run.
        unsafe {
            if o.is(ffi::Py_None()) {
                self.out.extend_from_slice(b"null");
            } else if o.is(ffi::Py_True()) {
                self.out.extend_from_slice(b"true");
            } else if o.is(ffi::Py_False()) {
                self.out.extend_from_slice(b"false");
            } else if ffi::PyUnicode_Check(p) != 0 {
                let Some(s) = o.to_str() else {
                    return Err(abi(format!("{path} is a string with a lone surrogate")));
                };
                self.string(s);
            } else if ffi::PyLong_Check(p) != 0 {
                let mut overflow = 0;
                let v = ffi::PyLong_AsLongLongAndOverflow(p, &mut overflow);
                if overflow == 0 {
                    let _ = std::io::Write::write_fmt(&mut self.out, format_args!("{v}"));
                } else {
                    // Any size, every digit, as CPython's json writes it (`int.__repr__`, so
                    // an int subclass writes its value, not its own repr); past CPython's
                    // default digit limit, refused whatever limit the script set.
                    let repr = (*std::ptr::addr_of!(ffi::PyLong_Type)).tp_repr;
                    let digits = Obj::owned(repr.map_or(std::ptr::null_mut(), |r| r(p)));
                    let text = match &digits {
                        Ok(d) => d.to_str(),
                        Err(_) => None,
                    };
                    match text {
                        Some(t) if t.trim_start_matches('-').len() <= bds_ipc::MAX_INT_DIGITS => {
                            self.out.extend_from_slice(t.as_bytes());
                        }
                        _ => return Err(abi(bds_ipc::int_too_long(&path.to_string()))),
                    }
                }
            } else if ffi::PyFloat_Check(p) != 0 {
                let f = ffi::PyFloat_AsDouble(p);
                if !f.is_finite() {
                    let shown = if f.is_nan() {
                        "NaN".to_owned()
                    } else {
                        format!("{f}")
                    };
                    return Err(abi(format!("{path} is {shown}, which JSON cannot carry")));
                }
                // serde_json prints the shortest representation that reads back exactly.
                let _ = serde_json::to_writer(&mut self.out, &f);
            } else if ffi::PyDict_Check(p) != 0 {
                self.enter(depth, path)?;
                self.out.push(b'{');
                let mut pos: ffi::Py_ssize_t = 0;
                let mut n = 0;
                let (mut k, mut v) = (std::ptr::null_mut(), std::ptr::null_mut());
                // Items are taken first: writing a value runs no Python, but the dict must not
                // be read while it could change.
                let mut items = Vec::new();
                while ffi::PyDict_Next(p, &mut pos, &mut k, &mut v) != 0 {
                    if let (Some(k), Some(v)) = (Obj::borrowed(k), Obj::borrowed(v)) {
                        items.push((k, v));
                    }
                }
                for (k, v) in items {
                    let Some(key) = k.to_str() else {
                        return Err(abi(format!(
                            "{path} has a key of type {} (only str keys cross)",
                            k.type_name()
                        )));
                    };
                    if n > 0 {
                        self.out.push(b',');
                    }
                    n += 1;
                    self.string(key);
                    self.out.push(b':');
                    self.value(&v, depth + 1, &Path::Key(path, key))?;
                    self.check_size()?;
                }
                self.out.push(b'}');
            } else if let Some(items) = o.list_items().or_else(|| o.tuple_items()) {
                self.enter(depth, path)?;
                self.seq(&items, depth, path)?;
            } else {
                return Err(abi(format!(
                    "{path} is a {}, which is not a JSON value",
                    o.type_name()
                )));
            }
        }
        self.check_size()
    }

    fn enter(&self, depth: u32, path: &Path<'_>) -> Result<(), ErrorInfo> {
        if depth >= self.max_depth {
            return Err(abi(format!(
                "{path} nests deeper than {} levels (a recursive structure?)",
                self.max_depth
            )));
        }
        Ok(())
    }

    fn seq(&mut self, items: &[Obj], depth: u32, path: &Path<'_>) -> Result<(), ErrorInfo> {
        self.out.push(b'[');
        for (n, v) in items.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            self.value(v, depth + 1, &Path::Index(path, n))?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn string(&mut self, s: &str) {
        let _ = serde_json::to_writer(&mut self.out, s);
    }
}

/// The result of a call as JSON text, checked.
pub(crate) fn to_result_json(value: &Obj, req: &GuestCall) -> Result<Vec<u8>, ErrorInfo> {
    // SAFETY: a type check on a live object.
    if unsafe { ffi::PyDict_Check(value.as_ptr()) } == 0 {
        return Err(abi(format!(
            "{}() must return a dict, not {}",
            req.entry,
            value.type_name()
        )));
    }
    let mut e = Emit {
        out: Vec::with_capacity(256),
        max_bytes: req.max_result_bytes as usize,
        max_depth: req.max_depth,
    };
    e.value(value, 0, &Path::Root)?;
    Ok(e.out)
}
