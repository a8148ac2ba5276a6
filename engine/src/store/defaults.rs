//! Default scripts shipped inside the binary, and the rules for putting them in a project.
//!
//! What was seeded is recorded in `.bds/defaults.json` (slug → version and SHA-256), apart from
//! the index so that rebuilding the index forgets nothing. The rules, for each bundled script:
//! - no file, never seeded: write it (**seeded**);
//! - no file, seeded before: the user deleted it, leave it deleted (**deleted by user**);
//! - the file is the bundled text: nothing to do;
//! - the file is exactly what was seeded, and the bundled version is newer: replace it
//!   (**upgraded**);
//! - the file differs from what was seeded (the user edited it), or there is no record of what
//!   was seeded, and the bundled version is newer: leave it, report **update available**.
//!
//! A user's file is never overwritten unless its content is, byte for byte, what bDS wrote.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{StoreError, atomic_write, header, sha256_hex};

include!(concat!(env!("OUT_DIR"), "/defaults.rs"));

/// One bundled script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultScript {
    pub slug: String,
    pub source: String,
    pub version: i64,
}

/// The scripts this build ships.
pub fn bundled() -> Vec<DefaultScript> {
    BUNDLED
        .iter()
        .map(|(slug, source)| DefaultScript {
            slug: (*slug).to_owned(),
            source: (*source).to_owned(),
            version: header::parse(source).map_or(1, |m| m.version),
        })
        .collect()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct Record {
    version: i64,
    sha256: String,
}

/// What seeding did to one default script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum DefaultAction {
    Seeded {
        slug: String,
        version: i64,
    },
    Upgraded {
        slug: String,
        from: i64,
        to: i64,
    },
    UpdateAvailable {
        slug: String,
        installed: i64,
        bundled: i64,
    },
    DeletedByUser {
        slug: String,
    },
}

pub(crate) fn apply(
    scripts_dir: &Path,
    state_file: &Path,
    defaults: &[DefaultScript],
) -> Result<Vec<DefaultAction>, StoreError> {
    let mut records: BTreeMap<String, Record> = std::fs::read(state_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let before = records.clone();
    let mut actions = Vec::new();
    for d in defaults {
        let path = scripts_dir.join(format!("{}.py", d.slug));
        let bundled_hash = sha256_hex(d.source.as_bytes());
        let record = Record {
            version: d.version,
            sha256: bundled_hash.clone(),
        };
        let current = match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        match current {
            None if records.contains_key(&d.slug) => actions.push(DefaultAction::DeletedByUser {
                slug: d.slug.clone(),
            }),
            None => {
                if super::create_new(&path, d.source.as_bytes())? {
                    records.insert(d.slug.clone(), record);
                    actions.push(DefaultAction::Seeded {
                        slug: d.slug.clone(),
                        version: d.version,
                    });
                }
            }
            Some(bytes) => {
                let hash = sha256_hex(&bytes);
                if hash == bundled_hash {
                    records.insert(d.slug.clone(), record);
                    continue;
                }
                let installed = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| header::parse(s).ok())
                    .map_or(0, |m| m.version);
                let seeded = records.get(&d.slug);
                let untouched = seeded.is_some_and(|r| r.sha256 == hash);
                if untouched && seeded.is_some_and(|r| r.version < d.version) {
                    let from = seeded.map_or(0, |r| r.version);
                    atomic_write(&path, d.source.as_bytes())?;
                    records.insert(d.slug.clone(), record);
                    actions.push(DefaultAction::Upgraded {
                        slug: d.slug.clone(),
                        from,
                        to: d.version,
                    });
                } else if installed < d.version {
                    actions.push(DefaultAction::UpdateAvailable {
                        slug: d.slug.clone(),
                        installed,
                        bundled: d.version,
                    });
                }
            }
        }
    }
    if records != before {
        let json = serde_json::to_vec_pretty(&records).map_err(|e| StoreError::Io {
            path: state_file.to_owned(),
            source: std::io::Error::other(e),
        })?;
        atomic_write(state_file, &json)?;
    }
    Ok(actions)
}
