//! Which script a macro name runs: its file, linked with the project's utilities it imports
//! (see [`crate::link`]), remembered until the file or a utility changes.

use std::sync::{Arc, PoisonError};

use super::Project;
use crate::Script;
use crate::store::{ListFilter, ScriptKind, StoreError, header};

/// A script ready to run, linked with the utilities it imports.
#[derive(Clone)]
pub(super) struct Loaded {
    /// The linked script's hash (source and utilities), hex: the result cache's script key.
    pub(super) hash: String,
    /// SHA-256 of the script's own file, hex.
    pub(super) content_hash: String,
    /// The [`UtilitySet::digest`] it was linked against.
    pub(super) utilities: String,
    pub(super) script: Script,
    pub(super) pure: bool,
    /// Declared parameters (`None`: undeclared).
    pub(super) params: Option<Vec<crate::ParamDecl>>,
}

/// The project's importable utilities at one moment.
#[derive(Debug, Default)]
pub(super) struct UtilitySet {
    /// Slug → content hash of every utility with an importable name.
    pub(super) hashes: std::collections::BTreeMap<String, String>,
    /// A digest of `hashes`.
    pub(super) digest: String,
    pub(super) sources: crate::Utilities,
}

impl Project {
    /// The project's importable utilities now: one index query, and the files read again only
    /// when one changed.
    pub(super) fn utility_set(&self) -> Result<Arc<UtilitySet>, StoreError> {
        let hashes: std::collections::BTreeMap<String, String> = self
            .store
            .list(ListFilter {
                kind: Some(ScriptKind::Utility),
                enabled: None,
            })?
            .into_iter()
            .filter(|e| e.status != crate::ScriptStatus::InvalidName)
            .map(|e| (e.slug, e.content_hash))
            .collect();
        let mut current = self
            .utilities
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if current.hashes == hashes && !current.digest.is_empty() {
            return Ok(current.clone());
        }
        let mut sources = crate::Utilities::new();
        for slug in hashes.keys() {
            // A utility that cannot be read now is left out: importing it fails in Python.
            if let Ok(source) = self.store.read(slug) {
                sources.insert(slug.clone(), source);
            }
        }
        let digest = crate::script::hash_parts(
            hashes
                .iter()
                .flat_map(|(slug, hash)| [slug.as_bytes(), hash.as_bytes()]),
        );
        let set = Arc::new(UtilitySet {
            hashes,
            digest,
            sources,
        });
        *current = set.clone();
        Ok(set)
    }

    /// Script `slug` (whose file hashes to `content_hash`) linked with `utilities`, read and
    /// linked again only when either changed.
    pub(super) fn resolve(
        &self,
        slug: &str,
        content_hash: &str,
        utilities: &UtilitySet,
    ) -> Result<Loaded, StoreError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(l) = loaded.get(slug)
            && l.content_hash == content_hash
            && l.utilities == utilities.digest
        {
            return Ok(l.clone());
        }
        let source = self.store.read(slug)?;
        let meta = header::parse(&source).ok();
        let pure = meta
            .as_ref()
            .is_none_or(|m| !m.extra.iter().any(|(k, v)| k == "pure" && v == "false"));
        let script = crate::link(
            Script::new(format!("{slug}.py"), source),
            &utilities.sources,
        );
        let l = Loaded {
            hash: script.hash_hex(),
            content_hash: crate::script::hex(script.source_hash()),
            utilities: utilities.digest.clone(),
            script,
            pure,
            params: meta.and_then(|m| m.params),
        };
        loaded.insert(slug.to_owned(), l.clone());
        Ok(l)
    }

    /// The resolved script `slug` whose linked hash is `hash` (as [`Self::enabled_macros`]
    /// gave it), or whatever is current when it changed since.
    pub(super) fn load(&self, slug: &str, hash: &str) -> Result<Loaded, StoreError> {
        if let Some(l) = self
            .loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(slug)
            && l.hash == hash
        {
            return Ok(l.clone());
        }
        let entry = self.store.get(slug)?;
        let utilities = self.utility_set()?;
        self.resolve(slug, &entry.content_hash, &utilities)
    }
}
