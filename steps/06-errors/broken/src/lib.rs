// ANCHOR: all
//! Chapter 6's demonstration module `broken`: each function has a bug, on purpose.
//!
//! Never use this module for anything but the chapter's demonstrations: `add` aborts the
//! process, `text_length` leaks, `first` frees objects that are still in use, and the
//! `forget_error` and `stray_error` functions break the NULL/exception protocol. The project's
//! reliability suite excludes it by name (see tests/children/ch06_registry.py).

#[path = "../../src/boundary.rs"]
mod boundary;

mod add;
mod add_guarded;

use std::ffi::c_int;
use std::ptr;

use pyo3_ffi::*;

use add::add;
use add_guarded::add_guarded;

// ANCHOR: text-length
/// `text_length(x)`: `len(str(x))`. It never releases the string that `PyObject_Str` returns.
unsafe extern "C" fn text_length(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls us with the GIL held and a live argument (METH_O).
    unsafe {
        let text = PyObject_Str(arg); // a new reference: ours to release
        if text.is_null() {
            return ptr::null_mut();
        }
        let length = PyUnicode_GetLength(text);
        // BUG: missing Py_DecRef(text)
        if length < 0 {
            return ptr::null_mut();
        }
        PyLong_FromSsize_t(length)
    }
}
// ANCHOR_END: text-length

// ANCHOR: first
/// `first(items)`: `items[0]`. It returns a borrowed reference as if it were a new one.
unsafe extern "C" fn first(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls us with the GIL held and a live argument (METH_O).
    unsafe {
        if PyTuple_Check(arg) == 0 || PyTuple_Size(arg) < 1 {
            PyErr_SetString(PyExc_TypeError, c"first() expects a non-empty tuple".as_ptr());
            return ptr::null_mut();
        }
        PyTuple_GetItem(arg, 0) // BUG: borrowed, but our caller will release it
    }
}
// ANCHOR_END: first

// ANCHOR: protocol
/// The body of `forget_error`: None, or, when `fail` is true, NULL without an exception.
unsafe fn forget_error_body(fail: c_int) -> *mut PyObject {
    if fail != 0 {
        return ptr::null_mut(); // BUG: NULL, but no exception is set
    }
    // SAFETY: the GIL is held; the result is a new reference to None.
    unsafe { Py_NewRef(Py_None()) }
}

/// The body of `stray_error`: None, but when `fail` is true it sets an exception first.
unsafe fn stray_error_body(fail: c_int) -> *mut PyObject {
    if fail != 0 {
        // SAFETY: the GIL is held.
        unsafe { PyErr_SetString(PyExc_ValueError, c"stray_error failed".as_ptr()) };
        // BUG: and then returns a result all the same
    }
    // SAFETY: as above.
    unsafe { Py_NewRef(Py_None()) }
}

/// `forget_error(fail)` and `stray_error(fail)`, METH_O: CPython passes the argument itself.
unsafe extern "C" fn forget_error(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls us with the GIL held and a live argument.
    match unsafe { PyObject_IsTrue(arg) } {
        -1 => ptr::null_mut(), // bool(arg) raised
        fail => unsafe { forget_error_body(fail) },
    }
}

unsafe extern "C" fn stray_error(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    // SAFETY: as above.
    match unsafe { PyObject_IsTrue(arg) } {
        -1 => ptr::null_mut(),
        fail => unsafe { stray_error_body(fail) },
    }
}

/// `forget_error_varargs(fail)` and `stray_error_varargs(fail)`: the same bugs, METH_VARARGS.
unsafe extern "C" fn forget_error_varargs(_m: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    let mut fail: c_int = 0;
    // SAFETY: CPython calls us with the GIL held; "p" writes one int, the argument's truth.
    if unsafe { PyArg_ParseTuple(args, c"p:forget_error_varargs".as_ptr(), &mut fail) } == 0 {
        return ptr::null_mut();
    }
    // SAFETY: the GIL is held.
    unsafe { forget_error_body(fail) }
}

unsafe extern "C" fn stray_error_varargs(_m: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    let mut fail: c_int = 0;
    // SAFETY: as above.
    if unsafe { PyArg_ParseTuple(args, c"p:stray_error_varargs".as_ptr(), &mut fail) } == 0 {
        return ptr::null_mut();
    }
    // SAFETY: the GIL is held.
    unsafe { stray_error_body(fail) }
}
// ANCHOR_END: protocol

static mut METHODS: [PyMethodDef; 9] = [
    PyMethodDef {
        ml_name: c"add".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: add },
        ml_flags: METH_VARARGS,
        ml_doc: c"a + b with no guard: aborts the process on overflow.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"add_guarded".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: add_guarded },
        ml_flags: METH_VARARGS,
        ml_doc: c"a + b inside the guard: raises PanicException on overflow.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"text_length".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: text_length },
        ml_flags: METH_O,
        ml_doc: c"len(str(x)), leaking str(x).".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"first".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: first },
        ml_flags: METH_O,
        ml_doc: c"items[0], released once too often.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"forget_error".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: forget_error },
        ml_flags: METH_O,
        ml_doc: c"NULL without an exception when fail is true.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"forget_error_varargs".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: forget_error_varargs },
        ml_flags: METH_VARARGS,
        ml_doc: c"forget_error, called with an argument tuple.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"stray_error".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: stray_error },
        ml_flags: METH_O,
        ml_doc: c"None, with an exception set when fail is true.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"stray_error_varargs".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: stray_error_varargs },
        ml_flags: METH_VARARGS,
        ml_doc: c"stray_error, called with an argument tuple.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"broken".as_ptr(),
    m_doc: c"Chapter 6's deliberately broken functions. Demonstrations only.".as_ptr(),
    m_size: -1,
    m_methods: &raw mut METHODS as *mut PyMethodDef,
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

/// The module's entry point: `import broken` finds the file broken.abi3.so and calls this.
///
/// # Safety
/// Only CPython calls it, with the GIL held, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyInit_<module>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_broken() -> *mut PyObject {
    // SAFETY: CPython calls PyInit_broken with the GIL held, once per process (m_size is -1).
    boundary::guard(|| unsafe {
        let module = PyModule_Create(&raw mut MODULE);
        if module.is_null() {
            return ptr::null_mut();
        }
        if boundary::add_panic_exception(module, c"broken.PanicException") < 0 {
            Py_DecRef(module);
            return ptr::null_mut();
        }
        module
    })
}
// ANCHOR_END: all
