//! What the store says: its errors, its view of a script, the changes it publishes, and what
//! syncing and opening found. Plain data; the store itself is in the parent module.

use std::path::PathBuf;

use serde::Serialize;

use super::defaults::DefaultAction;
use super::header::ScriptKind;
use crate::{Script, ScriptError};

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
    pub(super) fn parse(s: &str) -> Option<Self> {
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
