// Links the static CPython that build-cpython.sh made ($BDS_CPYTHON_WASI, default
// ../../target/cpython-wasi) and gives the stdlib table's path to `include_bytes!`.
use std::path::PathBuf;

fn main() {
    let dir = std::env::var_os("BDS_CPYTHON_WASI")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
                .join("../../target/cpython-wasi")
        });
    let dir = dir.canonicalize().unwrap_or_else(|_| {
        panic!(
            "no CPython for wasm at {}: run `make cpython-wasi` (worker/guest-cpython/build-cpython.sh)",
            dir.display()
        )
    });
    println!("cargo:rustc-link-search=native={}", dir.display());
    for lib in ["python3.11", "mpdec", "expat"] {
        println!("cargo:rustc-link-lib=static={lib}");
    }
    // WASI's emulations CPython is built against (signal, getpid, process clocks), from
    // Debian's wasi-libc, and clang's builtins for the C code (128-bit float helpers).
    println!("cargo:rustc-link-search=native=/usr/lib/wasm32-wasi");
    for lib in [
        "wasi-emulated-signal",
        "wasi-emulated-getpid",
        "wasi-emulated-process-clocks",
    ] {
        println!("cargo:rustc-link-lib=static={lib}");
    }
    // A larger shadow stack than the 1 MiB default, first in memory, so that running past it
    // traps instead of overwriting data.
    println!("cargo:rustc-cdylib-link-arg=-zstack-size=8388608");
    println!(
        "cargo:rustc-env=BDS_STDLIB_BIN={}",
        dir.join("stdlib.bin").display()
    );
    for f in ["libpython3.11.a", "stdlib.bin", "VERSION"] {
        println!("cargo:rerun-if-changed={}", dir.join(f).display());
    }
    println!("cargo:rerun-if-env-changed=BDS_CPYTHON_WASI");
    println!("cargo:rerun-if-changed=build.rs");
}
