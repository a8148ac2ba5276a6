// A larger shadow stack for the interpreter's recursion than the 1 MiB default. The stack sits
// first in linear memory, so running past it traps instead of overwriting data.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-zstack-size=8388608");
    println!("cargo:rerun-if-changed=build.rs");
}
