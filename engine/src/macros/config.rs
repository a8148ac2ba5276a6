//! A project's configuration: `bds.toml` in the project folder, beside `scripts/`. Optional.
//!
//! Today it holds macro aliases: names a theme's content uses, run by another macro. Content
//! written for a Hugo theme calls the theme's shortcodes (`{{< alert >}}`, `{{< hint info >}}`,
//! `{{% notice tip %}}`); an alias runs a bundled (or any) macro under that name instead of
//! leaving an unknown-macro marker:
//!
//! ```toml
//! guest = "cpython"                                        # the Python that runs the scripts
//!
//! [aliases]
//! alert = "callout"                                        # {{< alert >}} runs callout
//! admonition = "callout"
//! hint = { macro = "callout", params = { type = "tip" } }  # and gives it type="tip"
//! tab = "details"                                          # wins over the bundled `tab`
//! ```
//!
//! An alias's `params` are defaults: a value the call gives itself wins. An alias wins over a
//! script of the same name (the configuration says what the name means), and aliases do not
//! chain (an alias's `macro` must be a script's name, not another alias). The call's `name`
//! (in `context["call"]`, diagnostics and the error marker) stays the name written in the
//! content; the result cache and the build's reuse follow the target script and the alias.
//!
//! The file is read when the project opens and again whenever its modification time or size
//! changes, so an edit applies to the next render. `guest` (`rustpython` or `cpython`) is the
//! exception: it chooses the interpreter the project's workers start with, so it applies when
//! the project is opened again; a guest the caller chose itself
//! ([`crate::PoolConfig::guest`], the CLI's `--guest`, the addon's `guest`) wins over it.
//!
//! # Failure
//! A file that is not valid TOML, an unknown key, a bad macro name, an alias of an alias or a
//! TOML date in `params` is a [`ConfigError`] naming the file (and the line, for TOML syntax).
//! Rendering then fails with it rather than guessing what the aliases were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The configuration's file name, in the project folder.
pub const CONFIG_FILE: &str = "bds.toml";

/// What `bds.toml` says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectConfig {
    /// The Python that runs the project's scripts, when the file says.
    pub guest: Option<bds_ipc::Guest>,
    /// Alias name → what it runs.
    pub aliases: BTreeMap<String, Alias>,
}

/// One alias: the macro it runs and the parameters it gives by default.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub target: String,
    pub params: Map<String, Value>,
}

/// A `bds.toml` that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    guest: Option<String>,
    #[serde(default)]
    aliases: BTreeMap<String, RawAlias>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawAlias {
    Name(String),
    Full(FullAlias),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FullAlias {
    #[serde(rename = "macro")]
    target: String,
    #[serde(default)]
    params: toml::Table,
}

/// Parses the text of a `bds.toml` found at `path` (named in errors).
pub fn parse_config(path: &Path, text: &str) -> Result<ProjectConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_owned(),
        message,
    };
    let raw: Raw =
        toml::from_str(text).map_err(|e| invalid(e.to_string().trim_end().to_owned()))?;
    let guest = match raw.guest {
        Some(name) => Some(name.parse().map_err(|e| invalid(format!("guest: {e}")))?),
        None => None,
    };
    let mut aliases = BTreeMap::new();
    for (name, alias) in raw.aliases {
        let (target, table) = match alias {
            RawAlias::Name(target) => (target, toml::Table::new()),
            RawAlias::Full(FullAlias { target, params }) => (target, params),
        };
        for (what, n) in [("alias", &name), ("macro", &target)] {
            if !super::parser::is_macro_name(n) {
                return Err(invalid(format!(
                    "aliases.{name}: `{n}` is not a macro name for the {what} \
                     (letters, digits, '-', '_', '/' and '.')"
                )));
            }
        }
        let mut params = Map::new();
        for (key, value) in table {
            params.insert(
                key.clone(),
                json_of(&value).map_err(|what| {
                    invalid(format!(
                        "aliases.{name}.params.{key}: {what} cannot be a macro parameter"
                    ))
                })?,
            );
        }
        aliases.insert(name, Alias { target, params });
    }
    for (name, alias) in &aliases {
        if aliases.contains_key(&alias.target) {
            return Err(invalid(format!(
                "aliases.{name}: `{}` is itself an alias; name the macro it runs instead",
                alias.target
            )));
        }
    }
    Ok(ProjectConfig { guest, aliases })
}

/// A TOML value as a macro parameter (JSON); dates have no JSON form.
fn json_of(value: &toml::Value) -> Result<Value, &'static str> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .ok_or("a NaN or an infinity")?,
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(_) => return Err("a TOML date"),
        toml::Value::Array(items) => {
            Value::Array(items.iter().map(json_of).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| Ok::<_, &'static str>((k.clone(), json_of(v)?)))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// A file's (modification time, size); `None`: there is no file.
type Stamp = Option<(SystemTime, u64)>;

/// The configuration of the project at `root`, read again when its file changes.
#[derive(Debug)]
pub(super) struct ConfigFile {
    path: PathBuf,
    /// The file's stamp when last read, and what it said.
    last: Option<(Stamp, std::sync::Arc<ProjectConfig>)>,
}

impl ConfigFile {
    pub(super) fn new(root: &Path) -> Self {
        Self {
            path: root.join(CONFIG_FILE),
            last: None,
        }
    }

    /// The configuration now: a `stat`, and a read only when the file changed.
    pub(super) fn current(&mut self) -> Result<std::sync::Arc<ProjectConfig>, ConfigError> {
        let stamp = match std::fs::metadata(&self.path) {
            Ok(m) => Some((m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        if let Some((last, config)) = &self.last
            && *last == stamp
        {
            return Ok(config.clone());
        }
        let config = match stamp {
            None => ProjectConfig::default(),
            Some(_) => {
                let text =
                    std::fs::read_to_string(&self.path).map_err(|source| ConfigError::Io {
                        path: self.path.clone(),
                        source,
                    })?;
                parse_config(&self.path, &text)?
            }
        };
        let config = std::sync::Arc::new(config);
        self.last = Some((stamp, config.clone()));
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<ProjectConfig, String> {
        parse_config(Path::new("site/bds.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn both_forms_of_alias() {
        let c = parse(
            "[aliases]\nalert = \"callout\"\nhint = { macro = \"callout\", params = { type = \"tip\", n = 2 } }\n",
        )
        .unwrap();
        assert_eq!(c.aliases["alert"].target, "callout");
        assert!(c.aliases["alert"].params.is_empty());
        assert_eq!(c.aliases["hint"].target, "callout");
        assert_eq!(
            Value::Object(c.aliases["hint"].params.clone()),
            json!({"type": "tip", "n": 2})
        );
        assert_eq!(parse("").unwrap(), ProjectConfig::default());
    }

    #[test]
    fn what_cannot_be_used_is_an_error_that_names_the_file() {
        assert_eq!(
            parse("[aliases]\na = \"b\"\nb = \"c\"\n").unwrap_err(),
            "site/bds.toml: aliases.a: `b` is itself an alias; name the macro it runs instead"
        );
        assert_eq!(
            parse("[aliases]\n\"a b\" = \"c\"\n").unwrap_err(),
            "site/bds.toml: aliases.a b: `a b` is not a macro name for the alias (letters, digits, '-', '_', '/' and '.')"
        );
        assert_eq!(
            parse("[aliases]\na = { macro = \"c\", params = { d = 1979-05-27 } }\n").unwrap_err(),
            "site/bds.toml: aliases.a.params.d: a TOML date cannot be a macro parameter"
        );
        let unknown = parse("[alias]\na = \"b\"\n").unwrap_err();
        assert!(
            unknown.starts_with("site/bds.toml: TOML parse error at line 1"),
            "{unknown}"
        );
        assert!(unknown.contains("unknown field `alias`"), "{unknown}");
        let syntax = parse("[aliases\n").unwrap_err();
        assert!(
            syntax.starts_with("site/bds.toml: TOML parse error at line 1"),
            "{syntax}"
        );
    }
}
