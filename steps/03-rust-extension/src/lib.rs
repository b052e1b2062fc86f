// ANCHOR: uses
//! Chapter 3: a Python module whose `sum` is written in Rust, on raw pyo3-ffi. The method table and
//! the module definition stay in C (foo.c); `PyInit_foo` is exported from Rust.

use std::ffi::c_longlong;
use std::ptr;

use pyo3_ffi::{
    PyArg_ParseTuple, PyErr_SetString, PyExc_OverflowError, PyLong_FromLongLong, PyObject,
};
// ANCHOR_END: uses

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

// ANCHOR: sum
/// `foo.sum`, called by CPython through the method table in foo.c.
///
/// # Safety
/// CPython calls it with the GIL held and `args` a tuple (the METH_VARARGS convention).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn foo_sum(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    let mut a: c_longlong = 0;
    let mut b: c_longlong = 0;
    // SAFETY: `args` is a tuple, and "LL" asks for exactly two pointers to long long.
    if unsafe { PyArg_ParseTuple(args, c"LL".as_ptr(), &raw mut a, &raw mut b) } == 0 {
        return ptr::null_mut(); // PyArg_ParseTuple has set TypeError or OverflowError
    }
    // ANCHOR: checked
    match a.checked_add(b) {
        // SAFETY (both arms): we hold the GIL.
        Some(sum) => unsafe { PyLong_FromLongLong(sum) },
        None => {
            let msg = c"sum does not fit in a 64-bit signed integer";
            unsafe { PyErr_SetString(PyExc_OverflowError, msg.as_ptr()) };
            ptr::null_mut()
        }
    }
    // ANCHOR_END: checked
}
// ANCHOR_END: sum
