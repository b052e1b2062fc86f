// Builds go/ into $OUT_DIR/go_sum.abi3.so with `go build -buildmode=c-shared`, if a Go toolchain is
// on PATH, and records which one (or "no Go toolchain") in $OUT_DIR/go-toolchain.txt. Without Go
// the book still builds: chapter 7's Go row then says so.
use std::{env, fs, path::PathBuf, process::Command};

use build_support::python_include_dir;

fn main() {
    for f in ["go/go.mod", "go/sum.go", "go/module.c", "go/module.h"] {
        println!("cargo::rerun-if-changed={f}");
    }
    // Installing or removing Go changes PATH's meaning, not its text; rerun when either changes.
    println!("cargo::rerun-if-env-changed=PATH");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let module = out_dir.join("go_sum.abi3.so");
    let status = out_dir.join("go-toolchain.txt");

    let version = Command::new("go").arg("version").output();
    let Some(version) = version.ok().filter(|v| v.status.success()) else {
        let _ = fs::remove_file(&module); // a module left from a build when Go was there
        fs::write(&status, "no Go toolchain\n").expect("OUT_DIR is writable");
        return;
    };
    let built = Command::new("go")
        .args(["build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o"])
        .arg(&module)
        .arg(".")
        .current_dir("go")
        .env("CGO_ENABLED", "1")
        .env("CGO_CFLAGS", format!("-O2 -I{}", python_include_dir()))
        .status()
        .expect("go could not be started");
    assert!(built.success(), "go build of go/ failed");
    fs::write(&status, &version.stdout).expect("OUT_DIR is writable");
}
