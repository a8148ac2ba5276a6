//! JSON → Python in the CPython guest, natively, with the RustPython guest's rules: JSON text
//! straight into Python objects, one pass (serde's visitor builds them as it reads), numbers as
//! CPython's `json` reads them: an integer of any size is an `int` (`-0` is `0`), anything with
//! a fraction or an exponent a `float` (see [`number`]). The way back is [`crate::emit`].

use std::cell::RefCell;

use pyo3_ffi as ffi;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::py::{Obj, PyErr, PyResult};
use crate::shared::Classes;

/// The visits of anything but an object: the value is read (so the text is checked as JSON)
/// and answered with `$no`.
macro_rules! not_an_object {
    ($t:ty, $no:expr) => {
        fn visit_unit<E>(self) -> Result<$t, E> {
            Ok($no)
        }
        fn visit_bool<E>(self, _: bool) -> Result<$t, E> {
            Ok($no)
        }
        fn visit_i64<E>(self, _: i64) -> Result<$t, E> {
            Ok($no)
        }
        fn visit_u64<E>(self, _: u64) -> Result<$t, E> {
            Ok($no)
        }
        fn visit_f64<E>(self, _: f64) -> Result<$t, E> {
            Ok($no)
        }
        fn visit_str<E>(self, _: &str) -> Result<$t, E> {
            Ok($no)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$t, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok($no)
        }
    };
}

/// How values are built while serde reads them: plain `dict`/`list`, or `shared.py`'s
/// read-only `FrozenDict`/`FrozenList` (the contents of `context["call"]` and of shared roots).
/// The first Python error is kept (a `MemoryError` must stay one), as serde's errors are text.
pub(crate) struct Build<'a> {
    frozen: Option<&'a Classes>,
    failed: RefCell<Option<PyErr>>,
}

impl<'a> Build<'a> {
    pub(crate) fn plain() -> Self {
        Build {
            frozen: None,
            failed: RefCell::new(None),
        }
    }

    pub(crate) fn frozen(classes: &'a Classes) -> Self {
        Build {
            frozen: Some(classes),
            failed: RefCell::new(None),
        }
    }

    /// The Python error that stopped the reading, if one did.
    pub(crate) fn take_error(&self) -> Option<PyErr> {
        self.failed.borrow_mut().take()
    }

    fn py<E: serde::de::Error>(&self, r: PyResult<Obj>) -> Result<Obj, E> {
        r.map_err(|e| self.fail(e))
    }

    fn fail<E: serde::de::Error>(&self, e: PyErr) -> E {
        let message = format!("cannot build a Python value: {}", e.0.type_name());
        self.failed.borrow_mut().get_or_insert(e);
        E::custom(message)
    }

    fn list(&self) -> PyResult<Obj> {
        match self.frozen {
            // SAFETY: `list` is the base type of `FrozenList`.
            Some(c) => Obj::new_empty(&c.list, std::ptr::addr_of_mut!(ffi::PyList_Type)),
            // SAFETY: plain constructor.
            None => Obj::owned(unsafe { ffi::PyList_New(0) }),
        }
    }

    fn dict(&self) -> PyResult<Obj> {
        match self.frozen {
            // SAFETY: `dict` is the base type of `FrozenDict`.
            Some(c) => Obj::new_empty(&c.dict, std::ptr::addr_of_mut!(ffi::PyDict_Type)),
            None => Obj::dict(),
        }
    }

    /// Reads a JSON object's entries into `d` (a dict or a subclass; its own methods not run),
    /// from `key`, the first key (already read by [`first`]), on.
    fn entries<'de, A: MapAccess<'de>>(
        &self,
        d: &Obj,
        mut key: Option<Obj>,
        map: &mut A,
    ) -> Result<(), A::Error> {
        while let Some(k) = key {
            let value = map.next_value_seed(Value(self))?;
            // SAFETY: `d` is a dict and both objects live.
            if unsafe { ffi::PyDict_SetItem(d.as_ptr(), k.as_ptr(), value.as_ptr()) } < 0 {
                return Err(self.fail(PyErr::take()));
            }
            key = map.next_key_seed(Key(self))?;
        }
        Ok(())
    }
}

/// The key serde_json (with `arbitrary_precision`) hands a number under when it keeps the
/// number's text: `visit_map` with this one key, whose value is the text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// What a `visit_map` finds first: an object's first key (`None`: an empty object), or a number
/// kept as text.
enum First {
    Key(Option<Obj>),
    Number(String),
}

/// Reads the first key of a map, or, when the map is serde's wrapper of a number, the number's
/// text.
fn first<'de, A: MapAccess<'de>>(build: &Build<'_>, map: &mut A) -> Result<First, A::Error> {
    struct FirstKey<'b, 'a>(&'b Build<'a>);
    impl<'de> DeserializeSeed<'de> for FirstKey<'_, '_> {
        type Value = Option<Obj>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Obj>, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl<'de> Visitor<'de> for FirstKey<'_, '_> {
        type Value = Option<Obj>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Option<Obj>, E> {
            if v == NUMBER_TOKEN {
                return Ok(None);
            }
            self.0.py(key_str(v)).map(Some)
        }
    }
    Ok(match map.next_key_seed(FirstKey(build))? {
        Some(None) => First::Number(map.next_value()?),
        key => First::Key(key.flatten()),
    })
}

/// A JSON number serde kept as text (an integer beyond 64 bits, `-0`, or any number with a
/// fraction or an exponent), made as CPython's `json` makes it: digits alone with
/// `PyLong_FromString` (so under the same 4,300-digit limit, a `ValueError` past it), anything
/// else with `PyOS_string_to_double` (correctly rounded; `1e400` is `inf`, as in CPython).
/// Text that is not a JSON number (serde's wrapper spelled out as an object's key) is a
/// `ValueError`.
fn number(text: &str) -> PyResult<Obj> {
    if !bds_ipc::guest_side::is_json_number(text) {
        return Err(PyErr::new(
            // SAFETY: a live exception class.
            unsafe { ffi::PyExc_ValueError },
            &format!("not a JSON number: {text:.40}"),
        ));
    }
    let mut c = Vec::with_capacity(text.len() + 1);
    c.extend_from_slice(text.as_bytes());
    c.push(0);
    let p = c.as_ptr().cast::<std::ffi::c_char>();
    if text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        // SAFETY: a NUL-terminated buffer; no end pointer asked for, no overflow exception.
        let v =
            unsafe { ffi::PyOS_string_to_double(p, std::ptr::null_mut(), std::ptr::null_mut()) };
        // SAFETY: reading the error indicator.
        if v == -1.0 && !unsafe { ffi::PyErr_Occurred() }.is_null() {
            return Err(PyErr::take());
        }
        Obj::float(v)
    } else {
        // SAFETY: a NUL-terminated buffer of digits (and a sign), base 10.
        Obj::owned(unsafe { ffi::PyLong_FromString(p, std::ptr::null_mut(), 10) })
    }
}

/// Reads one JSON value as a Python object.
#[derive(Clone, Copy)]
pub(crate) struct Value<'b, 'a>(pub(crate) &'b Build<'a>);

/// Reads an object's key as a `str`, straight from the text (no Rust `String` on the way).
struct Key<'b, 'a>(&'b Build<'a>);

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = Obj;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Obj, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = Obj;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Obj, E> {
        self.0.py(key_str(v))
    }
}

/// Keys this long or shorter are kept, interned, for later contexts.
const KEPT_KEY_BYTES: usize = 32;
/// At most this many keys are kept (an instance reads its few context keys over and over).
const KEPT_KEYS: usize = 512;

thread_local! {
    static KEYS: RefCell<rustc_hash::FxHashMap<Box<str>, Obj>> =
        RefCell::new(rustc_hash::FxHashMap::default());
}

/// A dict key: the same keys come in every call (`params`, `args`, `call`, `ordinal`…), so
/// short ones are made once, interned (a script's `c["params"]` then finds the very object,
/// its hash already computed) and reused, as CPython's `json` reuses keys within one document.
fn key_str(v: &str) -> PyResult<Obj> {
    if v.len() > KEPT_KEY_BYTES {
        return Obj::str(v);
    }
    KEYS.with(|k| {
        if let Some(o) = k.borrow().get(v) {
            return Ok(o.clone());
        }
        let o = Obj::str(v)?;
        let mut p = o.into_ptr();
        // SAFETY: `p` is a new `str` we own; interning may swap it for the interned one,
        // handing the reference over.
        unsafe { ffi::PyUnicode_InternInPlace(&mut p) };
        let o = Obj::owned(p)?;
        let mut keys = k.borrow_mut();
        if keys.len() < KEPT_KEYS {
            keys.insert(v.into(), o.clone());
        }
        Ok(o)
    })
}

impl<'de> DeserializeSeed<'de> for Value<'_, '_> {
    type Value = Obj;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Obj, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_, '_> {
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
        self.0.py(Obj::int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Obj, E> {
        self.0.py(Obj::uint(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Obj, E> {
        self.0.py(Obj::float(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Obj, E> {
        self.0.py(Obj::str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Obj, A::Error> {
        let list = self.0.py(self.0.list())?;
        while let Some(item) = seq.next_element_seed(self)? {
            // SAFETY: both objects live; the C call skips a subclass's `append`.
            if unsafe { ffi::PyList_Append(list.as_ptr(), item.as_ptr()) } < 0 {
                return Err(self.0.fail(PyErr::take()));
            }
        }
        Ok(list)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Obj, A::Error> {
        let key = match first(self.0, &mut map)? {
            First::Number(text) => return self.0.py(number(&text)),
            First::Key(k) => k,
        };
        let d = self.0.py(self.0.dict())?;
        self.0.entries(&d, key, &mut map)?;
        Ok(d)
    }
}

/// Reads a JSON object's entries into an existing dict (a shared root); `Ok(false)` when the
/// text is JSON but not an object.
pub(crate) fn fill_from(
    build: &Build<'_>,
    d: &Obj,
    text: &[u8],
) -> Result<bool, serde_json::Error> {
    struct Into<'b, 'a>(&'b Build<'a>, &'b Obj);
    impl<'de> Visitor<'de> for Into<'_, '_> {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let key = match first(self.0, &mut map)? {
                First::Number(_) => return Ok(false),
                First::Key(k) => k,
            };
            self.0.entries(self.1, key, &mut map)?;
            Ok(true)
        }
        not_an_object!(bool, false);
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    let out = de.deserialize_any(Into(build, d))?;
    de.end()?;
    Ok(out)
}

/// `context["call"]`: a JSON object becomes a read-only root recording its reads
/// ([`crate::shared::call_root`]); anything else (the engine never sends it) a plain value.
struct CallValue<'b, 'a> {
    plain: &'b Build<'a>,
    frozen: &'b Build<'a>,
    name: &'b str,
}

impl<'de> DeserializeSeed<'de> for CallValue<'_, '_> {
    type Value = (Obj, bool);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(Obj, bool), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CallValue<'_, '_> {
    type Value = (Obj, bool);
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(Obj, bool), A::Error> {
        let key = match first(self.frozen, &mut map)? {
            First::Number(text) => return Ok((self.plain.py(number(&text))?, false)),
            First::Key(k) => k,
        };
        let root = self.frozen.py(crate::shared::call_root(self.name))?;
        self.frozen.entries(&root, key, &mut map)?;
        Ok((root, true))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(Obj, bool), A::Error> {
        Ok((Value(self.plain).visit_seq(seq)?, false))
    }
    fn visit_unit<E>(self) -> Result<(Obj, bool), E> {
        Ok((Obj::none(), false))
    }
    fn visit_bool<E>(self, v: bool) -> Result<(Obj, bool), E> {
        Ok((Obj::bool(v), false))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(Obj, bool), E> {
        Ok((Value(self.plain).visit_i64(v)?, false))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(Obj, bool), E> {
        Ok((Value(self.plain).visit_u64(v)?, false))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(Obj, bool), E> {
        Ok((Value(self.plain).visit_f64(v)?, false))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(Obj, bool), E> {
        Ok((Value(self.plain).visit_str(v)?, false))
    }
}

/// A call's context, read from its JSON text.
pub(crate) struct Context {
    /// The context as a dict.
    pub(crate) dict: Obj,
    /// The value at the key `root` (a root when it is an object), already in `dict`.
    pub(crate) root: Option<(Obj, bool)>,
}

/// A call's context: a JSON object as a Python dict, whose key `root` (`"call"`, a macro
/// call's metadata) becomes a read-only root when it is an object. `Ok(None)`: the text is JSON
/// but not an object. A Python error while building (a `MemoryError`) is in `plain` or
/// `frozen` ([`Build::take_error`]).
pub(crate) fn context(
    text: &[u8],
    root: &str,
    plain: &Build<'_>,
    frozen: &Build<'_>,
) -> Result<Option<Context>, serde_json::Error> {
    struct Top<'b, 'a> {
        root: &'b str,
        plain: &'b Build<'a>,
        frozen: &'b Build<'a>,
    }
    impl<'de> Visitor<'de> for Top<'_, '_> {
        type Value = Option<Context>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut next = match first(self.plain, &mut map)? {
                First::Number(_) => return Ok(None),
                First::Key(k) => k,
            };
            let d = self.plain.py(Obj::dict())?;
            let mut found = None;
            while let Some(key) = next.take() {
                let value = if key.to_str() == Some(self.root) {
                    let (v, is_root) = map.next_value_seed(CallValue {
                        plain: self.plain,
                        frozen: self.frozen,
                        name: self.root,
                    })?;
                    found = Some((v.clone(), is_root));
                    v
                } else {
                    map.next_value_seed(Value(self.plain))?
                };
                // SAFETY: `d` is a dict and both objects live.
                if unsafe { ffi::PyDict_SetItem(d.as_ptr(), key.as_ptr(), value.as_ptr()) } < 0 {
                    return Err(self.plain.fail(PyErr::take()));
                }
                next = map.next_key_seed(Key(self.plain))?;
            }
            Ok(Some(Context {
                dict: d,
                root: found,
            }))
        }
        not_an_object!(Option<Context>, None);
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    let out = de.deserialize_any(Top {
        root,
        plain,
        frozen,
    })?;
    de.end()?;
    Ok(out)
}
