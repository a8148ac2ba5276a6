//! The `bds` command line, run as a user would.

mod common;

use std::process::{Command, Output};

use common::bds;

use serde_json::{Value, json};

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn run_prints_the_result_and_stdout_apart() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "hello.py",
        "import html\ndef render(c):\n    print('hi', c['params']['who'])\n    return {'html': '<b>' + html.escape(c['params']['who']) + '</b>'}\n",
    );
    let o = bds(
        &["run", &s, "--context", "-"],
        Some(r#"{"abi": 1, "params": {"who": "A&B"}}"#),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut v = json_out(&o);
    let timings = v.as_object_mut().unwrap().remove("timings").unwrap();
    assert!(timings["call_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(
        v,
        json!({"ok": true, "result": {"html": "<b>A&amp;B</b>"}, "stdout": "hi A&B\n", "stdout_truncated": false, "warnings": []})
    );
}

#[test]
fn run_reports_a_runtime_error_as_json_with_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "boom.py",
        "def render(c):\n    print('about to fail')\n    return {'x': c['params']['missing']}\n",
    );
    let o = bds(&["run", &s], None);
    assert_eq!(o.status.code(), Some(11));
    insta::assert_snapshot!(String::from_utf8_lossy(&o.stdout), @r#"
    {
      "ok": false,
      "error": {
        "kind": "runtime",
        "script": "boom.py",
        "exc_type": "KeyError",
        "message": "'missing'",
        "line": 3,
        "column": 0,
        "traceback": [
          {
            "file": "boom.py",
            "line": 3,
            "function": "render"
          }
        ]
      },
      "stdout": "about to fail\n"
    }
    "#);
}

#[test]
fn run_exit_codes_follow_the_error_kind() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "loop.py",
            "def render(c):\n    while True: pass\n",
            vec!["--timeout-ms", "100"],
            12,
            "timeout",
        ),
        (
            "hog.py",
            "def render(c):\n    return {'n': len('a' * 10**9)}\n",
            vec!["--memory-mb", "64"],
            13,
            "memory",
        ),
        (
            "syntax.py",
            "def render(c)\n    return {}\n",
            vec![],
            10,
            "compile",
        ),
        (
            "abi.py",
            "def render(c):\n    return {'s': {1}}\n",
            vec![],
            15,
            "abi-violation",
        ),
    ];
    for (name, src, extra, code, kind) in cases {
        let s = write(dir.path(), name, src);
        let mut args = vec!["run", s.as_str()];
        args.extend(extra);
        let o = bds(&args, None);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert_eq!(json_out(&o)["error"]["kind"], kind, "{name}");
    }
}

#[test]
fn run_refuses_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(dir.path(), "ok.py", "def render(c):\n    return {}\n");
    let o = bds(&["run", &s, "--context", "-"], Some("{not json"));
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("bds: the context - is not JSON"));
    let o = bds(&["run", &s, "--timeout-ms", "soon"], None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: invalid value 'soon' for '--timeout-ms <N>': invalid digit found in string\n\nFor more information, try '--help'.\n"
    );
    let o = bds(&["run", "/nonexistent/x.py"], None);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("bds: cannot read /nonexistent/x.py"));
    let bad = dir.path().join("latin1.py");
    std::fs::write(&bad, b"# caf\xe9\ndef render(c):\n    return {}\n").unwrap();
    let o = bds(&["run", &bad.display().to_string()], None);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not UTF-8 (byte 5)"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn check_reports_syntax_errors_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.py", "def render(c):\n    return {}\n");
    let bad = write(dir.path(), "bad.py", "def render(c):\n    return {'a': 1\n");
    let o = bds(&["check", &good, &bad], None);
    assert_eq!(o.status.code(), Some(10));
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        text,
        format!("{good}: ok\n{bad}:2:12: SyntaxError: '{{' was never closed\n")
    );
}

#[test]
fn init_and_scripts_commands_manage_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blog");
    let r = root.display().to_string();
    let o = bds(&["init", &r], None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json_out(&o);
    // Every file of default-scripts/ is seeded, in name order.
    let mut bundled: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../default-scripts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".py").map(str::to_owned))
            .collect();
    bundled.sort();
    assert_eq!(v["scripts"], json!(bundled));
    assert_eq!(v["defaults"].as_array().unwrap().len(), bundled.len());
    let first = std::fs::read_to_string(format!(
        "{}/../default-scripts/{}.py",
        env!("CARGO_MANIFEST_DIR"),
        bundled[0]
    ))
    .unwrap();
    let version = bds_engine::parse_header(&first).unwrap().version;
    assert_eq!(
        v["defaults"][0],
        json!({"action": "seeded", "slug": bundled[0], "version": version})
    );

    let o = bds(
        &["scripts", "create", "shout", "--file", "-", "--project", &r],
        Some("def render(c):\n    return {'html': c['args'][0].upper()}\n"),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json_out(&o)["status"], "ok");
    let o = bds(&["scripts", "disable", "toc", "--project", &r], None);
    assert_eq!(json_out(&o)["enabled"], false);
    let o = bds(&["scripts", "list", "--enabled", "--project", &r], None);
    let text = String::from_utf8_lossy(&o.stdout);
    let slugs: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut want: Vec<&str> = bundled
        .iter()
        .map(String::as_str)
        .filter(|s| *s != "toc")
        .chain(["shout"])
        .collect();
    want.sort();
    assert_eq!(slugs, want);

    let o = bds(
        &[
            "scripts",
            "rename",
            "shout",
            "../etc/passwd",
            "--project",
            &r,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "bds: `../etc/passwd` is not a valid script name: it would leave the scripts/ folder\n"
    );
    let o = bds(&["scripts", "show", "nope", "--project", &r], None);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned()
        ),
        (Some(4), "bds: no script named `nope`\n".to_owned())
    );

    std::fs::rename(root.join("scripts/shout.py"), root.join("scripts/yell.py")).unwrap();
    let o = bds(&["scripts", "sync", "--project", &r], None);
    assert_eq!(
        json_out(&o),
        json!({"added": [], "changed": [], "removed": [], "renamed": [["shout", "yell"]], "ignored": []})
    );

    let o = bds(
        &[
            "scripts",
            "list",
            "--project",
            &dir.path().display().to_string(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not a bDS project (no scripts/ folder)")
    );
}

#[test]
fn expand_and_transform_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    assert_eq!(bds(&["init", &root], None).status.code(), Some(0));
    let post = write(
        dir.path(),
        "post.md",
        "Press {{< kbd Ctrl+C >}}.\n{{< nope >}}\n",
    );
    let o = bds(&["expand", &post, "--project", &root], None);
    assert_eq!(
        o.status.code(),
        Some(1),
        "diagnostics make the exit status 1"
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.\n<span class=\"bds-macro-error\" data-macro=\"nope\">nope: no enabled macro named `nope`</span>\n"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with(&format!(
            "{post}:2:1: unknown-macro nope: no enabled macro named `nope`\n"
        )),
        "{err}"
    );
    let o = bds(&["expand", &post, "--project", &root, "--json"], None);
    let v = json_out(&o);
    assert_eq!(
        (v["calls"].clone(), v["cache_hits"].clone()),
        (json!(2), json!(1))
    );

    let captured = write(
        dir.path(),
        "captured.json",
        r#"{"title": "  Hello &amp; welcome  ", "content": "<p onclick=\"x()\">Hi<script>bad()</script></p>", "tags": [" Rust ", "rust", "Web Dev"], "url": "https://example.com/a?utm_source=x&id=3", "meta": {}}"#,
    );
    let o = bds(&["transform", &captured, "--project", &root], None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let v = json_out(&o);
    assert_eq!(v["post"]["url"], "https://example.com/a?id=3");
    assert_eq!(v["post"]["tags"], json!(["rust", "web-dev"]));
    assert_eq!(v["post"]["content"], "<p>Hi</p>");
    assert_eq!(v["post"]["title"], "Hello & welcome");
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["ok"] == true)
    );
}

#[test]
fn two_processes_writing_one_project_do_not_corrupt_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    assert_eq!(bds(&["init", &root], None).status.code(), Some(0));
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|p| {
            let root = root.clone();
            std::thread::spawn(move || {
                for i in 0..15 {
                    let slug = format!("{p}{i}");
                    let o = bds(&["scripts", "create", &slug, "--project", &root], None);
                    assert_eq!(
                        o.status.code(),
                        Some(0),
                        "{}",
                        String::from_utf8_lossy(&o.stderr)
                    );
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let o = bds(&["scripts", "list", "--json", "--project", &root], None);
    let list = json_out(&o);
    let created = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let slug = e["slug"].as_str().unwrap();
            slug.starts_with(['a', 'b'])
                && slug[1..].bytes().all(|b| b.is_ascii_digit())
                && e["status"] == "ok"
        })
        .count();
    assert_eq!(created, 30);
    let conn = rusqlite::Connection::open(dir.path().join(".bds/index.sqlite")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn help_and_version_describe_the_commands() {
    let o = bds(&["--help"], None);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for command in [
        "run",
        "check",
        "expand",
        "transform",
        "build",
        "init",
        "scripts",
    ] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "{command} is not in:\n{help}"
        );
    }
    let o = bds(&["expand", "--help"], None);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("--site <SITE.json>"), "{help}");
    let o = bds(&["scripts", "update", "--help"], None);
    let help = String::from_utf8_lossy(&o.stdout);
    for option in ["--file <FILE|->", "--base <HASH>", "--project <DIR>"] {
        assert!(help.contains(option), "{option} is not in:\n{help}");
    }
    let o = bds(&["--version"], None);
    assert_eq!(
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned()
        ),
        (Some(0), format!("bds {}\n", env!("CARGO_PKG_VERSION")))
    );
    // No command at all: the help, on stderr, as a usage error.
    let o = bds(&[], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Commands:"));
}

#[test]
fn usage_errors_exit_2_with_clap_messages() {
    let o = bds(&["run", "x.py", "--bogus"], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: unexpected argument '--bogus' found"),
        "{err}"
    );
    let o = bds(&["run", "x.py", "--timeout-ms", "abc"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .starts_with("error: invalid value 'abc' for '--timeout-ms <N>'")
    );
    let o = bds(&["run", "x.py", "--entry"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("'--entry <NAME>'"));
    let o = bds(&["scripts", "list", "--kind", "plugin"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with(
        "error: invalid value 'plugin' for '--kind <KIND>': expected macro, utility or transform"
    ));
    for args in [&["check"][..], &["frobnicate"], &["scripts", "show"]] {
        assert_eq!(bds(args, None).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn the_example_site_expands_without_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    assert_eq!(bds(&["init", &root], None).status.code(), Some(0));
    let site = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/site");
    let posts = [
        "about.md",
        "posts/bundle/index.md",
        "posts/getting-started.md",
        "posts/hello-world.md",
        "posts/keyboard-shortcuts.md",
        "posts/talks/watching-talks.md",
    ];
    for post in posts {
        let file = format!("{site}/content/{post}");
        let o = bds(
            &[
                "expand",
                &file,
                "--site",
                &format!("{site}/site.json"),
                "--project",
                &root,
                "--workers",
                "1",
            ],
            None,
        );
        let html = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{post}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!html.contains("bds-macro-error"), "{post}: {html}");
    }
}

/// The example site's folder, and its posts' ids.
const SITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/site");
const SITE_POSTS: [&str; 6] = [
    "about.md",
    "posts/bundle/index.md",
    "posts/getting-started.md",
    "posts/hello-world.md",
    "posts/keyboard-shortcuts.md",
    "posts/talks/watching-talks.md",
];

/// The summary line: the last line of stderr.
fn summary_line(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr);
    err.lines().last().unwrap_or_default().to_owned()
}

#[test]
fn build_writes_the_example_site_then_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blog").display().to_string();
    assert_eq!(bds(&["init", &root], None).status.code(), Some(0));
    let out = dir.path().join("public");
    let content = format!("{SITE}/content");
    let site = format!("{SITE}/site.json");
    let out_s = out.display().to_string();
    let args = [
        "build",
        content.as_str(),
        "--site",
        site.as_str(),
        "--project",
        root.as_str(),
        "--out",
        out_s.as_str(),
        "--workers",
        "1",
    ];
    let o = bds(&args, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(o.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "only the summary: {err}");
    let line = summary_line(&o);
    assert!(line.starts_with("bds: built 6 posts in "), "{line}");
    assert!(
        line.contains(" s: 6 rendered, 0 unchanged; ")
            && line.ends_with("; no diagnostics; 6 files written"),
        "{line}"
    );
    for post in SITE_POSTS {
        let page = out.join(post.replace(".md", ".html"));
        let html =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(!html.contains("bds-macro-error"), "{post}: {html}");
    }
    assert!(!out.join(".draft-ideas.html").exists());
    let kbd = std::fs::read_to_string(out.join("posts/hello-world.html")).unwrap();
    assert!(kbd.contains("<kbd>Ctrl</kbd>+<kbd>S</kbd>"), "{kbd}");

    // Nothing changed: every post is reused, no file is written.
    let o = bds(&args, None);
    assert_eq!(o.status.code(), Some(0));
    let line = summary_line(&o);
    assert!(
        line.contains(" s: 0 rendered, 6 unchanged; ") && line.ends_with("; 0 files written"),
        "{line}"
    );
    // A page changed by hand is put back, and only that one.
    std::fs::write(out.join("about.html"), "edited").unwrap();
    let o = bds(&args, None);
    assert!(
        summary_line(&o).ends_with("; 1 file written"),
        "{}",
        summary_line(&o)
    );
    assert_ne!(
        std::fs::read_to_string(out.join("about.html")).unwrap(),
        "edited"
    );

    let mut json_args = args.to_vec();
    json_args.extend(["--json", "--no-reuse"]);
    let o = bds(&json_args, None);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json_out(&o);
    assert_eq!(v["summary"]["posts"], 6);
    assert_eq!(v["summary"]["rendered"], 6);
    assert_eq!(v["summary"]["files_written"], 0);
    assert_eq!(v["errors"], json!([]));
    let ids: Vec<&str> = v["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, SITE_POSTS);
    let hello = &v["posts"][3];
    assert_eq!(
        hello["output"],
        out.join("posts/hello-world.html").display().to_string()
    );
    assert_eq!(
        (hello["reused"].clone(), hello["diagnostics"].clone()),
        (json!(false), json!([]))
    );
    assert!(hello.get("html").is_none());

    // The last build recorded which posts call `kbd` (about.md only shows one, escaped); its
    // declared parameters come first.
    let o = bds(&["scripts", "show", "kbd", "--project", &root], None);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json_out(&o)["slug"], "kbd");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "kbd declares 3 parameter(s):\n  \
         keys: any -- keys joined by +, e.g. Ctrl+Shift+P; else the positional arguments\n  \
         separator: str, default \"+\" -- what is shown between keys\n  \
         *args: any -- the keys, one per argument, when keys is not given by name\n\
         used by 3 posts (from the last build): posts/getting-started.md (2 calls), \
         posts/hello-world.md (1 call), posts/keyboard-shortcuts.md (4 calls)\n"
    );
    let o = bds(&["scripts", "show", "youtube", "--project", &root], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.lines().last(),
        Some("used by 1 post (from the last build): posts/talks/watching-talks.md (2 calls)")
    );
    // A utility says who imports it.
    let o = bds(&["scripts", "show", "html_utils", "--project", &root], None);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "imported by badge, details, figure, gist, highlight, instagram, tab, toc, vimeo, x, youtube\n"
    );
}

#[test]
fn expand_prints_warnings_and_exits_0_when_there_are_only_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blog").display().to_string();
    assert_eq!(bds(&["init", &root], None).status.code(), Some(0));
    let o = bds(
        &[
            "scripts",
            "create",
            "old",
            "--file",
            "-",
            "--project",
            &root,
        ],
        Some(
            "import warnings\ndef render(c):\n    warnings.warn('old is deprecated, use new')\n    return {'html': 'ok'}\n",
        ),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let post = dir.path().join("post.md");
    std::fs::write(&post, "intro\n{{< old >}} {{< kbd Ctrl S colour=red >}}\n").unwrap();
    let p = post.display().to_string();
    let o = bds(&["expand", &p, "--project", &root], None);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "intro\nok <kbd>Ctrl</kbd>+<kbd>S</kbd>\n"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[..2],
        [
            format!("{p}:2:1: warning old: UserWarning: old is deprecated, use new"),
            format!(
                "{p}:2:13: warning: invalid-params kbd: unknown parameter colour (declared: keys, separator)"
            ),
        ]
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "warnings alone do not fail: {err}"
    );
    // An error still does.
    std::fs::write(&post, "{{< youtube >}}\n").unwrap();
    let o = bds(&["expand", &p, "--project", &root], None);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).lines().next(),
        Some(format!("{p}:1:1: invalid-params youtube: id is required").as_str())
    );
}

#[test]
fn build_reports_bad_posts_and_writes_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blog").display().to_string();
    assert_eq!(bds(&["init", &root], None).status.code(), Some(0));
    let content = dir.path().join("content");
    std::fs::create_dir_all(content.join("posts")).unwrap();
    for (name, text) in [
        ("good.md", "---\ntitle: Good\n---\nPress {{< kbd Esc >}}.\n"),
        (
            "unknown.md",
            "---\ntitle: Unknown\n---\nText\n{{< nope >}}\n",
        ),
        ("bad.md", "---\ntitle: [unclosed\n---\nBody\n"),
        ("tags.md", "---\ntitle: Tags\ntags: 3\n---\nBody\n"),
    ] {
        write(&content.join("posts"), name, text);
    }
    let out = dir.path().join("out");
    let site = write(dir.path(), "site.json", r#"{"title": "T"}"#);
    let c = content.display().to_string();
    let o = bds(
        &[
            "build",
            &c,
            "--site",
            &site,
            "--project",
            &root,
            "--out",
            &out.display().to_string(),
            "--workers",
            "1",
        ],
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(lines[0].starts_with(&format!("{c}/posts/bad.md:")), "{err}");
    assert!(lines[0].contains(": invalid YAML front matter: "), "{err}");
    assert!(
        lines[1].starts_with(&format!("{c}/posts/tags.md: invalid post: ")),
        "{err}"
    );
    assert_eq!(
        lines[2],
        format!("{c}/posts/unknown.md:5:1: unknown-macro nope: no enabled macro named `nope`")
    );
    assert!(
        lines[3].starts_with("bds: built 2 posts in ")
            && lines[3].contains("; 1 diagnostic in 1 post; 2 files written; 2 errors"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("posts/good.html")).unwrap(),
        "Press <kbd>Esc</kbd>.\n"
    );
    assert!(
        std::fs::read_to_string(out.join("posts/unknown.html"))
            .unwrap()
            .contains("bds-macro-error")
    );
    assert!(!out.join("posts/bad.html").exists());
    assert!(!out.join("posts/tags.html").exists());
}

#[test]
fn build_refuses_a_site_that_is_not_an_object() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    assert_eq!(bds(&["init", &root], None).status.code(), Some(0));
    let site = write(dir.path(), "site.json", "[1, 2]");
    let out = dir.path().join("out").display().to_string();
    let content = format!("{SITE}/content");
    let o = bds(
        &[
            "build",
            &content,
            "--site",
            &site,
            "--project",
            &root,
            "--out",
            &out,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!("bds: the site {site} must be a JSON object\n")
    );
    assert!(!std::path::Path::new(&out).exists());
    let o = bds(&["build", &content, "--project", &root], None);
    assert_eq!(o.status.code(), Some(2), "--site is required");
    let o = bds(&["build", "--help"], None);
    let help = String::from_utf8_lossy(&o.stdout);
    for option in [
        "--site <SITE.json>",
        "--out <DIR>",
        "--project <DIR>",
        "--workers <N>",
        "--json",
        "--no-reuse",
    ] {
        assert!(help.contains(option), "{option} is not in:\n{help}");
    }
}

#[test]
fn run_shares_post_and_site_read_only_like_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "m.py",
        "def render(c):\n    t = c['post']['title'] + ' / ' + c['site']['title']\n    try:\n        c['post']['title'] = 'changed'\n        w = 'writable'\n    except Exception as e:\n        w = type(e).__name__\n    return {'html': t, 'w': w}\n",
    );
    let o = bds(
        &["run", &s, "--context", "-"],
        Some(r#"{"abi": 1, "args": [], "post": {"title": "P"}, "site": {"title": "S"}}"#),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let v = json_out(&o);
    assert_eq!(v["result"]["html"], "P / S");
    assert_ne!(v["result"]["w"], "writable");
}

#[test]
fn build_writes_plain_progress_lines_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    let root = root.to_str().unwrap();
    assert_eq!(bds(&["init", root], None).status.code(), Some(0));
    let content = dir.path().join("content");
    std::fs::create_dir(&content).unwrap();
    for i in 0..130 {
        std::fs::write(
            content.join(format!("p{i:03}.md")),
            "Press {{< kbd K >}}.\n",
        )
        .unwrap();
    }
    let site = write(dir.path(), "site.json", "{}");
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_bds"))
        .args([
            "build",
            content.to_str().unwrap(),
            "--site",
            &site,
            "--project",
            root,
        ])
        .args(["--out", out.to_str().unwrap(), "--workers", "1"])
        // Every chunk (64 posts), rather than every two seconds.
        .env("BDS_PROGRESS_EVERY_MS", "0")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert_eq!(
        lines[..2],
        ["bds: 64 of 130 posts built", "bds: 128 of 130 posts built"]
    );
    assert!(lines[2].starts_with("bds: built 130 posts in "), "{err}");
}
