//! The script store: `scripts/*.py` (the user's data, the source of truth) and a SQLite index
//! of them (`.bds/index.sqlite`), kept in step.
//!
//! - Writes from the app go to the file first, atomically (temp file, fsync, rename), then to
//!   the index, under one lock, so a watcher never reports the app's own write as external.
//! - [`ScriptStore::sync`] reconciles the index with the files (added, changed, removed,
//!   renamed); [`ScriptStore::watch`] runs it whenever the directory changes, and every change
//!   is published to [`ScriptStore::subscribe`]rs.
//! - A missing, stale or corrupt index is rebuilt from the files. Nothing in `scripts/` is ever
//!   deleted or overwritten because of what the index says: deletes from the app move the file
//!   to `.bds/trash/`, updates can carry the hash the editor started from and fail on conflict.
//!
//! This file is the store's API (open, read, write, rename, delete, the caches, watching); the
//! rest is split by what it does: `types` (errors, entries, events, reports), `files` (atomic
//! writes, slugs, hashes and times), `sync` (reconciling the index with the files), `index`
//! and `cache` (the SQLite tables), `header` (a script's metadata), `defaults` (the bundled
//! scripts) and `watch` (the file watcher).

mod cache;
mod defaults;
mod files;
pub(crate) mod header;
mod index;
mod sync;
mod types;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

pub use cache::{CachedResult, DocEntry, ResultEntry};
pub use defaults::{DefaultAction, DefaultScript, bundled as bundled_defaults};
pub use files::validate_slug;
pub(crate) use files::{atomic_write, create_new, sha256_hex};
pub use header::{HeaderError, Meta, ScriptKind, parse as parse_header};
pub use types::{
    Checker, ListFilter, OpenReport, Origin, ScriptEntry, ScriptStatus, StoreError, StoreEvent,
    SyncReport,
};
pub use watch::Watcher;

use crate::Script;
use files::{check_size, io_err, sync_dir};
use index::Index;

/// Largest script the store indexes and runs (the file itself is left alone).
pub const MAX_SOURCE_BYTES: u64 = 1 << 20;

struct Inner {
    root: PathBuf,
    scripts: PathBuf,
    bds: PathBuf,
    index: Mutex<Index>,
    subscribers: Mutex<Vec<Sender<StoreEvent>>>,
    checker: Option<Arc<dyn Checker>>,
}

/// A project's scripts. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct ScriptStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ScriptStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptStore")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

impl ScriptStore {
    /// Creates a project in `dir` (its `scripts/`, seeded with the bundled defaults, and its
    /// index) or opens the one already there. Existing files are kept.
    pub fn init(
        dir: &Path,
        checker: Option<Arc<dyn Checker>>,
    ) -> Result<(Self, OpenReport), StoreError> {
        let scripts = dir.join("scripts");
        std::fs::create_dir_all(&scripts).map_err(io_err(&scripts))?;
        Self::open(dir, checker)
    }

    /// Opens the project in `dir`: repairs or rebuilds the index, seeds missing defaults, and
    /// reconciles the index with the files.
    pub fn open(
        dir: &Path,
        checker: Option<Arc<dyn Checker>>,
    ) -> Result<(Self, OpenReport), StoreError> {
        Self::open_with_defaults(dir, checker, &defaults::bundled())
    }

    /// [`ScriptStore::open`] with a given set of default scripts (tests, and apps that ship
    /// their own).
    pub fn open_with_defaults(
        dir: &Path,
        checker: Option<Arc<dyn Checker>>,
        defaults: &[DefaultScript],
    ) -> Result<(Self, OpenReport), StoreError> {
        let scripts = dir.join("scripts");
        if !scripts.is_dir() {
            return Err(StoreError::NotAProject(dir.to_owned()));
        }
        let bds = dir.join(".bds");
        std::fs::create_dir_all(&bds).map_err(io_err(&bds))?;
        let db = bds.join("index.sqlite");
        let mut report = OpenReport::default();
        let index = match Index::open(&db) {
            Ok(i) => i,
            Err(StoreError::Corrupt { .. } | StoreError::Index { .. }) => {
                report.rebuilt_index = true;
                let stamp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis());
                for ext in ["", "-wal", "-shm"] {
                    let from = bds.join(format!("index.sqlite{ext}"));
                    if from.exists() {
                        let to = bds.join(format!("index.sqlite{ext}.corrupt-{stamp}"));
                        std::fs::rename(&from, &to).map_err(io_err(&from))?;
                    }
                }
                Index::open(&db)?
            }
            Err(e) => return Err(e),
        };
        let store = Self {
            inner: Arc::new(Inner {
                root: dir.to_owned(),
                scripts: scripts.clone(),
                bds: bds.clone(),
                index: Mutex::new(index),
                subscribers: Mutex::new(Vec::new()),
                checker,
            }),
        };
        report.defaults = defaults::apply(&scripts, &bds.join("defaults.json"), defaults)?;
        report.sync = store.sync_as(Origin::External)?;
        Ok((store, report))
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The file of `slug` (whether or not it exists).
    pub fn path_of(&self, slug: &str) -> Result<PathBuf, StoreError> {
        validate_slug(slug)?;
        Ok(self.inner.scripts.join(format!("{slug}.py")))
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.inner
            .index
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Receives every change from now on (app writes and, with [`ScriptStore::watch`], outside ones).
    pub fn subscribe(&self) -> Receiver<StoreEvent> {
        let (tx, rx) = channel();
        self.inner
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        rx
    }

    fn publish(&self, events: Vec<StoreEvent>) {
        if events.is_empty() {
            return;
        }
        let mut subs = self
            .inner
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subs.retain(|s| events.iter().all(|e| s.send(e.clone()).is_ok()));
    }

    pub fn list(&self, filter: ListFilter) -> Result<Vec<ScriptEntry>, StoreError> {
        let all = self.index().all()?;
        Ok(all
            .into_iter()
            .filter(|e| {
                filter.kind.is_none_or(|k| e.kind == k)
                    && filter.enabled.is_none_or(|b| e.enabled == b)
            })
            .collect())
    }

    pub fn get(&self, slug: &str) -> Result<ScriptEntry, StoreError> {
        validate_slug(slug)?;
        self.index()
            .get(slug)?
            .ok_or_else(|| StoreError::NotFound(slug.to_owned()))
    }

    /// The script's source, read from its file (the truth, whatever the index says).
    pub fn read(&self, slug: &str) -> Result<String, StoreError> {
        let path = self.path_of(slug)?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(slug.to_owned()));
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        String::from_utf8(bytes).map_err(|e| StoreError::NotUtf8 {
            at: e.utf8_error().valid_up_to(),
            path,
        })
    }

    /// The script ready to run: name `<slug>.py`, its source.
    pub fn script(&self, slug: &str) -> Result<Script, StoreError> {
        Ok(Script::new(format!("{slug}.py"), self.read(slug)?))
    }

    /// Creates `scripts/<slug>.py`. Fails if it exists. A script that does not compile is
    /// still saved, with its error in the index.
    pub fn create(&self, slug: &str, source: &str) -> Result<ScriptEntry, StoreError> {
        let path = self.path_of(slug)?;
        check_size(&path, source.len() as u64)?;
        let pre = self.precheck(slug, source);
        let index = self.index();
        if !create_new(&path, source.as_bytes())? {
            return Err(StoreError::AlreadyExists(slug.to_owned()));
        }
        let entry = self.reindex(&index, slug, pre.as_ref())?;
        drop(index);
        self.publish(vec![StoreEvent::Added {
            slug: slug.to_owned(),
            origin: Origin::App,
        }]);
        Ok(entry)
    }

    /// Replaces the source of `slug`. With `base_hash` (the hash the editor loaded), fails with
    /// [`StoreError::Conflict`] if the file changed on disk since.
    pub fn update(
        &self,
        slug: &str,
        source: &str,
        base_hash: Option<&str>,
    ) -> Result<ScriptEntry, StoreError> {
        let path = self.path_of(slug)?;
        check_size(&path, source.len() as u64)?;
        let pre = self.precheck(slug, source);
        let index = self.index();
        let current = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(slug.to_owned()));
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let current_hash = sha256_hex(&current);
        if let Some(base) = base_hash
            && base != current_hash
        {
            return Err(StoreError::Conflict {
                slug: slug.to_owned(),
                current_hash,
            });
        }
        atomic_write(&path, source.as_bytes())?;
        let entry = self.reindex(&index, slug, pre.as_ref())?;
        drop(index);
        self.publish(vec![StoreEvent::Changed {
            slug: slug.to_owned(),
            origin: Origin::App,
        }]);
        Ok(entry)
    }

    /// Turns a script on or off by rewriting the `enabled` line of its header.
    pub fn set_enabled(&self, slug: &str, enabled: bool) -> Result<ScriptEntry, StoreError> {
        let source = self.read(slug)?;
        let base = sha256_hex(source.as_bytes());
        let path = self.path_of(slug)?;
        let new = header::set(&source, "enabled", if enabled { "true" } else { "false" }).map_err(
            |e| StoreError::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            },
        )?;
        self.update(slug, &new, Some(&base))
    }

    /// Moves `scripts/<slug>.py` to `.bds/trash/` and drops it from the index.
    pub fn delete(&self, slug: &str) -> Result<PathBuf, StoreError> {
        let path = self.path_of(slug)?;
        let index = self.index();
        if !path.exists() {
            return Err(StoreError::NotFound(slug.to_owned()));
        }
        let trash = self.inner.bds.join("trash");
        std::fs::create_dir_all(&trash).map_err(io_err(&trash))?;
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let dest = trash.join(format!("{slug}.{stamp}.py"));
        std::fs::rename(&path, &dest).map_err(io_err(&path))?;
        sync_dir(&self.inner.scripts);
        Index::remove(&index.conn, &index.path, slug)?;
        drop(index);
        self.publish(vec![StoreEvent::Removed {
            slug: slug.to_owned(),
            origin: Origin::App,
        }]);
        Ok(dest)
    }

    /// Renames `scripts/<from>.py` to `scripts/<to>.py`, keeping its id. Never replaces a file.
    pub fn rename(&self, from: &str, to: &str) -> Result<ScriptEntry, StoreError> {
        let src = self.path_of(from)?;
        let dst = self.path_of(to)?;
        // Tracebacks name the file, so the script is checked under its new name.
        let pre = self
            .read(from)
            .ok()
            .and_then(|source| self.precheck(to, &source));
        let index = self.index();
        if !src.exists() {
            return Err(StoreError::NotFound(from.to_owned()));
        }
        match std::fs::hard_link(&src, &dst) {
            Ok(()) => std::fs::remove_file(&src).map_err(io_err(&src))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists(to.to_owned()));
            }
            // No hard links here (some file systems): check, then rename.
            Err(_) => {
                if dst.exists() {
                    return Err(StoreError::AlreadyExists(to.to_owned()));
                }
                std::fs::rename(&src, &dst).map_err(io_err(&src))?;
            }
        }
        sync_dir(&self.inner.scripts);
        Index::rename(&index.conn, &index.path, from, to)?;
        let entry = self.reindex(&index, to, pre.as_ref())?;
        drop(index);
        self.publish(vec![StoreEvent::Renamed {
            from: from.to_owned(),
            to: to.to_owned(),
            origin: Origin::App,
        }]);
        Ok(entry)
    }

    /// Cached macro result candidates for each `own` key, in order, in one transaction.
    pub fn results_get(&self, owns: &[&str]) -> Result<Vec<Vec<CachedResult>>, StoreError> {
        self.index().results_get(owns)
    }

    /// Stores macro results in one transaction. They are dropped when their script's content
    /// changes.
    pub fn results_put(&self, entries: &[ResultEntry]) -> Result<(), StoreError> {
        self.index().results_put(entries)
    }

    /// Stored renderings of documents by id.
    pub fn docs_get(&self, ids: &[&str]) -> Result<Vec<Option<DocEntry>>, StoreError> {
        self.index().docs_get(ids)
    }

    /// Stores renderings (`true`) or only the usages (`false`) of documents.
    pub fn docs_put(&self, docs: &[(DocEntry, bool)]) -> Result<(), StoreError> {
        self.index().docs_put(docs)
    }

    /// Forgets the renderings and usages of every document not in `keep`; returns how many
    /// renderings were dropped.
    pub fn docs_retain(&self, keep: &[&str]) -> Result<u64, StoreError> {
        self.index().docs_retain(keep)
    }

    /// The scripts that import the utility `slug`, directly or through other utilities,
    /// sorted: the scripts an edit of it re-runs.
    pub fn importers(&self, slug: &str) -> Result<Vec<String>, StoreError> {
        let all = self.list(ListFilter::default())?;
        let utilities: std::collections::HashSet<&str> = all
            .iter()
            .filter(|e| e.kind == ScriptKind::Utility)
            .map(|e| e.slug.as_str())
            .collect();
        let mut found: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let mut todo = vec![slug.to_owned()];
        while let Some(module) = todo.pop() {
            for e in &all {
                if e.imports.contains(&module) && found.insert(e.slug.clone()) {
                    // Who imports an importing utility imports this one too.
                    if utilities.contains(e.slug.as_str()) {
                        todo.push(e.slug.clone());
                    }
                }
            }
        }
        found.remove(slug);
        Ok(found.into_iter().collect())
    }

    /// The documents whose last rendering called the macro `slug`, with how many calls each.
    pub fn usages(&self, slug: &str) -> Result<Vec<(String, u64)>, StoreError> {
        self.index().usages(slug)
    }

    /// Watches `scripts/` and reconciles after each burst of changes (quiet for `debounce`).
    /// Changes are published to subscribers. Dropping the [`Watcher`] stops it.
    pub fn watch(&self, debounce: std::time::Duration) -> Result<Watcher, StoreError> {
        Watcher::start(self.clone(), &self.inner.scripts, debounce)
    }
}
