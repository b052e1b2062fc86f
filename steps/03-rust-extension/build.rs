// ANCHOR: all
// Shared by this chapter's crate and its stages (their Cargo.toml say `build = "../../build.rs"`):
// compiles the crate's foo.c into a static archive that cargo links into the Rust cdylib.

// ANCHOR: compile
fn main() {
    println!("cargo::rerun-if-changed=foo.c");
    cc::Build::new()
        .file("foo.c")
        .include(build_support::python_include_dir())
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("foo"); // writes libfoo.a and tells cargo to link it
}
// ANCHOR_END: compile
// ANCHOR_END: all
