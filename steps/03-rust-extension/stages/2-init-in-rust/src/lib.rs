// ANCHOR: all
//! Stage 2: the module is still all C, but `PyInit_foo` is a Rust function, so the cdylib exports it.

use pyo3_ffi::PyObject;

// ANCHOR: init
unsafe extern "C" {
    /// In foo.c: creates the module object from its definition and method table.
    fn foo_module_create() -> *mut PyObject;
}

/// The function Python looks up when it imports `foo`.
#[allow(non_snake_case, reason = "Python looks up exactly PyInit_<module name>")]
#[unsafe(no_mangle)]
pub extern "C" fn PyInit_foo() -> *mut PyObject {
    // SAFETY: Python calls PyInit_foo while importing, holding the GIL, which is all that
    // foo_module_create (a call to PyModule_Create) needs.
    unsafe { foo_module_create() }
}
// ANCHOR_END: init
// ANCHOR_END: all
