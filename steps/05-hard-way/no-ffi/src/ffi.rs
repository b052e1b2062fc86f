// ANCHOR: all
//! The part of CPython's stable ABI (as of 3.10) that a module with one function needs, declared by
//! hand from the definitions in CPython's headers. layout-test checks it against pyo3-ffi.
#![allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    reason = "the C API's own names"
)]

use std::ffi::{c_char, c_int, c_longlong, c_void};

// ANCHOR: structs
/// `PyObject`, the header of every Python object (Include/object.h), in its stable-ABI form.
#[repr(C)]
pub struct PyObject {
    pub ob_refcnt: isize,     // Py_ssize_t
    pub ob_type: *mut c_void, // PyTypeObject *, opaque in the stable ABI
}

/// `PyCFunction`: the C type of a METH_VARARGS function.
pub type PyCFunction = unsafe extern "C" fn(*mut PyObject, *mut PyObject) -> *mut PyObject;

/// One row of a method table (Include/methodobject.h).
#[repr(C)]
pub struct PyMethodDef {
    pub ml_name: *const c_char,
    pub ml_meth: Option<PyCFunction>, // NULL in the last row
    pub ml_flags: c_int,
    pub ml_doc: *const c_char,
}

pub const METH_VARARGS: c_int = 0x0001;

/// The header of a module definition (Include/moduleobject.h).
#[repr(C)]
pub struct PyModuleDef_Base {
    pub ob_base: PyObject,
    pub m_init: Option<unsafe extern "C" fn() -> *mut PyObject>,
    pub m_index: isize,
    pub m_copy: *mut PyObject,
}

/// The C macro PyModuleDef_HEAD_INIT: a statically allocated object with one reference, no type.
pub const PyModuleDef_HEAD_INIT: PyModuleDef_Base = PyModuleDef_Base {
    ob_base: PyObject { ob_refcnt: 1, ob_type: std::ptr::null_mut() },
    m_init: None,
    m_index: 0,
    m_copy: std::ptr::null_mut(),
};

/// A module definition (Include/moduleobject.h).
#[repr(C)]
pub struct PyModuleDef {
    pub m_base: PyModuleDef_Base,
    pub m_name: *const c_char,
    pub m_doc: *const c_char,
    pub m_size: isize,
    pub m_methods: *mut PyMethodDef,
    pub m_slots: *mut c_void, // PyModuleDef_Slot *
    pub m_traverse: Option<unsafe extern "C" fn(*mut PyObject, *mut c_void, *mut c_void) -> c_int>,
    pub m_clear: Option<unsafe extern "C" fn(*mut PyObject) -> c_int>,
    pub m_free: Option<unsafe extern "C" fn(*mut c_void)>,
}
// ANCHOR_END: structs

// ANCHOR: functions
/// `PyModule_Create` is a C macro for this function with the stable ABI's version number, 3.
pub const PYTHON_ABI_VERSION: c_int = 3;

unsafe extern "C" {
    pub fn PyModule_Create2(def: *mut PyModuleDef, apiver: c_int) -> *mut PyObject;
    pub fn PyArg_ParseTuple(args: *mut PyObject, format: *const c_char, ...) -> c_int;
    pub fn PyLong_FromLongLong(v: c_longlong) -> *mut PyObject;
    pub fn PyErr_SetString(exception: *mut PyObject, message: *const c_char);
    pub static mut PyExc_OverflowError: *mut PyObject;
}
// ANCHOR_END: functions
// ANCHOR_END: all
