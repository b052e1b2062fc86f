// ANCHOR: all
//! pyo3-ffi's settings for the ABI the features chose (cfg Py_3_15, Py_LIMITED_API,
//! Py_GIL_DISABLED for abi3t), for `#[cfg]` in lib.rs.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
// ANCHOR_END: all
