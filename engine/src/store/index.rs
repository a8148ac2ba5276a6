//! The SQLite index of `scripts/`: a cache of what the files say, never their master.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::{ScriptEntry, ScriptStatus, StoreError};
use crate::store::header::ScriptKind;

/// Current schema. Migrations below bring older indexes up to it.
pub(crate) const SCHEMA_VERSION: i64 = 4;

const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE scripts (
        id           INTEGER PRIMARY KEY,
        slug         TEXT NOT NULL UNIQUE,
        title        TEXT NOT NULL,
        kind         TEXT NOT NULL,
        entrypoint   TEXT NOT NULL,
        enabled      INTEGER NOT NULL,
        version      INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        size         INTEGER NOT NULL,
        mtime_ns     INTEGER NOT NULL,
        updated_at   TEXT NOT NULL,
        status       TEXT NOT NULL,
        error        TEXT,
        error_line   INTEGER
    );
    CREATE INDEX scripts_kind ON scripts(kind, enabled);",
    // 1 -> 2: the macro result cache, keyed by SHA-256 of (script content hash, context JSON).
    "CREATE TABLE macro_cache (
        key         TEXT PRIMARY KEY,
        slug        TEXT NOT NULL,
        script_hash TEXT NOT NULL,
        result      TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX macro_cache_slug ON macro_cache(slug);",
    // 2 -> 3: results keyed by what each call read (see `cache.rs`); rendered documents and
    // which macros each one calls.
    "DROP TABLE macro_cache;
    CREATE TABLE macro_cache (
        own         TEXT NOT NULL,
        digest      TEXT NOT NULL,
        deps        TEXT NOT NULL,
        slug        TEXT NOT NULL,
        script_hash TEXT NOT NULL,
        result      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (own, digest)
    );
    CREATE INDEX macro_cache_slug ON macro_cache(slug);
    CREATE TABLE doc_cache (
        doc         TEXT PRIMARY KEY,
        input       TEXT NOT NULL,
        deps        TEXT NOT NULL,
        html        TEXT NOT NULL,
        diagnostics TEXT NOT NULL,
        calls       INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE TABLE usages (
        doc   TEXT NOT NULL,
        slug  TEXT NOT NULL,
        calls INTEGER NOT NULL,
        PRIMARY KEY (doc, slug)
    );
    CREATE INDEX usages_slug ON usages(slug);",
    // 3 -> 4: what each script imports, and a macro's declared parameters; every row is made
    // stale so the next sync fills them in from the files.
    "ALTER TABLE scripts ADD COLUMN imports TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE scripts ADD COLUMN params TEXT;
    UPDATE scripts SET mtime_ns = -1;",
];

#[derive(Debug)]
pub(crate) struct Index {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

pub(crate) fn err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Index {
        path: path.to_owned(),
        source,
    }
}

impl Index {
    /// Opens (creating or migrating) the index. `Err(None)`-like corruption is reported as
    /// [`StoreError::Index`]; the caller moves the file aside and starts over.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let e = err(path);
        let conn = Connection::open(path).map_err(&e)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(&e)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(&e)?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: check,
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(&e)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(&e)?;
        let mut version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(&e)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: format!(
                    "schema version {version} is newer than this build's {SCHEMA_VERSION}"
                ),
            });
        }
        while version < SCHEMA_VERSION {
            let tx = conn.unchecked_transaction().map_err(&e)?;
            // Another process may have migrated meanwhile: re-read under the write lock.
            let now: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(&e)?;
            if now == version {
                tx.execute_batch(MIGRATIONS[version as usize]).map_err(&e)?;
                tx.pragma_update(None, "user_version", version + 1)
                    .map_err(&e)?;
            }
            tx.commit().map_err(&e)?;
            version = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(&e)?;
        }
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    pub(crate) fn all(&self) -> Result<Vec<ScriptEntry>, StoreError> {
        let e = err(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM scripts ORDER BY slug"))
            .map_err(&e)?;
        let rows = stmt.query_map([], row).map_err(&e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&e)
    }

    pub(crate) fn get(&self, slug: &str) -> Result<Option<ScriptEntry>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM scripts WHERE slug = ?1"),
                [slug],
                row,
            )
            .optional()
            .map_err(err(&self.path))
    }

    /// Inserts or updates by slug; keeps the id of an existing row.
    pub(crate) fn upsert(
        conn: &Connection,
        path: &Path,
        e: &ScriptEntry,
    ) -> Result<i64, StoreError> {
        conn.execute(
            "INSERT INTO scripts (slug, title, kind, entrypoint, enabled, version, content_hash, size, mtime_ns, updated_at, status, error, error_line, imports, params)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT(slug) DO UPDATE SET title = excluded.title, kind = excluded.kind, entrypoint = excluded.entrypoint,
               enabled = excluded.enabled, version = excluded.version, content_hash = excluded.content_hash, size = excluded.size,
               mtime_ns = excluded.mtime_ns, updated_at = excluded.updated_at, status = excluded.status, error = excluded.error,
               error_line = excluded.error_line, imports = excluded.imports, params = excluded.params",
            params![
                e.slug,
                e.title,
                e.kind.as_str(),
                e.entrypoint,
                e.enabled,
                e.version,
                e.content_hash,
                e.size as i64,
                e.mtime_ns,
                e.updated_at,
                e.status.as_str(),
                e.error,
                e.error_line,
                serde_json::to_string(&e.imports).unwrap_or_else(|_| "[]".into()),
                e.params
                    .as_ref()
                    .and_then(|p| serde_json::to_string(p).ok()),
            ],
        )
        .map_err(err(path))?;
        // Cached results of an older version of this script can never be hit again.
        conn.execute(
            "DELETE FROM macro_cache WHERE slug = ?1 AND script_hash != ?2",
            params![e.slug, e.content_hash],
        )
        .map_err(err(path))?;
        conn.query_row("SELECT id FROM scripts WHERE slug = ?1", [&e.slug], |r| {
            r.get(0)
        })
        .map_err(err(path))
    }

    pub(crate) fn remove(conn: &Connection, path: &Path, slug: &str) -> Result<(), StoreError> {
        conn.execute("DELETE FROM scripts WHERE slug = ?1", [slug])
            .map_err(err(path))?;
        conn.execute("DELETE FROM macro_cache WHERE slug = ?1", [slug])
            .map_err(err(path))?;
        Ok(())
    }

    pub(crate) fn rename(
        conn: &Connection,
        path: &Path,
        from: &str,
        to: &str,
    ) -> Result<(), StoreError> {
        conn.execute("DELETE FROM scripts WHERE slug = ?2", params![from, to])
            .map_err(err(path))?;
        conn.execute(
            "UPDATE scripts SET slug = ?2 WHERE slug = ?1",
            params![from, to],
        )
        .map_err(err(path))?;
        conn.execute(
            "UPDATE macro_cache SET slug = ?2 WHERE slug = ?1",
            params![from, to],
        )
        .map_err(err(path))?;
        conn.execute(
            "UPDATE OR REPLACE usages SET slug = ?2 WHERE slug = ?1",
            params![from, to],
        )
        .map_err(err(path))?;
        Ok(())
    }
}

const COLUMNS: &str = "id, slug, title, kind, entrypoint, enabled, version, content_hash, size, mtime_ns, updated_at, status, error, error_line, imports, params";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScriptEntry> {
    let kind: String = r.get(3)?;
    let status: String = r.get(11)?;
    let size: i64 = r.get(8)?;
    Ok(ScriptEntry {
        id: r.get(0)?,
        slug: r.get(1)?,
        title: r.get(2)?,
        kind: ScriptKind::parse(&kind).unwrap_or(ScriptKind::Macro),
        entrypoint: r.get(4)?,
        enabled: r.get(5)?,
        version: r.get(6)?,
        content_hash: r.get(7)?,
        size: size.max(0) as u64,
        mtime_ns: r.get(9)?,
        updated_at: r.get(10)?,
        status: ScriptStatus::parse(&status).unwrap_or(ScriptStatus::Unchecked),
        error: r.get(12)?,
        error_line: r.get(13)?,
        imports: serde_json::from_str(&r.get::<_, String>(14)?).unwrap_or_default(),
        params: r
            .get::<_, Option<String>>(15)?
            .and_then(|p| serde_json::from_str(&p).ok()),
    })
}
