//! The index's caches: macro results keyed by what each call read, rendered documents, and
//! which macros each document calls.
//!
//! - `macro_cache`: one row per `(own, digest)`. `own` hashes the script and the call's own
//!   arguments; `deps` lists what the call read of `post` and `site`; `digest` hashes the values
//!   it read. A lookup fetches the rows of an `own` and keeps the one whose `deps`, evaluated on
//!   today's values, give its `digest`. Each `own` keeps its [`KEEP_PER_CALL`] newest rows.
//! - `doc_cache`: a rendered document by id, with what it depended on (see `macros/build.rs`).
//! - `usages`: which documents call which macro, and how often, from the last render of each.

use rusqlite::{OptionalExtension, params};

use super::StoreError;
use super::index::{Index, err};

/// Result rows kept per script-and-arguments (older digests of edited posts are dropped).
const KEEP_PER_CALL: i64 = 8;

/// A cached macro result candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedResult {
    /// What the call read, as the JSON text stored with it.
    pub deps: String,
    /// Hash of the values read, when it ran.
    pub digest: String,
    /// The result, as JSON text.
    pub result: String,
}

/// A macro result to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultEntry {
    pub own: String,
    pub digest: String,
    pub deps: String,
    pub slug: String,
    pub script_hash: String,
    pub result: String,
}

/// A rendered document as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocEntry {
    pub doc: String,
    /// Hash of the document's content and metadata.
    pub input: String,
    /// What the rendering depended on beyond its input (JSON text).
    pub deps: String,
    pub html: String,
    /// Its diagnostics (JSON text).
    pub diagnostics: String,
    pub calls: u64,
    /// Macro slug → calls of it in the document.
    pub usages: Vec<(String, u64)>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Index {
    /// The stored candidates of each `own` key, in one read transaction.
    pub(crate) fn results_get(&self, owns: &[&str]) -> Result<Vec<Vec<CachedResult>>, StoreError> {
        let e = err(&self.path);
        let tx = self.conn.unchecked_transaction().map_err(&e)?;
        let mut out = Vec::with_capacity(owns.len());
        {
            let mut st = tx
                .prepare_cached(
                    "SELECT deps, digest, result FROM macro_cache WHERE own = ?1 \
                     ORDER BY created_at DESC",
                )
                .map_err(&e)?;
            for own in owns {
                let rows = st
                    .query_map([own], |r| {
                        Ok(CachedResult {
                            deps: r.get(0)?,
                            digest: r.get(1)?,
                            result: r.get(2)?,
                        })
                    })
                    .map_err(&e)?;
                out.push(rows.collect::<Result<Vec<_>, _>>().map_err(&e)?);
            }
        }
        tx.commit().map_err(&e)?;
        Ok(out)
    }

    /// Stores results in one write transaction, keeping the newest rows of each `own`.
    pub(crate) fn results_put(&self, entries: &[ResultEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let e = err(&self.path);
        let tx = self.conn.unchecked_transaction().map_err(&e)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO macro_cache \
                     (own, digest, deps, slug, script_hash, result, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(&e)?;
            let mut prune = tx
                .prepare_cached(
                    "DELETE FROM macro_cache WHERE own = ?1 AND rowid NOT IN \
                     (SELECT rowid FROM macro_cache WHERE own = ?1 \
                      ORDER BY created_at DESC, rowid DESC LIMIT ?2)",
                )
                .map_err(&e)?;
            let t = now();
            for x in entries {
                put.execute(params![
                    x.own,
                    x.digest,
                    x.deps,
                    x.slug,
                    x.script_hash,
                    x.result,
                    t
                ])
                .map_err(&e)?;
                prune.execute(params![x.own, KEEP_PER_CALL]).map_err(&e)?;
            }
        }
        tx.commit().map_err(&e)
    }

    /// Stored documents by id, in one read transaction (`usages` left empty).
    pub(crate) fn docs_get(&self, ids: &[&str]) -> Result<Vec<Option<DocEntry>>, StoreError> {
        let e = err(&self.path);
        let tx = self.conn.unchecked_transaction().map_err(&e)?;
        let mut out = Vec::with_capacity(ids.len());
        {
            let mut st = tx
                .prepare_cached(
                    "SELECT input, deps, html, diagnostics, calls FROM doc_cache WHERE doc = ?1",
                )
                .map_err(&e)?;
            for id in ids {
                out.push(
                    st.query_row([id], |r| {
                        Ok(DocEntry {
                            doc: (*id).to_owned(),
                            input: r.get(0)?,
                            deps: r.get(1)?,
                            html: r.get(2)?,
                            diagnostics: r.get(3)?,
                            calls: r.get::<_, i64>(4)?.max(0) as u64,
                            usages: Vec::new(),
                        })
                    })
                    .optional()
                    .map_err(&e)?,
                );
            }
        }
        tx.commit().map_err(&e)?;
        Ok(out)
    }

    /// Stores rendered documents and replaces their usages, in one write transaction. With
    /// `cache: false` only the usages are written (and any stored rendering is dropped).
    pub(crate) fn docs_put(&self, docs: &[(DocEntry, bool)]) -> Result<(), StoreError> {
        if docs.is_empty() {
            return Ok(());
        }
        let e = err(&self.path);
        let tx = self.conn.unchecked_transaction().map_err(&e)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO doc_cache \
                     (doc, input, deps, html, diagnostics, calls, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(&e)?;
            let mut drop_doc = tx
                .prepare_cached("DELETE FROM doc_cache WHERE doc = ?1")
                .map_err(&e)?;
            let mut clear = tx
                .prepare_cached("DELETE FROM usages WHERE doc = ?1")
                .map_err(&e)?;
            let mut usage = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO usages (doc, slug, calls) VALUES (?1, ?2, ?3)",
                )
                .map_err(&e)?;
            let t = now();
            for (d, cache) in docs {
                if *cache {
                    put.execute(params![
                        d.doc,
                        d.input,
                        d.deps,
                        d.html,
                        d.diagnostics,
                        d.calls as i64,
                        t
                    ])
                    .map_err(&e)?;
                } else {
                    drop_doc.execute([&d.doc]).map_err(&e)?;
                }
                clear.execute([&d.doc]).map_err(&e)?;
                for (slug, n) in &d.usages {
                    usage.execute(params![d.doc, slug, *n as i64]).map_err(&e)?;
                }
            }
        }
        tx.commit().map_err(&e)
    }

    /// Forgets every document not in `keep` (a whole-site build's posts).
    pub(crate) fn docs_retain(&self, keep: &[&str]) -> Result<u64, StoreError> {
        let e = err(&self.path);
        let tx = self.conn.unchecked_transaction().map_err(&e)?;
        tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS keep_docs (doc TEXT PRIMARY KEY); DELETE FROM keep_docs;")
            .map_err(&e)?;
        {
            let mut st = tx
                .prepare_cached("INSERT OR IGNORE INTO keep_docs (doc) VALUES (?1)")
                .map_err(&e)?;
            for id in keep {
                st.execute([id]).map_err(&e)?;
            }
        }
        let dropped = tx
            .execute(
                "DELETE FROM doc_cache WHERE doc NOT IN (SELECT doc FROM keep_docs)",
                [],
            )
            .map_err(&e)?;
        tx.execute(
            "DELETE FROM usages WHERE doc NOT IN (SELECT doc FROM keep_docs)",
            [],
        )
        .map_err(&e)?;
        tx.execute("DELETE FROM keep_docs", []).map_err(&e)?;
        tx.commit().map_err(&e)?;
        Ok(dropped as u64)
    }

    /// The documents that call `slug`, with how many calls each, by document id.
    pub(crate) fn usages(&self, slug: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let e = err(&self.path);
        let mut st = self
            .conn
            .prepare_cached("SELECT doc, calls FROM usages WHERE slug = ?1 ORDER BY doc")
            .map_err(&e)?;
        let rows = st
            .query_map([slug], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })
            .map_err(&e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&e)
    }
}
