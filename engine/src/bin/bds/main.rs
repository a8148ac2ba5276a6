//! `bds`: the command line of bds-script.
//!
//! ```text
//! bds [--guest rustpython|cpython] COMMAND …
//! bds run SCRIPT.py [--context FILE|-] [--entry NAME] [--timeout-ms N] [--memory-mb N] [--fresh] [--seed N]
//! bds check SCRIPT.py...
//! bds expand FILE [--post META.json] [--site SITE.json] [--project DIR] [--workers N] [--json]
//! bds transform POST.json [--project DIR]
//! bds build CONTENT_DIR --site SITE.json [--out DIR] [--project DIR] [--workers N] [--json] [--no-reuse]
//! bds init [DIR]
//! bds scripts list [--kind K] [--enabled|--disabled] [--json] [--project DIR]
//! bds scripts show|delete|enable|disable SLUG [--project DIR]
//! bds scripts create SLUG [--file F|-] [--project DIR]
//! bds scripts update SLUG --file F|- [--base HASH] [--project DIR]
//! bds scripts rename OLD NEW [--project DIR]
//! bds scripts sync [--project DIR]
//! ```
//!
//! `bds --help` and `bds COMMAND --help` describe every option. Arguments are parsed by clap:
//! the structs below are the whole grammar; each command lives in its own module.
//!
//! `run` prints one JSON object on stdout: `{"ok": true, "result": …, "stdout": …, "timings": …}`
//! or `{"ok": false, "error": {"kind", "message", "line", "traceback", …}, "stdout": …}`.
//! `build` writes one HTML file per post under `--out`, and ends with a one-line summary on
//! stderr (or one JSON object on stdout with `--json`).
//! Exit status: 0 ok, 1 diagnostics (`expand`, `transform`, `build`; for `build` also a post that
//! could not be read or written), 2 usage (clap's message on stderr),
//! 3 engine could not start or an input could not be read, 4 refused (`scripts`), and for `run`
//! and `check`: 10 compile, 11 runtime, 12 timeout, 13 memory, 14 output-too-large,
//! 15 abi-violation, 16 worker-crash.

mod build;
mod content;
mod render;
mod run;
mod scripts;
mod util;

use std::path::PathBuf;
use std::process::ExitCode;

use bds_engine::ScriptKind;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "bds",
    version,
    about = "bds-script: run, check and manage sandboxed Python macros and transforms",
    arg_required_else_help = true
)]
struct Cli {
    /// The Python that runs the scripts: rustpython or cpython [default: $BDS_GUEST, else
    /// rustpython]
    #[arg(long, global = true, value_name = "NAME")]
    guest: Option<bds_engine::Guest>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a script once and print its result or its error as one JSON object
    Run(RunArgs),
    /// Compile scripts without running them: prints `path: ok` or the syntax error
    Check(CheckArgs),
    /// Expand the macros of a post: prints the HTML, diagnostics on stderr
    Expand(ExpandArgs),
    /// Run the project's enabled transforms on a post (JSON) and print the outcome
    Transform(TransformArgs),
    /// Expand every post of a content folder and write each one's HTML; diagnostics on stderr
    Build(BuildArgs),
    /// Create a project: scripts/ seeded with the bundled defaults, and the index
    Init(InitArgs),
    /// Manage the scripts of a project
    Scripts(ScriptsArgs),
}

// `args_override_self`: a repeated option takes its last value, as the hand-written parser did.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
struct RunArgs {
    /// The script to run
    #[arg(value_name = "SCRIPT.py")]
    script: PathBuf,
    /// The context: a JSON file, or - for stdin [default: an empty ABI v1 context]
    #[arg(long, value_name = "FILE|-")]
    context: Option<String>,
    /// The function to call [default: render]
    #[arg(long, value_name = "NAME")]
    entry: Option<String>,
    /// The call's deadline in milliseconds [default: 2000]
    #[arg(long, value_name = "N")]
    timeout_ms: Option<u64>,
    /// The guest's memory limit in MiB [default: 128]
    #[arg(long, value_name = "N")]
    memory_mb: Option<u64>,
    /// Run on a brand-new guest instance, dropped afterwards
    #[arg(long)]
    fresh: bool,
    /// Seed the guest's randomness [default: from the script and context hashes]
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The scripts to compile
    #[arg(value_name = "SCRIPT.py", required = true)]
    scripts: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(args_override_self = true)]
struct ExpandArgs {
    /// The post's content (Markdown or HTML with macros), or - for stdin
    #[arg(value_name = "FILE")]
    file: String,
    /// The post's metadata: a JSON object (file, or - for stdin)
    #[arg(long, value_name = "META.json")]
    post: Option<String>,
    /// The site's metadata: a JSON object (file, or - for stdin)
    #[arg(long, value_name = "SITE.json")]
    site: Option<String>,
    /// The project folder
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
    /// Worker processes to start [default: the number of cores, at most 4]
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Print HTML, diagnostics, counts, timings and metrics as one JSON object
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(args_override_self = true)]
struct TransformArgs {
    /// The post: a JSON object (file, or - for stdin)
    #[arg(value_name = "POST.json")]
    file: String,
    /// The project folder
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
}

#[derive(Debug, Args)]
#[command(args_override_self = true)]
struct BuildArgs {
    /// The content folder: Markdown posts (*.md) with YAML or TOML front matter
    #[arg(value_name = "CONTENT_DIR")]
    content: PathBuf,
    /// The site's metadata: a JSON object (file, or - for stdin)
    #[arg(long, value_name = "SITE.json")]
    site: String,
    /// Where to write the HTML: DIR/<post path with .md replaced by .html>
    #[arg(long, value_name = "DIR", default_value = "public")]
    out: PathBuf,
    /// The project folder
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
    /// Worker processes to start [default: the number of cores, at most 4]
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Print the summary, each post's figures and diagnostics, and errors as one JSON object
    #[arg(long)]
    json: bool,
    /// Expand every post again, even those unchanged since the last build
    #[arg(long)]
    no_reuse: bool,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The project folder (created when missing)
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
}

#[derive(Debug, Args)]
#[command(
    args_override_self = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
struct ScriptsArgs {
    /// The project folder [default: .]
    // Not a `default_value`: a global option's default in the subcommand would hide the value
    // given before it (`bds scripts --project DIR list`).
    #[arg(long, value_name = "DIR", global = true)]
    project: Option<PathBuf>,
    #[command(subcommand)]
    command: ScriptsCommand,
}

#[derive(Debug, Subcommand)]
enum ScriptsCommand {
    /// List the scripts: slug, kind, on/off, title and status
    #[command(args_override_self = true)]
    List {
        /// Only scripts of this kind: macro, utility or transform
        #[arg(long, value_name = "KIND", value_parser = parse_kind)]
        kind: Option<ScriptKind>,
        /// Only enabled scripts
        #[arg(long, overrides_with = "disabled")]
        enabled: bool,
        /// Only disabled scripts
        #[arg(long, overrides_with = "enabled")]
        disabled: bool,
        /// Print the list as JSON
        #[arg(long)]
        json: bool,
    },
    /// Print a script's index entry as JSON
    Show {
        /// The script's name: scripts/SLUG.py
        slug: String,
    },
    /// Create a script (from a template without --file) and print its entry
    #[command(args_override_self = true)]
    Create {
        /// The new script's name: scripts/SLUG.py
        slug: String,
        /// The new script's source: a file, or - for stdin
        #[arg(long, value_name = "FILE|-")]
        file: Option<String>,
    },
    /// Replace a script's source and print its entry
    #[command(args_override_self = true)]
    Update {
        /// The script's name: scripts/SLUG.py
        slug: String,
        /// The new source: a file, or - for stdin
        #[arg(long, value_name = "FILE|-")]
        file: String,
        /// Refuse the update if the script's content hash is no longer HASH
        #[arg(long, value_name = "HASH")]
        base: Option<String>,
    },
    /// Rename a script (never replaces another one)
    Rename {
        /// The script's current name
        #[arg(value_name = "OLD")]
        from: String,
        /// Its new name
        #[arg(value_name = "NEW")]
        to: String,
    },
    /// Enable a script
    Enable {
        /// The script's name: scripts/SLUG.py
        slug: String,
    },
    /// Disable a script
    Disable {
        /// The script's name: scripts/SLUG.py
        slug: String,
    },
    /// Move a script's file to .bds/trash/
    Delete {
        /// The script's name: scripts/SLUG.py
        slug: String,
    },
    /// Reconcile the index with the files; prints what was added, changed, removed, renamed
    Sync,
}

fn parse_kind(s: &str) -> Result<ScriptKind, String> {
    ScriptKind::parse(s).ok_or_else(|| "expected macro, utility or transform".to_owned())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout (status 0), usage errors to stderr (status 2).
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    util::set_guest(cli.guest);
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => run::check(&args.scripts),
        Command::Expand(args) => render::expand(args),
        Command::Transform(args) => render::transform(args),
        Command::Build(args) => build::build(args),
        Command::Init(args) => scripts::init(&args.dir),
        Command::Scripts(args) => scripts::scripts(args),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bds: {e:#}");
            ExitCode::from(3)
        }
    }
}
