//! Front matter: the YAML or TOML block at the top of a post, as a JSON object.

use std::fmt;

use serde_json::{Map, Value};

/// The two front-matter conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Between `---` lines.
    Yaml,
    /// Between `+++` lines.
    Toml,
}

impl Format {
    pub(super) fn fence(self) -> &'static str {
        match self {
            Format::Yaml => "---",
            Format::Toml => "+++",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Yaml => "YAML",
            Format::Toml => "TOML",
        })
    }
}

pub(super) enum Split<'a> {
    None,
    Unterminated(Format),
    /// The front matter's text (from the line after the fence) and the body.
    Front(Format, &'a str, &'a str),
}

pub(super) fn split(text: &str) -> Split<'_> {
    let mut lines = text.split_inclusive('\n');
    let format = match lines.next().map(str::trim_end) {
        Some("---") => Format::Yaml,
        Some("+++") => Format::Toml,
        _ => return Split::None,
    };
    let start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut at = start;
    for line in lines {
        if line.trim_end() == format.fence() {
            return Split::Front(format, &text[start..at], &text[at + line.len()..]);
        }
        at += line.len();
    }
    Split::Unterminated(format)
}

/// A syntax error's line within the front matter (from 1), and its message.
pub(super) type FrontError = (Option<usize>, String);

/// The front matter's keys and values.
pub(super) fn parse(format: Format, src: &str) -> Result<Map<String, Value>, FrontError> {
    match format {
        Format::Yaml => yaml(src),
        Format::Toml => toml_front(src),
    }
}

fn yaml(src: &str) -> Result<Map<String, Value>, FrontError> {
    let mut value: serde_yaml_ng::Value = serde_yaml_ng::from_str(src).map_err(|e| {
        let line = e.location().map(|l| l.line());
        (line, shift_lines(&e.to_string(), 1))
    })?;
    value.apply_merge().map_err(|e| (None, e.to_string()))?;
    match value {
        serde_yaml_ng::Value::Null => Ok(Map::new()),
        serde_yaml_ng::Value::Mapping(entries) => yaml_map(entries, ""),
        other => Err((
            None,
            format!("expected keys and values, not {}", yaml_kind(&other)),
        )),
    }
}

/// libyaml's messages count lines from the front matter's first; the file's are `by` more.
fn shift_lines(message: &str, by: usize) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("line ") {
        let (head, tail) = rest.split_at(i + "line ".len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        match tail[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&tail[..digits]),
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

fn yaml_kind(v: &serde_yaml_ng::Value) -> String {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => "null".to_owned(),
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        Y::String(s) => format!("the string {s:?}"),
        Y::Sequence(_) => "a list".to_owned(),
        Y::Mapping(_) => "a mapping".to_owned(),
        Y::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

/// `at` names the value in messages: `params.size`, `tags[2]`; empty at the top.
fn from_yaml(v: serde_yaml_ng::Value, at: &str) -> Result<Value, FrontError> {
    use serde_yaml_ng::Value as Y;
    let named = |what: String| {
        if at.is_empty() {
            (None, what)
        } else {
            (None, format!("`{at}`: {what}"))
        }
    };
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::String(s) => Value::String(s),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into()
            } else if let Some(u) = n.as_u64() {
                u.into()
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| named(format!("{n} cannot be stored in JSON")))?
            }
        }
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| from_yaml(item, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(entries) => Value::Object(yaml_map(entries, at)?),
        Y::Tagged(t) => {
            return Err(named(format!(
                "YAML tags such as {} are not supported",
                t.tag
            )));
        }
    })
}

fn yaml_map(entries: serde_yaml_ng::Mapping, at: &str) -> Result<Map<String, Value>, FrontError> {
    let mut map = Map::new();
    for (key, value) in entries {
        let serde_yaml_ng::Value::String(key) = key else {
            let what = format!("the key {} is not a string", yaml_kind(&key));
            return Err((
                None,
                if at.is_empty() {
                    what
                } else {
                    format!("`{at}`: {what}")
                },
            ));
        };
        let inner = child(at, &key);
        map.insert(key, from_yaml(value, &inner)?);
    }
    Ok(map)
}

/// The name of `key` inside `at`.
fn child(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

fn toml_front(src: &str) -> Result<Map<String, Value>, FrontError> {
    let table: toml::Table = src.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| src[..s.start.min(src.len())].matches('\n').count() + 1);
        (line, e.message().to_owned())
    })?;
    toml_table(table, "")
}

fn from_toml(v: toml::Value, at: &str) -> Result<Value, FrontError> {
    use toml::Value as T;
    Ok(match v {
        T::String(s) => Value::String(s),
        T::Integer(i) => i.into(),
        T::Boolean(b) => Value::Bool(b),
        T::Datetime(d) => Value::String(d.to_string()),
        T::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| (None, format!("`{at}`: {f} cannot be stored in JSON")))?,
        T::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| from_toml(item, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        T::Table(entries) => Value::Object(toml_table(entries, at)?),
    })
}

fn toml_table(entries: toml::Table, at: &str) -> Result<Map<String, Value>, FrontError> {
    let mut map = Map::new();
    for (key, value) in entries {
        let inner = child(at, &key);
        map.insert(key, from_toml(value, &inner)?);
    }
    Ok(map)
}
