//! Chapter 2 has no Rust code: `build.rs` compiles `foo.c` into the Python module `foo.abi3.so`.
