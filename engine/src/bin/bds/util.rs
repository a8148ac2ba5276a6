//! What the commands share: reading inputs (a file or `-` for stdin), printing to stdout, times.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use bds_engine::{Guest, PoolConfig, Script};
use serde_json::Value;

static GUEST: std::sync::OnceLock<Option<Guest>> = std::sync::OnceLock::new();

/// Records `--guest` (or `$BDS_GUEST`) for every pool the command starts.
pub(crate) fn set_guest(guest: Option<Guest>) {
    let _ = GUEST.set(guest);
}

/// The pool configuration every command starts from: the chosen guest, else the default.
pub(crate) fn pool_config() -> PoolConfig {
    match GUEST.get().copied().flatten() {
        Some(g) => PoolConfig::default().guest(g),
        None => PoolConfig::default(),
    }
}

/// A script file, with the path in the error.
pub(crate) fn read_script(path: &Path) -> Result<Script> {
    Script::from_file(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A file's text, or stdin's when `src` is `-`.
pub(crate) fn read_input(src: &str) -> Result<String> {
    if src == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(src).with_context(|| format!("cannot read {src}"))
    }
}

/// A JSON file (or stdin); `what` names it in the error.
pub(crate) fn read_json(path: &str, what: &str) -> Result<Value> {
    let text = read_input(path)?;
    serde_json::from_str(&text).with_context(|| format!("the {what} {path} is not JSON"))
}

/// Milliseconds with three decimals.
pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Pretty JSON on stdout, then a newline.
pub(crate) fn print_json(v: &impl serde::Serialize) {
    match serde_json::to_string_pretty(v) {
        Ok(text) => emit(&format!("{text}\n")),
        Err(e) => eprintln!("bds: cannot print the result: {e}"),
    }
}

/// Writes to stdout; a closed pipe (`bds … | head`) is not an error worth a panic.
pub(crate) fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
