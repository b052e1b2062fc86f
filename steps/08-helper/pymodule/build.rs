//! With the `embed` feature only (this crate's own tests and doctests): link libpython, so that a
//! test program can start an interpreter. An extension module must never link it (chapter 3), and
//! without `embed` this script does nothing.

use std::{env, os::unix::fs::symlink, path::PathBuf, process::Command};

fn main() {
    // Without `embed` it reads nothing: rerun only when this script changes, never for another
    // interpreter (one build of the modules serves every CPython).
    println!("cargo::rerun-if-changed=build.rs");
    if env::var_os("CARGO_FEATURE_EMBED").is_none() {
        return;
    }
    println!("cargo::rerun-if-env-changed=PYO3_PYTHON");
    let python = env::var("PYO3_PYTHON").unwrap_or_else(|_| {
        println!("cargo::rerun-if-env-changed=PATH"); // then the first python3 on PATH
        "python3".into()
    });
    let script = "import sysconfig as s; v = s.get_config_var\n\
                  print(v('LIBDIR')); print(v('INSTSONAME')); print(v('LDVERSION'))";
    let out = Command::new(&python).args(["-c", script]).output().expect("run PYO3_PYTHON");
    assert!(out.status.success(), "{python} could not describe its libpython");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let [lib_dir, soname, version] = text.lines().collect::<Vec<_>>()[..] else {
        panic!("unexpected answer from {python}: {text}");
    };
    // cargo puts the link-search folders that are inside its target folder on the library path
    // of the tests it runs: a link to libpython there lets them find it without an rpath.
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let link = out_dir.join(soname);
    let _ = std::fs::remove_file(&link);
    symlink(PathBuf::from(lib_dir).join(soname), &link).expect("link libpython");
    println!("cargo::rustc-link-search=native={lib_dir}");
    println!("cargo::rustc-link-search=native={}", out_dir.display());
    println!("cargo::rustc-link-lib=dylib=python{version}");
}
