// Compiles this step's C modules the way chapter 2 compiles foo.c: the C twin of this crate's
// module, c/c_fastcall.c, and the two controls of the table, c/c_varargs_manual.c and
// c/c_one_arg.c, each into $OUT_DIR/<name>.abi3.so. The cc crate follows the profile's opt-level,
// so the C and the Rust are optimised alike.
use std::{env, path::PathBuf};

fn main() {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for name in ["c_fastcall", "c_varargs_manual", "c_one_arg"] {
        let out = out_dir.join(format!("{name}.abi3.so"));
        build_support::compile_extension_module(&format!("c/{name}.c"), &out);
    }
}
