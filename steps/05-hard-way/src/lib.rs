// ANCHOR: uses
//! Chapter 5: the module `foo` entirely in Rust, on pyo3-ffi. No C file, no build script.

use std::ffi::c_longlong;
use std::ptr;

use pyo3_ffi::{
    METH_VARARGS, PyArg_ParseTuple, PyErr_SetString, PyExc_OverflowError, PyLong_FromLongLong,
    PyMethodDef, PyMethodDefPointer, PyModule_Create, PyModuleDef, PyModuleDef_HEAD_INIT, PyObject,
};
// ANCHOR_END: uses

// ANCHOR: sum
/// `foo.sum`: the same function as chapter 3's, now private to Rust. Nothing else needs its name:
/// CPython finds it through the method table below.
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
// ANCHOR_END: sum

// ANCHOR: tables
/// The method table: one row per function, then a row of zeros.
static mut METHODS: [PyMethodDef; 2] = [
    PyMethodDef {
        ml_name: c"sum".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: sum },
        ml_flags: METH_VARARGS,
        ml_doc: c"Add two numbers.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

/// The module definition. CPython writes into its header, so it must be mutable.
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
// ANCHOR_END: tables

// ANCHOR: init
/// The function Python looks up when it imports `foo`.
#[allow(non_snake_case, reason = "Python looks up exactly PyInit_<module name>")]
#[unsafe(no_mangle)]
pub extern "C" fn PyInit_foo() -> *mut PyObject {
    // SAFETY: Python calls this once per import, holding the GIL, so nothing else touches MODULE
    // while PyModule_Create fills in its header.
    unsafe { PyModule_Create(&raw mut MODULE) }
}
// ANCHOR_END: init
