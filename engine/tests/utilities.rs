//! Utility modules (`kind: utility`) imported by macros, through the real engine: linking,
//! reloading after an edit, Python's own import errors, names the store refuses, isolation.

mod common;

use bds_engine::{Pool, PoolConfig, Project, ScriptStatus, ScriptStore, Severity};
use serde_json::{Value, json};

fn project(scripts: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
    common::project(1, scripts)
}

fn utility(body: &str) -> String {
    format!("# ---\n# kind: utility\n# ---\n{body}")
}

fn expand(p: &Project, content: &str) -> bds_engine::Expansion {
    p.expand(content, &json!({"title": "T"}), &json!({}))
        .unwrap()
}

const USES: &str = "import helpers\nfrom helpers import shout\ndef render(c):\n    return {'html': shout(c['args'][0]) + helpers.SUFFIX}\n";
const PLAIN: &str = "def render(c):\n    return {'html': 'plain'}\n";

#[test]
fn a_macro_imports_a_utility_and_an_edit_reruns_exactly_its_importers() {
    let helpers = utility("SUFFIX = '!'\ndef shout(s):\n    return s.upper()\n");
    let (_d, p) = project(&[("helpers", &helpers), ("uses", USES), ("plain", PLAIN)]);
    let doc = "{{< uses hi >}} {{< plain >}}";
    let first = expand(&p, doc);
    assert_eq!(first.html, "HI! plain");
    assert_eq!(first.diagnostics, []);
    assert_eq!(p.store().importers("helpers").unwrap(), ["uses"]);

    // Unchanged: both from the cache.
    assert_eq!(expand(&p, doc).cache_hits, 2);

    // The utility changes: the importer runs again (on a new instance: the old one has the old
    // module in sys.modules), the other macro is still answered from the cache.
    let entry = p.store().get("helpers").unwrap();
    p.store()
        .update(
            "helpers",
            &utility("SUFFIX = '?'\ndef shout(s):\n    return s.upper() + s.upper()\n"),
            Some(&entry.content_hash),
        )
        .unwrap();
    let after = expand(&p, doc);
    assert_eq!(after.html, "HIHI? plain");
    assert_eq!(after.cache_hits, 1, "only `plain` comes from the cache");
}

#[test]
fn utilities_import_utilities_and_importers_are_transitive() {
    let (_d, p) = project(&[
        (
            "base",
            &utility("def tag(s):\n    return '<b>' + s + '</b>'\n"),
        ),
        (
            "mid",
            &utility("from base import tag\ndef bold(s):\n    return tag(s)\n"),
        ),
        (
            "top",
            "import mid\ndef render(c):\n    return {'html': mid.bold('x')}\n",
        ),
    ]);
    assert_eq!(expand(&p, "{{< top >}}").html, "<b>x</b>");
    assert_eq!(p.store().importers("base").unwrap(), ["mid", "top"]);
    assert_eq!(p.store().importers("mid").unwrap(), ["top"]);
    assert_eq!(p.store().importers("top").unwrap(), Vec::<String>::new());
}

#[test]
fn a_disabled_utility_is_still_importable() {
    let helpers = "# ---\n# kind: utility\n# enabled: false\n# ---\nSUFFIX = '.'\ndef shout(s):\n    return s\n";
    let (_d, p) = project(&[("helpers", helpers), ("uses", USES)]);
    assert_eq!(expand(&p, "{{< uses a >}}").html, "a.");
}

/// The one diagnostic of rendering `{{< NAME >}}`.
fn only_error(p: &Project, name: &str) -> bds_engine::Diagnostic {
    let out = expand(p, &format!("{{{{< {name} >}}}}"));
    assert_eq!(out.diagnostics.len(), 1, "{:?}", out.diagnostics);
    out.diagnostics.into_iter().next().unwrap()
}

#[test]
fn import_errors_are_pythons_own_and_name_the_utility() {
    let (_d, p) = project(&[
        ("cyc_a", &utility("from cyc_b import y\nx = 1\n")),
        ("cyc_b", &utility("from cyc_a import x\ny = 2\n")),
        (
            "broken",
            &utility("X = 1\nraise RuntimeError('bad at import')\n"),
        ),
        (
            "cycle",
            "import cyc_a\ndef render(c):\n    return {'html': ''}\n",
        ),
        (
            "missing",
            "import nothere\ndef render(c):\n    return {'html': ''}\n",
        ),
        (
            "raising",
            "import broken\ndef render(c):\n    return {'html': ''}\n",
        ),
    ]);
    let d = only_error(&p, "cycle");
    assert_eq!(d.kind, "runtime");
    assert_eq!(
        d.message,
        "ImportError: cannot import name 'x' from partially initialized module 'cyc_a' \
         (most likely due to a circular import) (cyc_a.py) (line 4)"
    );
    let d = only_error(&p, "missing");
    assert_eq!(
        d.message,
        "ModuleNotFoundError: No module named 'nothere' (line 1)"
    );
    let d = only_error(&p, "raising");
    assert_eq!(d.message, "RuntimeError: bad at import (line 5)");
    let frames: Vec<(&str, u32)> = d
        .traceback
        .iter()
        .map(|f| (f.file.as_str(), f.line))
        .collect();
    assert_eq!(frames, [("raising.py", 1), ("broken.py", 5)]);
}

#[test]
fn a_utility_named_like_a_stdlib_module_or_not_importable_is_refused_with_a_status() {
    let (_d, p) = project(&[
        ("html", &utility("def escape(s):\n    return 'pwned'\n")),
        ("my-helpers", &utility("X = 1\n")),
        (
            "esc",
            "import html\ndef render(c):\n    return {'html': html.escape('<')}\n",
        ),
    ]);
    let html = p.store().get("html").unwrap();
    assert_eq!(html.status, ScriptStatus::InvalidName);
    assert_eq!(
        html.error.as_deref(),
        Some(
            "a utility cannot be named `html`: that is a Python standard-library module, which \
             `import html` always finds first; rename the file, e.g. to html_utils.py"
        )
    );
    assert_eq!(
        p.store().get("my-helpers").unwrap().status,
        ScriptStatus::InvalidName
    );
    // `import html` is still the standard library's.
    assert_eq!(expand(&p, "{{< esc >}}").html, "&lt;");
}

#[test]
fn a_hostile_utility_changes_only_the_instance_of_the_script_that_imports_it() {
    let evil = utility(
        "import sys, html\nclass Fake:\n    @staticmethod\n    def escape(s, quote=True):\n        return 'pwned'\nsys.modules['html'] = Fake\nhtml.escape = Fake.escape\n",
    );
    let (_d, p) = project(&[
        ("evil", &evil),
        (
            "victim_of_itself",
            "import evil\nimport html\ndef render(c):\n    return {'html': html.escape('<')}\n",
        ),
        (
            "bystander",
            "import html\ndef render(c):\n    return {'html': html.escape('<')}\n",
        ),
    ]);
    let out = expand(&p, "{{< victim_of_itself >}} {{< bystander >}}");
    assert_eq!(out.html, "pwned &lt;");
}

#[test]
fn the_run_button_links_the_projects_utilities_and_reports_warnings() {
    let (_d, p) = project(&[(
        "helpers",
        &utility(
            "import warnings\nSUFFIX = '!'\ndef shout(s):\n    warnings.warn('shouting ' + s, stacklevel=2)\n    return s.upper()\n",
        ),
    )]);
    let script = bds_engine::Script::new("draft.py", USES);
    let out = p
        .run(
            &script,
            &json!({"abi": 1, "params": {}, "args": ["hey"], "inner": null}),
            &bds_engine::CallOptions::run_button(),
        )
        .unwrap();
    assert_eq!(out.value["html"], Value::from("HEY!"));
    assert_eq!(out.warnings.len(), 1);
    let w = &out.warnings[0];
    assert_eq!(
        (
            w.category.as_str(),
            w.message.as_str(),
            w.file.as_str(),
            w.line
        ),
        ("UserWarning", "shouting hey", "draft.py", 4)
    );
}

#[test]
fn warnings_become_warning_diagnostics_and_the_output_renders() {
    let warner = "import warnings\ndef render(c):\n    warnings.warn('old syntax: ' + c['args'][0])\n    warnings.warn('old syntax: ' + c['args'][0])\n    warnings.warn('gone', DeprecationWarning)\n    return {'html': 'ok'}\n";
    let (_d, p) = project(&[("warner", warner)]);
    let doc = "line\n  {{< warner <b> >}}";
    for _ in 0..2 {
        // Twice: a result that warned is not cached, so the warning shows every time.
        let out = expand(&p, doc);
        assert_eq!(out.html, "line\n  ok");
        assert_eq!(out.cache_hits, 0);
        assert_eq!(out.diagnostics.len(), 2, "{:?}", out.diagnostics);
        for (d, line) in out.diagnostics.iter().zip([3, 4]) {
            assert_eq!(d.severity, Severity::Warning);
            assert_eq!((d.kind.as_str(), d.line, d.column), ("warning", 2, 3));
            assert_eq!(d.message, "UserWarning: old syntax: <b>");
            assert_eq!(d.traceback.len(), 1);
            assert_eq!(
                (d.traceback[0].file.as_str(), d.traceback[0].line),
                ("warner.py", line)
            );
        }
    }
}

#[test]
fn two_projects_on_one_pool_each_import_their_own_utility() {
    // The same macro source in two projects whose `helpers` differ: each call must see its own
    // project's module (the linked identity differs), whatever instance the worker had before.
    let pool = Pool::new(PoolConfig::default().workers(1)).unwrap();
    let open = |suffix: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("scripts")).unwrap();
        let (store, _) = ScriptStore::open_with_defaults(dir.path(), None, &[]).unwrap();
        store
            .create(
                "helpers",
                &utility(&format!(
                    "SUFFIX = '{suffix}'\ndef shout(s):\n    return s.upper()\n"
                )),
            )
            .unwrap();
        store.create("uses", USES).unwrap();
        (dir, Project::new(store, pool.clone()))
    };
    let (_a, a) = open("A");
    let (_b, b) = open("B");
    for _ in 0..2 {
        assert_eq!(expand(&a, "{{< uses x >}}").html, "XA");
        assert_eq!(expand(&b, "{{< uses x >}}").html, "XB");
    }
}

#[test]
fn warnings_are_bounded_in_count_and_length() {
    // 40 distinct warnings and one of 5,000 characters: at most 16 are kept, each cut to 1,000.
    let noisy = "import warnings\ndef render(c):\n    warnings.warn('x' * 5000)\n    for i in range(40):\n        warnings.warn('w%d' % i)\n    return {'html': 'ok'}\n";
    let (_d, p) = project(&[("noisy", noisy)]);
    let out = expand(&p, "{{< noisy >}}");
    assert_eq!(out.html, "ok");
    assert_eq!(out.diagnostics.len(), 16);
    assert_eq!(
        out.diagnostics[0].message,
        format!("UserWarning: {}", "x".repeat(1000))
    );
    assert_eq!(out.diagnostics[15].message, "UserWarning: w14");
}
