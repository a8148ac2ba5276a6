//! A script as the engine runs it: a name for tracebacks, a source, and the utility modules it
//! imports, identified by one hash.
//!
//! Without modules the hash is the SHA-256 of the source. With modules (see
//! [`Script::with_modules`]) it also covers each module's name and source hash, so a worker
//! never runs a script against utilities other than those it was linked with, and editing a
//! utility gives each script that imports it a new identity (a new guest instance, a new result
//! cache key).

use std::path::Path;
use std::sync::Arc;

use bds_ipc::Hash;
use sha2::{Digest, Sha256};

/// Python source plus the file name its tracebacks show. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Its own file: name, source, and the SHA-256 of the source.
    main: Module,
    /// The identity: `main`'s hash, or with modules, the hash over it and them.
    hash: Hash,
    modules: Arc<[Module]>,
}

/// A utility module sent with a script: `import helpers` finds `helpers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    name: Arc<str>,
    source: Arc<str>,
    hash: Hash,
}

impl Module {
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Self {
        let source: String = source.into();
        Self {
            hash: Sha256::digest(source.as_bytes()).into(),
            name: Arc::from(name.into()),
            source: Arc::from(source),
        }
    }
    /// The module name (`helpers`).
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn source(&self) -> &str {
        &self.source
    }
    /// SHA-256 of the source.
    pub fn hash(&self) -> &Hash {
        &self.hash
    }
}

impl Script {
    /// `name` is the file name shown in tracebacks (`toc.py`).
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Self {
        let main = Module::new(name, source);
        Self {
            hash: main.hash,
            main,
            modules: Arc::from(Vec::new()),
        }
    }

    /// The script with the utility modules it may import (replacing any it had). The hash
    /// becomes that of the source and every module's name and hash, in name order.
    #[must_use]
    pub fn with_modules(mut self, mut modules: Vec<Module>) -> Self {
        modules.sort_by(|a, b| a.name.cmp(&b.name));
        modules.dedup_by(|a, b| a.name == b.name);
        self.hash = if modules.is_empty() {
            self.main.hash
        } else {
            let mut h = Sha256::new();
            h.update(b"bds-linked-v1\0");
            h.update(self.main.hash);
            for m in &modules {
                h.update(m.name.as_bytes());
                h.update([0]);
                h.update(m.hash);
            }
            h.finalize().into()
        };
        self.modules = Arc::from(modules);
        self
    }

    /// The utility modules sent with it, in name order.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// Reads a script file (UTF-8).
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(path)?;
        let source = String::from_utf8(bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is not UTF-8 (byte {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        let name = path
            .file_name()
            .map_or_else(|| "script.py".into(), |n| n.to_string_lossy().into_owned());
        Ok(Self::new(name, source))
    }

    pub fn name(&self) -> &str {
        self.main.name()
    }
    pub fn source(&self) -> &str {
        self.main.source()
    }
    /// Its identity: the SHA-256 of the source, or with modules, of the source and the modules.
    pub fn hash(&self) -> &Hash {
        &self.hash
    }
    /// SHA-256 of its own source (without the modules): the file's content hash.
    pub fn source_hash(&self) -> &Hash {
        self.main.hash()
    }
    /// The hash as lowercase hex.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
}

/// SHA-256 of `parts`, each followed by a NUL byte, as lowercase hex: the cache keys and
/// digests built from a few known pieces.
pub(crate) fn hash_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    for part in parts {
        sha2::Digest::update(&mut h, part);
        sha2::Digest::update(&mut h, [0]);
    }
    hex(&sha2::Digest::finalize(h))
}

/// Lowercase hex of `bytes` (hashes in the index and the caches; a render formats thousands).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_of_the_source() {
        // sha256("") is the well-known e3b0c442… digest.
        assert_eq!(
            Script::new("a.py", "").hash_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            Script::new("a.py", "x").hash(),
            Script::new("b.py", "x").hash()
        );
    }

    #[test]
    fn modules_are_part_of_the_identity() {
        let plain = Script::new("a.py", "import h");
        let linked = plain.clone().with_modules(vec![Module::new("h", "X = 1")]);
        let edited = plain.clone().with_modules(vec![Module::new("h", "X = 2")]);
        let renamed = plain.clone().with_modules(vec![Module::new("g", "X = 1")]);
        assert_ne!(plain.hash(), linked.hash());
        assert_ne!(linked.hash(), edited.hash());
        assert_ne!(linked.hash(), renamed.hash());
        assert_eq!(plain.clone().with_modules(Vec::new()).hash(), plain.hash());
        // Order does not matter; the modules are kept in name order.
        let ab = plain
            .clone()
            .with_modules(vec![Module::new("b", "1"), Module::new("a", "2")]);
        let ba = plain.with_modules(vec![Module::new("a", "2"), Module::new("b", "1")]);
        assert_eq!(ab.hash(), ba.hash());
        assert_eq!(ab.modules()[0].name(), "a");
    }
}
