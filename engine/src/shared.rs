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

/// The largest shared value accepted, as JSON text: 64 MiB.
pub const MAX_SHARED_BYTES: usize = 64 << 20;

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
        let json = serde_json::to_vec(value).map_err(|_| SharedError::NotAnObject)?;
        if json.len() > MAX_SHARED_BYTES {
            return Err(SharedError::TooLarge {
                size: json.len(),
                max: MAX_SHARED_BYTES,
            });
        }
        let keys = map
            .iter()
            .map(|(k, v)| (k.clone(), sha(&serde_json::to_vec(v).unwrap_or_default())))
            .collect();
        Ok(Self(Arc::new(Inner {
            hash: sha(&json),
            json: json.into(),
            keys,
        })))
    }

    /// SHA-256 of the JSON text: the value's identity on the wire and in caches.
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
