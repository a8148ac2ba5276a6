//! Shared data: a JSON object (`post`, `site`) that many calls read, sent to each worker once.
//!
//! A [`SharedValue`] is serialised and hashed once. Calls refer to it by hash; a worker that
//! does not hold it yet gets it in one [`bds_ipc::Request::Share`] frame, so no call frame ever
//! carries it and nothing costs calls × its size. Each top-level key's value is hashed too: the
//! result cache keys a macro's result by the hashes of exactly the keys it read.
//!
//! A value over [`MAX_SHARED_BYTES`] of JSON is refused when it is made, before anything runs.
//!
//! ```
//! use bds_engine::SharedValue;
//! let site = SharedValue::new(&serde_json::json!({"title": "My blog", "posts": []})).unwrap();
//! assert_eq!(site.key_hash(Some("title")), SharedValue::new(&serde_json::json!({"title": "My blog"})).unwrap().key_hash(Some("title")));
//! assert_ne!(site.key_hash(Some("title")), site.key_hash(Some("missing")));
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use bds_ipc::Hash;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::Script;
use crate::store::{ScriptKind, header};

/// The largest shared value accepted, as JSON text: 64 MiB.
pub const MAX_SHARED_BYTES: usize = 64 << 20;

/// A context's `post` or `site` that cannot be shared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the context's `{key}` {source}")]
pub struct ContextError {
    pub key: String,
    #[source]
    pub source: SharedError,
}

/// Splits `context` as rendering hands it to `script` (the Run button and `bds run` do the
/// same): for a macro (any script whose header does not say `kind: transform`), `post` and
/// `site`, when they are objects, move out into shared, read-only values, in context order;
/// a transform's context, and a context that is not an object, stay whole.
pub fn split_shared(
    script: &Script,
    context: Value,
) -> Result<(Value, Vec<(String, SharedValue)>), ContextError> {
    let Value::Object(map) = context else {
        return Ok((context, Vec::new()));
    };
    if header::parse(script.source()).is_ok_and(|m| m.kind == ScriptKind::Transform) {
        return Ok((Value::Object(map), Vec::new()));
    }
    let mut own = serde_json::Map::new();
    let mut shared = Vec::new();
    for (key, value) in map {
        if (key == "post" || key == "site") && value.is_object() {
            match SharedValue::new(&value) {
                Ok(v) => shared.push((key, v)),
                Err(source) => return Err(ContextError { key, source }),
            }
        } else {
            own.insert(key, value);
        }
    }
    Ok((Value::Object(own), shared))
}

/// Why a value cannot be shared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SharedError {
    #[error("must be a JSON object")]
    NotAnObject,
    #[error("is {size} bytes of JSON, over the {max}-byte limit for shared data (64 MiB)")]
    TooLarge { size: usize, max: usize },
}

#[derive(Debug)]
struct Inner {
    hash: Hash,
    json: Arc<[u8]>,
    keys: HashMap<String, Hash>,
}

/// A JSON object serialised and hashed once, shared by reference with every call that reads it.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct SharedValue(Arc<Inner>);

/// The hash a read of a key that the value does not have is keyed by.
const ABSENT: Hash = [0; 32];

fn sha(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

impl SharedValue {
    /// Serialises and hashes `value`, which must be a JSON object within [`MAX_SHARED_BYTES`].
    pub fn new(value: &Value) -> Result<Self, SharedError> {
        let Value::Object(map) = value else {
            return Err(SharedError::NotAnObject);
        };
        // One pass: each top-level value is serialised once, hashed as it is, and its bytes
        // are the object's JSON text (serde_json's compact form, byte for byte). The identity
        // hashes the keys and their values' hashes, so the text is hashed once, not twice.
        let mut json = Vec::new();
        let mut keys = HashMap::with_capacity(map.len());
        let mut whole = Sha256::new();
        whole.update(b"bds-shared-v1");
        json.push(b'{');
        for (i, (k, v)) in map.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            serde_json::to_writer(&mut json, k).map_err(|_| SharedError::NotAnObject)?;
            json.push(b':');
            let start = json.len();
            serde_json::to_writer(&mut json, v).map_err(|_| SharedError::NotAnObject)?;
            let h = sha(&json[start..]);
            whole.update((k.len() as u64).to_le_bytes());
            whole.update(k.as_bytes());
            whole.update(h);
            keys.insert(k.clone(), h);
        }
        json.push(b'}');
        if json.len() > MAX_SHARED_BYTES {
            return Err(SharedError::TooLarge {
                size: json.len(),
                max: MAX_SHARED_BYTES,
            });
        }
        Ok(Self(Arc::new(Inner {
            hash: whole.finalize().into(),
            json: json.into(),
            keys,
        })))
    }

    /// The value's identity on the wire and in caches: a SHA-256 over its keys, in order, and
    /// the SHA-256 of each one's value.
    pub fn hash(&self) -> &Hash {
        &self.0.hash
    }

    /// The JSON text.
    pub fn json(&self) -> &[u8] {
        &self.0.json
    }

    /// Size of the JSON text in bytes.
    pub fn len(&self) -> usize {
        self.0.json.len()
    }

    /// Whether the object has no keys.
    pub fn is_empty(&self) -> bool {
        self.0.keys.is_empty()
    }

    /// The hash a read depends on: the whole value's (`None`), one key's value, or a fixed
    /// marker for a key the value does not have.
    pub fn key_hash(&self, key: Option<&str>) -> Hash {
        match key {
            None => self.0.hash,
            Some(k) => self.0.keys.get(k).copied().unwrap_or(ABSENT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_header_saying_kind_transform_keeps_post_and_site_whole() {
        let cases = [
            (
                "# ---\n# kind: transform\n# ---\ndef render(c): pass\n",
                true,
            ),
            (
                "\n# ---\n# title: T\n# kind: \"transform\"  # a comment\n# ---\n",
                true,
            ),
            ("# ---\n# kind: macro\n# ---\n# kind: transform\n", false),
            ("# kind: transform\n", false),
            ("import os\n# ---\n# kind: transform\n# ---\n", false),
            ("def render(c):\n    return {}\n", false),
        ];
        for (source, transform) in cases {
            let context = json!({"post": {"title": "T"}, "site": {}});
            let (_, shared) = split_shared(&Script::new("s.py", source), context).unwrap();
            assert_eq!(shared.is_empty(), transform, "{source:?}");
        }
    }

    #[test]
    fn the_text_is_serde_jsons_and_the_identity_follows_every_key() {
        let v = json!({"title": "T\u{e9}\"", "posts": [{"a": 1.5}, null], "n": {}});
        let s = SharedValue::new(&v).unwrap();
        assert_eq!(s.json(), serde_json::to_vec(&v).unwrap().as_slice());
        assert_eq!(SharedValue::new(&json!({})).unwrap().json(), b"{}");
        let other = |x: Value| *SharedValue::new(&x).unwrap().hash();
        assert_eq!(other(v.clone()), *s.hash());
        assert_ne!(
            other(json!({"title": "T\u{e9}\"", "posts": [{"a": 1.5}, null], "n": []})),
            *s.hash()
        );
        assert_ne!(
            other(json!({"posts": [{"a": 1.5}, null], "title": "T\u{e9}\"", "n": {}})),
            *s.hash(),
            "key order is part of the value"
        );
        assert_ne!(other(json!({"ab": 1})), other(json!({"a": 1, "b": 1})));
    }

    #[test]
    fn post_and_site_objects_are_shared_other_keys_stay() {
        let macro_ = Script::new("m.py", "def render(c):\n    return {}\n");
        let (own, shared) = split_shared(
            &macro_,
            json!({"abi": 1, "post": {"title": "T"}, "site": [], "args": ["a"]}),
        )
        .unwrap();
        assert_eq!(own, json!({"abi": 1, "site": [], "args": ["a"]}));
        assert_eq!(
            shared.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["post"]
        );
        let transform = Script::new("t.py", "# ---\n# kind: transform\n# ---\n");
        let context = json!({"post": {"title": "T"}, "site": {}});
        let (own, shared) = split_shared(&transform, context.clone()).unwrap();
        assert_eq!((own, shared.len()), (context, 0));
    }
}
