//! Content written for Hugo, built end to end by the CLI: `fixtures/hugo/` (two pages of a
//! made-up documentation site, written for this project) against the bundled macros, with the
//! project's `bds.toml` aliasing a theme's shortcodes.
//!
//! The expected pages (`fixtures/hugo/expected/`) are a reviewed snapshot of the whole
//! pipeline (parser, `{{% %}}`, aliases, Markdown, the macros); each bundled macro's own output
//! is golden-tested against CPython in `golden.rs`. After a deliberate change, re-bless with
//! `BDS_BLESS=1 cargo test --release -p bds-engine --test hugo` and read the diff.

mod common;

use std::path::Path;

use common::bds;

const HUGO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/hugo");

#[test]
fn hugo_content_builds_as_expected() {
    let project = tempfile::tempdir().unwrap();
    let root = project.path().display().to_string();
    assert_eq!(bds(&["init", &root], None).status.code(), Some(0));
    std::fs::copy(
        Path::new(HUGO).join("bds.toml"),
        project.path().join("bds.toml"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = bds(
        &[
            "build",
            &format!("{HUGO}/content"),
            "--site",
            &format!("{HUGO}/site.json"),
            "--out",
            &out.path().display().to_string(),
            "--project",
            &root,
        ],
        None,
    );
    // The one diagnostic is on purpose: a theme's `tabpane` that nothing aliases.
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr).replace(HUGO, "fixtures/hugo");
    let diagnostics: String = stderr
        .lines()
        .filter(|l| !l.starts_with("bds: built"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut got = vec![("diagnostics.txt".to_owned(), diagnostics)];
    for page in ["docs/install.html", "docs/shortcodes.html"] {
        got.push((
            page.to_owned(),
            std::fs::read_to_string(out.path().join(page)).unwrap(),
        ));
    }
    let expected = Path::new(HUGO).join("expected");
    let bless = std::env::var_os("BDS_BLESS").is_some();
    for (name, text) in got {
        let path = expected.join(&name);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (BDS_BLESS=1 writes it)", path.display()));
        assert_eq!(text, want, "{name} differs from {}", path.display());
    }
}
