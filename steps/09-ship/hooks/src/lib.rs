// ANCHOR: entry
//! A module with two entry points: the classic `PyInit_hooks`, and PEP 793's `PyModExport_hooks`,
//! which CPython 3.15 looks for first. Each notes that it ran; `entry_point()` says which did.

use std::ffi::{CStr, c_void};
use std::ptr;
use std::sync::atomic::{AtomicU8, Ordering};

use pyo3_ffi::{
    METH_NOARGS, PyMethodDef, PyMethodDefPointer, PyModule_Create, PyModuleDef,
    PyModuleDef_HEAD_INIT, PyObject, PyUnicode_FromString,
};

const NEITHER: u8 = 0;
const PY_INIT: u8 = 1;
const PY_MOD_EXPORT: u8 = 2;
/// Which hook CPython called, set by the hook itself.
static CALLED: AtomicU8 = AtomicU8::new(NEITHER);

unsafe extern "C" fn entry_point(_module: *mut PyObject, _unused: *mut PyObject) -> *mut PyObject {
    let name = match CALLED.load(Ordering::Relaxed) {
        PY_INIT => c"PyInit_hooks",
        PY_MOD_EXPORT => c"PyModExport_hooks",
        _ => c"neither",
    };
    // SAFETY: CPython calls a method with an attached thread state; `name` ends with a NUL.
    // The new reference (or NULL, with an exception set) goes back to the caller.
    unsafe { PyUnicode_FromString(name.as_ptr()) }
}

/// Immutable after compilation, so sharing it between threads is sound (`Sync` is what the
/// raw pointers inside would otherwise deny).
#[repr(transparent)]
struct Shared<T>(T);
// SAFETY: nothing ever writes to a `Shared` value; CPython only reads the tables.
unsafe impl<T> Sync for Shared<T> {}

static METHODS: Shared<[PyMethodDef; 2]> = Shared([
    PyMethodDef {
        ml_name: c"entry_point".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: entry_point },
        ml_flags: METH_NOARGS,
        ml_doc: c"The name of the hook CPython called to make this module.".as_ptr(),
    },
    PyMethodDef::zeroed(),
]);
const DOC: &CStr = c"A module CPython can make in two ways.";
// ANCHOR_END: entry

// ANCHOR: init
static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"hooks".as_ptr(),
    m_doc: DOC.as_ptr(),
    m_size: -1,
    m_methods: METHODS.0.as_ptr().cast_mut(),
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

/// What every CPython 3 looks for, and 3.15 only when it finds no `PyModExport_hooks`.
#[allow(non_snake_case, reason = "Python looks up exactly PyInit_<module name>")]
#[unsafe(no_mangle)]
pub extern "C" fn PyInit_hooks() -> *mut PyObject {
    CALLED.store(PY_INIT, Ordering::Relaxed);
    // SAFETY: the import system calls this with an attached thread state, once per import;
    // MODULE is only used from here, and CPython only reads `m_methods`.
    unsafe { PyModule_Create(&raw mut MODULE) }
}
// ANCHOR_END: init

// ANCHOR: export
// PEP 820's slot, as CPython 3.15's slots.h lays it out. pyo3-ffi declares its own only for
// builds configured for 3.15 (`cfg(Py_3_15)`), and this crate targets 3.10's stable ABI.
#[repr(C)]
pub struct PySlot {
    sl_id: u16,
    sl_flags: u16,
    sl_reserved: u32, // must be 0
    value: PySlotValue,
}
#[repr(C)]
union PySlotValue {
    sl_ptr: *const c_void,
    sl_uint64: u64, // the widest member: 8 bytes on every platform
}
const _: () = assert!(size_of::<PySlot>() == 16);

// From 3.15's slots.h and slots_generated.h (with a 3.15 limited API or none, Py_mod_gil is 87;
// 3.14 and earlier number it 4, in the old PyModuleDef_Slot space).
const PY_SLOT_STATIC: u16 = 0x0002; // the value outlives the module: CPython need not copy it
const PY_SLOT_INTPTR: u16 = 0x0004; // the value is `sl_ptr`
const PY_MOD_GIL: u16 = 87;
const PY_MOD_NAME: u16 = 100;
const PY_MOD_DOC: u16 = 101;
const PY_MOD_METHODS: u16 = 103;
const PY_MOD_ABI: u16 = 109;
const PY_MOD_GIL_NOT_USED: *const c_void = ptr::without_provenance(1); // (void *)1

// From 3.15's modsupport.h: which ABI the module was built for, checked by CPython before it
// reads any other slot (3.15 requires this slot in a PyModExport module).
#[repr(C)]
struct PyABIInfo {
    abiinfo_major_version: u8,
    abiinfo_minor_version: u8,
    flags: u16,
    build_version: u32,
    abi_version: u32,
}
const PY_ABI_INFO_STABLE: u16 = 0x0001; // the stable ABI, from abi_version on
const PY_ABI_INFO_GIL: u16 = 0x0002; // for GIL-enabled builds
static ABI_INFO: PyABIInfo = PyABIInfo {
    abiinfo_major_version: 1,
    abiinfo_minor_version: 0,
    flags: PY_ABI_INFO_STABLE | PY_ABI_INFO_GIL,
    build_version: 0x030a_0000, // no CPython headers: the version the bindings describe
    abi_version: 0x030a_0000,   // abi3-py310
};

const fn slot(id: u16, flags: u16, value: *const c_void) -> PySlot {
    PySlot { sl_id: id, sl_flags: flags, sl_reserved: 0, value: PySlotValue { sl_ptr: value } }
}
static SLOTS: Shared<[PySlot; 6]> = Shared([
    slot(PY_MOD_ABI, PY_SLOT_INTPTR, (&raw const ABI_INFO).cast()),
    slot(PY_MOD_NAME, PY_SLOT_INTPTR, c"hooks".as_ptr().cast()),
    slot(PY_MOD_DOC, PY_SLOT_INTPTR, DOC.as_ptr().cast()),
    slot(PY_MOD_METHODS, PY_SLOT_INTPTR | PY_SLOT_STATIC, METHODS.0.as_ptr().cast()),
    // Its only state is an atomic: safe without the GIL (a GIL-enabled build ignores it).
    slot(PY_MOD_GIL, PY_SLOT_INTPTR, PY_MOD_GIL_NOT_USED),
    slot(0, 0, ptr::null()), // PySlot_END
]);

/// What CPython 3.15 looks for first. It returns the description; CPython makes the module.
#[allow(non_snake_case, reason = "Python looks up exactly PyModExport_<module name>")]
#[unsafe(no_mangle)]
pub extern "C" fn PyModExport_hooks() -> *const PySlot {
    CALLED.store(PY_MOD_EXPORT, Ordering::Relaxed);
    SLOTS.0.as_ptr()
}
// ANCHOR_END: export
