//! Declared parameters of a macro script, and the check of a call against them.
//!
//! A macro may declare its parameters in a `params:` block of its metadata header (see
//! [`crate::Meta`]); the engine then checks every call before the script runs:
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
//! #   ratio: float, default 1.5
//! #   autoplay: bool, default false
//! # ---
//! ```
//!
//! # Declarations
//! `params:` with nothing after it opens the block; every following header line indented deeper
//! than the `params` key (counted after the `#`) declares one parameter, and the block ends at
//! the first line indented like the key (or less) or at the closing fence. A line reads
//!
//! ```text
//! NAME: TYPE[, FLAG]... [-- DOC]
//! ```
//!
//! - NAME: `[A-Za-z_][A-Za-z0-9_-]*` (Hugo-style names such as `data-id` are allowed), or
//!   `*NAME` (at most one, with a type and no flags): the positional arguments that no other
//!   parameter takes, each checked against the type and left in `args` for the script, with no
//!   warning (`*keys: str -- the keys, in order` for a macro that takes any number of them).
//! - TYPE: `str`, `int`, `float`, `bool`, `any`, or a choice list `[a, b, "two words"]`
//!   (bare words or double-quoted strings; the choices are strings).
//! - FLAG: `required`; `optional` (the default); `default VALUE`, where VALUE is written like a
//!   macro argument (a double-quoted string with `\"`, `\\`, `\n`, `\t` escapes, an integer, a
//!   float, `true`/`false`, else a bare word, which is a string) and must be valid for TYPE (it
//!   is stored converted, as a call's value would be); `position N`: the parameter may also be
//!   given as the positional argument `N` (counted from 0).
//! - DOC: everything after ` -- `, trimmed. Nothing is a trailing comment in a declaration:
//!   a `#` in the DOC is text.
//!
//! Errors (with the line, as a [`crate::HeaderError`]): an unknown type or flag, a bad name, a
//! default that is not valid for the type, `required` with a default, `required` with
//! `optional`, a flag given twice, an empty or unclosed choice list, two declarations of one
//! name or one position, a `params:` with a value, or a block that declares nothing.
//!
//! # Checking a call ([`check_call`])
//! Values arrive typed by the macro parser: a quoted value is a string, unquoted whole numbers
//! integers, other numbers floats, `true`/`false` booleans, other bare words strings.
//!
//! - A parameter with `position N` takes `args[N]` when there is one; giving it both
//!   positionally and by name is an error. Positional arguments stay in `args` as they are (ABI
//!   v1); the bound, converted value is also put in the returned `params` under its name.
//! - Values are converted to the declared type or refused: `str` takes strings, and numbers
//!   and booleans as their text (`42` → `"42"`, `true` → `"true"`); `int` takes integers and
//!   strings holding one (`"42"`, `"-3"`), never floats or booleans; `float` takes numbers and
//!   numeric strings, always giving a float (`2` → `2.0`); `bool` takes booleans and the
//!   strings `"true"`/`"false"`; a choice takes a string (or a number's or boolean's text)
//!   equal to one of its choices; `any` takes anything. Lists, objects and null (which the
//!   parser never produces) are refused by every type but `any`.
//! - A missing `required` parameter is an error; a missing one with a default gets it; a
//!   missing one without a default stays absent.
//! - Parameters that are not declared, and positional arguments that no declaration takes, are
//!   passed on unchanged with a warning each.
//!
//! Every error is collected ([`ParamErrors`]); messages name the parameter but not the macro
//! (the caller prefixes it): `start must be an int, not "abc"`.
//!
//! # JSON
//! A [`ParamDecl`] serializes as
//! `{"name": "align", "ty": {"choice": ["left", "center", "right"]}, "required": false,
//! "default": "center", "position": null, "doc": "where the embed sits"}`; `ty` is one of
//! `"str"`, `"int"`, `"float"`, `"bool"`, `"any"` or `{"choice": [...]}`, `default` and
//! `position` are `null` when absent.

mod decl;
#[cfg(test)]
mod decl_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub(crate) use decl::{clash, parse_decl};

/// One declared parameter: a line `NAME: TYPE[, FLAG]... [-- DOC]` of a script header's
/// `params:` block, e.g. `id: str, required, position 0 -- the video id`. TYPE is `str`, `int`,
/// `float`, `bool`, `any` or `[a, "b c"]` (choices); a FLAG is `required`, `optional` (the
/// default), `default VALUE` (written like a macro argument, valid for TYPE) or `position N`
/// (the positional argument, from 0, that may give it). [`fmt::Display`] writes the line back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamDecl {
    pub name: String,
    pub ty: ParamType,
    #[serde(default)]
    pub required: bool,
    /// Already converted to `ty`.
    #[serde(default)]
    pub default: Option<Value>,
    /// The positional argument (from 0) that may give this parameter.
    #[serde(default)]
    pub position: Option<u32>,
    #[serde(default)]
    pub doc: String,
}

impl ParamDecl {
    /// Whether this is the `*NAME` declaration: the positional arguments that no other
    /// parameter takes, each of its type, left in `args` for the script.
    pub fn is_variadic(&self) -> bool {
        self.name.starts_with('*')
    }
}

/// The type of a declared parameter. JSON: `"str"`, `"int"`, `"float"`, `"bool"`, `"any"`, or
/// `{"choice": ["left", "center", "right"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    Str,
    Int,
    Float,
    Bool,
    Any,
    Choice(Vec<String>),
}

impl fmt::Display for ParamType {
    /// As written in a declaration: `str`, `int`, …, `[left, center, "two words"]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamType::Str => f.write_str("str"),
            ParamType::Int => f.write_str("int"),
            ParamType::Float => f.write_str("float"),
            ParamType::Bool => f.write_str("bool"),
            ParamType::Any => f.write_str("any"),
            ParamType::Choice(choices) => {
                f.write_str("[")?;
                for (i, c) in choices.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if decl::is_bare_word(c) {
                        f.write_str(c)?;
                    } else {
                        f.write_str(&decl::quote(c))?;
                    }
                }
                f.write_str("]")
            }
        }
    }
}

/// A call that passed the check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    /// The call's named parameters, converted to their declared types, with the positionally
    /// given and the defaulted ones added (undeclared ones unchanged).
    pub params: Map<String, Value>,
    /// Undeclared parameters and positional arguments, one message each.
    pub warnings: Vec<String>,
}

/// Everything wrong with a call, one message each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamErrors(pub Vec<String>);

impl fmt::Display for ParamErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

impl std::error::Error for ParamErrors {}

/// Checks a macro call's named `params` and positional `args` against the declarations:
/// converts declared values to their types, binds positional ones, fills in defaults, and
/// reports what is missing or wrong (errors) and what is not declared (warnings).
///
/// - A parameter with `position N` takes `args[N]` when there is one (giving it by name too is
///   an error); `args` is left as it is, the converted value is added to the returned params.
/// - `str` takes text and the text of numbers and booleans; `int` integers and integer strings;
///   `float` numbers and numeric strings, as floats; `bool` booleans and `"true"`/`"false"`; a
///   choice one of its strings (or a number's or boolean's text); `any` anything. Lists,
///   objects and null are refused by all but `any`.
/// - Missing: `required` is an error, a default is filled in, else the parameter stays absent.
/// - Undeclared parameters and unbound positional arguments pass unchanged, with a warning.
///
/// Messages name the parameter, not the macro: `start must be an int, not "abc"`.
pub fn check_call(
    decls: &[ParamDecl],
    params: &Map<String, Value>,
    args: &[Value],
) -> Result<Checked, ParamErrors> {
    let mut out = params.clone();
    let mut errors = Vec::new();
    let variadic = decls.iter().find(|d| d.is_variadic());
    for d in decls.iter().filter(|d| !d.is_variadic()) {
        let named = params.get(&d.name);
        let positional = d.position.and_then(|p| args.get(p as usize));
        let value = match (named, positional) {
            (Some(by_name), Some(by_position)) => {
                errors.push(format!(
                    "{} is given twice: as the {} positional argument ({}) and as {}={}",
                    d.name,
                    ordinal(d.position.unwrap_or(0) as usize),
                    show(by_position),
                    d.name,
                    show(by_name)
                ));
                continue;
            }
            (Some(v), None) | (None, Some(v)) => v,
            (None, None) => {
                if d.required {
                    errors.push(format!("{} is required", d.name));
                } else if let Some(default) = &d.default {
                    out.insert(d.name.clone(), default.clone());
                }
                continue;
            }
        };
        match convert(&d.ty, value) {
            Ok(v) => {
                out.insert(d.name.clone(), v);
            }
            Err(expected) => errors.push(format!(
                "{} must be {expected}, not {}",
                d.name,
                show(value)
            )),
        }
    }
    let taken = |i: usize| decls.iter().any(|d| d.position == Some(i as u32));
    if let Some(v) = variadic {
        for (i, arg) in args.iter().enumerate().filter(|(i, _)| !taken(*i)) {
            if let Err(expected) = convert(&v.ty, arg) {
                errors.push(format!(
                    "the {} positional argument ({}) must be {expected}, not {}",
                    ordinal(i),
                    &v.name[1..],
                    show(arg)
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(ParamErrors(errors));
    }

    let mut warnings = Vec::new();
    let names: Vec<&str> = decls
        .iter()
        .filter(|d| !d.is_variadic())
        .map(|d| d.name.as_str())
        .collect();
    for key in params.keys() {
        if !names.contains(&key.as_str()) {
            let declared = if names.is_empty() {
                "none declared".to_owned()
            } else {
                format!("declared: {}", names.join(", "))
            };
            warnings.push(format!("unknown parameter {key} ({declared})"));
        }
    }
    let mut positional: Vec<&ParamDecl> = decls.iter().filter(|d| d.position.is_some()).collect();
    positional.sort_by_key(|d| d.position);
    for (i, arg) in args.iter().enumerate() {
        if variadic.is_none() && !taken(i) {
            let taken = if positional.is_empty() {
                "no parameter is declared with a position".to_owned()
            } else {
                let list: Vec<&str> = positional.iter().map(|d| d.name.as_str()).collect();
                format!("declared by position: {}", list.join(", "))
            };
            warnings.push(format!(
                "extra positional argument {} (the {}; {taken})",
                show(arg),
                ordinal(i)
            ));
        }
    }
    Ok(Checked {
        params: out,
        warnings,
    })
}

/// `value` converted to `ty`, or what was expected (`an int`, `one of a, b`).
pub(crate) fn convert(ty: &ParamType, value: &Value) -> Result<Value, String> {
    let text = match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let converted = match (ty, value) {
        (ParamType::Any, v) => Some(v.clone()),
        (ParamType::Str, _) => text.map(Value::String),
        (ParamType::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => Some(value.clone()),
        (ParamType::Int, Value::String(s)) => match crate::macros::typed(s) {
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(Value::Number(n)),
            _ => None,
        },
        (ParamType::Float, Value::Number(n)) => n.as_f64().map(Value::from),
        (ParamType::Float, Value::String(s)) => match crate::macros::typed(s) {
            Value::Number(n) => n.as_f64().map(Value::from),
            _ => None,
        },
        (ParamType::Bool, Value::Bool(_)) => Some(value.clone()),
        (ParamType::Bool, Value::String(s)) => match s.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        (ParamType::Choice(choices), _) => text.filter(|t| choices.contains(t)).map(Value::String),
        _ => None,
    };
    converted.ok_or_else(|| match ty {
        ParamType::Str => "text".to_owned(),
        ParamType::Int => "an int".to_owned(),
        ParamType::Float => "a float".to_owned(),
        ParamType::Bool => "true or false".to_owned(),
        ParamType::Any => "anything".to_owned(),
        ParamType::Choice(choices) => format!("one of {}", choices.join(", ")),
    })
}

/// A value as a message shows it: JSON, cut after 60 characters.
pub(crate) fn show(value: &Value) -> String {
    let s = value.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// `0` → `1st`, `1` → `2nd`, …: positions are counted from 0, people count from 1.
fn ordinal(index: usize) -> String {
    let n = index + 1;
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
