// ANCHOR: all
//! Chapter 5, the harder way: the module `foo` in Rust with no pyo3-ffi. src/ffi.rs declares the
//! structs and functions of the C API that this file uses.

mod ffi;

use std::ffi::c_longlong;
use std::ptr;

use ffi::{
    METH_VARARGS, PYTHON_ABI_VERSION, PyArg_ParseTuple, PyErr_SetString, PyExc_OverflowError,
    PyLong_FromLongLong, PyMethodDef, PyModule_Create2, PyModuleDef, PyModuleDef_HEAD_INIT,
    PyObject,
};

/// `foo.sum`, exactly as in the pyo3-ffi version of this chapter.
///
/// # Safety
/// CPython calls it with the GIL held and `args` a tuple (the METH_VARARGS convention).
unsafe extern "C" fn sum(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    let mut a: c_longlong = 0;
    let mut b: c_longlong = 0;
    // SAFETY: `args` is a tuple, and "LL" asks for exactly two pointers to long long.
    if unsafe { PyArg_ParseTuple(args, c"LL".as_ptr(), &raw mut a, &raw mut b) } == 0 {
        return ptr::null_mut();
    }
    match a.checked_add(b) {
        // SAFETY (both arms): we hold the GIL.
        Some(sum) => unsafe { PyLong_FromLongLong(sum) },
        None => {
            let msg = c"sum does not fit in a 64-bit signed integer";
            unsafe { PyErr_SetString(PyExc_OverflowError, msg.as_ptr()) };
            ptr::null_mut()
        }
    }
}

// ANCHOR: tables
static mut METHODS: [PyMethodDef; 2] = [
    PyMethodDef {
        ml_name: c"sum".as_ptr(),
        ml_meth: Some(sum),
        ml_flags: METH_VARARGS,
        ml_doc: c"Add two numbers.".as_ptr(),
    },
    PyMethodDef { ml_name: ptr::null(), ml_meth: None, ml_flags: 0, ml_doc: ptr::null() },
];

static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"foo".as_ptr(),
    m_doc: ptr::null(),
    m_size: -1,
    m_methods: &raw mut METHODS as *mut PyMethodDef,
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

#[allow(non_snake_case, reason = "Python looks up exactly PyInit_<module name>")]
#[unsafe(no_mangle)]
pub extern "C" fn PyInit_foo() -> *mut PyObject {
    // SAFETY: Python calls this once per import, holding the GIL.
    unsafe { PyModule_Create2(&raw mut MODULE, PYTHON_ABI_VERSION) }
}
// ANCHOR_END: tables
// ANCHOR_END: all
