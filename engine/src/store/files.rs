//! The store's file handling: atomic writes (a reader sees the old file or the new one, never
//! half of one), creating a file only where none exists, the slug rules, and the small
//! conversions (hashes, times, sizes) the index records. A failure names the path.

use std::io::Write as _;
use std::path::Path;
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use super::{MAX_SOURCE_BYTES, StoreError};

pub(super) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
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

pub(super) fn sync_dir(dir: &Path) {
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
pub(super) fn rfc3339(ns: i64) -> String {
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

pub(super) fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

pub(super) fn check_size(path: &Path, size: u64) -> Result<(), StoreError> {
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
