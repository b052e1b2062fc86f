// ANCHOR: all
//! Chapter 7: the Rust twin of chapter 2's C `sum`: `METH_VARARGS`, with the argument tuple
//! unpacked by `PyArg_ParseTuple(args, "LL", ...)`. The whole module is Rust on raw pyo3-ffi.

use std::ffi::c_longlong;
use std::ptr;

use pyo3_ffi::*;

// ANCHOR: sum
/// `sum(a, b)`. CPython packs the arguments into a new tuple, and `PyArg_ParseTuple` reads the
/// format string "LL" to know how to unpack it into two C `long long`s.
unsafe extern "C" fn sum(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    let (mut a, mut b): (c_longlong, c_longlong) = (0, 0);
    // SAFETY: `args` is the argument tuple, and "LL" asks for two `long long *`: we pass two.
    if unsafe { PyArg_ParseTuple(args, c"LL".as_ptr(), &raw mut a, &raw mut b) } == 0 {
        return ptr::null_mut(); // PyArg_ParseTuple has set TypeError or OverflowError
    }
    match a.checked_add(b) {
        // SAFETY: called with the GIL held; returns a new reference, or NULL with an exception.
        Some(result) => unsafe { PyLong_FromLongLong(result) },
        None => {
            // SAFETY: the GIL is held and the message is a NUL-terminated C string.
            unsafe {
                PyErr_SetString(
                    PyExc_OverflowError,
                    c"sum does not fit in a 64-bit signed integer".as_ptr(),
                )
            };
            ptr::null_mut()
        }
    }
}
// ANCHOR_END: sum

static mut METHODS: [PyMethodDef; 2] = [
    PyMethodDef {
        ml_name: c"sum".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: sum },
        ml_flags: METH_VARARGS,
        ml_doc: c"Add two numbers.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"rust_varargs".as_ptr(),
    m_doc: ptr::null(),
    m_size: -1,
    m_methods: (&raw mut METHODS).cast(),
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

/// The module's entry point: `import rust_varargs` looks it up by name and calls it.
///
/// # Safety
/// Only CPython calls it, holding the GIL, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyInit_<module name>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_rust_varargs() -> *mut PyObject {
    // SAFETY: MODULE lives as long as the program, and only CPython uses it, holding the GIL.
    unsafe { PyModule_Create(&raw mut MODULE) }
}
// ANCHOR_END: all
