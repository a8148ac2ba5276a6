//! Whole-site builds: many posts, one site, in chunks, with progress, reusing what did not
//! change.
//!
//! A post whose content and metadata are unchanged since its last build, whose macros all
//! resolve to the same script versions, and for which every key of `site` that its macros read
//! still has the same value, is not expanded again: its stored HTML and diagnostics are reused
//! (`reused` in [`BuildSummary`]). Everything else is expanded, call by call through the result
//! cache (see `deps.rs`). Posts are expanded [`BuildOptions::chunk`] at a time, so memory holds
//! one chunk's calls, never all of them. A failing macro in one post never stops the others.
//! The index records which posts call which macro ([`crate::ScriptStore::usages`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::expand::{DocDeps, Prepared, prepare_post};
use super::{Diagnostic, Project, ProjectError};
use crate::SharedValue;
use crate::script::hex;
use crate::store::DocEntry;

/// One post of a build.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Its identity across builds (e.g. its path under the content folder).
    pub id: String,
    /// The text with macro calls.
    pub content: String,
    /// Its metadata (`post` in the macro context; `content` defaults to the text).
    pub post: Value,
}

/// How a build runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// Posts expanded together (their calls share batches). Default 64.
    pub chunk: usize,
    /// Reuse the stored rendering of unchanged posts. Default true.
    pub reuse: bool,
    /// The posts given are the whole site: forget stored renderings and usages of any other
    /// post. Default true.
    pub whole_site: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            chunk: 64,
            reuse: true,
            whole_site: true,
        }
    }
}

/// One rendered post.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocOutput {
    pub id: String,
    pub html: String,
    /// `document` in each is this post's index in the build.
    pub diagnostics: Vec<Diagnostic>,
    pub calls: usize,
    pub cache_hits: usize,
    /// Answered from its stored rendering, without expanding it.
    pub reused: bool,
}

/// What a build reports as it goes.
#[derive(Debug)]
pub enum BuildEvent<'a> {
    /// `done` of `total` posts are finished.
    Progress { done: usize, total: usize },
    /// A post is rendered (in the order given).
    Doc(&'a DocOutput),
}

/// The figures of a build.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildSummary {
    pub posts: usize,
    /// Posts expanded (the others were reused).
    pub rendered: usize,
    pub reused: usize,
    pub calls: usize,
    /// Calls answered from the result cache (in rendered posts).
    pub cache_hits: usize,
    /// Posts with at least one diagnostic, and diagnostics in all (warnings included).
    pub posts_with_diagnostics: usize,
    pub diagnostics: usize,
    /// How many of the diagnostics are warnings (the posts rendered anyway).
    pub warnings: usize,
    /// Stored renderings dropped because their posts are no longer in the site.
    pub forgotten: u64,
    #[serde(serialize_with = "as_ms")]
    pub duration: Duration,
}

fn as_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3)
}

/// What a stored rendering depended on, besides its input.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredDeps {
    /// Macro name → content hash it resolved to ("" for none).
    macros: BTreeMap<String, String>,
    /// `site` key (or `"*"` for the whole site) → hex hash of its value then.
    site: BTreeMap<String, String>,
}

const WHOLE: &str = "*";

/// A post's input: its text and its metadata as macros see it (`shared`). That metadata's
/// `content` is the text unless the post gives another one, so the text is hashed again only
/// then.
fn input_hash(content: &str, post: &Value, shared: &SharedValue) -> String {
    let mut h = Sha256::new();
    let text_is_content = match post.get("content") {
        None => true,
        Some(Value::String(c)) => c == content,
        Some(_) => false,
    };
    if text_is_content {
        h.update("bds-doc-v2\0same\0");
    } else {
        h.update("bds-doc-v2\0text\0");
        h.update(content.as_bytes());
        h.update([0]);
    }
    h.update(shared.hash());
    hex(&h.finalize())
}

fn site_hash(site: &SharedValue, key: &str) -> String {
    hex(&site.key_hash((key != WHOLE).then_some(key)))
}

impl StoredDeps {
    fn of(deps: &DocDeps, site: &SharedValue) -> Self {
        Self {
            macros: deps.macros.clone(),
            site: deps
                .site_reads
                .iter()
                .map(|k| {
                    let k = k.as_deref().unwrap_or(WHOLE);
                    (k.to_owned(), site_hash(site, k))
                })
                .collect(),
        }
    }

    fn still_valid(&self, macros: &BTreeMap<String, String>, site: &SharedValue) -> bool {
        self.macros
            .iter()
            .all(|(name, hash)| macros.get(name).map_or("", String::as_str) == hash)
            && self.site.iter().all(|(k, h)| site_hash(site, k) == *h)
    }
}

impl Project {
    /// Builds `docs` against one `site`: expands each post (or reuses its stored rendering),
    /// calling `on_event` with each rendered post, in order, and with progress after each
    /// chunk. Errors are input errors found before anything runs (a post that is not valid,
    /// [`ProjectError::InvalidPost`]; a site that is not a JSON object or is over the
    /// shared-data limit) or index errors.
    pub fn build(
        &self,
        docs: &[Document],
        site: &Value,
        opts: &BuildOptions,
        on_event: &mut dyn FnMut(BuildEvent<'_>),
    ) -> Result<BuildSummary, ProjectError> {
        let started = Instant::now();
        let site = self.shared_site(site)?;
        let prepared = docs
            .iter()
            .enumerate()
            .map(|(index, d)| {
                prepare_post(self, &d.content, &d.post).map_err(|e| match e {
                    ProjectError::InvalidInput { message, .. } => ProjectError::InvalidPost {
                        index,
                        id: d.id.clone(),
                        message,
                    },
                    other => other,
                })
            })
            .collect::<Result<Vec<SharedValue>, ProjectError>>()?;
        // One view of the scripts for the whole build: every chunk renders with the same versions.
        let macros = self.enabled_macros()?;
        let mut summary = BuildSummary {
            posts: docs.len(),
            rendered: 0,
            reused: 0,
            calls: 0,
            cache_hits: 0,
            posts_with_diagnostics: 0,
            diagnostics: 0,
            warnings: 0,
            forgotten: 0,
            duration: Duration::ZERO,
        };
        let total = docs.len();
        let chunk = opts.chunk.max(1);
        let mut done = 0;
        for (start, batch) in docs.chunks(chunk).enumerate().map(|(i, b)| (i * chunk, b)) {
            let posts = &prepared[start..start + batch.len()];
            let inputs: Vec<String> = batch
                .iter()
                .zip(posts)
                .map(|(d, p)| input_hash(&d.content, &d.post, p))
                .collect();
            let stored = if opts.reuse {
                let ids: Vec<&str> = batch.iter().map(|d| d.id.as_str()).collect();
                self.store.docs_get(&ids)?
            } else {
                vec![None; batch.len()]
            };
            let mut outputs: Vec<Option<DocOutput>> = vec![None; batch.len()];
            let mut todo = Vec::new();
            for (i, entry) in stored.into_iter().enumerate() {
                let reusable = entry.filter(|e| {
                    e.input == inputs[i]
                        && serde_json::from_str::<StoredDeps>(&e.deps)
                            .is_ok_and(|d| d.still_valid(&macros.hashes, &site))
                });
                let diagnostics = reusable
                    .as_ref()
                    .and_then(|e| serde_json::from_str::<Vec<Diagnostic>>(&e.diagnostics).ok());
                match (reusable, diagnostics) {
                    (Some(e), Some(mut diagnostics)) => {
                        for d in &mut diagnostics {
                            d.document = start + i;
                        }
                        outputs[i] = Some(DocOutput {
                            id: batch[i].id.clone(),
                            html: e.html,
                            diagnostics,
                            calls: e.calls as usize,
                            cache_hits: 0,
                            reused: true,
                        });
                    }
                    _ => todo.push(i),
                }
            }
            let work: Vec<Prepared> = todo
                .iter()
                .map(|&i| Prepared {
                    content: batch[i].content.clone(),
                    post: posts[i].clone(),
                })
                .collect();
            let expanded = self.expand_prepared(&work, &site, &macros)?;
            let mut to_store = Vec::with_capacity(todo.len());
            for (&i, (exp, deps)) in todo.iter().zip(expanded) {
                let mut diagnostics = exp.diagnostics;
                let stable = deps.stable(&diagnostics);
                for d in &mut diagnostics {
                    d.document = 0;
                }
                let entry = DocEntry {
                    doc: batch[i].id.clone(),
                    input: inputs[i].clone(),
                    deps: serde_json::to_string(&StoredDeps::of(&deps, &site)).unwrap_or_default(),
                    html: exp.html.clone(),
                    diagnostics: serde_json::to_string(&diagnostics).unwrap_or_default(),
                    calls: exp.calls as u64,
                    usages: deps.usages.into_iter().collect(),
                };
                to_store.push((entry, stable));
                for d in &mut diagnostics {
                    d.document = start + i;
                }
                outputs[i] = Some(DocOutput {
                    id: batch[i].id.clone(),
                    html: exp.html,
                    diagnostics,
                    calls: exp.calls,
                    cache_hits: exp.cache_hits,
                    reused: false,
                });
            }
            self.store.docs_put(&to_store)?;
            for out in outputs.into_iter().flatten() {
                if out.reused {
                    summary.reused += 1;
                } else {
                    summary.rendered += 1;
                    summary.cache_hits += out.cache_hits;
                }
                summary.calls += out.calls;
                if !out.diagnostics.is_empty() {
                    summary.posts_with_diagnostics += 1;
                    summary.diagnostics += out.diagnostics.len();
                    summary.warnings += out
                        .diagnostics
                        .iter()
                        .filter(|d| d.severity == super::Severity::Warning)
                        .count();
                }
                on_event(BuildEvent::Doc(&out));
            }
            done += batch.len();
            on_event(BuildEvent::Progress { done, total });
        }
        if opts.whole_site {
            let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
            summary.forgotten = self.store.docs_retain(&ids)?;
        }
        summary.duration = started.elapsed();
        Ok(summary)
    }
}
