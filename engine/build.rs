//! Embeds `default-scripts/*.py` into the engine, so a project can be seeded from the binary.
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../default-scripts");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("default-scripts/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    entries.sort();
    let mut out = String::from(
        "/// Bundled default scripts: (slug, source).\npub(crate) static BUNDLED: &[(&str, &str)] = &[\n",
    );
    for p in entries {
        println!("cargo:rerun-if-changed={}", p.display());
        let slug = p
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        let abs = p.canonicalize().expect("readable");
        writeln!(
            out,
            "    ({slug:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .expect("write to string");
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("defaults.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
