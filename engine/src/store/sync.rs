//! Reconciling the index with `scripts/`: [`ScriptStore::sync`] and what it is made of. Files
//! are compiled before the index is locked (a compile waits for a worker; the lock must not);
//! then, in one transaction, new and changed files are re-described, rows without a file are
//! removed, or renamed when a new file has the same content, and the changes are published.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::files::{io_err, mtime_ns, rfc3339, sha256_hex, validate_slug};
use super::index::Index;
use super::{
    MAX_SOURCE_BYTES, Origin, ScriptEntry, ScriptKind, ScriptStatus, ScriptStore, StoreError,
    StoreEvent, SyncReport, header,
};
use crate::{ErrorKind, Script, ScriptError};

/// The script files in `scripts/` (sorted slugs), and the files there that are not scripts the
/// store can index, with why.
struct Scan {
    files: Vec<String>,
    ignored: Vec<(String, String)>,
}

/// A compile result for one content, computed before the index was locked.
pub(super) struct Prechecked {
    hash: String,
    result: Result<(), ScriptError>,
}

impl ScriptStore {
    /// Reconciles the index with the files and publishes what changed as external changes.
    pub fn sync(&self) -> Result<SyncReport, StoreError> {
        self.sync_as(Origin::External)
    }

    pub(super) fn sync_as(&self, origin: Origin) -> Result<SyncReport, StoreError> {
        let pre = self.precheck_stale()?;
        self.sync_locked(origin, &pre)
    }

    /// Whether the index's row `old` still describes a file with this metadata (and needs no
    /// check): then a sync leaves it alone.
    fn up_to_date(&self, old: Option<&ScriptEntry>, meta: &std::fs::Metadata) -> bool {
        old.is_some_and(|old| {
            old.size == meta.len()
                && old.mtime_ns == mtime_ns(meta)
                && !(old.status == ScriptStatus::Unchecked && self.inner.checker.is_some())
        })
    }

    /// Compiles, before the index is locked, the files a sync is about to look at (new ones,
    /// changed ones, unchecked ones): a compile waits for a free worker, and the lock must not
    /// wait with it. A file that changes again meanwhile is simply compiled under the lock.
    fn precheck_stale(&self) -> Result<HashMap<String, Prechecked>, StoreError> {
        let mut out = HashMap::new();
        if self.inner.checker.is_none() {
            return Ok(out);
        }
        let known = self.index().all()?;
        for slug in self.scan()?.files {
            let path = self.inner.scripts.join(format!("{slug}.py"));
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.len() > MAX_SOURCE_BYTES
                || self.up_to_date(known.iter().find(|k| k.slug == slug), &meta)
            {
                continue;
            }
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            if let Some(pre) = self.precheck(&slug, &source) {
                out.insert(slug, pre);
            }
        }
        Ok(out)
    }

    /// What is in `scripts/`.
    fn scan(&self) -> Result<Scan, StoreError> {
        let dir = &self.inner.scripts;
        let mut files = Vec::new();
        let mut ignored = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".bds-") {
                continue; // our own temp files
            }
            let Some(slug) = name.strip_suffix(".py") else {
                continue;
            };
            let file_type = entry.file_type().map_err(io_err(&entry.path()))?;
            if file_type.is_symlink() {
                ignored.push((
                    name,
                    "a symbolic link (scripts must be files inside scripts/)".into(),
                ));
                continue;
            }
            if !file_type.is_file() {
                continue;
            }
            if let Err(e) = validate_slug(slug) {
                let why = match e {
                    StoreError::InvalidName { why, .. } => why.to_owned(),
                    other => other.to_string(),
                };
                ignored.push((name, format!("not a valid script name: {why}")));
                continue;
            }
            files.push(slug.to_owned());
        }
        files.sort();
        Ok(Scan { files, ignored })
    }

    fn sync_locked(
        &self,
        origin: Origin,
        pre: &HashMap<String, Prechecked>,
    ) -> Result<SyncReport, StoreError> {
        let index = self.index();
        let known = index.all()?;
        let mut report = SyncReport::default();
        let dir = &self.inner.scripts;
        let Scan { files, ignored } = self.scan()?;
        report.ignored = ignored;
        let tx = index
            .conn
            .unchecked_transaction()
            .map_err(|source| StoreError::Index {
                path: index.path.clone(),
                source,
            })?;
        let mut added = Vec::new();
        for slug in &files {
            let path = dir.join(format!("{slug}.py"));
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(_) => continue, // vanished meanwhile; the next sync sees it gone
            };
            let old = known.iter().find(|k| &k.slug == slug);
            if self.up_to_date(old, &meta) {
                continue;
            }
            let entry = self.describe(slug, &path, pre.get(slug))?;
            match old {
                Some(old)
                    if old.content_hash == entry.content_hash && old.status == entry.status =>
                {
                    // Touched, not changed: remember the new time quietly.
                    Index::upsert(&tx, &index.path, &entry)?;
                }
                Some(_) => {
                    Index::upsert(&tx, &index.path, &entry)?;
                    report.changed.push(slug.clone());
                }
                None => added.push(entry),
            }
        }
        // Rows without a file: removed, or renamed when a new file has the same content.
        for old in known.iter().filter(|k| !files.contains(&k.slug)) {
            if let Some(pos) = added
                .iter()
                .position(|a| a.content_hash == old.content_hash)
            {
                let new = added.remove(pos);
                Index::rename(&tx, &index.path, &old.slug, &new.slug)?;
                Index::upsert(&tx, &index.path, &new)?;
                report.renamed.push((old.slug.clone(), new.slug.clone()));
            } else {
                Index::remove(&tx, &index.path, &old.slug)?;
                report.removed.push(old.slug.clone());
            }
        }
        for new in added {
            Index::upsert(&tx, &index.path, &new)?;
            report.added.push(new.slug);
        }
        tx.commit().map_err(|source| StoreError::Index {
            path: index.path.clone(),
            source,
        })?;
        drop(index);
        let mut events = Vec::new();
        events.extend(report.added.iter().map(|s| StoreEvent::Added {
            slug: s.clone(),
            origin,
        }));
        events.extend(report.changed.iter().map(|s| StoreEvent::Changed {
            slug: s.clone(),
            origin,
        }));
        events.extend(report.removed.iter().map(|s| StoreEvent::Removed {
            slug: s.clone(),
            origin,
        }));
        events.extend(report.renamed.iter().map(|(f, t)| StoreEvent::Renamed {
            from: f.clone(),
            to: t.clone(),
            origin,
        }));
        self.publish(events);
        Ok(report)
    }

    /// Compiles `source` before the index is locked: a compile waits for a free worker, and the
    /// lock must not wait with it (every other store call would).
    pub(super) fn precheck(&self, slug: &str, source: &str) -> Option<Prechecked> {
        let checker = self.inner.checker.as_ref()?;
        let script = Script::new(format!("{slug}.py"), source);
        Some(Prechecked {
            hash: script.hash_hex(),
            result: checker.check(&script),
        })
    }

    /// Re-reads one file into the index (the caller holds the index lock).
    pub(super) fn reindex(
        &self,
        index: &Index,
        slug: &str,
        pre: Option<&Prechecked>,
    ) -> Result<ScriptEntry, StoreError> {
        let path = self.path_of(slug)?;
        let entry = self.describe(slug, &path, pre)?;
        let id = Index::upsert(&index.conn, &index.path, &entry)?;
        Ok(ScriptEntry { id, ..entry })
    }

    /// The index entry for the file at `path` now. `pre`: a compile result for some content,
    /// used when the file still has that content.
    fn describe(
        &self,
        slug: &str,
        path: &Path,
        pre: Option<&Prechecked>,
    ) -> Result<ScriptEntry, StoreError> {
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        let mut entry = ScriptEntry {
            id: 0,
            slug: slug.to_owned(),
            title: slug.to_owned(),
            kind: ScriptKind::Macro,
            entrypoint: "render".to_owned(),
            enabled: true,
            version: 1,
            content_hash: String::new(),
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
            updated_at: rfc3339(mtime_ns(&meta)),
            status: ScriptStatus::Unchecked,
            error: None,
            error_line: None,
            imports: Vec::new(),
            params: None,
        };
        if meta.len() > MAX_SOURCE_BYTES {
            let mut h = Sha256::new();
            let mut f = std::fs::File::open(path).map_err(io_err(path))?;
            std::io::copy(&mut f, &mut h).map_err(io_err(path))?;
            entry.content_hash = crate::script::hex(&h.finalize());
            entry.status = ScriptStatus::TooLarge;
            entry.error = Some(format!(
                "the file is {} bytes, over the {MAX_SOURCE_BYTES}-byte limit",
                meta.len()
            ));
            return Ok(entry);
        }
        let bytes = std::fs::read(path).map_err(io_err(path))?;
        entry.content_hash = sha256_hex(&bytes);
        entry.size = bytes.len() as u64;
        let source = match std::str::from_utf8(&bytes) {
            Ok(s) => s,
            Err(e) => {
                let at = e.valid_up_to();
                entry.status = ScriptStatus::NotUtf8;
                entry.error_line =
                    Some(bytes[..at].iter().filter(|b| **b == b'\n').count() as u32 + 1);
                entry.error = Some(format!(
                    "the file is not UTF-8 (invalid byte at offset {at})"
                ));
                return Ok(entry);
            }
        };
        match header::parse(source) {
            Ok(m) => {
                entry.title = m.title.unwrap_or_else(|| slug.to_owned());
                entry.kind = m.kind;
                entry.entrypoint = m.entrypoint;
                entry.enabled = m.enabled;
                entry.version = m.version;
                entry.params = m.params;
            }
            Err(e) => {
                entry.status = ScriptStatus::InvalidHeader;
                entry.error = Some(e.message);
                entry.error_line = Some(e.line);
                return Ok(entry);
            }
        }
        entry.imports = crate::imported_modules(source).into_iter().collect();
        if entry.kind == ScriptKind::Utility
            && let Some(problem) = crate::utility_name_problem(slug)
        {
            entry.status = ScriptStatus::InvalidName;
            entry.error = Some(problem);
            return Ok(entry);
        }
        if let Some(checker) = &self.inner.checker {
            let result = match pre {
                Some(p) if p.hash == entry.content_hash => p.result.clone(),
                _ => checker.check(&Script::new(format!("{slug}.py"), source)),
            };
            match result {
                Ok(()) => entry.status = ScriptStatus::Ok,
                // The check itself could not run (a worker died, the engine is closing): that
                // says nothing about the script. Left `unchecked`, so the next sync checks it.
                Err(e)
                    if matches!(
                        e.kind,
                        ErrorKind::WorkerCrash | ErrorKind::NotLoaded | ErrorKind::NotShared
                    ) =>
                {
                    entry.status = ScriptStatus::Unchecked;
                    entry.error = Some(format!("not checked: {}", e.message));
                }
                Err(e) => {
                    entry.status = ScriptStatus::CompileError;
                    let what = if e.exc_type.is_empty() {
                        e.kind.to_string()
                    } else {
                        e.exc_type.clone()
                    };
                    entry.error = Some(format!("{what}: {}", e.message));
                    entry.error_line = (e.line > 0).then_some(e.line);
                }
            }
        }
        Ok(entry)
    }
}
