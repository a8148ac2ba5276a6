//! The content reader on small folders made here, and on `fixtures/site/`.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{ContentError, ContentFile, read_content};

fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

/// The one post of a folder holding one file, `posts/<name>`.
fn one(name: &str, text: &[u8]) -> Result<ContentFile, ContentError> {
    let dir = folder(&[(&format!("posts/{name}"), text)]);
    let mut all = read_content(dir.path());
    assert_eq!(all.len(), 1);
    let found = all.remove(0);
    if let Ok(file) = &found {
        assert_eq!(file.id, format!("posts/{name}"));
        assert_eq!(file.path, dir.path().join("posts").join(name));
    }
    found
}

/// The error's text with the temporary folder taken out.
fn error(name: &str, text: &[u8]) -> String {
    let dir = folder(&[(name, text)]);
    let mut all = read_content(dir.path());
    let e = all.remove(0).unwrap_err().to_string();
    e.replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn yaml_front_matter_with_defaults() {
    let f = one(
        "hello.md",
        b"---\ntitle: Hello\ntags: [a, b]\ndate: 2024-01-15\nn: 3\nratio: 0.5\nnested: {x: null}\n---\nBody {{< kbd A >}}\n",
    )
    .unwrap();
    assert_eq!(
        f.post,
        json!({"title": "Hello", "tags": ["a", "b"], "date": "2024-01-15", "n": 3, "ratio": 0.5,
               "nested": {"x": null}, "slug": "hello", "url": "/posts/hello/"})
    );
    assert_eq!(f.content, "Body {{< kbd A >}}\n");
    assert_eq!(f.body_line, 9);
}

#[test]
fn toml_front_matter_dates_become_rfc3339_text() {
    let f = one(
        "t.md",
        b"+++\ntitle = \"T\"\nslug = \"custom\"\nwhen = 2024-02-01T09:30:00Z\nday = 2024-03-05\n[params]\nlevel = 2\n+++\n\nBody\n",
    )
    .unwrap();
    assert_eq!(
        f.post,
        json!({"title": "T", "slug": "custom", "when": "2024-02-01T09:30:00Z", "day": "2024-03-05",
               "params": {"level": 2}, "url": "/posts/custom/"})
    );
    assert_eq!(f.content, "\nBody\n");
}

#[test]
fn a_file_without_front_matter_is_all_body() {
    let f = one("plain.md", b"# Title\n---\nnot front matter\n").unwrap();
    assert_eq!(
        f.post,
        json!({"slug": "plain", "title": "", "url": "/posts/plain/"})
    );
    assert_eq!(f.content, "# Title\n---\nnot front matter\n");
    // An empty front matter is an empty object, and an empty file an empty post.
    assert_eq!(one("e.md", b"---\n---\nx").unwrap().content, "x");
    assert_eq!(one("z.md", b"").unwrap().post["slug"], "z");
}

#[test]
fn a_page_bundle_takes_its_folder_name() {
    let f = one("trip/index.md", b"---\ntitle: Trip\n---\n").unwrap();
    assert_eq!(f.post["slug"], "trip");
    assert_eq!(f.post["url"], "/posts/trip/");
    assert_eq!(f.content, "");
    // At the top of the content folder there is no folder name to take.
    let dir = folder(&[("index.md", b"home")]);
    let home = read_content(dir.path()).remove(0).unwrap();
    assert_eq!(home.post["slug"], "index");
}

#[test]
fn crlf_line_endings_and_a_bom() {
    let f = one(
        "crlf.md",
        b"\xef\xbb\xbf---\r\ntitle: Windows\r\ntags:\r\n  - a\r\n---\r\nLine one\r\nLine two\r\n",
    )
    .unwrap();
    assert_eq!(f.post["title"], "Windows");
    assert_eq!(f.post["tags"], json!(["a"]));
    assert_eq!(f.content, "Line one\r\nLine two\r\n");
    assert_eq!(f.body_line, 6);
    let f = one("bom.md", b"\xef\xbb\xbf+++\r\ntitle = \"B\"\r\n+++\r\nx").unwrap();
    assert_eq!(
        (f.post["title"].clone(), f.content),
        (json!("B"), "x".into())
    );
    let f = one("bom-only.md", "\u{feff}Just text".as_bytes()).unwrap();
    assert_eq!(f.content, "Just text");
    assert_eq!(f.body_line, 1);
}

#[test]
fn errors_name_the_file_and_line() {
    assert_eq!(
        error("a.md", b"---\ntitle: x\nno closing fence\n"),
        "a.md:1: the YAML front matter is not closed: no `---` line after the first"
    );
    assert_eq!(
        error("t.md", b"+++\ntitle = 1\n"),
        "t.md:1: the TOML front matter is not closed: no `+++` line after the first"
    );
    assert_eq!(
        error("posts/bad.md", b"---\ntitle: ok\ntags: [a, b\n---\nbody"),
        "posts/bad.md:4: invalid YAML front matter: did not find expected ',' or ']' at line 4 column 1, while parsing a flow sequence at line 3 column 7"
    );
    assert_eq!(
        error("b.md", b"---\ntitle: a\n  bad: indent\n---\n"),
        "b.md:3: invalid YAML front matter: mapping values are not allowed in this context at line 3 column 6"
    );
    assert_eq!(
        error("c.md", b"+++\ntitle = \"x\"\ntags = [1,\n+++\n"),
        "c.md:3: invalid TOML front matter: unclosed array, expected `]`"
    );
    assert_eq!(error("l.md", b"caf\xe9\n"), "l.md is not UTF-8 (byte 3)");
}

#[test]
fn values_json_cannot_hold_are_errors() {
    assert_eq!(
        error("k.md", b"---\n1: one\n---\n"),
        "k.md: invalid YAML front matter: the key 1 is not a string"
    );
    assert_eq!(
        error("n.md", b"---\nparams:\n  ratio: .nan\n---\n"),
        "n.md: invalid YAML front matter: `params.ratio`: .nan cannot be stored in JSON"
    );
    assert_eq!(
        error("i.md", b"+++\nlist = [1.0, inf]\n+++\n"),
        "i.md: invalid TOML front matter: `list[1]`: inf cannot be stored in JSON"
    );
    assert_eq!(
        error("g.md", b"---\nx: !custom 1\n---\n"),
        "g.md: invalid YAML front matter: `x`: YAML tags such as !custom are not supported"
    );
    assert_eq!(
        error("s.md", b"---\n- a\n---\n"),
        "s.md: invalid YAML front matter: expected keys and values, not a list"
    );
    assert_eq!(
        error("title.md", b"---\ntitle: 2024\n---\n"),
        "title.md: invalid YAML front matter: `title` must be a string, not 2024"
    );
}

#[test]
fn folders_are_walked_in_order_and_hidden_files_skipped() {
    let dir = folder(&[
        ("posts/b.md", b"b"),
        ("posts/a/index.md", b"a"),
        ("posts/a-z.md", b"az"),
        ("about.md", b"about"),
        ("posts/_index.md", b"section"),
        ("posts/.hidden.md", b"no"),
        (".drafts/x.md", b"no"),
        ("posts/notes.txt", b"no"),
        ("z/deep/er/post.md", b"deep"),
    ]);
    let ids: Vec<String> = read_content(dir.path())
        .into_iter()
        .map(|r| r.unwrap().id)
        .collect();
    assert_eq!(
        ids,
        [
            "about.md",
            "posts/_index.md",
            "posts/a-z.md",
            "posts/a/index.md",
            "posts/b.md",
            "z/deep/er/post.md"
        ]
    );
}

#[test]
fn one_bad_file_does_not_stop_the_others() {
    let dir = folder(&[
        ("a.md", b"---\ntitle: A\n---\n"),
        ("b.md", b"\xff\xfe"),
        ("c.md", b"+++\ntitle = \"C\"\n+++\n"),
    ]);
    let all = read_content(dir.path());
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].as_ref().unwrap().post["title"], "A");
    assert!(matches!(
        &all[1],
        Err(ContentError::NotUtf8 { offset: 0, path }) if path.ends_with("b.md")
    ));
    assert_eq!(all[2].as_ref().unwrap().post["title"], "C");
    let missing = read_content(&dir.path().join("nope"));
    assert!(matches!(&missing[..], [Err(ContentError::Io { .. })]));
}

fn site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/site")
}

#[test]
fn the_example_site_reads_and_agrees_with_its_site_json() {
    let posts: Vec<ContentFile> = read_content(&site().join("content"))
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(posts.len(), 6);
    let bundle = posts
        .iter()
        .find(|p| p.id == "posts/bundle/index.md")
        .unwrap();
    assert_eq!(bundle.post["slug"], "bundle");
    assert_eq!(bundle.post["title"], "A page bundle");
    let talks = posts
        .iter()
        .find(|p| p.id == "posts/talks/watching-talks.md")
        .unwrap();
    assert_eq!(talks.post["slug"], "talks");

    let text = std::fs::read_to_string(site().join("site.json")).unwrap();
    let site: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = site["posts"].as_array().unwrap();
    assert_eq!(entries.len(), posts.len());
    for post in &posts {
        let entry = entries
            .iter()
            .find(|e| e["slug"] == post.post["slug"])
            .unwrap_or_else(|| panic!("{} is not in site.json", post.id));
        for key in ["slug", "title", "url", "tags", "date", "summary"] {
            assert_eq!(entry[key], post.post[key], "{}: {key}", post.id);
        }
    }
}
