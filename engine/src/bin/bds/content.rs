//! A folder of posts the way Hugo keeps them: Markdown files with front matter.
//!
//! [`read_content`] reads every `*.md` file under a folder, recursively, and returns them sorted
//! by their id: the path relative to the folder, with `/` separators (`posts/hello.md`), in byte
//! order. Files and folders whose name starts with `.` are skipped; so are symbolic links to
//! folders (no cycles), while symbolic links to files are read. `_index.md` is a post like any
//! other.
//!
//! The front matter is the block at the very top of the file, between two `---` lines (YAML)
//! or two `+++` lines (TOML); trailing spaces after a fence are allowed. A file without one is
//! all body. A byte-order mark at the start is skipped, CRLF line endings are read as well as
//! LF, and the body (what follows the closing fence) is kept as it is.
//!
//! A post's metadata is the front matter as a JSON object (TOML dates and times become their
//! RFC 3339 text, e.g. `2024-03-05T10:00:00Z`, or `2024-03-05` for a date alone; YAML merge keys
//! `<<` are applied), with defaults for what it does not set:
//! - `slug`: the file's stem (`hello` for `posts/hello.md`), or its folder's name for a page
//!   bundle's `index.md` (`bundle` for `posts/bundle/index.md`);
//! - `title`: the empty string;
//! - `url`: `/posts/<slug>/`, the slug as it is.
//!
//! What JSON cannot hold is an error rather than a guess: a YAML key that is not a string, a
//! YAML tag, NaN or an infinity. So is a `slug` or `title` that is not a string, or a `url`
//! that is neither a string nor null. Each error names the file, and the line for a syntax
//! error (`content/posts/a.md:3: invalid YAML front matter: …`); one bad file never stops the
//! others.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

mod front_matter;

pub use front_matter::Format;
use front_matter::Split;

/// One post read from the content folder.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentFile {
    /// The path relative to the content folder, with `/` separators: `posts/hello.md`.
    pub id: String,
    /// The file as found (the content folder joined with the id).
    pub path: PathBuf,
    /// The body: everything after the front matter.
    pub content: String,
    /// The line of the file on which the body starts: 1 without front matter. A line `n` of
    /// the body is the file's line `n + body_line - 1`.
    pub body_line: usize,
    /// The metadata, a JSON object: the front matter and the defaults.
    pub post: Value,
}

/// Why a file (or a folder) of the content could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("{}: cannot read: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not UTF-8 (byte {offset})", .path.display())]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{}:1: the {format} front matter is not closed: no `{}` line after the first", .path.display(), .format.fence())]
    Unterminated { path: PathBuf, format: Format },
    /// A syntax error (with its line in the file) or a value JSON cannot hold (without).
    #[error("{}: invalid {format} front matter: {message}", At(.path, *.line))]
    FrontMatter {
        path: PathBuf,
        line: Option<usize>,
        format: Format,
        message: String,
    },
}

impl ContentError {
    /// The file (or folder) at fault.
    pub fn path(&self) -> &Path {
        match self {
            ContentError::Io { path, .. }
            | ContentError::NotUtf8 { path, .. }
            | ContentError::Unterminated { path, .. }
            | ContentError::FrontMatter { path, .. } => path,
        }
    }

    /// The line at fault in the file, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ContentError::Unterminated { .. } => Some(1),
            ContentError::FrontMatter { line, .. } => *line,
            ContentError::Io { .. } | ContentError::NotUtf8 { .. } => None,
        }
    }

    /// What is wrong, without the path and line (which [`fmt::Display`] puts first).
    pub fn message(&self) -> String {
        match self {
            ContentError::Io { source, .. } => format!("cannot read: {source}"),
            ContentError::NotUtf8 { offset, .. } => format!("not UTF-8 (byte {offset})"),
            ContentError::Unterminated { format, .. } => format!(
                "the {format} front matter is not closed: no `{}` line after the first",
                format.fence()
            ),
            ContentError::FrontMatter {
                format, message, ..
            } => format!("invalid {format} front matter: {message}"),
        }
    }
}

/// `path` or `path:line`.
struct At<'a>(&'a Path, Option<usize>);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(line) => write!(f, "{}:{line}", self.0.display()),
            None => write!(f, "{}", self.0.display()),
        }
    }
}

/// Every post under `dir`, sorted by id; an unreadable folder is an error in the list too.
pub fn read_content(dir: &Path) -> Vec<Result<ContentFile, ContentError>> {
    let mut found = Vec::new();
    walk(dir, "", &mut found);
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
        .into_iter()
        .map(|(id, path, entry)| match entry {
            Entry::File => match std::fs::read(&path) {
                Ok(bytes) => parse(id, path, bytes),
                Err(source) => Err(ContentError::Io { path, source }),
            },
            Entry::Unreadable(source) => Err(ContentError::Io { path, source }),
        })
        .collect()
}

enum Entry {
    File,
    Unreadable(std::io::Error),
}

fn walk(dir: &Path, rel: &str, found: &mut Vec<(String, PathBuf, Entry)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return found.push((rel.to_owned(), dir.to_owned(), Entry::Unreadable(e))),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => return found.push((rel.to_owned(), dir.to_owned(), Entry::Unreadable(e))),
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let id = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, &id, found),
            Ok(t) if t.is_file() || (t.is_symlink() && path.is_file()) => {
                if name.ends_with(".md") {
                    found.push((id, path, Entry::File));
                }
            }
            Ok(_) => {}
            Err(e) => found.push((id, path, Entry::Unreadable(e))),
        }
    }
}

/// One file's bytes: its front matter, defaults and body.
pub fn parse(id: String, path: PathBuf, bytes: Vec<u8>) -> Result<ContentFile, ContentError> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            return Err(ContentError::NotUtf8 { path, offset });
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let (format, mut meta, body) = match front_matter::split(text) {
        Split::None => (Format::Yaml, Map::new(), text),
        Split::Unterminated(format) => return Err(ContentError::Unterminated { path, format }),
        Split::Front(format, front, body) => match front_matter::parse(format, front) {
            Ok(meta) => (format, meta, body),
            Err((line, message)) => {
                return Err(ContentError::FrontMatter {
                    path,
                    // The front matter starts on the file's second line.
                    line: line.map(|l| l + 1),
                    format,
                    message,
                });
            }
        },
    };
    // Only front matter can set a default's key to something else: `format` is then its own.
    if let Err(message) = defaults(&mut meta, &id) {
        return Err(ContentError::FrontMatter {
            path,
            line: None,
            format,
            message,
        });
    }
    // `body` is the tail of `text`: the lines before it are the front matter's.
    let body_line = 1 + text[..text.len() - body.len()].matches('\n').count();
    Ok(ContentFile {
        id,
        path,
        content: body.to_owned(),
        body_line,
        post: Value::Object(meta),
    })
}

/// The slug of a file from its id: the stem, or the folder of a bundle's `index.md`.
fn default_slug(id: &str) -> &str {
    let (dir, file) = id.rsplit_once('/').unwrap_or(("", id));
    let stem = file.strip_suffix(".md").unwrap_or(file);
    match dir.rsplit('/').next() {
        Some(folder) if stem == "index" && !folder.is_empty() => folder,
        _ => stem,
    }
}

fn defaults(meta: &mut Map<String, Value>, id: &str) -> Result<(), String> {
    let slug = match meta.get("slug") {
        None => default_slug(id).to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(format!("`slug` must be a string, not {other}")),
    };
    match meta.get("title") {
        None | Some(Value::String(_)) => {}
        Some(other) => return Err(format!("`title` must be a string, not {other}")),
    }
    match meta.get("url") {
        None | Some(Value::String(_) | Value::Null) => {}
        Some(other) => return Err(format!("`url` must be a string or null, not {other}")),
    }
    let url = format!("/posts/{slug}/");
    meta.entry("slug").or_insert(Value::String(slug));
    meta.entry("title")
        .or_insert_with(|| Value::String(String::new()));
    meta.entry("url").or_insert(Value::String(url));
    Ok(())
}

#[cfg(test)]
mod tests;
