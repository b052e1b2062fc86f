// ANCHOR: all
//! A module that claims the stable ABI and breaks it: it marks itself as safe without the GIL
//! the way chapter 4 says a single-phase module would, with a function outside the stable ABI.

use std::ffi::{c_int, c_void};
use std::ptr;

use pyo3_ffi::{Py_DECREF, PyModule_Create, PyModuleDef, PyModuleDef_HEAD_INIT, PyObject};

// Not part of the stable ABI. pyo3-ffi declares it only for free-threaded builds without
// `abi3`, so the `abi3-py310` feature hides it; a declaration of your own gets past that.
unsafe extern "C" {
    fn PyUnstable_Module_SetGIL(module: *mut PyObject, gil: *mut c_void) -> c_int;
}
#[allow(clippy::manual_dangling_ptr, reason = "the value 1, as CPython's header defines it")]
const GIL_NOT_USED: *mut c_void = 1 as *mut c_void; // Py_MOD_GIL_NOT_USED, from the 3.13 headers

static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"violation".as_ptr(),
    m_doc: ptr::null(),
    m_size: -1,
    m_methods: ptr::null_mut(),
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

#[allow(non_snake_case, reason = "Python looks up exactly PyInit_<module name>")]
#[unsafe(no_mangle)]
pub extern "C" fn PyInit_violation() -> *mut PyObject {
    // SAFETY: the import system calls this with the GIL held; MODULE is only used from here,
    // and `module` is a new reference that is either returned or released.
    unsafe {
        let module = PyModule_Create(&raw mut MODULE);
        if !module.is_null() && PyUnstable_Module_SetGIL(module, GIL_NOT_USED) < 0 {
            Py_DECREF(module);
            return ptr::null_mut();
        }
        module
    }
}
// ANCHOR_END: all
