//! JSON text straight into Python objects: one pass, no intermediate `serde_json::Value`.
//!
//! A call's context used to be parsed into a `serde_json::Value` and then walked again to
//! build the Python objects; here serde's visitor builds them as it reads. Numbers follow the
//! same rules as before: integers within 64 bits become `int`, anything else `float`.

use rustpython_vm::{PyObjectRef, VirtualMachine};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Reads one JSON value as a Python object.
pub(crate) struct PySeed<'a>(pub(crate) &'a VirtualMachine);

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
        Ok(self.0.ctx.none())
    }
    fn visit_bool<E>(self, v: bool) -> Result<PyObjectRef, E> {
        Ok(self.0.ctx.new_bool(v).into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<PyObjectRef, E> {
        Ok(self.0.ctx.new_int(v).into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<PyObjectRef, E> {
        Ok(self.0.ctx.new_int(v).into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<PyObjectRef, E> {
        Ok(self.0.ctx.new_float(v).into())
    }
    fn visit_str<E>(self, v: &str) -> Result<PyObjectRef, E> {
        Ok(self.0.ctx.new_str(v).into())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PyObjectRef, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(PySeed(self.0))? {
            items.push(item);
        }
        Ok(self.0.ctx.new_list(items).into())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PyObjectRef, A::Error> {
        let vm = self.0;
        let d = vm.ctx.new_dict();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = map.next_value_seed(PySeed(vm))?;
            // Setting a str key on a fresh dict cannot fail.
            let _ = d.set_item(&*key, value, vm);
        }
        Ok(d.into())
    }
}

/// A call's context: a JSON object as a Python dict, except the key `skip`, whose value is
/// returned as a `serde_json::Value` (the caller makes it a read-only root; the dict holds
/// `None` in its place until then). `Ok(None)`: the
/// text is JSON but not an object.
pub(crate) fn context(
    vm: &VirtualMachine,
    text: &[u8],
    skip: &str,
) -> Result<Option<(PyObjectRef, Option<serde_json::Value>)>, serde_json::Error> {
    struct Top<'a> {
        vm: &'a VirtualMachine,
        skip: &'a str,
    }
    impl<'de> Visitor<'de> for Top<'_> {
        type Value = Option<(PyObjectRef, Option<serde_json::Value>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let d = self.vm.ctx.new_dict();
            let mut skipped = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == self.skip {
                    skipped = Some(map.next_value::<serde_json::Value>()?);
                    // A placeholder keeps the key's place in the dict's order.
                    let _ = d.set_item(&*key, self.vm.ctx.none(), self.vm);
                    continue;
                }
                let value = map.next_value_seed(PySeed(self.vm))?;
                let _ = d.set_item(&*key, value, self.vm);
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
    let mut de = serde_json::Deserializer::from_slice(text);
    let out = de.deserialize_any(Top { vm, skip })?;
    de.end()?;
    Ok(out)
}
