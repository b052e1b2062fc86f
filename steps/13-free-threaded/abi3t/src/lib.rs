// ANCHOR: all
//! Chapter 13: `refcount.same(x)`, which returns `x`: one new reference, so one increment of its
//! reference count. Built twice from this source, for abi3 and for abi3t (CPython 3.15, PEP 803),
//! and exported both times through `PyModExport_refcount` (PEP 793), the only way an abi3t
//! module can be: its `PyModuleDef` is opaque.

use std::ffi::c_void;

use pyo3_ffi::*;

/// `same(x)`: `x`, with a new reference (`Py_NewRef`, an increment).
unsafe extern "C" fn same(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls a METH_O function attached, with one valid argument.
    unsafe { Py_NewRef(arg) }
}

/// `abi()`: which stable ABI this build is for.
unsafe extern "C" fn abi(_module: *mut PyObject, _: *mut PyObject) -> *mut PyObject {
    let name = if cfg!(Py_GIL_DISABLED) { c"abi3t" } else { c"abi3" };
    // SAFETY: attached; a NUL-terminated string.
    unsafe { PyUnicode_FromString(name.as_ptr()) }
}

static mut METHODS: [PyMethodDef; 3] = [
    PyMethodDef {
        ml_name: c"same".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: same },
        ml_flags: METH_O,
        ml_doc: c"Return the argument.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"abi".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: abi },
        ml_flags: METH_NOARGS,
        ml_doc: c"The stable ABI this build is for.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

// What the module was built for, for CPython to check (PyABIInfo: stable, and GIL or both).
PyABIInfo_VAR!(ABI_INFO);

static mut SLOTS: [PySlot; 6] = [
    PySlot_STATIC_DATA(Py_mod_abi, (&raw mut ABI_INFO).cast()),
    PySlot_STATIC_DATA(Py_mod_name, c"refcount".as_ptr() as *mut c_void),
    PySlot_STATIC_DATA(Py_mod_methods, (&raw mut METHODS).cast()),
    PySlot_DATA(Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED),
    PySlot_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED),
    PySlot_END(),
];

/// The module's entry point under PEP 793: the slots that define it.
///
/// # Safety
/// Only CPython calls it, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyModExport_<module>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyModExport_refcount() -> *mut PySlot {
    (&raw mut SLOTS).cast()
}
// ANCHOR_END: all
