//! JSON ⇄ Python in the CPython guest, natively, with the RustPython guest's rules.
//!
//! In: JSON text straight into Python objects, one pass (serde's visitor builds them as it
//! reads); integers within 64 bits become `int`, any other number `float`.
//! Out: a result is checked as it is written: a `dict` at the top, `str` keys, finite floats,
//! integers of at most 4,300 digits (written exactly), nesting and size within the call's limits. A check that fails names
//! the path of the value (`result['items'][3]`).

use bds_ipc::{ErrorInfo, ErrorKind, GuestCall};
use pyo3_ffi as ffi;
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

use crate::py::{Obj, PyResult, check};

/// Reads one JSON value as a Python object.
struct PySeed;

fn py<E: serde::de::Error>(r: PyResult<Obj>) -> Result<Obj, E> {
    r.map_err(|e| E::custom(format!("cannot build a Python value: {}", e.0.type_name())))
}

impl<'de> DeserializeSeed<'de> for PySeed {
    type Value = Obj;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Obj, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PySeed {
    type Value = Obj;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Obj, E> {
        Ok(Obj::none())
    }
    fn visit_bool<E>(self, v: bool) -> Result<Obj, E> {
        Ok(Obj::bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Obj, E> {
        py(Obj::int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Obj, E> {
        py(Obj::uint(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Obj, E> {
        py(Obj::float(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Obj, E> {
        py(Obj::str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Obj, A::Error> {
        // SAFETY: a fresh list; each append takes its own reference.
        let list = py(Obj::owned(unsafe { ffi::PyList_New(0) }))?;
        while let Some(item) = seq.next_element_seed(PySeed)? {
            // SAFETY: both objects live.
            if unsafe { ffi::PyList_Append(list.as_ptr(), item.as_ptr()) } < 0 {
                return Err(A::Error::custom("cannot grow a list"));
            }
        }
        Ok(list)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Obj, A::Error> {
        let d = py(Obj::dict())?;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = map.next_value_seed(PySeed)?;
            d.dict_set(&key, &value)
                .map_err(|_| A::Error::custom("cannot set a dict item"))?;
        }
        Ok(d)
    }
}

/// A call's context: a JSON object as a Python dict, except the key `skip`, whose value is
/// returned as a `serde_json::Value` (the caller makes it a read-only root; the dict holds
/// `None` in its place, keeping the key's order). `Ok(None)`: the text is JSON but not an object.
pub(crate) fn context(
    text: &[u8],
    skip: &str,
) -> Result<Option<(Obj, Option<serde_json::Value>)>, serde_json::Error> {
    struct Top<'a> {
        skip: &'a str,
    }
    impl<'de> Visitor<'de> for Top<'_> {
        type Value = Option<(Obj, Option<serde_json::Value>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let d = py(Obj::dict())?;
            let mut skipped = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                let value = if key == self.skip {
                    skipped = Some(map.next_value::<serde_json::Value>()?);
                    Obj::none()
                } else {
                    map.next_value_seed(PySeed)?
                };
                d.dict_set(&key, &value)
                    .map_err(|_| A::Error::custom("cannot set a dict item"))?;
            }
            Ok(Some((d, skipped)))
        }
        // Anything else is read (so the text is checked as JSON) and refused.
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    let out = de.deserialize_any(Top { skip })?;
    de.end()?;
    Ok(out)
}

/// A parsed JSON value as Python objects.
pub(crate) fn json_to_py(v: &serde_json::Value) -> PyResult<Obj> {
    use serde_json::Value;
    match v {
        Value::Null => Ok(Obj::none()),
        Value::Bool(b) => Ok(Obj::bool(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Obj::int(i)
            } else if let Some(u) = n.as_u64() {
                Obj::uint(u)
            } else {
                Obj::float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Obj::str(s),
        Value::Array(a) => {
            // SAFETY: a fresh list; each append takes its own reference.
            let list = Obj::owned(unsafe { ffi::PyList_New(0) })?;
            for x in a {
                let item = json_to_py(x)?;
                // SAFETY: both objects live.
                check(unsafe { ffi::PyList_Append(list.as_ptr(), item.as_ptr()) })?;
            }
            Ok(list)
        }
        Value::Object(o) => {
            let d = Obj::dict()?;
            for (k, x) in o {
                d.dict_set(k, &json_to_py(x)?)?;
            }
            Ok(d)
        }
    }
}

fn abi(message: impl Into<String>) -> ErrorInfo {
    ErrorInfo::plain(ErrorKind::AbiViolation, message)
}

struct Emit {
    out: Vec<u8>,
    max_bytes: usize,
    max_depth: u32,
}

impl Emit {
    fn check_size(&self) -> Result<(), ErrorInfo> {
        if self.out.len() > self.max_bytes {
            Err(ErrorInfo::plain(
                ErrorKind::OutputTooLarge,
                format!("the result is over the {}-byte limit", self.max_bytes),
            ))
        } else {
            Ok(())
        }
    }

    fn value(&mut self, o: &Obj, depth: u32, path: &mut String) -> Result<(), ErrorInfo> {
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
                    self.out.extend_from_slice(v.to_string().as_bytes());
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
                        _ => return Err(abi(bds_ipc::int_too_long(path))),
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
                    let len = path.len();
                    path.push_str(&format!("[{key:?}]"));
                    self.value(&v, depth + 1, path)?;
                    path.truncate(len);
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

    fn enter(&self, depth: u32, path: &str) -> Result<(), ErrorInfo> {
        if depth >= self.max_depth {
            return Err(abi(format!(
                "{path} nests deeper than {} levels (a recursive structure?)",
                self.max_depth
            )));
        }
        Ok(())
    }

    fn seq(&mut self, items: &[Obj], depth: u32, path: &mut String) -> Result<(), ErrorInfo> {
        self.out.push(b'[');
        for (n, v) in items.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            let len = path.len();
            path.push_str(&format!("[{n}]"));
            self.value(v, depth + 1, path)?;
            path.truncate(len);
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
    let mut path = String::from("result");
    e.value(value, 0, &mut path)?;
    Ok(e.out)
}
