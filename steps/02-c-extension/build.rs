// Compiles foo.c into a CPython extension module, $OUT_DIR/foo.abi3.so.
//
// The cc crate finds the system C compiler and the flags for this target (-fPIC among them);
// Python tells us where its headers are. Warnings are errors: the C must stay clean.
use std::{env, path::PathBuf, process::Command};

// ANCHOR: include-dir
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
// ANCHOR_END: include-dir

fn main() {
    println!("cargo::rerun-if-changed=foo.c");
    println!("cargo::rerun-if-env-changed=PYO3_PYTHON");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("foo.abi3.so");

    // ANCHOR: compile
    let compiler = cc::Build::new()
        .include(python_include_dir())
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .get_compiler();
    let status = compiler
        .to_command()
        .args(["-shared", "foo.c", "-o"])
        .arg(&out)
        .status()
        .expect("the C compiler could not be started");
    assert!(status.success(), "compiling foo.c failed");
    // ANCHOR_END: compile
}
