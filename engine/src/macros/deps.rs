//! What a cached macro result depends on.
//!
//! A call's *own* key hashes its script (content hash and entry point) and its own arguments
//! (`params`, `args`, `inner`). What it read of `post` and `site` is recorded while it runs
//! ([`Read`]s: a top-level key, or the whole value) and stored beside the result as its *deps*;
//! the *digest* hashes the values it read. A cached result answers a later call with the same
//! own key when its deps, evaluated on that call's `post` and `site`, give the same digest. So
//! editing a post's body re-runs only the calls that read `post.content` (or the whole post),
//! and adding a post to the site only those that read `site.posts`.

use bds_ipc::Read;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::script::hex;
use crate::shared::SharedValue;

/// Bumped when the meaning of keys or digests changes (old rows then never match).
const FORMAT: &str = "bds-cache-v3";

/// The own key of a call: script, entry point and the call's own arguments.
pub(super) fn own_key(guest: &str, script_hash: &str, entry: &str, context: &Value) -> String {
    let own: Vec<Vec<u8>> = ["params", "args", "inner"]
        .iter()
        .map(|k| serde_json::to_vec(&context[*k]).unwrap_or_default())
        .collect();
    crate::script::hash_parts(
        [
            FORMAT.as_bytes(),
            guest.as_bytes(),
            script_hash.as_bytes(),
            entry.as_bytes(),
        ]
        .into_iter()
        .chain(own.iter().map(Vec::as_slice)),
    )
}

/// The deps as stored: `[["post","title"],["site",null]]`, sorted.
pub(super) fn deps_text(reads: &[Read]) -> String {
    let pairs: Vec<(&str, Option<&str>)> = reads
        .iter()
        .map(|r| (r.root.as_str(), r.key.as_deref()))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_default()
}

/// Reads stored deps back; `None` when they are not what [`deps_text`] writes.
pub(super) fn parse_deps(text: &str) -> Option<Vec<Read>> {
    let pairs: Vec<(String, Option<String>)> = serde_json::from_str(text).ok()?;
    Some(
        pairs
            .into_iter()
            .map(|(root, key)| Read { root, key })
            .collect(),
    )
}

/// The digest of the values `reads` name, looked up in `roots` (name, value); `None` when a
/// read names a root the call does not have.
pub(super) fn digest(reads: &[Read], roots: &[(&str, &SharedValue)]) -> Option<String> {
    let mut h = Sha256::new();
    h.update(FORMAT);
    for r in reads {
        let (_, value) = roots.iter().find(|(n, _)| *n == r.root)?;
        h.update(r.root.as_bytes());
        h.update([0]);
        match &r.key {
            Some(k) => {
                h.update([1]);
                h.update(k.as_bytes());
            }
            None => h.update([2]),
        }
        h.update([0]);
        h.update(value.key_hash(r.key.as_deref()));
    }
    Some(hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(root: &str, key: Option<&str>) -> Read {
        Read {
            root: root.into(),
            key: key.map(str::to_owned),
        }
    }

    #[test]
    fn deps_round_trip() {
        let reads = vec![read("post", Some("title")), read("site", None)];
        let text = deps_text(&reads);
        assert_eq!(text, r#"[["post","title"],["site",null]]"#);
        assert_eq!(parse_deps(&text), Some(reads));
        assert_eq!(parse_deps("{}"), None);
    }

    #[test]
    fn the_digest_changes_with_exactly_the_values_read() {
        let post = SharedValue::new(&json!({"title": "A", "content": "body"})).unwrap();
        let edited = SharedValue::new(&json!({"title": "A", "content": "new body"})).unwrap();
        let retitled = SharedValue::new(&json!({"title": "B", "content": "body"})).unwrap();
        let reads = [read("post", Some("title"))];
        let d = |p: &SharedValue| digest(&reads, &[("post", p)]).unwrap();
        assert_eq!(d(&post), d(&edited), "the body was not read");
        assert_ne!(d(&post), d(&retitled));
        let whole = [read("post", None)];
        assert_ne!(
            digest(&whole, &[("post", &post)]),
            digest(&whole, &[("post", &edited)])
        );
        assert_eq!(digest(&reads, &[("site", &post)]), None);
        let absent = [read("post", Some("missing"))];
        assert_eq!(
            digest(&absent, &[("post", &post)]),
            digest(&absent, &[("post", &edited)])
        );
    }

    #[test]
    fn own_keys_depend_on_script_entry_and_arguments_only() {
        let a = json!({"params": {"x": 1}, "args": [], "inner": null});
        let b = json!({"params": {"x": 2}, "args": [], "inner": null});
        assert_eq!(
            own_key("rp", "h", "render", &a),
            own_key("rp", "h", "render", &a)
        );
        assert_ne!(
            own_key("rp", "h", "render", &a),
            own_key("rp", "h", "render", &b)
        );
        assert_ne!(
            own_key("rp", "h", "render", &a),
            own_key("rp", "g", "render", &a)
        );
        assert_ne!(
            own_key("rp", "h", "render", &a),
            own_key("rp", "h", "main", &a)
        );
        // Another guest (or build of it) may answer differently.
        assert_ne!(
            own_key("rp", "h", "render", &a),
            own_key("cp", "h", "render", &a)
        );
    }
}
