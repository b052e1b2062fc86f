// ANCHOR: all
// Writes the C header for our exported functions to $OUT_DIR/sum.h, the way cgo writes one for
// `//export` functions. cbindgen reads every module under src/; its settings are in cbindgen.toml.
use std::{env, path::PathBuf};

fn main() {
    let crate_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("sum.h");
    let config = cbindgen::Config::from_file(PathBuf::from(&crate_dir).join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    cbindgen::generate_with_config(&crate_dir, config)
        .expect("cbindgen could not read src/lib.rs")
        .write_to_file(out);
    // The whole folder (cargo watches every file in it), not src/lib.rs: cbindgen follows `mod`.
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=cbindgen.toml");
}
// ANCHOR_END: all
