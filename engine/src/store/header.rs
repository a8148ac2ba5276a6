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
                params: None,
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

    const WITH_PARAMS: &str = "# ---\n# title: YouTube embed\n# kind: macro\n# params:\n#   id: str, required, position 0 -- the video id\n#\n#   title: str, default \"YouTube video\" -- the iframe's title\n#   enabled: bool, default true\n# enabled: true   # on\n# extra: kept\n# ---\nimport html\n";

    #[test]
    fn a_params_block_is_read_and_ends_at_the_next_key() {
        let m = parse(WITH_PARAMS).unwrap();
        assert_eq!(m.title.as_deref(), Some("YouTube embed"));
        assert!(m.enabled);
        assert_eq!(m.extra, vec![("extra".to_owned(), "kept".to_owned())]);
        let params = m.params.unwrap();
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["id", "title", "enabled"]);
        assert!(params[0].required);
        assert_eq!(params[0].position, Some(0));
        assert_eq!(params[1].default, Some(serde_json::json!("YouTube video")));
        assert_eq!(params[1].doc, "the iframe's title");
        // A block may end at the fence; the indentation is counted after the `#`.
        let m = parse("# ---\n#  params:\n#    a: any\n#   b: int\n# ---\n").unwrap();
        let names: Vec<String> = m.params.unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(parse(FULL).unwrap().params, None);
    }

    #[test]
    fn set_never_takes_a_declaration_for_a_key() {
        let out = set(WITH_PARAMS, "title", "Embed").unwrap();
        assert_eq!(
            out,
            WITH_PARAMS.replace("# title: YouTube embed", "# title: Embed")
        );
        let out = set(WITH_PARAMS, "enabled", "false").unwrap();
        assert_eq!(
            out,
            WITH_PARAMS.replace("# enabled: true   # on", "# enabled: false   # on")
        );
        let m = parse(&out).unwrap();
        assert!(!m.enabled);
        assert_eq!(m.params, parse(WITH_PARAMS).unwrap().params);
        let crlf = WITH_PARAMS.replace('\n', "\r\n");
        assert_eq!(parse(&crlf).unwrap().params, m.params);
        // A missing key goes after the block, which it then ends.
        let src = "# ---\n# params:\n#   version: int\n# ---\n";
        let out = set(src, "version", "2").unwrap();
        assert_eq!(
            out,
            "# ---\n# params:\n#   version: int\n# version: 2\n# ---\n"
        );
        let m = parse(&out).unwrap();
        assert_eq!(m.version, 2);
        assert_eq!(m.params.unwrap().len(), 1);
        assert_eq!(
            set(src, "params", "x").unwrap_err(),
            HeaderError {
                line: 1,
                message: "params is a block of declarations: edit it in the file".into()
            }
        );
    }

    #[test]
    fn bad_params_blocks_name_their_line() {
        let empty = "params declares no parameter: declare one per line below it, indented deeper (`#   id: str, required`)";
        let h = |body: &str| format!("# ---\n{body}# ---\n");
        let cases = [
            (
                h("# params: id\n"),
                2,
                "params takes no value (`id`): declare one parameter per line below it, indented deeper",
            ),
            (h("# title: T\n# params:\n# version: 2\n"), 3, empty),
            (h("# params:\n#\n"), 2, empty),
            (
                h("# params:\n#   a: str\n#   start: integer\n"),
                4,
                "parameter start: unknown type `integer` (expected str, int, float, bool, any or a [choice, list])",
            ),
            (
                h("# params:\n#   a: str\n#   b: int\n#   a: int\n"),
                5,
                "parameter a: declared twice (first on line 3)",
            ),
            (
                h("# params:\n#   a: str, position 0\n#   b: int, position 0\n"),
                4,
                "parameter b: position 0 is already a's (line 3)",
            ),
            (
                h("# params:\n#   a: str\n# params:\n#   b: str\n"),
                4,
                "params is given twice (first on line 2)",
            ),
            (
                h("# params:\n#   a note about them\n"),
                3,
                "a parameter is declared as `NAME: TYPE[, FLAG]... [-- DOC]`, not `a note about them`",
            ),
            (
                h("# params:\n#   id: str, required, default x\n"),
                3,
                "parameter id: a required parameter cannot have a default",
            ),
        ];
        for (src, line, message) in cases {
            let want = HeaderError {
                line,
                message: message.into(),
            };
            assert_eq!(parse(&src).unwrap_err(), want, "{src:?}");
        }
    }
}
