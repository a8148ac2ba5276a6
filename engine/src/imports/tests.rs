use std::collections::BTreeSet;

use serde_json::Value;

use super::*;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/imports.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixtures/imports.json"))
        .expect("fixtures/imports.json is JSON")
}

fn names(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .expect("a list of names")
        .iter()
        .map(|n| n.as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn imports_are_what_cpythons_ast_sees() {
    let data = fixture();
    for case in data["cases"].as_array().expect("cases") {
        let source = case["source"].as_str().expect("source");
        assert_eq!(
            imported_modules(source),
            names(&case["expected"]),
            "in {source:?}"
        );
    }
}

#[test]
fn every_bundled_scripts_imports_are_what_cpythons_ast_sees() {
    let data = fixture();
    let expected = data["default_scripts"]
        .as_object()
        .expect("default_scripts");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../default-scripts");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("default-scripts") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "py") {
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("a name");
            let source = std::fs::read_to_string(&path).expect("readable");
            assert_eq!(
                imported_modules(&source),
                names(&expected[stem]),
                "{}",
                path.display()
            );
            seen += 1;
        }
    }
    assert_eq!(seen, expected.len(), "re-bless: python3 fixtures/bless.py");
}

#[test]
fn the_stdlib_list_is_cpythons() {
    // A few names every Python knows, and a few it does not.
    for name in [
        "html",
        "json",
        "re",
        "os",
        "sys",
        "collections",
        "__future__",
        "_abc",
    ] {
        assert!(is_stdlib_module(name), "{name}");
    }
    for name in ["helpers", "html_utils", "requests", "numpy"] {
        assert!(!is_stdlib_module(name), "{name}");
    }
}

#[test]
fn utility_names_must_be_importable_and_not_the_stdlibs() {
    assert_eq!(utility_name_problem("html_utils"), None);
    assert_eq!(utility_name_problem("_private"), None);
    assert_eq!(
        utility_name_problem("html").as_deref(),
        Some(
            "a utility cannot be named `html`: that is a Python standard-library module, which \
             `import html` always finds first; rename the file, e.g. to html_utils.py"
        )
    );
    assert_eq!(
        utility_name_problem("my-helpers").as_deref(),
        Some(
            "a utility is imported by its name, and `my-helpers` is not a Python module name; \
             rename the file, e.g. to my_helpers.py"
        )
    );
    assert!(utility_name_problem("class").is_some());
    assert!(utility_name_problem("2fast").is_some());
    assert_eq!(
        utility_name_problem("bds_markdown").as_deref(),
        Some(
            "a utility cannot be named `bds_markdown`: that is the engine's built-in Markdown \
             module; rename the file, e.g. to markdown_utils.py"
        )
    );
}

fn utilities(entries: &[(&str, &str)]) -> Utilities {
    entries
        .iter()
        .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
        .collect()
}

#[test]
fn the_closure_follows_utilities_transitively_and_stops_at_cycles() {
    let u = utilities(&[
        ("a", "import b\n"),
        ("b", "from c import x\nimport html\n"),
        ("c", "import a\nx = 1\n"),
        ("lonely", "X = 1\n"),
    ]);
    let got: Vec<&str> = utility_closure("import a\nimport missing\n", &u)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(got, ["a", "b", "c"]);
    assert!(utility_closure("import html\n", &u).is_empty());
    let linked = link(Script::new("m.py", "import c\n"), &u);
    let names: Vec<&str> = linked.modules().iter().map(|m| m.name()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}
