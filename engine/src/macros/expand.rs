//! Expansion: every macro call of the documents given, resolved, answered from the result cache
//! where what it read is unchanged, and the rest run as one batch per nesting level.
//!
//! Each document's `post` and the `site` are [`SharedValue`]s: serialised and hashed once,
//! sent to each worker once, and referred to by every call. A call's frame holds only its own
//! arguments, so nothing here costs calls × site size.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::PoisonError;

use serde_json::{Map, Value, json};

use super::deps::{deps_text, digest, own_key, parse_deps};
use super::{
    CallData, Diagnostic, Expansion, Loaded, Project, ProjectError, Severity, call_metadata,
    collect_parse_errors, error_marker, first_error, lower, parse, render, script_message,
};
use crate::pool::CALL_KEY;
use crate::store::{ListFilter, ResultEntry, ScriptKind};
use crate::{ErrorKind, SharedCall, SharedValue, TraceFrame};

/// A document ready to expand: its content and its metadata as a shared value.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub(super) content: String,
    pub(super) post: SharedValue,
}

/// What a document's rendering depended on besides its own content and metadata.
#[derive(Debug, Clone, Default)]
pub(super) struct DocDeps {
    /// Every macro name called → the content hash it resolved to ("" for none).
    pub(super) macros: BTreeMap<String, String>,
    /// Resolved macros → how many calls of each.
    pub(super) usages: BTreeMap<String, u64>,
    /// Keys of `site` any call read (`None`: the whole site).
    pub(super) site_reads: BTreeSet<Option<String>>,
    /// A `# pure: false` script ran.
    pub(super) impure: bool,
}

impl DocDeps {
    /// Whether rendering again would give the same output: only deterministic diagnostics.
    pub(super) fn stable(&self, diagnostics: &[Diagnostic]) -> bool {
        !self.impure
            && diagnostics
                .iter()
                .all(|d| d.kind == "parse" || d.kind == "unknown-macro")
    }
}

/// The post as a macro sees it: an object with `content` and `title` filled in, valid against
/// the post schema.
pub(super) fn prepare_post(
    project: &Project,
    content: &str,
    post: &Value,
) -> Result<SharedValue, ProjectError> {
    let mut post = match post {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => {
            return Err(ProjectError::InvalidInput {
                what: "post",
                message: "the post metadata must be a JSON object".into(),
            });
        }
    };
    post.entry("content")
        .or_insert_with(|| Value::String(content.to_owned()));
    post.entry("title")
        .or_insert_with(|| Value::String(String::new()));
    let post = Value::Object(post);
    if let Some(message) = first_error(&project.schemas.post, &post) {
        return Err(ProjectError::InvalidInput {
            what: "post",
            message,
        });
    }
    SharedValue::new(&post).map_err(|e| ProjectError::InvalidInput {
        what: "post",
        message: format!("the post metadata {e}"),
    })
}

/// The digest of what `reads` name in a call's `post`, `site` and `call`. The call's metadata
/// is hashed only when it was read: most macros never read it, and every call has its own.
fn digest_of(
    reads: &[bds_ipc::Read],
    post: &SharedValue,
    site: &SharedValue,
    call: &Value,
) -> Option<String> {
    let call = if reads.iter().any(|r| r.root == CALL_KEY) {
        Some(SharedValue::new(call).ok()?)
    } else {
        None
    };
    let mut roots = vec![("post", post), ("site", site)];
    if let Some(call) = &call {
        roots.push((CALL_KEY, call));
    }
    digest(reads, &roots)
}

/// The diagnostic kind of a call whose parameters do not match the macro's declaration.
const INVALID_PARAMS: &str = "invalid-params";

struct Ready {
    id: usize,
    own: String,
    loaded: Loaded,
    context: Value,
    /// `context["call"]`, for the digest of what the call read of it.
    call: Value,
}

/// What a render's macro names mean, fixed for the whole render (every chunk of a build).
pub(super) struct Macros {
    /// Enabled macro → the hash of its script linked with the utilities it imports (so
    /// editing a utility changes the hash of exactly the macros that import it); an alias →
    /// a digest of its target's hash and its parameters.
    pub(super) hashes: BTreeMap<String, String>,
    /// `bds.toml` as it was read for this render (its aliases).
    pub(super) config: std::sync::Arc<super::ProjectConfig>,
}

impl Project {
    /// The site as a macro sees it, made again only when it differs from the last one.
    pub(super) fn shared_site(&self, site: &Value) -> Result<SharedValue, ProjectError> {
        let mut last = self
            .last_site
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((value, shared)) = last.as_ref()
            && value == site
        {
            return Ok(shared.clone());
        }
        let shared = SharedValue::new(site).map_err(|e| ProjectError::InvalidInput {
            what: "site",
            message: format!("the site metadata {e}"),
        })?;
        *last = Some((site.clone(), shared.clone()));
        Ok(shared)
    }

    /// The enabled macros and the aliases of `bds.toml`, read once for a whole render.
    pub(super) fn enabled_macros(&self) -> Result<Macros, ProjectError> {
        let config = self.config()?;
        let utilities = self.utility_set()?;
        let guest = self.pool.guest_hash();
        let mut out = BTreeMap::new();
        for e in self.store.list(ListFilter {
            kind: Some(ScriptKind::Macro),
            enabled: Some(true),
        })? {
            let hash = match self.resolve(&e.slug, &e.content_hash, &utilities) {
                Ok(l) => l.hash,
                // Unreadable now: the call reports it when it tries to load the script.
                Err(_) => e.content_hash,
            };
            // A build's reuse holds for the guest that rendered it: another guest (or build
            // of it) may answer differently.
            out.insert(
                e.slug,
                crate::script::hash_parts([guest.as_bytes(), hash.as_bytes()]),
            );
        }
        // An alias stands for its target and its default parameters; it wins over a script of
        // its name, and names nothing when its target is not an enabled macro.
        for (name, alias) in &config.aliases {
            match out.get(&alias.target) {
                Some(hash) => {
                    let params = Value::Object(alias.params.clone()).to_string();
                    let key = crate::script::hash_parts([
                        hash.as_bytes(),
                        alias.target.as_bytes(),
                        params.as_bytes(),
                    ]);
                    out.insert(name.clone(), key);
                }
                None => {
                    out.remove(name);
                }
            }
        }
        Ok(Macros {
            hashes: out,
            config,
        })
    }

    /// Expands `docs` against one `site` with the `macros` given (see [`Self::enabled_macros`]):
    /// all their calls go out in shared batches.
    pub(super) fn expand_prepared(
        &self,
        docs: &[Prepared],
        site: &SharedValue,
        macros: &Macros,
    ) -> Result<Vec<(Expansion, DocDeps)>, ProjectError> {
        let mut calls: Vec<CallData> = Vec::new();
        let mut trees = Vec::with_capacity(docs.len());
        let mut max_height = 0;
        for (doc, d) in docs.iter().enumerate() {
            let (tree, h) = lower(parse(&d.content), doc, None, &mut calls);
            max_height = max_height.max(h);
            trees.push(tree);
        }
        let metadata = call_metadata(&calls);
        let guest = self.pool.guest_hash();
        let config = &macros.config;
        let macros = &macros.hashes;
        let mut html: Vec<Option<String>> = vec![None; calls.len()];
        let mut diagnostics: Vec<Vec<Diagnostic>> = vec![Vec::new(); docs.len()];
        let mut deps: Vec<DocDeps> = vec![DocDeps::default(); docs.len()];
        let mut hits = vec![0usize; docs.len()];
        let diag_as = |c: &CallData,
                       kind: &str,
                       severity: Severity,
                       message: String,
                       traceback: Vec<TraceFrame>| Diagnostic {
            document: c.doc,
            script: c.call.name.clone(),
            line: c.call.line,
            column: c.call.column,
            kind: kind.to_owned(),
            severity,
            message,
            traceback,
        };
        let diag = |c: &CallData, kind: &str, message: String, traceback: Vec<TraceFrame>| {
            diag_as(c, kind, Severity::Error, message, traceback)
        };
        let shared_of = |doc: usize| {
            vec![
                ("post".to_owned(), docs[doc].post.clone()),
                ("site".to_owned(), site.clone()),
            ]
        };
        let note_reads = |deps: &mut DocDeps, reads: &[bds_ipc::Read]| {
            for r in reads.iter().filter(|r| r.root == "site") {
                deps.site_reads.insert(r.key.clone());
            }
        };

        for height in 0..max_height {
            // Resolve, build own contexts and keys.
            let mut ready: Vec<Ready> = Vec::new();
            for id in (0..calls.len()).filter(|&i| calls[i].height == height) {
                let c = &calls[id];
                let name = &c.call.name;
                let alias = config.aliases.get(name);
                let resolved = macros.get(name);
                deps[c.doc]
                    .macros
                    .insert(name.clone(), resolved.cloned().unwrap_or_default());
                // An alias runs its target (see `config`).
                let target = match alias {
                    Some(a) => macros.get(&a.target).map(|h| (a.target.as_str(), h)),
                    None => resolved.map(|h| (name.as_str(), h)),
                };
                let (Some(_), Some((slug, hash))) = (resolved, target) else {
                    let message = match alias {
                        Some(a) => format!(
                            "no enabled macro named `{}` (the alias `{name}` in {} runs it)",
                            a.target,
                            super::CONFIG_FILE
                        ),
                        None => format!("no enabled macro named `{name}`"),
                    };
                    // Nothing is lost: a paired call keeps its (expanded) inner content after
                    // the marker.
                    let inner = c
                        .inner
                        .as_ref()
                        .map(|n| render(n, &html, &calls))
                        .unwrap_or_default();
                    html[id] = Some(error_marker(name, &message) + &inner);
                    diagnostics[c.doc].push(diag(c, "unknown-macro", message, Vec::new()));
                    continue;
                };
                *deps[c.doc].usages.entry(slug.to_owned()).or_default() += 1;
                let loaded = match self.load(slug, hash) {
                    Ok(l) => l,
                    Err(e) => {
                        html[id] = Some(error_marker(name, &e.to_string()));
                        diagnostics[c.doc].push(diag(
                            c,
                            "unknown-macro",
                            e.to_string(),
                            Vec::new(),
                        ));
                        continue;
                    }
                };
                let mut given = c.call.params.clone();
                if let Some(a) = alias {
                    for (k, v) in &a.params {
                        given.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                let params = match &loaded.params {
                    None => given,
                    Some(decls) => match crate::check_call(decls, &given, &c.call.args) {
                        Ok(checked) => {
                            for w in checked.warnings {
                                diagnostics[c.doc].push(diag_as(
                                    c,
                                    INVALID_PARAMS,
                                    Severity::Warning,
                                    w,
                                    Vec::new(),
                                ));
                            }
                            checked.params
                        }
                        Err(e) => {
                            let message = e.to_string();
                            html[id] = Some(error_marker(name, &message));
                            diagnostics[c.doc].push(diag(c, INVALID_PARAMS, message, Vec::new()));
                            continue;
                        }
                    },
                };
                // `{{% … %}}`: the inner content is Markdown, handed over as HTML.
                let inner = c.inner.as_ref().map(|n| {
                    let text = render(n, &html, &calls);
                    if c.call.markdown {
                        bds_ipc::markdown_to_html(&text, false)
                    } else {
                        text
                    }
                });
                let call = metadata[id].clone();
                let context = json!({
                    "abi": 1,
                    "params": Value::Object(params),
                    "args": Value::Array(c.call.args.clone()),
                    "inner": inner,
                    "call": metadata[id],
                });
                let own = own_key(&guest, &loaded.hash, &self.macro_opts.entry, &context);
                ready.push(Ready {
                    id,
                    own,
                    loaded,
                    context,
                    call,
                });
            }
            // One cache lookup for the level; the misses go out as one batch.
            let cached = |r: &Ready| r.loaded.pure && self.result_cache;
            let lookups: Vec<&str> = ready
                .iter()
                .filter(|r| cached(r))
                .map(|r| r.own.as_str())
                .collect();
            let mut found = self.store.results_get(&lookups)?.into_iter();
            let mut batch: Vec<SharedCall> = Vec::new();
            let mut pending: Vec<Ready> = Vec::new();
            for r in ready {
                let c = &calls[r.id];
                if !r.loaded.pure {
                    deps[c.doc].impure = true;
                }
                let candidates = if cached(&r) {
                    found.next().unwrap_or_default()
                } else {
                    Vec::new()
                };
                let hit = candidates.into_iter().find_map(|row| {
                    let reads = parse_deps(&row.deps)?;
                    let d = digest_of(&reads, &docs[c.doc].post, site, &r.call)?;
                    (d == row.digest).then_some((reads, row.result))
                });
                if let Some((reads, result)) = hit
                    && let Ok(Value::String(h)) = serde_json::from_str::<Value>(&result)
                {
                    note_reads(&mut deps[c.doc], &reads);
                    html[r.id] = Some(h);
                    hits[c.doc] += 1;
                    *self
                        .cache_hits
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .entry(format!("{}.py", c.call.name))
                        .or_default() += 1;
                    continue;
                }
                batch.push(SharedCall {
                    script: r.loaded.script.clone(),
                    context: r.context.clone(),
                    shared: shared_of(c.doc),
                });
                pending.push(r);
            }
            let results = self.pool.call_many_shared(&batch, &self.macro_opts);
            drop(batch);
            let mut to_cache: Vec<ResultEntry> = Vec::new();
            for (r, result) in pending.into_iter().zip(results) {
                let c = &calls[r.id];
                let name = &c.call.name;
                match result {
                    Ok(out) => {
                        let value = Value::Object(out.value);
                        if let Some(message) = first_error(&self.schemas.result, &value) {
                            let message =
                                format!("the result does not match the macro ABI: {message}");
                            html[r.id] = Some(error_marker(name, &message));
                            diagnostics[c.doc].push(diag(
                                c,
                                ErrorKind::AbiViolation.as_str(),
                                message,
                                Vec::new(),
                            ));
                            continue;
                        }
                        note_reads(&mut deps[c.doc], &out.reads);
                        let h = value["html"].as_str().unwrap_or_default().to_owned();
                        for w in &out.warnings {
                            diagnostics[c.doc].push(diag_as(
                                c,
                                "warning",
                                Severity::Warning,
                                format!("{}: {}", w.category, w.message),
                                vec![TraceFrame {
                                    file: w.file.clone(),
                                    line: w.line,
                                    function: String::new(),
                                }],
                            ));
                        }
                        // A result that warned is not cached: the warning must show every time.
                        if r.loaded.pure
                            && self.result_cache
                            && out.warnings.is_empty()
                            && let Some(d) = digest_of(&out.reads, &docs[c.doc].post, site, &r.call)
                        {
                            to_cache.push(ResultEntry {
                                own: r.own,
                                digest: d,
                                deps: deps_text(&out.reads),
                                slug: name.clone(),
                                script_hash: r.loaded.content_hash.clone(),
                                result: serde_json::to_string(&Value::String(h.clone()))
                                    .unwrap_or_default(),
                            });
                        }
                        html[r.id] = Some(h);
                    }
                    Err(e) => {
                        let message = script_message(&e);
                        html[r.id] = Some(error_marker(name, &message));
                        diagnostics[c.doc].push(diag(c, e.kind.as_str(), message, e.traceback));
                    }
                }
            }
            self.store.results_put(&to_cache)?;
        }

        let mut out = Vec::with_capacity(docs.len());
        for (doc, tree) in trees.iter().enumerate() {
            let mut d = std::mem::take(&mut diagnostics[doc]);
            collect_parse_errors(tree, doc, &mut d);
            out.push(Expansion {
                html: render(tree, &html, &calls),
                diagnostics: d,
                calls: 0,
                cache_hits: hits[doc],
            });
        }
        for c in &calls {
            out[c.doc].calls += 1;
            // Parse errors inside inner content are reported once, by the document that holds them.
            if let Some(inner) = &c.inner {
                collect_parse_errors(inner, c.doc, &mut out[c.doc].diagnostics);
            }
        }
        for e in &mut out {
            e.diagnostics.sort_by_key(|x| (x.line, x.column));
        }
        Ok(out.into_iter().zip(deps).collect())
    }
}
