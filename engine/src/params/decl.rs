//! Reading one declaration line, `NAME: TYPE[, FLAG]... [-- DOC]`, and writing it back.

use std::fmt;

use serde_json::Value;

use super::{ParamDecl, ParamType, convert, show};

const SHAPE: &str = "a parameter is declared as `NAME: TYPE[, FLAG]... [-- DOC]`";
const TYPES: &str = "expected str, int, float, bool, any or a [choice, list]";
const FLAGS: &str = "expected required, optional, default VALUE or position N";

/// Parses one declaration (the header line without its `#` and indentation). The error is a
/// message for a [`crate::HeaderError`], naming the parameter once it is known.
pub(crate) fn parse_decl(text: &str) -> Result<ParamDecl, String> {
    let text = text.trim();
    let (head, doc) = match split_doc(text) {
        Some(at) => (&text[..at], text[at + 3..].trim()),
        None => (text, ""),
    };
    let Some((name, rest)) = head.split_once(':') else {
        return Err(format!("{SHAPE}, not `{text}`"));
    };
    let name = name.trim();
    let variadic = name.strip_prefix('*');
    if !is_name(variadic.unwrap_or(name)) {
        return Err(format!(
            "{SHAPE}: `{name}` is not a parameter name (letters, digits, `_` and `-`, not starting with a digit or `-`)"
        ));
    }
    let err = |message: String| format!("parameter {name}: {message}");
    let items = split_top(rest).map_err(err)?;
    let ty_text = items[0].trim();
    let ty = parse_type(ty_text).map_err(err)?;

    let mut required = None::<bool>;
    let mut default = None::<Value>;
    let mut position = None::<u32>;
    for item in &items[1..] {
        let item = item.trim();
        let (word, arg) = match item.split_once(char::is_whitespace) {
            Some((w, a)) => (w, a.trim()),
            None => (item, ""),
        };
        match (word, arg) {
            ("", _) => return Err(err("an empty flag (two commas in a row?)".into())),
            ("required" | "optional", "") => {
                let r = word == "required";
                match required {
                    Some(prev) if prev == r => return Err(err(format!("`{word}` is given twice"))),
                    Some(_) => return Err(err("it cannot be both required and optional".into())),
                    None => required = Some(r),
                }
            }
            ("default", v) if !v.is_empty() => {
                if default.is_some() {
                    return Err(err("`default` is given twice".into()));
                }
                let raw = parse_value(v).map_err(err)?;
                let value = convert(&ty, &raw).map_err(|expected| {
                    err(format!("default must be {expected}, not {}", show(&raw)))
                })?;
                default = Some(value);
            }
            ("position", n) if !n.is_empty() => {
                if position.is_some() {
                    return Err(err("`position` is given twice".into()));
                }
                let parsed = n
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| n.parse().ok());
                let Some(Some(n)) = parsed else {
                    return Err(err(format!(
                        "position must be a whole number from 0, not `{n}`"
                    )));
                };
                position = Some(n);
            }
            ("default" | "position", _) => {
                let what = if word == "default" { "VALUE" } else { "N" };
                return Err(err(format!("`{word}` needs a value: `{word} {what}`")));
            }
            _ => return Err(err(format!("unknown flag `{item}` ({FLAGS})"))),
        }
    }
    let required = required.unwrap_or(false);
    if required && default.is_some() {
        return Err(err("a required parameter cannot have a default".into()));
    }
    if variadic.is_some() && (required || default.is_some() || position.is_some()) {
        return Err(err(
            "a `*` declaration (the positional arguments no other parameter takes) has only a \
             type"
                .into(),
        ));
    }
    Ok(ParamDecl {
        name: name.to_owned(),
        ty,
        required,
        default,
        position,
        doc: doc.to_owned(),
    })
}

/// Why `decl` cannot follow the declarations before it (with their lines), if it cannot.
pub(crate) fn clash(earlier: &[(u32, ParamDecl)], decl: &ParamDecl) -> Option<String> {
    earlier.iter().find_map(|(at, other)| {
        if other.is_variadic() && decl.is_variadic() {
            Some(format!(
                "parameter {}: only one `*` declaration is allowed ({} on line {at})",
                decl.name, other.name
            ))
        } else if other.name == decl.name {
            Some(format!(
                "parameter {}: declared twice (first on line {at})",
                decl.name
            ))
        } else {
            let p = decl.position.filter(|p| other.position == Some(*p))?;
            Some(format!(
                "parameter {}: position {p} is already {}'s (line {at})",
                decl.name, other.name
            ))
        }
    })
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Where ` -- ` (or a final ` --`) starts, outside quotes.
fn split_doc(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b' ' | b'\t'
                if !quoted
                    && bytes[i + 1..].starts_with(b"--")
                    && bytes.get(i + 3).is_none_or(|b| b.is_ascii_whitespace()) =>
            {
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits at commas outside quotes and brackets: `str, default "a, b"` → `str`, `default "a, b"`.
fn split_top(s: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut quoted, mut depth, mut start) = (false, 0usize, 0);
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quoted => {
                chars.next();
            }
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err("a quoted value is never closed".into());
    }
    if depth > 0 {
        return Err("a choice list is never closed with `]`".into());
    }
    parts.push(&s[start..]);
    Ok(parts)
}

fn parse_type(s: &str) -> Result<ParamType, String> {
    Ok(match s {
        "str" => ParamType::Str,
        "int" => ParamType::Int,
        "float" => ParamType::Float,
        "bool" => ParamType::Bool,
        "any" => ParamType::Any,
        "" => return Err(format!("the type is missing ({TYPES})")),
        _ => {
            let Some(list) = s.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
                return Err(format!("unknown type `{s}` ({TYPES})"));
            };
            let mut choices: Vec<String> = Vec::new();
            if list.trim().is_empty() {
                return Err("a choice list needs at least one choice".into());
            }
            for item in split_top(list)? {
                let item = item.trim();
                let choice = if item.starts_with('"') {
                    parse_quoted(item)?
                } else if is_bare_word(item) {
                    item.to_owned()
                } else if item.is_empty() {
                    return Err(format!("an empty choice in `{s}`"));
                } else {
                    return Err(format!(
                        "choice `{item}` must be a bare word or a \"quoted string\""
                    ));
                };
                if choices.contains(&choice) {
                    return Err(format!("choice `{choice}` is listed twice"));
                }
                choices.push(choice);
            }
            ParamType::Choice(choices)
        }
    })
}

/// A value written like a macro argument: `"quoted"` (a string), else a bare word typed by
/// [`crate::typed`] (integer, float, boolean or string).
fn parse_value(s: &str) -> Result<Value, String> {
    if s.starts_with('"') {
        return parse_quoted(s).map(Value::String);
    }
    if s.split_whitespace().count() != 1 || s.contains('"') {
        return Err(format!(
            "`{s}` is not one value (quote text with spaces: \"like this\")"
        ));
    }
    Ok(crate::macros::typed(s))
}

/// `"text"` with the macro parser's escapes (`\"`, `\\`, `\n`, `\t`), and nothing after it.
fn parse_quoted(s: &str) -> Result<String, String> {
    let body = s.strip_prefix('"').unwrap_or(s);
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' if body[i + 1..].trim().is_empty() => return Ok(out),
            '"' => return Err(format!("unexpected text after the quoted value in `{s}`")),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, other)) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("a quoted value is never closed".into())
}

/// A choice that can be written without quotes.
pub(super) fn is_bare_word(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '"' | '\\'))
        && !s.starts_with("--")
}

pub(super) fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for ParamDecl {
    /// The declaration as written in a header (`optional` left out), which reads back the same.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.ty)?;
        if self.required {
            f.write_str(", required")?;
        }
        if let Some(d) = &self.default {
            match d {
                Value::String(s) => write!(f, ", default {}", quote(s))?,
                other => write!(f, ", default {other}")?,
            }
        }
        if let Some(p) = self.position {
            write!(f, ", position {p}")?;
        }
        if !self.doc.is_empty() {
            write!(f, " -- {}", self.doc)?;
        }
        Ok(())
    }
}
