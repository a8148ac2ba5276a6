//! Which utility modules a script imports, and linking a script with them.
//!
//! A macro or transform can `import helpers` when the project has a `kind: utility` script
//! `scripts/helpers.py`. The engine finds a script's imports by reading its source (every
//! `import a.b, c` and `from a import x` statement, at any depth: inside functions, `try`
//! blocks, `if` branches), resolves the names that are the project's utilities, does the same
//! for those utilities, and sends the script with the sources of that closure
//! ([`Script::with_modules`]). The guest's finder sees exactly those modules.
//!
//! ```
//! use bds_engine::imported_modules;
//! let names = imported_modules("import html, helpers as h\nfrom text.util import slug\n");
//! assert_eq!(names.into_iter().collect::<Vec<_>>(), ["helpers", "html", "text"]);
//! ```
//!
//! What is not seen: a module imported by a computed name (`importlib.import_module(name)`,
//! `__import__(name)`) is found only if the same name is also imported by a statement somewhere
//! in the script or its utilities; otherwise the guest raises Python's own
//! `ModuleNotFoundError`. Relative imports (`from . import x`) have no package to be relative to.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use crate::script::{Module, Script};

const STDLIB: &str = include_str!("stdlib.txt");

static STDLIB_NAMES: LazyLock<BTreeSet<&'static str>> = LazyLock::new(|| {
    STDLIB
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Whether `name` is a module of CPython 3.11's standard library (`sys.stdlib_module_names`).
pub fn is_stdlib_module(name: &str) -> bool {
    STDLIB_NAMES.contains(name)
}

/// Why a script cannot be a utility under its name, or `None` when it can.
pub fn utility_name_problem(slug: &str) -> Option<String> {
    let identifier = slug
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier || KEYWORDS.contains(&slug) {
        let suggestion: String = slug
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        return Some(format!(
            "a utility is imported by its name, and `{slug}` is not a Python module name; \
             rename the file, e.g. to {suggestion}.py"
        ));
    }
    if slug == "bds_markdown" {
        return Some(
            "a utility cannot be named `bds_markdown`: that is the engine's built-in Markdown \
             module; rename the file, e.g. to markdown_utils.py"
                .to_owned(),
        );
    }
    if is_stdlib_module(slug) {
        return Some(format!(
            "a utility cannot be named `{slug}`: that is a Python standard-library module, which \
             `import {slug}` always finds first; rename the file, e.g. to {slug}_utils.py"
        ));
    }
    None
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Name(&'a str),
    Op(char),
    /// The end of a statement: a newline outside brackets, or `;`.
    End,
    Other,
}

/// The tokens of `source` that matter for finding imports: names, operators and statement
/// ends; strings, numbers and comments are skipped.
fn tokens(source: &str) -> Vec<Tok<'_>> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\\' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'\\' if bytes.get(i + 1) == Some(&b'\r') => i += 2,
            b'\n' => {
                if depth == 0 {
                    out.push(Tok::End);
                }
                i += 1;
            }
            b';' => {
                out.push(Tok::End);
                i += 1;
            }
            b'\'' | b'"' => {
                i = skip_string(bytes, i);
                out.push(Tok::Other);
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                out.push(Tok::Op(c as char));
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                out.push(Tok::Op(c as char));
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &source[start..i];
                let prefix = word.len() <= 2
                    && word
                        .chars()
                        .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'f' | 'u'));
                if prefix && matches!(bytes.get(i), Some(b'\'' | b'"')) {
                    i = skip_string(bytes, i);
                    out.push(Tok::Other);
                } else {
                    out.push(Tok::Name(word));
                }
            }
            c if c.is_ascii_digit() => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
                out.push(Tok::Other);
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => i += 1,
            c => {
                out.push(Tok::Op(c as char));
                i += 1;
            }
        }
    }
    out.push(Tok::End);
    out
}

/// The index just past the string literal whose opening quote is at `i`.
fn skip_string(bytes: &[u8], i: usize) -> usize {
    let q = bytes[i];
    let triple = bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'\n' if !triple => return j, // an unterminated one-line string ends at the line
            c if c == q => {
                if !triple {
                    return j + 1;
                }
                if bytes.get(j + 1) == Some(&q) && bytes.get(j + 2) == Some(&q) {
                    return j + 3;
                }
                j += 1;
            }
            _ => j += 1,
        }
    }
    bytes.len()
}

/// The top-level names of the modules `source` imports by statement (`import a.b` gives `a`).
pub fn imported_modules(source: &str) -> BTreeSet<String> {
    let toks = tokens(source);
    let mut out = BTreeSet::new();
    let mut i = 0;
    // Whether the token at `i` starts a statement (or a suite after `:` on the same line).
    let starts = |i: usize| i == 0 || matches!(toks[i - 1], Tok::End | Tok::Op(':'));
    while i < toks.len() {
        match toks[i] {
            Tok::Name("import") if starts(i) => {
                // import a.b [as c], d ...
                i += 1;
                let mut expect_name = true;
                while i < toks.len() && toks[i] != Tok::End {
                    match toks[i] {
                        Tok::Name("as") => expect_name = false,
                        Tok::Op(',') => expect_name = true,
                        Tok::Name(n) if expect_name => {
                            out.insert(n.to_owned());
                            // Skip the rest of the dotted name.
                            while matches!(toks.get(i + 1), Some(Tok::Op('.')))
                                && matches!(toks.get(i + 2), Some(Tok::Name(_)))
                            {
                                i += 2;
                            }
                            expect_name = false;
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            Tok::Name("from") if starts(i) => {
                if let Some(Tok::Name(n)) = toks.get(i + 1) {
                    let mut j = i + 2;
                    while matches!(toks.get(j), Some(Tok::Op('.')))
                        && matches!(toks.get(j + 1), Some(Tok::Name(_)))
                    {
                        j += 2;
                    }
                    if toks.get(j) == Some(&Tok::Name("import")) {
                        out.insert((*n).to_owned());
                    }
                    i = j;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// A project's utilities as linking sees them: name → source.
pub type Utilities = BTreeMap<String, String>;

/// The utilities `source` imports, transitively, in name order; names that are not utilities
/// (the standard library, or missing) are left to the guest.
pub fn utility_closure<'a>(source: &str, utilities: &'a Utilities) -> Vec<(&'a str, &'a str)> {
    let mut seen: BTreeMap<&'a str, &'a str> = BTreeMap::new();
    let mut todo: Vec<String> = imported_modules(source).into_iter().collect();
    while let Some(name) = todo.pop() {
        if seen.contains_key(name.as_str()) {
            continue;
        }
        if let Some((n, src)) = utilities.get_key_value(&name) {
            seen.insert(n.as_str(), src.as_str());
            todo.extend(imported_modules(src));
        }
    }
    seen.into_iter().collect()
}

/// The utilities in a folder of scripts (a project's `scripts/`, or `default-scripts/`): each
/// `*.py` whose header says `kind: utility` and whose name can be imported. Files that cannot
/// be read are left out (importing them then fails in Python).
pub fn utilities_in(dir: &std::path::Path) -> Utilities {
    let mut out = Utilities::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|_| path.extension().is_some_and(|e| e == "py"))
        else {
            continue;
        };
        if utility_name_problem(stem).is_some() {
            continue;
        }
        if let Ok(source) = std::fs::read_to_string(&path)
            && crate::store::header::parse(&source)
                .is_ok_and(|m| m.kind == crate::store::ScriptKind::Utility)
        {
            out.insert(stem.to_owned(), source);
        }
    }
    out
}

/// `script` with the utilities it imports (see [`utility_closure`]).
pub fn link(script: Script, utilities: &Utilities) -> Script {
    let modules: Vec<Module> = utility_closure(script.source(), utilities)
        .into_iter()
        .map(|(n, s)| Module::new(n, s))
        .collect();
    script.with_modules(modules)
}

#[cfg(test)]
mod tests;
