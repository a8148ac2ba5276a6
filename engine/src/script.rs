//! A script as the engine runs it: a name for tracebacks and a source, identified by its hash.

use std::path::Path;
use std::sync::Arc;

use bds_ipc::Hash;
use sha2::{Digest, Sha256};

/// Python source plus the file name its tracebacks show. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    name: Arc<str>,
    source: Arc<str>,
    hash: Hash,
}

impl Script {
    /// `name` is the file name shown in tracebacks (`toc.py`).
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Self {
        let source: String = source.into();
        let hash = Sha256::digest(source.as_bytes()).into();
        Self {
            name: Arc::from(name.into()),
            source: Arc::from(source),
            hash,
        }
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
        &self.name
    }
    pub fn source(&self) -> &str {
        &self.source
    }
    /// SHA-256 of the source.
    pub fn hash(&self) -> &Hash {
        &self.hash
    }
    /// The hash as lowercase hex.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
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
}
