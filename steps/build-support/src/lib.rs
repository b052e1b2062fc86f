// ANCHOR: uses
//! Helpers for the build scripts of the book's steps (they list this crate under
//! `[build-dependencies]`). Build scripts run on the build machine, so these may panic: a panic
//! here fails the build with its message, which is what a build script should do.

use std::{env, path::Path, process::Command};
// ANCHOR_END: uses

// ANCHOR: include-dir
/// The folder holding Python.h, asked of the interpreter that will import the module
/// (`PYO3_PYTHON`, or else the first `python3` on PATH). Only C needs it: the Rust of an abi3
/// module asks no interpreter (`PYO3_NO_PYTHON`, steps/.cargo/config.toml).
pub fn python_include_dir() -> String {
    println!("cargo::rerun-if-env-changed=PYO3_PYTHON");
    let python = env::var("PYO3_PYTHON").unwrap_or_else(|_| {
        println!("cargo::rerun-if-env-changed=PATH"); // then the first python3 on PATH
        "python3".into()
    });
    let out = Command::new(&python)
        .args(["-c", "import sysconfig; print(sysconfig.get_path('include'))"])
        .output()
        .unwrap_or_else(|e| panic!("could not run {python}: {e}"));
    assert!(out.status.success(), "{python} could not report its include folder");
    String::from_utf8(out.stdout).expect("a UTF-8 path").trim().to_owned()
}
// ANCHOR_END: include-dir

// ANCHOR: compile
/// Compiles one C file into a loadable extension module at `out`, with warnings as errors.
///
/// The cc crate finds the system's C compiler and the flags the target needs (-fPIC among them,
/// and the optimisation level of the package being built); `-shared` makes a module to load
/// rather than an archive to link.
pub fn compile_extension_module(c_file: &str, out: &Path) {
    println!("cargo::rerun-if-changed={c_file}");
    let compiler = cc::Build::new()
        .include(python_include_dir())
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .get_compiler();
    let status = compiler
        .to_command()
        .args(["-shared", c_file, "-o"])
        .arg(out)
        .status()
        .expect("the C compiler could not be started");
    assert!(status.success(), "compiling {c_file} failed");
}
// ANCHOR_END: compile
