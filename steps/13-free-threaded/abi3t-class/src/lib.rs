// ANCHOR: all
//! Chapter 13: a class whose instances carry Rust data, built for abi3t, where `PyObject` is
//! opaque: its size is unknown, so the data cannot be laid out after it in a `#[repr(C)]`
//! struct as chapter 10's `RingObject` is. The type asks for its data's size as a *negative*
//! `basicsize`, "this much beyond the base's, wherever that ends" (PEP 697), and finds it with
//! `PyObject_GetTypeData`. The data here is one atomic count; chapter 10's `Ring` would put
//! its `BorrowState` and `Ring` there.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use pyo3_ffi::*;

// ANCHOR: data
/// What each instance carries. `tp_alloc` zeroes it, and a zeroed `AtomicU64` is a count of 0,
/// so the class needs no `__new__` or `__init__` of its own, and no `tp_dealloc`: nothing to
/// drop.
struct Counter {
    count: AtomicU64,
}

/// `METH_METHOD` (`Include/methodobject.h`: in the limited API from 3.9), which pyo3-ffi 0.30.1
/// declares only outside the limited API: the method also gets the class that defined it.
const METH_METHOD: c_int = 0x0200;

/// A method with `METH_METHOD | METH_FASTCALL | METH_KEYWORDS` (`Include/methodobject.h`).
type PyCMethod = unsafe extern "C" fn(
    *mut PyObject,
    *mut PyTypeObject,
    *const *mut PyObject,
    Py_ssize_t,
    *mut PyObject,
) -> *mut PyObject;

/// `Counter.add()`: add 1, return the new count. `defining_class` is `Counter` even when `slf`
/// is an instance of a Python subclass, which is the type whose data `PyObject_GetTypeData`
/// needs.
unsafe extern "C" fn add(
    slf: *mut PyObject,
    defining_class: *mut PyTypeObject,
    _args: *const *mut PyObject,
    nargs: Py_ssize_t,
    kwnames: *mut PyObject,
) -> *mut PyObject {
    // SAFETY: attached; CPython passes `slf`, an instance of `defining_class` (or of a subclass),
    // whose type data is the zeroed-then-atomic Counter; kwnames is NULL or a tuple.
    unsafe {
        if nargs != 0 || (!kwnames.is_null() && PyTuple_Size(kwnames) != 0) {
            PyErr_SetString(PyExc_TypeError, c"add() takes no arguments".as_ptr());
            return ptr::null_mut();
        }
        let data = PyObject_GetTypeData(slf, defining_class).cast::<Counter>();
        if data.is_null() {
            return ptr::null_mut();
        }
        let count = (*data).count.fetch_add(1, Relaxed) + 1;
        PyLong_FromUnsignedLongLong(count)
    }
}
// ANCHOR_END: data

static mut METHODS: [PyMethodDef; 2] = [
    PyMethodDef {
        ml_name: c"add".as_ptr(),
        // SAFETY: CPython calls `ml_meth` as the signature its flags name, here a PyCMethod,
        // which is `add`'s; pyo3-ffi's union has that field only outside the limited API.
        ml_meth: PyMethodDefPointer {
            PyCFunction: unsafe { std::mem::transmute::<PyCMethod, PyCFunction>(add) },
        },
        ml_flags: METH_METHOD | METH_FASTCALL | METH_KEYWORDS,
        ml_doc: c"Add 1, and return the new count.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

// ANCHOR: spec
/// Makes the class for `module` and adds it: 0, or -1 with an exception set.
unsafe extern "C" fn exec(module: *mut PyObject) -> c_int {
    let mut slots = [
        PyType_Slot { slot: Py_tp_doc, pfunc: c"A count that threads share.".as_ptr() as _ },
        PyType_Slot { slot: Py_tp_methods, pfunc: (&raw mut METHODS).cast() },
        PyType_Slot { slot: 0, pfunc: ptr::null_mut() },
    ];
    let mut spec = PyType_Spec {
        name: c"typedata.Counter".as_ptr(),
        // Negative: this many bytes *beyond* the base's instance, at an offset CPython picks.
        basicsize: -(size_of::<Counter>() as c_int),
        itemsize: 0,
        flags: (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE) as _,
        slots: slots.as_mut_ptr(),
    };
    // SAFETY: attached (CPython runs exec slots so); the spec is read during the call.
    unsafe {
        let ty = PyType_FromModuleAndSpec(module, &mut spec, ptr::null_mut());
        if ty.is_null() {
            return -1;
        }
        let status = PyModule_AddType(module, ty.cast());
        Py_DecRef(ty);
        status
    }
}
// ANCHOR_END: spec

PyABIInfo_VAR!(ABI_INFO);

static mut SLOTS: [PySlot; 6] = [
    PySlot_STATIC_DATA(Py_mod_abi, (&raw mut ABI_INFO).cast()),
    PySlot_STATIC_DATA(Py_mod_name, c"typedata".as_ptr() as *mut c_void),
    // SAFETY: a function of the type Py_mod_exec expects.
    unsafe { PySlot_FUNC(Py_mod_exec, exec as *mut c_void) },
    PySlot_DATA(Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED),
    PySlot_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED),
    PySlot_END(),
];

/// The module's entry point under PEP 793.
///
/// # Safety
/// Only CPython calls it, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyModExport_<module>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyModExport_typedata() -> *mut PySlot {
    (&raw mut SLOTS).cast()
}
// ANCHOR_END: all
