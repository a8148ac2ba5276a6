//! JSON text straight into Python objects: one pass, no intermediate `serde_json::Value`.
//!
//! A call's context used to be parsed into a `serde_json::Value` and then walked again to
//! build the Python objects; here serde's visitor builds them as it reads. Numbers are read as
//! CPython's `json` reads them: an integer of any size is an `int` (`-0` is `0`), anything with
//! a fraction or an exponent a `float` (see [`number`]).

use std::cell::RefCell;

use rustpython_vm::builtins::PyBaseExceptionRef;
use rustpython_vm::{AsObject, PyObjectRef, PyResult, VirtualMachine};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The key serde_json (with `arbitrary_precision`) hands a number under when it keeps the
/// number's text: `visit_map` with this one key, whose value is the text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A JSON number serde kept as text (an integer beyond 64 bits, `-0`, or any number with a
/// fraction or an exponent), made as CPython's `json` makes it: digits alone with `int()` (so
/// under the same 4,300-digit limit, a `ValueError` past it), anything else as a correctly
/// rounded `float` (`1e400` is `inf`, as in CPython). Text that is not a JSON number is a
/// `ValueError`.
pub(crate) fn number(vm: &VirtualMachine, text: &str) -> PyResult<PyObjectRef> {
    // Text that is not a JSON number (serde's wrapper spelled out as an object's key) is not
    // given to `int()`, which would take `1_000` or ` 7 `.
    if !bds_ipc::guest_side::is_json_number(text) {
        return Err(vm.new_value_error(format!("not a JSON number: {text:.40}")));
    }
    if text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        return match text.parse::<f64>() {
            Ok(v) => Ok(vm.ctx.new_float(v).into()),
            Err(e) => Err(vm.new_value_error(format!("not a JSON number: {text} ({e})"))),
        };
    }
    vm.ctx
        .types
        .int_type
        .as_object()
        .call((vm.ctx.new_str(text),), vm)
}

/// Reads one JSON value as a Python object. The first Python error (an integer past the
/// digit limit) is kept in `failed`, as serde's errors are text.
#[derive(Clone, Copy)]
pub(crate) struct PySeed<'a> {
    pub(crate) vm: &'a VirtualMachine,
    pub(crate) failed: &'a RefCell<Option<PyBaseExceptionRef>>,
}

impl PySeed<'_> {
    /// A number serde kept as text, from a map's value.
    fn number<'de, A: MapAccess<'de>>(self, map: &mut A) -> Result<PyObjectRef, A::Error> {
        let text: String = map.next_value()?;
        number(self.vm, &text).map_err(|e| {
            let message = format!("cannot read the number {text:.40}");
            self.failed.borrow_mut().get_or_insert(e);
            serde::de::Error::custom(message)
        })
    }
}

impl<'de> DeserializeSeed<'de> for PySeed<'_> {
    type Value = PyObjectRef;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PyObjectRef, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PySeed<'_> {
    type Value = PyObjectRef;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.none())
    }
    fn visit_bool<E>(self, v: bool) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_bool(v).into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_int(v).into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_int(v).into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_float(v).into())
    }
    fn visit_str<E>(self, v: &str) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_str(v).into())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PyObjectRef, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(self.vm.ctx.new_list(items).into())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PyObjectRef, A::Error> {
        let vm = self.vm;
        let mut next = map.next_key::<std::borrow::Cow<'de, str>>()?;
        if next.as_deref() == Some(NUMBER_TOKEN) {
            return self.number(&mut map);
        }
        let d = vm.ctx.new_dict();
        while let Some(key) = next {
            let value = map.next_value_seed(self)?;
            // Setting a str key on a fresh dict cannot fail.
            let _ = d.set_item(&*key, value, vm);
            next = map.next_key::<std::borrow::Cow<'de, str>>()?;
        }
        Ok(d.into())
    }
}

/// Why a context could not be read.
pub(crate) enum ContextError {
    /// The text is not JSON.
    Json(serde_json::Error),
    /// A value Python refuses (an integer past `sys.get_int_max_str_digits()`), as CPython's
    /// `json.loads` refuses it.
    Python(PyBaseExceptionRef),
}

/// A call's context: a JSON object as a Python dict, except the key `skip`, whose value is
/// returned as a `serde_json::Value` (the caller makes it a read-only root; the dict holds
/// `None` in its place until then). `Ok(None)`: the text is JSON but not an object.
pub(crate) fn context(
    vm: &VirtualMachine,
    text: &[u8],
    skip: &str,
) -> Result<Option<(PyObjectRef, Option<serde_json::Value>)>, ContextError> {
    struct Top<'a> {
        seed: PySeed<'a>,
        skip: &'a str,
    }
    impl<'de> Visitor<'de> for Top<'_> {
        type Value = Option<(PyObjectRef, Option<serde_json::Value>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let vm = self.seed.vm;
            let mut next = map.next_key::<std::borrow::Cow<'de, str>>()?;
            if next.as_deref() == Some(NUMBER_TOKEN) {
                map.next_value::<serde::de::IgnoredAny>()?;
                return Ok(None);
            }
            let d = vm.ctx.new_dict();
            let mut skipped = None;
            while let Some(key) = next {
                if key == self.skip {
                    skipped = Some(map.next_value::<serde_json::Value>()?);
                    // A placeholder keeps the key's place in the dict's order.
                    let _ = d.set_item(&*key, vm.ctx.none(), vm);
                } else {
                    let value = map.next_value_seed(self.seed)?;
                    let _ = d.set_item(&*key, value, vm);
                }
                next = map.next_key::<std::borrow::Cow<'de, str>>()?;
            }
            Ok(Some((d.into(), skipped)))
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
    let failed = RefCell::new(None);
    let seed = PySeed {
        vm,
        failed: &failed,
    };
    let mut de = serde_json::Deserializer::from_slice(text);
    let out = de
        .deserialize_any(Top { seed, skip })
        .and_then(|out| de.end().map(|()| out));
    match (out, failed.into_inner()) {
        (_, Some(e)) => Err(ContextError::Python(e)),
        (Ok(out), None) => Ok(out),
        (Err(e), None) => Err(ContextError::Json(e)),
    }
}

/// A JSON value as Python objects; numbers as CPython's `json` reads them
/// ([`number`]), so an integer past the digit limit is a `ValueError`.
pub(crate) fn json_to_py(vm: &VirtualMachine, v: &serde_json::Value) -> PyResult<PyObjectRef> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => vm.ctx.none(),
        Value::Bool(b) => vm.ctx.new_bool(*b).into(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                vm.ctx.new_int(i).into()
            } else if let Some(u) = n.as_u64() {
                vm.ctx.new_int(u).into()
            } else {
                // With `arbitrary_precision` the number keeps its text.
                number(vm, &n.to_string())?
            }
        }
        Value::String(s) => vm.ctx.new_str(s.as_str()).into(),
        Value::Array(a) => vm
            .ctx
            .new_list(
                a.iter()
                    .map(|x| json_to_py(vm, x))
                    .collect::<PyResult<_>>()?,
            )
            .into(),
        Value::Object(o) => {
            let d = vm.ctx.new_dict();
            for (k, x) in o {
                // Setting a str key on a fresh dict cannot fail.
                let _ = d.set_item(k.as_str(), json_to_py(vm, x)?, vm);
            }
            d.into()
        }
    })
}
