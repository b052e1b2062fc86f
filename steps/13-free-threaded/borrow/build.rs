// ANCHOR: all
//! Tells rustc that `cfg(loom)` is expected (set by RUSTFLAGS="--cfg loom" for the model).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(loom)");
}
// ANCHOR_END: all
