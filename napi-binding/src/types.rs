//! The objects that cross the Node-API boundary, and their conversions from the engine's types.
//! Field names become camelCase in JavaScript; doc comments become the `.d.ts` comments.

use bds_engine as engine;
use napi_derive::napi;
use serde_json::Value;

/// How `Engine.open` starts the engine. Every field is optional.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Create `scripts/` (seeded with the bundled scripts) when the folder is not a project yet.
    /// Default: false, and opening a folder without `scripts/` rejects with `not-a-project`.
    pub create: Option<bool>,
    /// Worker processes (default: the number of cores, at most 4).
    pub workers: Option<u32>,
    /// Deadline of one macro call during `expand`, in ms (default 250).
    pub macro_deadline_ms: Option<u32>,
    /// Memory limit of one macro call, in MiB (default 128).
    pub macro_memory_mib: Option<u32>,
    /// Script instances kept alive per worker (default 16; fewer use less memory).
    pub max_live_instances: Option<u32>,
    /// The linear memory a worker's live instances may hold together, in MiB (default 512;
    /// past it the least recently used are dropped). Not the worker's whole RSS: see the README.
    pub memory_budget_mib: Option<u32>,
    /// Watch `scripts/` for changes made outside the app (default: true).
    pub watch: Option<bool>,
    /// How long the watcher waits for a burst of file events to settle, in ms (default 100).
    pub watch_debounce_ms: Option<u32>,
    /// The `bds-worker` binary. Default: `$BDS_WORKER`, else the one beside this addon.
    pub worker_path: Option<String>,
    /// Which Python runs the scripts (default: `$BDS_GUEST`, else `rustpython`). `cpython` is
    /// CPython 3.11 itself, compiled to WebAssembly: CPython's results, and faster.
    pub guest: Option<Guest>,
    /// The guest wasm file itself, overriding `guest`. Default: `$BDS_GUEST_WASM`, else the
    /// chosen guest's file beside the worker.
    pub guest_path: Option<String>,
    /// Where the compiled guest is cached. Default: beside the guest, else the user's cache.
    pub cache_dir: Option<String>,
}

/// A Python for the guest: both run in the same sandbox, behind the same interface.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guest {
    /// RustPython 0.6.
    RustPython,
    /// CPython 3.11.
    CPython,
}

/// What a script is for.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    /// Expanded from `{{< name >}}` in a post's content.
    Macro,
    /// Helpers; never called by the app.
    Utility,
    /// Transforms a post captured by the bookmarklet.
    Transform,
}

impl From<engine::ScriptKind> for ScriptKind {
    fn from(k: engine::ScriptKind) -> Self {
        match k {
            engine::ScriptKind::Macro => ScriptKind::Macro,
            engine::ScriptKind::Utility => ScriptKind::Utility,
            engine::ScriptKind::Transform => ScriptKind::Transform,
        }
    }
}

impl From<ScriptKind> for engine::ScriptKind {
    fn from(k: ScriptKind) -> Self {
        match k {
            ScriptKind::Macro => engine::ScriptKind::Macro,
            ScriptKind::Utility => engine::ScriptKind::Utility,
            ScriptKind::Transform => engine::ScriptKind::Transform,
        }
    }
}

/// Which scripts `listScripts` returns.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ListFilter {
    pub kind: Option<ScriptKind>,
    pub enabled: Option<bool>,
}

/// The index's view of one script (`scripts/<slug>.py`).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ScriptEntry {
    pub id: i64,
    /// The file name without `.py`: lowercase ASCII letters, digits, `-`, `_`.
    pub slug: String,
    pub title: String,
    pub kind: ScriptKind,
    /// The function the app calls (`render`).
    pub entrypoint: String,
    pub enabled: bool,
    pub version: i64,
    /// SHA-256 of the file (lowercase hex). Pass it back to `saveScript` to detect conflicts.
    pub content_hash: String,
    /// Size of the file in bytes.
    pub size: i64,
    /// The file's modification time, RFC 3339 UTC.
    pub updated_at: String,
    /// `ok`, `unchecked`, `compile-error`, `invalid-header`, `invalid-name` (a utility whose
    /// name cannot be imported), `not-utf8` or `too-large`.
    pub status: String,
    /// Why the status is not `ok`.
    pub error: Option<String>,
    /// The line the error is on (1-based).
    pub error_line: Option<u32>,
    /// The top-level names of the modules it imports (`html`, a utility's name…).
    pub imports: Vec<String>,
    /// A bundled script whose shipped version is newer than this file's (which the user edited,
    /// so it was not upgraded): the editor can offer the new one.
    pub update_available: bool,
    /// A macro's declared parameters, for completion and hover help (absent: none declared,
    /// any are accepted).
    pub params: Option<Vec<ParamDecl>>,
}

/// The versions of the scripts this build bundles, by slug.
static BUNDLED_VERSIONS: std::sync::LazyLock<std::collections::HashMap<String, i64>> =
    std::sync::LazyLock::new(|| {
        engine::bundled_defaults()
            .into_iter()
            .map(|d| (d.slug, d.version))
            .collect()
    });

impl From<engine::ScriptEntry> for ScriptEntry {
    fn from(e: engine::ScriptEntry) -> Self {
        let update_available = BUNDLED_VERSIONS
            .get(&e.slug)
            .is_some_and(|bundled| *bundled > e.version);
        Self {
            id: e.id,
            slug: e.slug,
            title: e.title,
            kind: e.kind.into(),
            entrypoint: e.entrypoint,
            enabled: e.enabled,
            version: e.version,
            content_hash: e.content_hash,
            size: i64::try_from(e.size).unwrap_or(i64::MAX),
            updated_at: e.updated_at,
            status: e.status.as_str().to_owned(),
            error: e.error,
            error_line: e.error_line,
            update_available,
            imports: e.imports,
            params: e
                .params
                .map(|p| p.into_iter().map(ParamDecl::from).collect()),
        }
    }
}

/// One declared parameter of a macro (its header's `params:` block).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ParamDecl {
    pub name: String,
    /// `str`, `int`, `float`, `bool`, `any` or `choice`.
    #[napi(ts_type = "'str' | 'int' | 'float' | 'bool' | 'any' | 'choice'")]
    pub r#type: String,
    /// The allowed values of a `choice`.
    pub choices: Option<Vec<String>>,
    pub required: bool,
    /// The value filled in when the call leaves it out.
    #[napi(ts_type = "string | number | boolean | undefined")]
    pub default: Option<Value>,
    /// The positional argument it can also be given as (0-based).
    pub position: Option<u32>,
    /// One line of help.
    pub doc: String,
}

impl From<engine::ParamDecl> for ParamDecl {
    fn from(d: engine::ParamDecl) -> Self {
        let (r#type, choices) = match d.ty {
            engine::ParamType::Str => ("str", None),
            engine::ParamType::Int => ("int", None),
            engine::ParamType::Float => ("float", None),
            engine::ParamType::Bool => ("bool", None),
            engine::ParamType::Any => ("any", None),
            engine::ParamType::Choice(c) => ("choice", Some(c)),
        };
        Self {
            name: d.name,
            r#type: r#type.to_owned(),
            choices,
            required: d.required,
            default: d.default,
            position: d.position,
            doc: d.doc,
        }
    }
}

/// A script and its source, for the editor.
#[napi(object)]
#[derive(Debug)]
pub struct ScriptSource {
    pub entry: ScriptEntry,
    pub source: String,
}

/// A script was added, changed, removed or renamed, by the app or outside it.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    /// `added`, `changed`, `removed` or `renamed`.
    pub kind: String,
    /// The script (for `renamed`, its new name).
    pub slug: String,
    /// For `renamed`: the old name.
    pub from: Option<String>,
    /// `app` (through this engine) or `external` (another editor, git, another process).
    pub origin: String,
}

impl From<engine::StoreEvent> for ChangeEvent {
    fn from(e: engine::StoreEvent) -> Self {
        let origin = |o: engine::Origin| match o {
            engine::Origin::App => "app".to_owned(),
            engine::Origin::External => "external".to_owned(),
        };
        let (kind, slug, from, o) = match e {
            engine::StoreEvent::Added { slug, origin } => ("added", slug, None, origin),
            engine::StoreEvent::Changed { slug, origin } => ("changed", slug, None, origin),
            engine::StoreEvent::Removed { slug, origin } => ("removed", slug, None, origin),
            engine::StoreEvent::Renamed { from, to, origin } => ("renamed", to, Some(from), origin),
        };
        Self {
            kind: kind.to_owned(),
            slug,
            from,
            origin: origin(o),
        }
    }
}

/// Options of one Run-button call. Defaults: the `render` entry point, a 2 s deadline, 128 MiB.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The function to call (default `render`).
    pub entry: Option<String>,
    pub deadline_ms: Option<u32>,
    pub memory_mib: Option<u32>,
    /// Seeds `random` (default: derived from the script and the context, so reruns agree).
    pub seed: Option<i64>,
    /// Run on a brand-new interpreter, dropped afterwards (default false).
    pub fresh: Option<bool>,
}

/// What a Run-button call returned.
#[napi(object)]
#[derive(Debug)]
pub struct RunResult {
    /// The JSON object the entry point returned.
    #[napi(ts_type = "Record<string, unknown>")]
    pub value: Value,
    /// What the script printed (cut at 64 KiB, with a marker).
    pub stdout: String,
    pub stdout_truncated: bool,
    /// Time spent in the worker, in microseconds.
    pub duration_us: f64,
    /// What the script passed to `warnings.warn` (at most 16, each once).
    pub warnings: Vec<ScriptWarning>,
}

/// A `warnings.warn(...)` a script raised: shown beside its result, never failing it.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ScriptWarning {
    /// The warning's category (`UserWarning`).
    pub category: String,
    pub message: String,
    /// Where it was raised: a file (`toc.py`, or a utility's) and a line.
    pub file: String,
    pub line: u32,
}

impl From<engine::Warning> for ScriptWarning {
    fn from(w: engine::Warning) -> Self {
        Self {
            category: w.category,
            message: w.message,
            file: w.file,
            line: w.line,
        }
    }
}

/// One line of a Python traceback, outermost first.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct TraceFrame {
    pub file: String,
    pub line: u32,
    pub function: String,
}

impl From<engine::TraceFrame> for TraceFrame {
    fn from(f: engine::TraceFrame) -> Self {
        Self {
            file: f.file,
            line: f.line,
            function: f.function,
        }
    }
}

/// One problem found while rendering, for the editor's problems panel.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Which document of the batch (0 for a single post).
    pub document: u32,
    /// The macro (or transform) name.
    pub script: String,
    /// Where the macro call is in the content (1-based; 0 for transforms).
    pub line: u32,
    pub column: u32,
    /// `parse`, `unknown-macro`, `invalid-params`, `warning`, or an error code (`runtime`,
    /// `timeout`, ...).
    pub kind: String,
    /// `error` (the call's output is an error marker) or `warning` (it rendered).
    #[napi(ts_type = "'error' | 'warning'")]
    pub severity: String,
    pub message: String,
    pub traceback: Vec<TraceFrame>,
}

impl From<engine::Diagnostic> for Diagnostic {
    fn from(d: engine::Diagnostic) -> Self {
        Self {
            document: u32::try_from(d.document).unwrap_or(u32::MAX),
            script: d.script,
            line: d.line,
            column: d.column,
            kind: d.kind,
            severity: d.severity.as_str().to_owned(),
            message: d.message,
            traceback: d.traceback.into_iter().map(Into::into).collect(),
        }
    }
}

/// A rendered post.
#[napi(object)]
#[derive(Debug)]
pub struct Expansion {
    pub html: String,
    /// Macros that failed (each is replaced in `html` by a `bds-macro-error` span).
    pub diagnostics: Vec<Diagnostic>,
    /// Macro calls in the post, and how many were answered from the result cache.
    pub calls: u32,
    pub cache_hits: u32,
}

impl From<engine::Expansion> for Expansion {
    fn from(e: engine::Expansion) -> Self {
        Self {
            html: e.html,
            diagnostics: e.diagnostics.into_iter().map(Into::into).collect(),
            calls: u32::try_from(e.calls).unwrap_or(u32::MAX),
            cache_hits: u32::try_from(e.cache_hits).unwrap_or(u32::MAX),
        }
    }
}

/// One step of a transform chain.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct TransformStep {
    pub script: String,
    pub ok: bool,
    pub error: Option<Diagnostic>,
    pub duration_us: f64,
}

/// The transformed post (or, where steps failed, the post from before them) and each step.
#[napi(object)]
#[derive(Debug)]
pub struct TransformOutcome {
    #[napi(ts_type = "Record<string, unknown>")]
    pub post: Value,
    pub steps: Vec<TransformStep>,
}

impl From<engine::TransformOutcome> for TransformOutcome {
    fn from(t: engine::TransformOutcome) -> Self {
        Self {
            post: t.post,
            steps: t
                .steps
                .into_iter()
                .map(|s| TransformStep {
                    script: s.script,
                    ok: s.ok,
                    error: s.error.map(Into::into),
                    duration_us: s.duration_us as f64,
                })
                .collect(),
        }
    }
}

/// A script whose index status is not `ok`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ScriptProblem {
    pub slug: String,
    /// `compile-error`, `invalid-header`, `not-utf8`, `too-large` or `unchecked`.
    pub status: String,
    pub message: String,
    /// 1-based, when known.
    pub line: Option<u32>,
}

/// What the editor's problems panel shows.
#[napi(object)]
#[derive(Debug)]
pub struct Diagnostics {
    /// Scripts that do not compile or cannot be read.
    pub scripts: Vec<ScriptProblem>,
    /// The diagnostics of the most recent `expand` or `transform`.
    pub last_render: Vec<Diagnostic>,
}

/// Per-script figures since the engine opened.
#[napi(object)]
#[derive(Debug)]
pub struct MacroMetrics {
    /// The script's file name (`kbd.py`).
    pub script: String,
    pub calls: f64,
    pub errors: f64,
    pub timeouts: f64,
    pub cache_hits: f64,
    pub p50_us: f64,
    pub p95_us: f64,
}

impl From<engine::MacroMetrics> for MacroMetrics {
    fn from(m: engine::MacroMetrics) -> Self {
        Self {
            script: m.script,
            calls: m.calls as f64,
            errors: m.errors as f64,
            timeouts: m.timeouts as f64,
            cache_hits: m.cache_hits as f64,
            p50_us: m.p50_us as f64,
            p95_us: m.p95_us as f64,
        }
    }
}

/// A rename found while reconciling.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Rename {
    pub from: String,
    pub to: String,
}

/// A file in `scripts/` the store does not index, and why.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct IgnoredFile {
    pub file: String,
    pub reason: String,
}

/// What reconciling the index with the files found.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub renamed: Vec<Rename>,
    pub ignored: Vec<IgnoredFile>,
}

impl From<engine::SyncReport> for SyncReport {
    fn from(r: engine::SyncReport) -> Self {
        Self {
            added: r.added,
            changed: r.changed,
            removed: r.removed,
            renamed: r
                .renamed
                .into_iter()
                .map(|(from, to)| Rename { from, to })
                .collect(),
            ignored: r
                .ignored
                .into_iter()
                .map(|(file, reason)| IgnoredFile { file, reason })
                .collect(),
        }
    }
}

/// What seeding did to one bundled script.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct DefaultNote {
    /// `seeded`, `upgraded`, `update-available` (the user edited it; left alone) or
    /// `deleted-by-user` (left deleted).
    pub action: String,
    pub slug: String,
}

/// What opening the project did besides opening it.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct OpenReport {
    /// The index was missing, corrupt or from a newer build, and was rebuilt from the files.
    pub rebuilt_index: bool,
    pub defaults: Vec<DefaultNote>,
    pub sync: SyncReport,
}

impl From<engine::OpenReport> for OpenReport {
    fn from(r: engine::OpenReport) -> Self {
        Self {
            rebuilt_index: r.rebuilt_index,
            defaults: r
                .defaults
                .into_iter()
                .map(|a| {
                    let (action, slug) = match a {
                        engine::DefaultAction::Seeded { slug, .. } => ("seeded", slug),
                        engine::DefaultAction::Upgraded { slug, .. } => ("upgraded", slug),
                        engine::DefaultAction::UpdateAvailable { slug, .. } => {
                            ("update-available", slug)
                        }
                        engine::DefaultAction::DeletedByUser { slug } => ("deleted-by-user", slug),
                    };
                    DefaultNote {
                        action: action.to_owned(),
                        slug,
                    }
                })
                .collect(),
            sync: r.sync.into(),
        }
    }
}

/// One post of `Engine.build`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct BuildPost {
    /// Its identity across builds (e.g. its path); the index keys renderings and usages by it.
    pub id: String,
    /// The text with macro calls.
    pub content: String,
    /// Its metadata (`post` in the macro context; default `{}`).
    #[napi(ts_type = "Record<string, unknown>")]
    pub post: Option<Value>,
}

/// One rendered post of `Engine.build`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct BuiltPost {
    pub id: String,
    pub html: String,
    /// Its diagnostics (`document` is the post's index in the build).
    pub diagnostics: Vec<Diagnostic>,
    pub calls: u32,
    pub cache_hits: u32,
    /// Answered from its stored rendering: nothing it depends on changed.
    pub reused: bool,
}

impl From<engine::DocOutput> for BuiltPost {
    fn from(d: engine::DocOutput) -> Self {
        Self {
            id: d.id,
            html: d.html,
            diagnostics: d.diagnostics.into_iter().map(Into::into).collect(),
            calls: u32::try_from(d.calls).unwrap_or(u32::MAX),
            cache_hits: u32::try_from(d.cache_hits).unwrap_or(u32::MAX),
            reused: d.reused,
        }
    }
}

/// The figures of a build.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct BuildSummary {
    pub posts: u32,
    /// Posts expanded (the others were reused unchanged).
    pub rendered: u32,
    pub reused: u32,
    pub calls: u32,
    pub cache_hits: u32,
    pub posts_with_diagnostics: u32,
    pub diagnostics: u32,
    /// Stored renderings of posts no longer in the site, dropped.
    pub forgotten: u32,
    pub duration_ms: f64,
}

impl From<engine::BuildSummary> for BuildSummary {
    fn from(s: engine::BuildSummary) -> Self {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Self {
            posts: n(s.posts),
            rendered: n(s.rendered),
            reused: n(s.reused),
            calls: n(s.calls),
            cache_hits: n(s.cache_hits),
            posts_with_diagnostics: n(s.posts_with_diagnostics),
            diagnostics: n(s.diagnostics),
            forgotten: u32::try_from(s.forgotten).unwrap_or(u32::MAX),
            duration_ms: s.duration.as_secs_f64() * 1e3,
        }
    }
}

/// What `Engine.build` resolves with.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct BuildResult {
    /// Every post, in the order given.
    pub posts: Vec<BuiltPost>,
    pub summary: BuildSummary,
}

/// Progress of `Engine.build`, after each chunk of posts.
#[napi(object)]
#[derive(Debug, Clone, Copy)]
pub struct BuildProgress {
    pub done: u32,
    pub total: u32,
}

/// A post that calls a macro, from its last build.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Usage {
    /// The post's id in the build.
    pub post: String,
    pub calls: u32,
}
