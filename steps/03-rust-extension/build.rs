// Shared by this chapter's crate and its stages (their Cargo.toml say `build = "../../build.rs"`):
// compiles the crate's foo.c into a static archive that cargo links into the Rust cdylib.
use std::{env, process::Command};

/// The folder holding Python.h, asked of the interpreter that will import the module.
fn python_include_dir() -> String {
    let python = env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args(["-c", "import sysconfig; print(sysconfig.get_path('include'))"])
        .output()
        .unwrap_or_else(|e| panic!("could not run {python}: {e}"));
    assert!(out.status.success(), "{python} could not report its include folder");
    String::from_utf8(out.stdout).expect("a UTF-8 path").trim().to_owned()
}

// ANCHOR: compile
fn main() {
    println!("cargo::rerun-if-changed=foo.c");
    println!("cargo::rerun-if-env-changed=PYO3_PYTHON");
    cc::Build::new()
        .file("foo.c")
        .include(python_include_dir())
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("foo"); // writes libfoo.a and tells cargo to link it
}
// ANCHOR_END: compile
