// ANCHOR: all
//! Stage 3: `sum` moves into Rust. foo.c (a link to the chapter's final foo.c) keeps only the method
//! table and the module definition. This first `sum` ignores its arguments and returns 0.

use pyo3_ffi::{PyLong_FromLongLong, PyObject};

unsafe extern "C" {
    /// In foo.c: creates the module object from its definition and method table.
    fn foo_module_create() -> *mut PyObject;
}

#[allow(non_snake_case, reason = "Python looks up exactly PyInit_<module name>")]
#[unsafe(no_mangle)]
pub extern "C" fn PyInit_foo() -> *mut PyObject {
    // SAFETY: called by Python during import, with the GIL held.
    unsafe { foo_module_create() }
}

// ANCHOR: sum
/// `foo.sum`, called by CPython through the method table in foo.c.
#[unsafe(no_mangle)]
pub extern "C" fn foo_sum(_module: *mut PyObject, _args: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls us with the GIL held, which is all PyLong_FromLongLong needs.
    unsafe { PyLong_FromLongLong(0) }
}
// ANCHOR_END: sum
// ANCHOR_END: all
