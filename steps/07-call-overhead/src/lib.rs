// ANCHOR: all
//! Chapter 7: `sum` as a `METH_FASTCALL` function in Rust, converting its arguments by hand.
//!
//! The whole module is Rust on raw pyo3-ffi, the way chapter 5 builds one: the method table, the
//! module definition and `PyInit_rust_fastcall`. Its C twin is `c/c_fastcall.c`.

use std::ptr;

use pyo3_ffi::*;

// ANCHOR: sum
/// `sum(a, b)`. CPython passes the arguments as a C array of `nargs` borrowed references: no
/// tuple is built, and nothing has to be parsed from a format string.
unsafe extern "C" fn sum(
    _module: *mut PyObject,
    args: *mut *mut PyObject,
    nargs: Py_ssize_t,
) -> *mut PyObject {
    if nargs != 2 {
        // SAFETY: one `%zd` in the format, one `Py_ssize_t` after it.
        unsafe {
            PyErr_Format(PyExc_TypeError, c"sum expected 2 arguments, got %zd".as_ptr(), nargs)
        };
        return ptr::null_mut();
    }
    // SAFETY: CPython passes `nargs` valid object pointers at `args`, and `nargs` is 2; they
    // are valid objects, and we hold the GIL while CPython calls us.
    let Some(a) = (unsafe { to_i64(*args) }) else {
        return ptr::null_mut();
    };
    // SAFETY: as above, for the second argument.
    let Some(b) = (unsafe { to_i64(*args.add(1)) }) else {
        return ptr::null_mut();
    };
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

/// `obj` as an `i64`, or `None` with a Python exception set: `TypeError` for a non-integer,
/// `OverflowError` for an integer out of range.
///
/// # Safety
/// `obj` must be a valid object, and the caller must hold the GIL.
unsafe fn to_i64(obj: *mut PyObject) -> Option<i64> {
    // SAFETY: the caller's promise.
    let value = unsafe { PyLong_AsLongLong(obj) };
    // -1 is also an ordinary result: only PyErr_Occurred tells the two apart.
    // SAFETY: the GIL is held.
    if value == -1 && unsafe { !PyErr_Occurred().is_null() } { None } else { Some(value) }
}
// ANCHOR_END: sum

// ANCHOR: table
static mut METHODS: [PyMethodDef; 2] = [
    PyMethodDef {
        ml_name: c"sum".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunctionFast: sum },
        ml_flags: METH_FASTCALL,
        ml_doc: c"Add two numbers.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];
// ANCHOR_END: table

static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"rust_fastcall".as_ptr(),
    m_doc: ptr::null(),
    m_size: -1,
    m_methods: (&raw mut METHODS).cast(),
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

/// The module's entry point: `import rust_fastcall` looks it up by name and calls it.
///
/// # Safety
/// Only CPython calls it, holding the GIL, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyInit_<module name>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_rust_fastcall() -> *mut PyObject {
    // SAFETY: MODULE lives as long as the program, and only CPython uses it, holding the GIL.
    unsafe { PyModule_Create(&raw mut MODULE) }
}
// ANCHOR_END: all
