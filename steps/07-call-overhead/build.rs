// Compiles the C twin of this crate's module, c/c_fastcall.c, into $OUT_DIR/c_fastcall.abi3.so,
// the way chapter 2 compiles foo.c. The cc crate follows the package's opt-level (3, set in
// steps/Cargo.toml), so the C and the Rust are optimised alike.
use std::{env, path::PathBuf};

fn main() {
    let out =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("c_fastcall.abi3.so");
    build_support::compile_extension_module("c/c_fastcall.c", &out);
}
