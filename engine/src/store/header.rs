//! The metadata header at the top of a script file.
//!
//! ```python
//! # ---
//! # title: YouTube embed
//! # kind: macro            # macro | utility | transform
//! # entrypoint: render
//! # enabled: true
//! # version: 3
//! # ---
//! ```
//!
//! The header must be the first non-blank lines of the file. A value ends at a `#` preceded by
//! white space (a trailing comment) unless it is quoted: `title: "C# tips"`. Keys this module
//! does not know are kept as they are. A file without a header gets the defaults (title = slug,
//! kind `macro`, entrypoint `render`, enabled, version 1).
//!
//! # Declared parameters
//! A macro may declare its parameters in a `params:` block, which the engine checks calls
//! against ([`crate::check_call`]):
//!
//! ```python
//! # ---
//! # title: YouTube embed
//! # kind: macro
//! # params:
//! #   id: str, required, position 0 -- the video id, or a youtube.com / youtu.be URL
//! #   start: int, optional -- start time in seconds
//! #   title: str, default "YouTube video" -- the iframe's accessible title
//! #   align: [left, center, right], default center -- where the embed sits
//! # version: 1
//! # ---
//! ```
//!
//! `params:` takes no value. Every following header line indented deeper than the `params` key
//! (counted after the `#`) declares one parameter, `NAME: TYPE[, FLAG]... [-- DOC]`, with no
//! trailing comment; the block ends at the first line indented like the key, or less, or at the
//! closing fence (blank `#` lines inside it are skipped). TYPE is `str`, `int`, `float`, `bool`,
//! `any` or a `[choice, list]`; a FLAG is `required`, `optional` (the default), `default VALUE`
//! or `position N` (from 0); see [`crate::ParamDecl`]. Errors name their line: a `params:` with a value, an empty
//! block, a second `params:`, a bad declaration, two with the same name or position. Without a
//! block, [`Meta::params`] is `None`: the parameters are not declared, any call is accepted.

use serde::Serialize;

use crate::params::{ParamDecl, clash, parse_decl};

/// What a script is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScriptKind {
    /// Expanded from `{{< name >}}` in content.
    Macro,
    /// Helpers; never called by the app.
    Utility,
    /// Transforms a post captured by the bookmarklet.
    Transform,
}

impl ScriptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Macro => "macro",
            ScriptKind::Utility => "utility",
            ScriptKind::Transform => "transform",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "macro" => Some(ScriptKind::Macro),
            "utility" => Some(ScriptKind::Utility),
            "transform" => Some(ScriptKind::Transform),
            _ => None,
        }
    }
}

/// The parsed header (or the defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub title: Option<String>,
    pub kind: ScriptKind,
    pub entrypoint: String,
    pub enabled: bool,
    pub version: i64,
    /// Keys this version does not interpret, in file order.
    pub extra: Vec<(String, String)>,
    /// The `params:` block; `None` when there is none (parameters not declared).
    pub params: Option<Vec<ParamDecl>>,
}

impl Default for Meta {
    fn default() -> Self {
        Self {
            title: None,
            kind: ScriptKind::Macro,
            entrypoint: "render".to_owned(),
            enabled: true,
            version: 1,
            extra: Vec::new(),
            params: None,
        }
    }
}

/// A header that cannot be read, with the (1-based) line at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct HeaderError {
    pub line: u32,
    pub message: String,
}

const FENCE: &str = "# ---";

/// Where the header sits: line indexes of the opening and closing fences.
fn fences(lines: &[&str]) -> Result<Option<(usize, usize)>, HeaderError> {
    let Some(open) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return Ok(None);
    };
    if lines[open].trim_end() != FENCE {
        return Ok(None);
    }
    match lines[open + 1..].iter().position(|l| l.trim_end() == FENCE) {
        Some(k) => Ok(Some((open, open + 1 + k))),
        None => Err(HeaderError {
            line: open as u32 + 1,
            message: "the metadata header opened here is never closed with `# ---`".into(),
        }),
    }
}

/// Splits `# key: value  # comment` into key, value and the untouched rest.
fn field(line: &str) -> Option<(String, String, &str)> {
    let body = line.trim_start().strip_prefix('#')?.trim_start();
    let (key, rest) = body.split_once(':')?;
    let key = key.trim();
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    let rest_trim = rest.trim_start();
    if let Some(q) = rest_trim.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = q.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(n);
                    }
                }
                '"' => return Some((key.to_owned(), value, &q[i + 1..])),
                c => value.push(c),
            }
        }
        return Some((key.to_owned(), value, ""));
    }
    let mut end = rest.len();
    let bytes = rest.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] == b'#' && bytes[i - 1].is_ascii_whitespace() {
            end = i;
            break;
        }
    }
    // The comment keeps the white space before it, so rewriting a value keeps the alignment.
    let value_end = rest[..end].trim_end().len();
    let value_end = if end == rest.len() {
        rest.len()
    } else {
        value_end
    };
    Some((
        key.to_owned(),
        rest[..value_end].trim().to_owned(),
        &rest[value_end..],
    ))
}

/// The text after a header line's `#`, and how far it is indented; `None` for a line that is
/// not a comment or is blank.
fn comment_body(line: &str) -> Option<(&str, usize)> {
    let body = line.trim_start().strip_prefix('#')?;
    let rest = body.trim_start();
    (!rest.trim_end().is_empty()).then_some((rest, body.len() - rest.len()))
}

/// For each line, whether it is a declaration inside a `params:` block of the header between
/// the fences at `open` and `close`: a line indented deeper than the `params` key before it,
/// with nothing but blank lines and declarations between them.
fn declaration_lines(lines: &[&str], open: usize, close: usize) -> Vec<bool> {
    let mut inside = vec![false; lines.len()];
    let mut key_indent = None;
    for (i, line) in lines.iter().enumerate().take(close).skip(open + 1) {
        let Some((_, indent)) = comment_body(line) else {
            if !line.trim().is_empty() && line.trim() != "#" {
                key_indent = None; // not a comment: the block (and the header) is broken here
            }
            continue;
        };
        if key_indent.is_some_and(|k| indent > k) {
            inside[i] = true;
            continue;
        }
        key_indent = field(line)
            .filter(|(key, _, _)| key == "params")
            .map(|_| indent);
    }
    inside
}

/// Reads the header of `source`.
pub fn parse(source: &str) -> Result<Meta, HeaderError> {
    let lines: Vec<&str> = source.lines().collect();
    let mut meta = Meta::default();
    let Some((open, close)) = fences(&lines)? else {
        return Ok(meta);
    };
    let in_block = declaration_lines(&lines, open, close);
    // The `params:` line, and the declarations read so far with their lines.
    let mut block: Option<(u32, Vec<(u32, ParamDecl)>)> = None;
    for (i, line) in lines.iter().enumerate().take(close + 1).skip(open + 1) {
        let n = i as u32 + 1;
        let err = |message: String| HeaderError { line: n, message };
        if i < close && (line.trim().is_empty() || line.trim() == "#") {
            continue;
        }
        if in_block[i] {
            let (body, _) = comment_body(line).unwrap_or((line, 0));
            let decl = parse_decl(body).map_err(err)?;
            if let Some((_, decls)) = &mut block {
                if let Some(message) = clash(decls, &decl) {
                    return Err(err(message));
                }
                decls.push((n, decl));
            }
            continue;
        }
        if let Some((at, decls)) = &block
            && decls.is_empty()
        {
            return Err(HeaderError {
                line: *at,
                message: "params declares no parameter: declare one per line below it, \
                          indented deeper (`#   id: str, required`)"
                    .into(),
            });
        }
        if i == close {
            break;
        }
        if !line.trim_start().starts_with('#') {
            return Err(err("a header line must start with `#`".into()));
        }
        let Some((key, value, _)) = field(line) else {
            continue; // a plain comment inside the header
        };
        match key.as_str() {
            "params" => {
                if let Some((at, _)) = &block {
                    return Err(err(format!("params is given twice (first on line {at})")));
                }
                if !value.is_empty() {
                    return Err(err(format!(
                        "params takes no value (`{value}`): declare one parameter per line \
                         below it, indented deeper"
                    )));
                }
                block = Some((n, Vec::new()));
            }
            "title" => meta.title = Some(value),
            "kind" => {
                meta.kind = ScriptKind::parse(&value).ok_or_else(|| {
                    err(format!(
                        "kind must be macro, utility or transform, not `{value}`"
                    ))
                })?;
            }
            "entrypoint" => {
                let ok = !value.is_empty()
                    && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !value.starts_with(|c: char| c.is_ascii_digit());
                if !ok {
                    return Err(err(format!(
                        "entrypoint must be a Python function name, not `{value}`"
                    )));
                }
                meta.entrypoint = value;
            }
            "enabled" => {
                meta.enabled = match value.as_str() {
                    "true" | "yes" => true,
                    "false" | "no" => false,
                    _ => return Err(err(format!("enabled must be true or false, not `{value}`"))),
                };
            }
            "version" => {
                meta.version = value
                    .parse()
                    .map_err(|_| err(format!("version must be a whole number, not `{value}`")))?;
            }
            _ => meta.extra.push((key, value)),
        }
    }
    meta.params = block.map(|(_, decls)| decls.into_iter().map(|(_, d)| d).collect());
    Ok(meta)
}

fn render_value(value: &str) -> String {
    if value.contains(" #") || value.starts_with('"') || value != value.trim() {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        value.to_owned()
    }
}

/// Returns `source` with `key` set to `value` in its header, keeping every other line (and the
/// key's trailing comment) as it was. Adds the key, or a whole header, when missing. The lines
/// of a `params:` block are never taken for keys; `params` itself cannot be set this way.
pub fn set(source: &str, key: &str, value: &str) -> Result<String, HeaderError> {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let bare: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end_matches(['\n', '\r']))
        .collect();
    let newline = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let rendered = render_value(value);
    let fenced = fences(&bare)?;
    if key == "params" {
        return Err(HeaderError {
            line: fenced.map_or(1, |(open, _)| open as u32 + 1),
            message: "params is a block of declarations: edit it in the file".into(),
        });
    }
    let Some((open, close)) = fenced else {
        return Ok(format!(
            "{FENCE}{newline}# {key}: {rendered}{newline}{FENCE}{newline}{source}"
        ));
    };
    let in_block = declaration_lines(&bare, open, close);
    let mut out = String::with_capacity(source.len() + 32);
    let mut done = false;
    for (i, line) in lines.iter().enumerate() {
        if i > open
            && i < close
            && !done
            && !in_block[i]
            && let Some((k, _, rest)) = field(bare[i])
            && k == key
        {
            let indent = &bare[i][..bare[i].len() - bare[i].trim_start().len()];
            out.push_str(&format!("{indent}# {key}: {rendered}{rest}"));
            out.push_str(&line[bare[i].len()..]);
            done = true;
            continue;
        }
        if i == close && !done {
            out.push_str(&format!("# {key}: {rendered}{newline}"));
            done = true;
        }
        out.push_str(line);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
