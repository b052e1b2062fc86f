// Compiles the C twin of this crate's module, c/c_fastcall.c, into $OUT_DIR/c_fastcall.abi3.so,
// the way chapter 2 compiles foo.c. The cc crate follows the package's opt-level (3, set in
// steps/Cargo.toml), so the C and the Rust are optimised alike.
use std::{env, path::PathBuf, process::Command};

fn python_include_dir() -> String {
    let python = env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args(["-c", "import sysconfig; print(sysconfig.get_path('include'))"])
        .output()
        .unwrap_or_else(|e| panic!("could not run {python}: {e}"));
    assert!(out.status.success(), "{python} could not report its include folder");
    String::from_utf8(out.stdout).expect("a UTF-8 path").trim().to_owned()
}

fn main() {
    println!("cargo::rerun-if-changed=c/c_fastcall.c");
    println!("cargo::rerun-if-env-changed=PYO3_PYTHON");
    let out =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("c_fastcall.abi3.so");
    let compiler = cc::Build::new()
        .include(python_include_dir())
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .get_compiler();
    let status = compiler
        .to_command()
        .args(["-shared", "c/c_fastcall.c", "-o"])
        .arg(&out)
        .status()
        .expect("the C compiler could not be started");
    assert!(status.success(), "compiling c/c_fastcall.c failed");
}
