//! How failures reach JavaScript: every rejected Promise carries an `Error` whose `name` is
//! `BdsError`, whose `code` says what the caller can do, and, for a script that failed, where.

use bds_engine::{EngineError, ErrorKind, ProjectError, ScriptError, StoreError};
use napi::bindgen_prelude::{JsValue, Object};
use napi::{Env, Status};
use napi_derive::napi;

/// What went wrong, grouped by what the caller can do:
///
/// | code | meaning |
/// |---|---|
/// | `compile` | the script has a syntax error (`line`, `column`): fix the script |
/// | `runtime` | the script raised (`excType`, `detail`, `line`, `traceback`, `stdout`) |
/// | `timeout` | the deadline passed: make it faster, or raise `deadlineMs` |
/// | `memory` | the memory limit was reached: use less, or raise `memoryMib` |
/// | `output-too-large` | the result (1 MiB) or the printed output is over its limit |
/// | `abi-violation` | the result is not a JSON object the ABI allows |
/// | `worker-crash` | the worker died or misbehaved and was replaced: retry |
/// | `invalid-argument` | a request had a wrong type or value (a bad post, context, option) |
/// | `invalid-name` | not a valid script name (it could leave `scripts/`) |
/// | `not-found` | no script by that name |
/// | `already-exists` | a script by that name exists; nothing was replaced |
/// | `conflict` | the file changed on disk since the editor read it (`currentHash`): reload |
/// | `unreadable` | the file is not UTF-8, or too large; it was left untouched (`path`) |
/// | `not-a-project` | the folder has no `scripts/`: open it with `create: true` (`path`) |
/// | `io` | the disk refused (`path`) |
/// | `config` | the project's `bds.toml` cannot be used: fix the file (`path`) |
/// | `index` | the index could not be used; it is rebuilt from the files on the next open |
/// | `worker-unavailable` | the worker binary is missing or could not start |
/// | `closed` | the engine was closed |
/// | `internal` | a bug in the engine (please report); the engine stays usable |
#[napi(string_enum = "kebab-case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Compile,
    Runtime,
    Timeout,
    Memory,
    OutputTooLarge,
    AbiViolation,
    WorkerCrash,
    InvalidArgument,
    InvalidName,
    NotFound,
    AlreadyExists,
    Conflict,
    Unreadable,
    NotAProject,
    Io,
    Config,
    Index,
    WorkerUnavailable,
    Closed,
    Internal,
}

/// The properties of a rejected Promise's error, beyond `name` (`BdsError`) and `message`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct BdsErrorFields {
    pub code: ErrorCode,
    /// The error's own message, without the `script: kind error at line N:` prefix of
    /// `message` (for a Python exception, `str(exc)`).
    pub detail: Option<String>,
    /// The script's file name (`toc.py`), for script errors.
    pub script: Option<String>,
    /// The Python exception type (`ValueError`), when there is one.
    pub exc_type: Option<String>,
    /// The line in the script (1-based), when known.
    pub line: Option<u32>,
    /// The column of a syntax error (1-based).
    pub column: Option<u32>,
    /// The Python traceback, outermost first.
    pub traceback: Option<Vec<crate::types::TraceFrame>>,
    /// What the script printed before it failed.
    pub stdout: Option<String>,
    /// The file involved, for disk errors.
    pub path: Option<String>,
    /// For `conflict`: the hash of the file now on disk.
    pub current_hash: Option<String>,
}

/// A failure on its way to JavaScript. Built on any thread; turned into a JS `Error` on the JS
/// thread.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) message: String,
    /// Boxed: a `Result<T, Failure>` stays small on the success path.
    pub(crate) fields: Box<BdsErrorFields>,
}

impl Failure {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fields: Box::new(BdsErrorFields {
                code,
                detail: None,
                script: None,
                exc_type: None,
                line: None,
                column: None,
                traceback: None,
                stdout: None,
                path: None,
                current_hash: None,
            }),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    pub(crate) fn closed() -> Self {
        Self::new(ErrorCode::Closed, "the engine is closed")
    }

    #[cfg(test)]
    pub(crate) fn code(&self) -> ErrorCode {
        self.fields.code
    }

    /// The JS `Error` to reject with.
    pub(crate) fn into_js(self, env: &Env) -> napi::Error {
        match self.build(env) {
            Ok(e) => e,
            Err(e) => e,
        }
    }

    fn build(self, env: &Env) -> napi::Result<napi::Error> {
        let code = self.fields.code;
        let mut obj: Object<'_> =
            env.create_error(napi::Error::new(Status::GenericFailure, self.message))?;
        obj.set("name", "BdsError")?;
        let f = *self.fields;
        obj.set("code", code)?;
        if let Some(v) = f.detail {
            obj.set("detail", v)?;
        }
        if let Some(v) = f.script {
            obj.set("script", v)?;
        }
        if let Some(v) = f.exc_type {
            obj.set("excType", v)?;
        }
        if let Some(v) = f.line {
            obj.set("line", v)?;
        }
        if let Some(v) = f.column {
            obj.set("column", v)?;
        }
        if let Some(v) = f.traceback {
            obj.set("traceback", v)?;
        }
        if let Some(v) = f.stdout {
            obj.set("stdout", v)?;
        }
        if let Some(v) = f.path {
            obj.set("path", v)?;
        }
        if let Some(v) = f.current_hash {
            obj.set("currentHash", v)?;
        }
        Ok(napi::Error::from(obj.to_unknown()))
    }
}

impl From<ScriptError> for Failure {
    fn from(e: ScriptError) -> Self {
        let code = match e.kind {
            ErrorKind::Compile => ErrorCode::Compile,
            ErrorKind::Runtime => ErrorCode::Runtime,
            ErrorKind::Timeout => ErrorCode::Timeout,
            ErrorKind::Memory => ErrorCode::Memory,
            ErrorKind::OutputTooLarge => ErrorCode::OutputTooLarge,
            ErrorKind::AbiViolation => ErrorCode::AbiViolation,
            ErrorKind::WorkerCrash | ErrorKind::NotLoaded | ErrorKind::NotShared => {
                ErrorCode::WorkerCrash
            }
        };
        let mut f = Failure::new(code, e.to_string());
        f.fields.detail = Some(e.message);
        f.fields.script = Some(e.script);
        f.fields.exc_type = (!e.exc_type.is_empty()).then_some(e.exc_type);
        f.fields.line = (e.line > 0).then_some(e.line);
        f.fields.column = (e.column > 0).then_some(e.column);
        f.fields.traceback = Some(e.traceback.into_iter().map(Into::into).collect());
        f.fields.stdout = Some(e.stdout);
        f
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        let (code, path, current_hash) = match e {
            StoreError::InvalidName { .. } => (ErrorCode::InvalidName, None, None),
            StoreError::NotFound(_) => (ErrorCode::NotFound, None, None),
            StoreError::AlreadyExists(_) => (ErrorCode::AlreadyExists, None, None),
            StoreError::Conflict { current_hash, .. } => {
                (ErrorCode::Conflict, None, Some(current_hash))
            }
            StoreError::NotUtf8 { path, .. } | StoreError::TooLarge { path, .. } => {
                (ErrorCode::Unreadable, Some(path), None)
            }
            StoreError::NotAProject(path) => (ErrorCode::NotAProject, Some(path), None),
            StoreError::Io { path, .. } => (ErrorCode::Io, Some(path), None),
            StoreError::Index { path, .. } | StoreError::Corrupt { path, .. } => {
                (ErrorCode::Index, Some(path), None)
            }
        };
        let mut f = Failure::new(code, message);
        f.fields.path = path.map(|p| p.display().to_string());
        f.fields.current_hash = current_hash;
        f
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        let code = match e {
            EngineError::Closed => ErrorCode::Closed,
            EngineError::WorkerNotFound { .. }
            | EngineError::Spawn { .. }
            | EngineError::Handshake { .. }
            | EngineError::Version { .. } => ErrorCode::WorkerUnavailable,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<ProjectError> for Failure {
    fn from(e: ProjectError) -> Self {
        match e {
            ProjectError::InvalidInput { .. } | ProjectError::InvalidPost { .. } => {
                Failure::invalid(e.to_string())
            }
            ProjectError::Store(e) => e.into(),
            ProjectError::Engine(e) => e.into(),
            ProjectError::Config(e) => {
                let message = e.to_string();
                let (bds_engine::ConfigError::Io { path, .. }
                | bds_engine::ConfigError::Invalid { path, .. }) = e;
                let mut f = Failure::new(ErrorCode::Config, message);
                f.fields.path = Some(path.display().to_string());
                f
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_errors_keep_their_location_and_traceback() {
        let e = ScriptError {
            kind: ErrorKind::Runtime,
            script: "toc.py".into(),
            exc_type: "ValueError".into(),
            message: "bad".into(),
            line: 3,
            column: 0,
            traceback: vec![bds_engine::TraceFrame {
                file: "toc.py".into(),
                line: 3,
                function: "render".into(),
            }],
            stdout: "hi\n".into(),
        };
        let f = Failure::from(e);
        assert_eq!(f.code(), ErrorCode::Runtime);
        assert_eq!(f.message, "toc.py: runtime error at line 3: bad");
        assert_eq!(f.fields.detail.as_deref(), Some("bad"));
        assert_eq!(f.fields.line, Some(3));
        assert_eq!(f.fields.column, None);
        assert_eq!(f.fields.exc_type.as_deref(), Some("ValueError"));
        assert_eq!(f.fields.traceback.as_ref().map(Vec::len), Some(1));
        assert_eq!(f.fields.stdout.as_deref(), Some("hi\n"));
    }

    #[test]
    fn store_errors_say_what_to_do() {
        let f = Failure::from(StoreError::Conflict {
            slug: "toc".into(),
            current_hash: "ab".into(),
        });
        assert_eq!(f.code(), ErrorCode::Conflict);
        assert_eq!(f.fields.current_hash.as_deref(), Some("ab"));
        let f = Failure::from(StoreError::NotAProject("/x".into()));
        assert_eq!(f.code(), ErrorCode::NotAProject);
        assert_eq!(f.fields.path.as_deref(), Some("/x"));
        assert_eq!(Failure::from(EngineError::Closed).code(), ErrorCode::Closed);
    }
}
