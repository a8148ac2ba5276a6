//! The worker's command line (`--guest-kind`, `--guest`, `--cache-dir`, the limits,
//! `prepare`) and where the guest and its compiled cache are found when it does not say.

use std::path::{Path, PathBuf};

use bds_ipc::{Guest, PROTOCOL_VERSION};

#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) guest: Option<PathBuf>,
    pub(crate) kind: Option<Guest>,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) max_live: usize,
    pub(crate) shared_mib: usize,
    pub(crate) budget_mib: usize,
    pub(crate) prepare: bool,
}

pub(crate) fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        guest: None,
        kind: None,
        cache_dir: None,
        max_live: 16,
        shared_mib: 256,
        budget_mib: 512,
        prepare: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--guest" => o.guest = Some(args.next().ok_or("--guest needs a path")?.into()),
            "--guest-kind" => {
                let name = args
                    .next()
                    .ok_or("--guest-kind needs rustpython or cpython")?;
                o.kind = Some(
                    name.parse()
                        .map_err(|e: bds_ipc::UnknownGuest| e.to_string())?,
                );
            }
            "--cache-dir" => {
                o.cache_dir = Some(args.next().ok_or("--cache-dir needs a path")?.into())
            }
            "--max-live" => o.max_live = positive(&a, args.next())?,
            "--shared-mib" => o.shared_mib = positive(&a, args.next())?,
            "--memory-budget-mib" => o.budget_mib = positive(&a, args.next())?,
            "prepare" => o.prepare = true,
            "--version" => {
                println!(
                    "bds-worker {} (protocol {PROTOCOL_VERSION})",
                    env!("CARGO_PKG_VERSION")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(o)
}

/// The positive number `value` that follows `flag`.
fn positive(flag: &str, value: Option<String>) -> Result<usize, String> {
    value
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{flag} needs a positive number"))
}

/// The guest wasm: `--guest`, `$BDS_GUEST_WASM`, else the file of the kind of guest
/// (`--guest-kind`, `$BDS_GUEST`, else RustPython) next to this binary, or in the build tree.
pub(crate) fn find_guest(
    explicit: Option<PathBuf>,
    kind: Option<Guest>,
) -> Result<PathBuf, String> {
    if let Some(p) = explicit.or_else(|| std::env::var_os("BDS_GUEST_WASM").map(PathBuf::from)) {
        return Ok(p);
    }
    let kind = match kind {
        Some(k) => k,
        None => match std::env::var("BDS_GUEST") {
            Ok(name) if !name.is_empty() => name
                .parse()
                .map_err(|e: bds_ipc::UnknownGuest| format!("$BDS_GUEST: {e}"))?,
            _ => Guest::default(),
        },
    };
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let file = kind.wasm_file();
    let candidates = [
        dir.join(file),
        dir.join("../wasm32-wasip1/release").join(file),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "no {kind} guest wasm: looked at {} (build it with `make {}`, or set BDS_GUEST_WASM)",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                match kind {
                    Guest::RustPython => "guest",
                    Guest::CPython => "guest-cpython",
                }
            )
        })
}

/// The compiled-guest cache: `--cache-dir`, `$BDS_CACHE_DIR`, else `bds-cache/` beside the
/// guest when that folder can be written (a development tree), else the user's cache folder
/// (`$XDG_CACHE_HOME/bds-script` or `~/.cache/bds-script`: an installed app's resources are
/// read-only).
pub(crate) fn cache_dir(explicit: Option<PathBuf>, guest: &Path) -> PathBuf {
    if let Some(dir) = explicit.or_else(|| std::env::var_os("BDS_CACHE_DIR").map(PathBuf::from)) {
        return dir;
    }
    let beside = guest.parent().unwrap_or(Path::new(".")).join("bds-cache");
    if std::fs::create_dir_all(&beside).is_ok() && tempfile_probe(&beside) {
        return beside;
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map_or(beside, |c| c.join("bds-script"))
}

/// Whether a file can be created in `dir`.
fn tempfile_probe(dir: &Path) -> bool {
    let probe = dir.join(format!(".probe-{}", std::process::id()));
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}
