//! Stage 4: the real sum, calling the variadic PyArg_ParseTuple straight from Rust. It adds with
//! `a + b`, which is the trap this stage demonstrates: on overflow it panics, and the panic
//! cannot unwind out of an `extern "C"` function, so the process aborts.

use std::ffi::c_longlong;
use std::ptr;

use pyo3_ffi::{PyArg_ParseTuple, PyLong_FromLongLong, PyObject};

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
    // SAFETY: we hold the GIL.
    unsafe { PyLong_FromLongLong(a + b) } // panics on overflow in a debug build
}
