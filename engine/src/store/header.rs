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

use serde::Serialize;

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

/// Reads the header of `source`.
pub fn parse(source: &str) -> Result<Meta, HeaderError> {
    let lines: Vec<&str> = source.lines().collect();
    let mut meta = Meta::default();
    let Some((open, close)) = fences(&lines)? else {
        return Ok(meta);
    };
    for (i, line) in lines.iter().enumerate().take(close).skip(open + 1) {
        let n = i as u32 + 1;
        let err = |message: String| HeaderError { line: n, message };
        if line.trim().is_empty() || line.trim() == "#" {
            continue;
        }
        if !line.trim_start().starts_with('#') {
            return Err(err("a header line must start with `#`".into()));
        }
        let Some((key, value, _)) = field(line) else {
            continue; // a plain comment inside the header
        };
        match key.as_str() {
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
/// key's trailing comment) as it was. Adds the key, or a whole header, when missing.
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
    let Some((open, close)) = fences(&bare)? else {
        return Ok(format!(
            "{FENCE}{newline}# {key}: {rendered}{newline}{FENCE}{newline}{source}"
        ));
    };
    let mut out = String::with_capacity(source.len() + 32);
    let mut done = false;
    for (i, line) in lines.iter().enumerate() {
        if i > open
            && i < close
            && !done
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
mod tests {
    use super::*;

    const FULL: &str = "# ---\n# title: YouTube embed\n# kind: transform       # macro | utility | transform\n# entrypoint: run_it\n# enabled: false\n# version: 3\n# pure: false\n# ---\nimport html\n";

    #[test]
    fn parses_every_field_and_keeps_unknown_keys() {
        let m = parse(FULL).unwrap();
        assert_eq!(
            m,
            Meta {
                title: Some("YouTube embed".into()),
                kind: ScriptKind::Transform,
                entrypoint: "run_it".into(),
                enabled: false,
                version: 3,
                extra: vec![("pure".into(), "false".into())],
            }
        );
    }

    #[test]
    fn no_header_means_defaults() {
        assert_eq!(parse("import html\n").unwrap(), Meta::default());
        assert_eq!(parse("").unwrap(), Meta::default());
        // A header must come first: a fence later in the file is just a comment.
        assert_eq!(
            parse("x = 1\n# ---\n# kind: nope\n# ---\n").unwrap(),
            Meta::default()
        );
    }

    #[test]
    fn quoted_values_keep_hashes_and_quotes() {
        let m = parse("# ---\n# title: \"C# tips \\\"quoted\\\"\"   # a comment\n# ---\n").unwrap();
        assert_eq!(m.title.as_deref(), Some("C# tips \"quoted\""));
    }

    #[test]
    fn broken_headers_name_their_line() {
        let cases = [
            (
                "# ---\n# title: x\n",
                1,
                "the metadata header opened here is never closed with `# ---`",
            ),
            (
                "\n# ---\n# kind: widget\n# ---\n",
                3,
                "kind must be macro, utility or transform, not `widget`",
            ),
            (
                "# ---\n# enabled: maybe\n# ---\n",
                2,
                "enabled must be true or false, not `maybe`",
            ),
            (
                "# ---\n# version: 1.5\n# ---\n",
                2,
                "version must be a whole number, not `1.5`",
            ),
            (
                "# ---\n# entrypoint: 9lives\n# ---\n",
                2,
                "entrypoint must be a Python function name, not `9lives`",
            ),
            (
                "# ---\ntitle: x\n# ---\n",
                2,
                "a header line must start with `#`",
            ),
        ];
        for (src, line, message) in cases {
            assert_eq!(
                parse(src).unwrap_err(),
                HeaderError {
                    line,
                    message: message.into()
                },
                "{src:?}"
            );
        }
    }

    #[test]
    fn set_replaces_in_place_keeping_comments() {
        let out = set(FULL, "kind", "macro").unwrap();
        assert_eq!(
            out,
            FULL.replace(
                "# kind: transform       # macro",
                "# kind: macro       # macro"
            )
        );
        let out = set(FULL, "enabled", "true").unwrap();
        assert!(parse(&out).unwrap().enabled);
        assert_eq!(out.lines().count(), FULL.lines().count());
    }

    #[test]
    fn set_adds_a_missing_key_or_a_whole_header() {
        let out = set("# ---\n# title: T\n# ---\nx = 1\n", "enabled", "false").unwrap();
        assert_eq!(out, "# ---\n# title: T\n# enabled: false\n# ---\nx = 1\n");
        let out = set("x = 1\r\n", "enabled", "false").unwrap();
        assert_eq!(out, "# ---\r\n# enabled: false\r\n# ---\r\nx = 1\r\n");
        let out = set("", "title", "C# tips").unwrap();
        assert_eq!(parse(&out).unwrap().title.as_deref(), Some("C# tips"));
    }
}
