//! The `bds` command line, run as a user would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn bds(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bds"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

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
        json!({"ok": true, "result": {"html": "<b>A&amp;B</b>"}, "stdout": "hi A&B\n", "stdout_truncated": false})
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
        "bds: --timeout-ms takes a whole number, not `soon`\n"
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
    assert_eq!(
        v["defaults"][0],
        json!({"action": "seeded", "slug": bundled[0], "version": 1})
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
