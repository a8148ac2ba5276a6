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

mod cache;
mod defaults;
pub(crate) mod header;
mod index;
mod watch;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use cache::{CachedResult, DocEntry, ResultEntry};
pub use defaults::{DefaultAction, DefaultScript, bundled as bundled_defaults};
pub use header::{HeaderError, Meta, ScriptKind, parse as parse_header};
pub use watch::Watcher;

use crate::{ErrorKind, Script, ScriptError};
use index::Index;

/// Largest script the store indexes and runs (the file itself is left alone).
pub const MAX_SOURCE_BYTES: u64 = 1 << 20;

/// Why a store operation failed, grouped by what the caller can do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The name is not a valid script slug: ask the user for another.
    #[error("`{name}` is not a valid script name: {why}")]
    InvalidName { name: String, why: &'static str },
    #[error("no script named `{0}`")]
    NotFound(String),
    #[error("a script named `{0}` already exists")]
    AlreadyExists(String),
    /// The file changed on disk since the editor read it: reload, then save again.
    #[error("`{slug}` changed on disk since it was opened (now {current_hash})")]
    Conflict { slug: String, current_hash: String },
    /// The file is not text the engine can run; it is left untouched.
    #[error("{path} is not UTF-8 (invalid byte at {at})")]
    NotUtf8 { path: PathBuf, at: usize },
    #[error("{path} is {size} bytes, over the {max}-byte limit")]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    /// `dir` has no `scripts/` folder: run `bds init` there first.
    #[error("{0} is not a bDS project (no scripts/ folder); run `bds init` there first")]
    NotAProject(PathBuf),
    /// The disk refused: permissions, space, a vanished folder.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused. The index is rebuilt from the files on the next open.
    #[error("index {path}: {source}")]
    Index {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("index {path} is unusable: {detail}")]
    Corrupt { path: PathBuf, detail: String },
}

/// The index's view of one script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptEntry {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub kind: ScriptKind,
    pub entrypoint: String,
    pub enabled: bool,
    pub version: i64,
    /// SHA-256 of the file, lowercase hex.
    pub content_hash: String,
    pub size: u64,
    #[serde(skip)]
    /// The file's modification time in ns since the Unix epoch (how sync spots changes).
    pub mtime_ns: i64,
    /// The file's modification time, RFC 3339 UTC.
    pub updated_at: String,
    pub status: ScriptStatus,
    pub error: Option<String>,
    pub error_line: Option<u32>,
    /// The top-level names of the modules it imports by statement (see [`crate::imported_modules`]).
    pub imports: Vec<String>,
    /// A macro's declared parameters (`None`: it declares none, any are accepted).
    pub params: Option<Vec<crate::ParamDecl>>,
}

/// What the store knows about a script's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptStatus {
    /// Compiles.
    Ok,
    /// Not compiled (the store has no engine attached).
    Unchecked,
    /// Saved, indexed, but does not compile: `error` and `error_line` say why.
    CompileError,
    /// The metadata header is broken: `error_line` points at it.
    InvalidHeader,
    /// A utility whose file name cannot be imported (not a Python name, or a standard-library
    /// module's name): `error` says why. Nothing can import it until it is renamed.
    InvalidName,
    NotUtf8,
    TooLarge,
}

impl ScriptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptStatus::Ok => "ok",
            ScriptStatus::Unchecked => "unchecked",
            ScriptStatus::CompileError => "compile-error",
            ScriptStatus::InvalidHeader => "invalid-header",
            ScriptStatus::InvalidName => "invalid-name",
            ScriptStatus::NotUtf8 => "not-utf8",
            ScriptStatus::TooLarge => "too-large",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        [
            ScriptStatus::Ok,
            ScriptStatus::Unchecked,
            ScriptStatus::CompileError,
            ScriptStatus::InvalidHeader,
            ScriptStatus::InvalidName,
            ScriptStatus::NotUtf8,
            ScriptStatus::TooLarge,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Through this store's API.
    App,
    /// Another editor, `git checkout`, another process.
    External,
}

/// One change, as published to subscribers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StoreEvent {
    Added {
        slug: String,
        origin: Origin,
    },
    Changed {
        slug: String,
        origin: Origin,
    },
    Removed {
        slug: String,
        origin: Origin,
    },
    Renamed {
        from: String,
        to: String,
        origin: Origin,
    },
}

/// What a reconciliation found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub renamed: Vec<(String, String)>,
    /// Files in `scripts/` that are not scripts the store can index, and why.
    pub ignored: Vec<(String, String)>,
}

impl SyncReport {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.changed.is_empty()
            && self.removed.is_empty()
            && self.renamed.is_empty()
    }
}

/// Filters for [`ScriptStore::list`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub kind: Option<ScriptKind>,
    pub enabled: Option<bool>,
}

/// The script files in `scripts/` (sorted slugs), and the files there that are not scripts the
/// store can index, with why.
struct Scan {
    files: Vec<String>,
    ignored: Vec<(String, String)>,
}

/// A compile result for one content, computed before the index was locked.
struct Prechecked {
    hash: String,
    result: Result<(), ScriptError>,
}

/// Compiles a script for the index's status column. [`crate::Pool`] implements it.
pub trait Checker: Send + Sync {
    fn check(&self, script: &Script) -> Result<(), ScriptError>;
}

impl Checker for crate::Pool {
    fn check(&self, script: &Script) -> Result<(), ScriptError> {
        crate::Pool::check(self, script)
    }
}

/// What opening a project did besides opening it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenReport {
    /// The index was missing, corrupt or from a newer build, and was rebuilt from the files.
    pub rebuilt_index: bool,
    pub defaults: Vec<DefaultAction>,
    pub sync: SyncReport,
}

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

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    crate::script::hex(&Sha256::digest(bytes))
}

/// Writes `bytes` to a temp file beside `path`, fsyncs it, and renames it over `path`.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let (dir, tmp) = staged(path, bytes)?;
    tmp.persist(path).map_err(|e| StoreError::Io {
        path: path.to_owned(),
        source: e.error,
    })?;
    sync_dir(dir);
    Ok(())
}

/// Like [`atomic_write`] but never replaces an existing file. `Ok(false)`: it already existed.
pub(crate) fn create_new(path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    let (dir, tmp) = staged(path, bytes)?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {
            sync_dir(dir);
            Ok(true)
        }
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(StoreError::Io {
            path: path.to_owned(),
            source: e.error,
        }),
    }
}

/// `bytes` in a synced temp file beside `path` (named `.bds-*.tmp`, which sync ignores).
fn staged<'a>(
    path: &'a Path,
    bytes: &[u8],
) -> Result<(&'a Path, tempfile::NamedTempFile), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".bds-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    tmp.write_all(bytes).map_err(io_err(path))?;
    tmp.as_file().sync_all().map_err(io_err(path))?;
    Ok((dir, tmp))
}

fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A slug names a file `scripts/<slug>.py`: lowercase ASCII letters, digits, `-` and `_`,
/// starting with a letter or digit, at most 64 characters. Nothing else can reach outside
/// `scripts/` or collide on a case-insensitive disk.
pub fn validate_slug(name: &str) -> Result<(), StoreError> {
    let bad = |why| {
        Err(StoreError::InvalidName {
            name: name.to_owned(),
            why,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 64 {
        return bad("it is longer than 64 characters");
    }
    if name.contains(['/', '\\']) || name.contains("..") {
        return bad("it would leave the scripts/ folder");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return bad("use lowercase letters a-z, digits, '-' and '_' only");
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return bad("it must start with a letter or a digit");
    }
    // `con.py` and friends name devices, not files, on Windows.
    let device = matches!(name, "con" | "prn" | "aux" | "nul")
        || (name.len() == 4
            && (name.starts_with("com") || name.starts_with("lpt"))
            && name.as_bytes()[3].is_ascii_digit());
    if device {
        return bad("it is a device name on Windows");
    }
    Ok(())
}

/// RFC 3339 (UTC, seconds) of nanoseconds since the Unix epoch.
fn rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
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

    /// Reconciles the index with the files and publishes what changed as external changes.
    pub fn sync(&self) -> Result<SyncReport, StoreError> {
        self.sync_as(Origin::External)
    }

    fn sync_as(&self, origin: Origin) -> Result<SyncReport, StoreError> {
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

    /// Re-reads one file into the index (the caller holds the index lock).
    /// Compiles `source` before the index is locked: a compile waits for a free worker, and the
    /// lock must not wait with it (every other store call would).
    fn precheck(&self, slug: &str, source: &str) -> Option<Prechecked> {
        let checker = self.inner.checker.as_ref()?;
        let script = Script::new(format!("{slug}.py"), source);
        Some(Prechecked {
            hash: script.hash_hex(),
            result: checker.check(&script),
        })
    }

    fn reindex(
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

    /// What the index should say about a file.
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

    /// The documents whose last rendering called the macro `slug`, with how many calls each.
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

    pub fn usages(&self, slug: &str) -> Result<Vec<(String, u64)>, StoreError> {
        self.index().usages(slug)
    }

    /// Watches `scripts/` and reconciles after each burst of changes (quiet for `debounce`).
    /// Changes are published to subscribers. Dropping the [`Watcher`] stops it.
    pub fn watch(&self, debounce: std::time::Duration) -> Result<Watcher, StoreError> {
        Watcher::start(self.clone(), &self.inner.scripts, debounce)
    }
}

fn check_size(path: &Path, size: u64) -> Result<(), StoreError> {
    if size > MAX_SOURCE_BYTES {
        return Err(StoreError::TooLarge {
            path: path.to_owned(),
            size,
            max: MAX_SOURCE_BYTES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["toc", "you-tube", "a_1", "9lives"] {
            assert!(validate_slug(ok).is_ok(), "{ok}");
        }
        let cases = [
            ("", "it is empty"),
            ("../etc", "it would leave the scripts/ folder"),
            ("a/b", "it would leave the scripts/ folder"),
            ("/abs", "it would leave the scripts/ folder"),
            ("c:\\x", "it would leave the scripts/ folder"),
            ("Toc", "use lowercase letters a-z, digits, '-' and '_' only"),
            (
                "caf\u{e9}",
                "use lowercase letters a-z, digits, '-' and '_' only",
            ),
            (
                "to\u{200b}c",
                "use lowercase letters a-z, digits, '-' and '_' only",
            ),
            ("a b", "use lowercase letters a-z, digits, '-' and '_' only"),
            ("-x", "it must start with a letter or a digit"),
            (
                "con.py",
                "use lowercase letters a-z, digits, '-' and '_' only",
            ),
        ];
        for (name, why) in cases {
            match validate_slug(name) {
                Err(StoreError::InvalidName { why: w, .. }) => assert_eq!(w, why, "{name:?}"),
                other => panic!("{name:?}: {other:?}"),
            }
        }
        assert!(validate_slug(&"a".repeat(65)).is_err());
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_700_000_000 * 1_000_000_000),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(rfc3339(951_782_400 * 1_000_000_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1_000_000_000), "1969-12-31T23:59:59Z");
    }
}
