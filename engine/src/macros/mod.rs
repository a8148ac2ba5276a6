//! The two jobs the editor runs all day: expanding the macros of posts while they render, and
//! transforming posts captured by the bookmarklet. [`Project`] ties a [`ScriptStore`] to a
//! [`Pool`].
//!
//! **Expansion**: every macro call of every post given is parsed ([`parse`]), resolved to an
//! enabled macro script, given its ABI v1 context, looked up in the result cache, and the misses
//! are sent as one batch spread over the pool's workers (one batch per nesting level: a macro's
//! `inner` is expanded before the macro that contains it). Each result is checked against the
//! macro-result JSON Schema. A failing or unknown macro becomes a visible, escaped error marker
//! in the HTML plus a [`Diagnostic`]; it never fails the whole render. Output does not depend on
//! the number of workers.
//!
//! **Transforms**: enabled transform scripts run in order (`order:` in their header, then
//! slug), each on a fresh guest; each output must be a valid post, else the post from before
//! that step is kept and the step is reported.

mod build;
mod config;
mod deps;
mod expand;
mod parser;
mod resolve;
mod tree;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use build::{BuildEvent, BuildOptions, BuildSummary, DocOutput, Document};
pub use config::{Alias, CONFIG_FILE, ConfigError, ProjectConfig, parse_config};
pub use parser::{MacroCall, Node, ParseError, parse, typed};

use resolve::{Loaded, UtilitySet};
use tree::{CallData, call_metadata, collect_parse_errors, lower, render};

use crate::store::{ListFilter, ScriptKind, ScriptStore, StoreError, header};
use crate::{
    CallOptions, ErrorKind, Pool, PoolConfig, Script, ScriptError, SharedValue, TraceFrame,
};

const POST_SCHEMA: &str = include_str!("../../schemas/post.v1.json");
const RESULT_SCHEMA: &str = include_str!("../../schemas/macro-result.v1.json");
const TRANSFORM_SCHEMA: &str = include_str!("../../schemas/transform-result.v1.json");

/// Why an expansion or transform could not start (a single macro failing is not one of these).
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The post (or site) given is not valid against the ABI v1 schema.
    #[error("invalid {what}: {message}")]
    InvalidInput { what: &'static str, message: String },
    /// One post of a build is not valid (nothing ran): `index` in the posts given, `id` its id.
    #[error("invalid post: {id}: {message}")]
    InvalidPost {
        index: usize,
        id: String,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] crate::EngineError),
    /// The project's `bds.toml` cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The macro's output is an error marker (or the text could not be read).
    #[default]
    Error,
    /// The output was rendered; something deserves a look (`warnings.warn`, an unknown
    /// parameter).
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found while rendering, for the editor's problems panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Which document of the batch (0 for a single post).
    pub document: usize,
    /// The macro (or transform) name.
    pub script: String,
    /// Where the macro call is in the content (1-based; 0 for transforms).
    pub line: u32,
    pub column: u32,
    /// `parse`, `unknown-macro`, `invalid-params`, `warning`, or an [`ErrorKind`] name.
    pub kind: String,
    #[serde(default)]
    pub severity: Severity,
    pub message: String,
    pub traceback: Vec<TraceFrame>,
}

/// A rendered document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expansion {
    pub html: String,
    pub diagnostics: Vec<Diagnostic>,
    /// Macro calls in the document, and how many were answered from the cache.
    pub calls: usize,
    pub cache_hits: usize,
}

/// One step of a transform chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransformStep {
    pub script: String,
    pub ok: bool,
    pub error: Option<Diagnostic>,
    pub duration_us: u64,
}

/// The transformed post and what each step did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransformOutcome {
    pub post: Value,
    pub steps: Vec<TransformStep>,
}

/// Per-script figures: the pool's, plus cache hits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MacroMetrics {
    pub script: String,
    pub calls: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub cache_hits: u64,
    pub p50_us: u64,
    pub p95_us: u64,
}

struct Schemas {
    post: jsonschema::Validator,
    result: jsonschema::Validator,
    transform: jsonschema::Validator,
}

fn compile_schema(text: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(text).expect("bundled schemas are JSON");
    jsonschema::validator_for(&schema).expect("bundled schemas are valid")
}

fn first_error(v: &jsonschema::Validator, value: &Value) -> Option<String> {
    v.iter_errors(value).next().map(|e| {
        let at = e.instance_path().to_string();
        if at.is_empty() {
            e.to_string()
        } else {
            format!("{at}: {e}")
        }
    })
}

/// A project: its scripts, a pool to run them, the result cache.
#[derive(Clone)]
pub struct Project {
    store: ScriptStore,
    pool: Pool,
    schemas: Arc<Schemas>,
    loaded: Arc<Mutex<HashMap<String, Loaded>>>,
    cache_hits: Arc<Mutex<HashMap<String, u64>>>,
    macro_opts: CallOptions,
    transform_opts: CallOptions,
    result_cache: bool,
    /// The last site seen and its shared form: an app renders post after post against the
    /// same site, and comparing is cheaper than serialising and hashing it again.
    last_site: Arc<Mutex<Option<(Value, SharedValue)>>>,
    /// The utilities last read, re-read when one of their hashes changes.
    utilities: Arc<Mutex<Arc<UtilitySet>>>,
    /// `bds.toml`, read again when it changes.
    config: Arc<Mutex<config::ConfigFile>>,
}

impl std::fmt::Debug for Project {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Project")
            .field("root", &self.store.root())
            .finish_non_exhaustive()
    }
}

/// The marker put in the HTML in place of a macro that failed.
pub fn error_marker(name: &str, message: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<span class=\"bds-macro-error\" data-macro=\"{}\">{}: {}</span>",
        esc(name),
        esc(if name.is_empty() { "macro" } else { name }),
        esc(message)
    )
}

impl Project {
    /// Opens the project in `dir` with a pool of its own, on the guest `bds.toml` names when
    /// `pool` does not choose one itself.
    pub fn open(dir: &Path, mut pool: PoolConfig) -> Result<Self, ProjectError> {
        if pool.guest_kind().is_none()
            && let Some(guest) = config::ConfigFile::new(dir).current()?.guest
        {
            pool = pool.guest(guest);
        }
        let pool = Pool::new(pool)?;
        let checker: Arc<dyn crate::Checker> = Arc::new(pool.clone());
        let (store, _) = ScriptStore::open(dir, Some(checker))?;
        Ok(Self::new(store, pool))
    }

    /// Uses an already open store and pool.
    pub fn new(store: ScriptStore, pool: Pool) -> Self {
        Self {
            pool,
            schemas: Arc::new(Schemas {
                post: compile_schema(POST_SCHEMA),
                result: compile_schema(RESULT_SCHEMA),
                transform: compile_schema(TRANSFORM_SCHEMA),
            }),
            loaded: Arc::default(),
            cache_hits: Arc::default(),
            macro_opts: CallOptions::default(),
            transform_opts: CallOptions::run_button().fresh(true),
            result_cache: true,
            last_site: Arc::default(),
            utilities: Arc::default(),
            config: Arc::new(Mutex::new(config::ConfigFile::new(store.root()))),
            store,
        }
    }

    /// The project's configuration (`bds.toml`) as it is now.
    pub fn config(&self) -> Result<Arc<ProjectConfig>, ConfigError> {
        self.config
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .current()
    }

    /// Options for macro calls (default: 250 ms, 128 MiB, frozen clock).
    #[must_use]
    pub fn with_macro_options(mut self, opts: CallOptions) -> Self {
        self.macro_opts = opts;
        self
    }

    /// Whether macro results are looked up in and stored to the result cache (default true;
    /// off, every call runs: for comparisons and benchmarks).
    #[must_use]
    pub fn with_result_cache(mut self, on: bool) -> Self {
        self.result_cache = on;
        self
    }

    pub fn store(&self) -> &ScriptStore {
        &self.store
    }
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Expands one post's content. `post` is its metadata (its `content` defaults to `content`);
    /// `site` is the site's metadata.
    pub fn expand(
        &self,
        content: &str,
        post: &Value,
        site: &Value,
    ) -> Result<Expansion, ProjectError> {
        let mut out = self.expand_many(&[(content.to_owned(), post.clone())], site)?;
        Ok(out.remove(0))
    }

    /// Expands many posts at once: all their macro calls go out in shared batches. Each
    /// post's metadata and the site travel to each worker once (see [`SharedValue`]).
    pub fn expand_many(
        &self,
        docs: &[(String, Value)],
        site: &Value,
    ) -> Result<Vec<Expansion>, ProjectError> {
        let site = self.shared_site(site)?;
        let prepared = docs
            .iter()
            .map(|(content, post)| {
                Ok(expand::Prepared {
                    content: content.clone(),
                    post: expand::prepare_post(self, content, post)?,
                })
            })
            .collect::<Result<Vec<_>, ProjectError>>()?;
        Ok(self
            .expand_prepared(&prepared, &site, &self.enabled_macros()?)?
            .into_iter()
            .map(|(e, _)| e)
            .collect())
    }

    /// Calls `script` as rendering would (the Run button): for a macro (any script whose
    /// header does not say `kind: transform`), the context's `post` and `site`, when they are
    /// objects, become shared, read-only values; a transform gets its context as it is.
    pub fn run(
        &self,
        script: &Script,
        context: &Value,
        opts: &CallOptions,
    ) -> Result<crate::CallOutput, ScriptError> {
        let utilities = self
            .utility_set()
            .map_err(|e| ScriptError::new(ErrorKind::WorkerCrash, script.name(), e.to_string()))?;
        let script = crate::link(script.clone(), &utilities.sources);
        let (own, shared) = crate::split_shared(&script, context.clone())
            .map_err(|e| ScriptError::new(ErrorKind::AbiViolation, script.name(), e.to_string()))?;
        self.pool.call_shared(&script, &own, &shared, opts)
    }

    /// Runs the enabled transforms on `post`, in order. A step whose output is not a valid post
    /// is skipped: the post from before it goes on to the next step.
    pub fn transform(&self, post: &Value) -> Result<TransformOutcome, ProjectError> {
        if let Some(message) = first_error(&self.schemas.post, post) {
            return Err(ProjectError::InvalidInput {
                what: "post",
                message,
            });
        }
        let mut transforms = Vec::new();
        let utilities = self.utility_set()?;
        for e in self.store.list(ListFilter {
            kind: Some(ScriptKind::Transform),
            enabled: Some(true),
        })? {
            let loaded = self.resolve(&e.slug, &e.content_hash, &utilities)?;
            let order = header::parse(loaded.script.source())
                .ok()
                .and_then(|m| {
                    m.extra
                        .iter()
                        .find(|(k, _)| k == "order")
                        .and_then(|(_, v)| v.parse::<i64>().ok())
                })
                .unwrap_or(100);
            transforms.push((order, e.slug, loaded, e.entrypoint));
        }
        transforms.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut current = post.clone();
        let mut steps = Vec::new();
        for (_, slug, loaded, entry) in transforms {
            let started = Instant::now();
            let context = json!({"abi": 1, "post": current});
            let opts = self.transform_opts.clone().with_entry(entry);
            let fail = |kind: &str, message: String, traceback: Vec<TraceFrame>| Diagnostic {
                document: 0,
                script: slug.clone(),
                line: 0,
                column: 0,
                kind: kind.to_owned(),
                severity: Severity::Error,
                message,
                traceback,
            };
            let error = match self.pool.call(&loaded.script, &context, &opts) {
                Ok(out) => {
                    let value = Value::Object(out.value);
                    let problem = first_error(&self.schemas.transform, &value).or_else(|| {
                        first_error(&self.schemas.post, &value["post"]).map(|m| format!("/post{m}"))
                    });
                    match problem {
                        Some(m) => Some(fail(
                            ErrorKind::AbiViolation.as_str(),
                            format!("the result is not a valid post: {m}"),
                            Vec::new(),
                        )),
                        None => {
                            current = value["post"].clone();
                            None
                        }
                    }
                }
                Err(e) => Some(fail(e.kind.as_str(), script_message(&e), e.traceback)),
            };
            steps.push(TransformStep {
                script: slug,
                ok: error.is_none(),
                error,
                duration_us: started.elapsed().as_micros() as u64,
            });
        }
        Ok(TransformOutcome {
            post: current,
            steps,
        })
    }

    /// Per-script calls, errors, timeouts, cache hits and latency.
    pub fn metrics(&self) -> Vec<MacroMetrics> {
        let hits = self
            .cache_hits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut out: Vec<MacroMetrics> = self
            .pool
            .metrics()
            .into_iter()
            .map(|m| MacroMetrics {
                cache_hits: hits.get(&m.script).copied().unwrap_or(0),
                script: m.script,
                calls: m.calls,
                errors: m.errors,
                timeouts: m.timeouts,
                p50_us: m.p50_us,
                p95_us: m.p95_us,
            })
            .collect();
        for (script, n) in hits {
            if !out.iter().any(|m| m.script == script) {
                out.push(MacroMetrics {
                    script,
                    calls: 0,
                    errors: 0,
                    timeouts: 0,
                    cache_hits: n,
                    p50_us: 0,
                    p95_us: 0,
                });
            }
        }
        out.sort_by(|a, b| a.script.cmp(&b.script));
        out
    }

    /// How long a macro may run (for callers that show it).
    pub fn macro_deadline(&self) -> Duration {
        self.macro_opts.limits().deadline()
    }
}

fn script_message(e: &ScriptError) -> String {
    let what = if e.exc_type.is_empty() {
        String::new()
    } else {
        format!("{}: ", e.exc_type)
    };
    let line = if e.line > 0 {
        format!(" (line {})", e.line)
    } else {
        String::new()
    };
    format!("{what}{}{line}", e.message)
}
