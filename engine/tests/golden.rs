//! Golden parity: every case in `fixtures/cases/<slug>/*.json` runs through the real engine
//! and must give exactly what CPython gave when the case was blessed (`python3
//! fixtures/bless.py`; CI re-runs it with `--check`): the same result, compared as JSON text
//! byte for byte (key order included), or the same exception type and message. A macro gets
//! its `post` and `site` as shared, read-only values, as while rendering (and as the oracle
//! gives them).

mod common;

use std::path::{Path, PathBuf};

use bds_engine::{CallOptions, Pool, PoolConfig, Script};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Case {
    slug: String,
    path: PathBuf,
    script: Script,
    entry: String,
    context: Value,
    expected: Value,
}

fn cases() -> Vec<Case> {
    let dir = root().join("fixtures/cases");
    let mut out = Vec::new();
    let mut slugs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    slugs.sort();
    for slug_dir in slugs {
        let slug = slug_dir.file_name().unwrap().to_string_lossy().into_owned();
        let path = root().join(format!("default-scripts/{slug}.py"));
        let utility = common::is_utility(&std::fs::read_to_string(&path).unwrap());
        let script = common::bundled_script(&path);
        let mut files: Vec<_> = std::fs::read_dir(&slug_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
        {
            let case: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let entry = case["entry"].as_str().unwrap_or("render").to_owned();
            // A utility's function is called as a macro would call it (as bless.py does).
            let (script, entry) = if utility {
                let wrapper = format!(
                    "from {slug} import {entry} as _f\ndef render(c):\n    return {{'value': _f(*c.get('args', []), **c.get('params', {{}}))}}\n"
                );
                let linked = bds_engine::link(
                    Script::new(format!("{slug}-case.py"), wrapper),
                    &common::bundled_utilities(),
                );
                (linked, "render".to_owned())
            } else {
                (script.clone(), entry)
            };
            out.push(Case {
                slug: slug.clone(),
                script,
                entry,
                context: case["context"].clone(),
                expected: case["expected"].clone(),
                path,
            });
        }
    }
    out
}

#[test]
fn every_bundled_script_has_at_least_six_cases() {
    let all = cases();
    let scripts: std::collections::BTreeSet<_> = std::fs::read_dir(root().join("default-scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for s in &scripts {
        let n = all.iter().filter(|c| c.slug == *s).count();
        assert!(n >= 6, "{s} has {n} golden cases");
    }
}

#[test]
fn the_engine_matches_cpython_on_every_golden_case() {
    let pool = Pool::new(PoolConfig::default().workers(2)).unwrap();
    let all = cases();
    assert!(all.len() >= 100, "only {} cases", all.len());
    let mut mismatches = Vec::new();
    for case in &all {
        let opts = CallOptions::default().with_entry(case.entry.clone());
        let got = common::call_as_rendered(&pool, &case.script, &case.context, &opts);
        let ok = case.expected["ok"].as_bool().unwrap();
        let problem = match (&got, ok) {
            (Ok(out), true) => {
                // Floats compared as numbers (CPython writes `1e-09` where Rust writes `1e-9`);
                // everything else, integers of any size included, as text.
                let engine =
                    serde_json::to_string(&common::canonical(Value::Object(out.value.clone())))
                        .unwrap();
                let cpython =
                    serde_json::to_string(&common::canonical(case.expected["result"].clone()))
                        .unwrap();
                (engine != cpython)
                    .then(|| format!("result differs\n  engine:  {engine}\n  cpython: {cpython}"))
            }
            (Err(e), false) => {
                let want = &case.expected["error"];
                (e.exc_type != want["exc_type"] || e.message != want["message"]).then(|| {
                    format!(
                        "error differs\n  engine:  {}: {}\n  cpython: {}: {}",
                        e.exc_type, e.message, want["exc_type"], want["message"]
                    )
                })
            }
            (Ok(out), false) => Some(format!(
                "engine succeeded ({:?}), CPython raised {}",
                out.value, case.expected["error"]
            )),
            (Err(e), true) => Some(format!(
                "engine failed ({} {}: {}), CPython succeeded",
                e.kind, e.exc_type, e.message
            )),
        };
        if let Some(p) = problem {
            mismatches.push(format!(
                "{}: {p}",
                case.path
                    .strip_prefix(root())
                    .unwrap_or(&case.path)
                    .display()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        all.len(),
        mismatches.join("\n")
    );
}
