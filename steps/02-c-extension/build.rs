// ANCHOR: all
// Compiles foo.c into a CPython extension module, $OUT_DIR/foo.abi3.so. The work is done by
// steps/build-support, which chapter 7 uses for its C module too.
use std::{env, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("foo.abi3.so");
    build_support::compile_extension_module("foo.c", &out);
}
// ANCHOR_END: all
