// ANCHOR: all
//! The crate that chapter 3's section on libpython builds outside the workspace: a library that
//! calls one function of CPython's C API, through pyo3-ffi, and nothing else. Nobody imports it;
//! what the section reads is which libraries the linker records in it.

/// Whether an interpreter is running in this process: CPython's `Py_IsInitialized`.
#[unsafe(no_mangle)]
pub extern "C" fn python_is_running() -> bool {
    // SAFETY: Py_IsInitialized only reads a flag of the runtime's; CPython's documentation allows
    // calling it at any time, before the interpreter starts and after it ends, without the GIL.
    unsafe { pyo3_ffi::Py_IsInitialized() != 0 }
}
// ANCHOR_END: all
