// ANCHOR: all
// ANCHOR: top
//! Chapter 12: `callbacks`, a module that calls back into Python. It calls a callable it was
//! given, consumes any iterable, hands out an iterator over its own container, and calls Python
//! from threads that Python did not start. Raw pyo3-ffi, for the stable ABI of CPython 3.10 on.

mod call;
mod iterate;
mod ring;
mod worker;

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::OnceLock;

use pyo3_ffi::*;
// ANCHOR_END: top

/// Returned by a function that has set a Python exception (or left the one a callback raised).
struct Raised;

/// The exceptions this module raises itself.
#[derive(Clone, Copy)]
enum Kind {
    Type,
    Value,
    Overflow,
    Runtime,
    Memory,
    System,
}

fn raise(kind: Kind, message: &str) -> Raised {
    let message = CString::new(message).unwrap_or_default();
    // SAFETY: only functions that Python called raise, holding the GIL; the statics are the
    // interpreter's exception types, and the message a C string.
    unsafe {
        let kind = match kind {
            Kind::Type => PyExc_TypeError,
            Kind::Value => PyExc_ValueError,
            Kind::Overflow => PyExc_OverflowError,
            Kind::Runtime => PyExc_RuntimeError,
            Kind::Memory => PyExc_MemoryError,
            Kind::System => PyExc_SystemError,
        };
        PyErr_SetString(kind, message.as_ptr());
    }
    Raised
}

// ANCHOR: entry
/// The body of every function Python calls: a panic becomes a `SystemError`, never an unwind
/// across `extern "C"`.
fn entry(body: impl FnOnce() -> Result<*mut PyObject, Raised>) -> *mut PyObject {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(result)) => result,
        Ok(Err(Raised)) => ptr::null_mut(),
        Err(_) => {
            // A panic leaves the GIL held, as it was on entry: no code here releases it around
            // anything that can panic.
            raise(Kind::System, "callbacks: a Rust panic was caught (a bug)");
            ptr::null_mut()
        }
    }
}
// ANCHOR_END: entry

// ANCHOR: api
/// `PyObject_Vectorcall(callable, args, nargsf, kwnames)`.
type Vectorcall = unsafe extern "C" fn(
    *mut PyObject,
    *const *mut PyObject,
    usize,
    *mut PyObject,
) -> *mut PyObject;
/// `PyIter_NextItem(iter, &item)`: 1 and an item, 0 at the end, -1 with an exception set.
type NextItem = unsafe extern "C" fn(*mut PyObject, *mut *mut PyObject) -> c_int;

/// The calls that joined the stable ABI after 3.10, found in the running CPython when it has
/// them as stable functions (`None` on older versions, which use the older calls).
struct Api {
    /// In the stable ABI from 3.12 (Misc/stable_abi.toml).
    vectorcall: Option<Vectorcall>,
    /// In the stable ABI from 3.14.
    next_item: Option<NextItem>,
}

static API: OnceLock<Api> = OnceLock::new();

/// The calls this CPython offers. Looked up by name at run time: a module that named them as
/// symbols would fail to load under 3.10, which does not export `PyIter_NextItem` at all.
fn api() -> &'static Api {
    API.get_or_init(|| {
        let minor = minor_version();
        // SAFETY: the names are NUL-terminated; the signatures are those the C API documents.
        unsafe {
            Api {
                vectorcall: (minor >= 12)
                    .then(|| lookup(c"PyObject_Vectorcall"))
                    .flatten()
                    .map(|f| std::mem::transmute::<*mut c_void, Vectorcall>(f)),
                next_item: (minor >= 14)
                    .then(|| lookup(c"PyIter_NextItem"))
                    .flatten()
                    .map(|f| std::mem::transmute::<*mut c_void, NextItem>(f)),
            }
        }
    })
}

unsafe extern "C" {
    /// glibc's `dlsym`; a null handle is `RTLD_DEFAULT`: all loaded objects, interpreter first.
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// The address of the function `name` in the process, if there is one.
///
/// # Safety
/// None beyond `name` being NUL-terminated (a `&CStr`).
unsafe fn lookup(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym reads the name and returns NULL when nothing has it.
    let found = unsafe { dlsym(ptr::null_mut(), name.as_ptr()) };
    (!found.is_null()).then_some(found)
}

/// `callbacks.apis()`: which call and which iteration step this CPython gets.
unsafe extern "C" fn apis(_module: *mut PyObject, _: *mut PyObject) -> *mut PyObject {
    entry(|| {
        let api = api();
        let call = if api.vectorcall.is_some() {
            c"PyObject_Vectorcall"
        } else {
            c"PyObject_CallFunctionObjArgs"
        };
        let next = if api.next_item.is_some() { c"PyIter_NextItem" } else { c"PyIter_Next" };
        // SAFETY: GIL held; "(ss)" takes two C strings.
        Ok(unsafe { Py_BuildValue(c"(ss)".as_ptr(), call.as_ptr(), next.as_ptr()) })
    })
}

/// The running CPython's minor version, from `Py_GetVersion()` ("3.12.1 (main, ...").
fn minor_version() -> u32 {
    // SAFETY: Py_GetVersion returns a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr(Py_GetVersion()) }.to_bytes();
    let minor = text.split(|&b| b == b'.').nth(1).unwrap_or_default();
    minor.iter().take_while(|b| b.is_ascii_digit()).fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}
// ANCHOR_END: api

// ANCHOR: module
/// The module's state: the iterator type, which `Ring.__iter__` needs and cannot name otherwise
/// (each interpreter has types of its own).
#[repr(C)]
struct State {
    ring_iter: *mut PyObject,
}

/// The state of the module that defined `ty`.
///
/// # Safety
/// The GIL is held and `ty` is a type this module's exec slot made.
unsafe fn state_of(ty: *mut PyTypeObject) -> *mut State {
    // SAFETY: the caller's promise: the type was made by PyType_FromModuleAndSpec.
    unsafe { PyModule_GetState(PyType_GetModule(ty)).cast() }
}

/// `Py_mod_exec`: makes the two types, keeps the iterator's in the state, adds `Ring`, and
/// registers the hook that stops the workers before the interpreter finalises.
unsafe extern "C" fn exec(module: *mut PyObject) -> c_int {
    // SAFETY: CPython runs the exec slot with the GIL held, once per module object; its state
    // is zeroed memory of m_size bytes.
    unsafe {
        let state = PyModule_GetState(module).cast::<State>();
        let ring_iter = PyType_FromModuleAndSpec(module, &raw mut ring::ITER_SPEC, ptr::null_mut());
        if ring_iter.is_null() {
            return -1;
        }
        (*state).ring_iter = ring_iter; // the state's reference, released by m_clear
        let ty = PyType_FromModuleAndSpec(module, &raw mut ring::SPEC, ptr::null_mut());
        if ty.is_null() {
            return -1;
        }
        let added = PyModule_AddType(module, ty.cast());
        Py_DECREF(ty);
        if added < 0 {
            return -1;
        }
        worker::register_at_exit(module)
    }
}

unsafe extern "C" fn traverse(module: *mut PyObject, visit: visitproc, arg: *mut c_void) -> c_int {
    // SAFETY: the GC calls this with the GIL held; the state is ours (NULL before exec ran).
    unsafe {
        let state = PyModule_GetState(module).cast::<State>();
        if state.is_null() || (*state).ring_iter.is_null() {
            return 0;
        }
        visit((*state).ring_iter, arg)
    }
}

unsafe extern "C" fn clear(module: *mut PyObject) -> c_int {
    // SAFETY: GIL held; the state's reference is released once and the field set to NULL.
    unsafe {
        let state = PyModule_GetState(module).cast::<State>();
        if !state.is_null() {
            let ring_iter = std::mem::replace(&mut (*state).ring_iter, ptr::null_mut());
            Py_XDECREF(ring_iter);
        }
    }
    0
}

unsafe extern "C" fn free(module: *mut c_void) {
    // SAFETY: CPython calls m_free once, with the GIL held, as the module is freed.
    unsafe { clear(module.cast()) };
}

static mut METHODS: [PyMethodDef; 8] = [
    PyMethodDef {
        ml_name: c"call_n".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunctionFast: call::call_n },
        ml_flags: METH_FASTCALL,
        ml_doc: c"call_n(f, n): the sum of f(i) for i in range(n), each an int.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"total".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: iterate::total },
        ml_flags: METH_O,
        ml_doc: c"total(iterable): the sum of its items, each an int.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"from_thread".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunctionFast: worker::from_thread },
        ml_flags: METH_FASTCALL,
        ml_doc: c"from_thread(f, n, keep): calls f(i) n times from a new Rust thread; returns \
                  the nanoseconds each call waited to attach."
            .as_ptr(),
    },
    PyMethodDef {
        ml_name: c"start_worker".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunctionFast: worker::start_worker },
        ml_flags: METH_FASTCALL,
        ml_doc: c"start_worker(f, n): a Rust thread calls f() n times, in the background.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"stop_workers".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: worker::stop_workers },
        ml_flags: METH_NOARGS,
        ml_doc: c"Asks every worker to stop, waits for them, and returns how many calls they made \
                  (the exceptions their callbacks raised are printed as unraisable)."
            .as_ptr(),
    },
    PyMethodDef {
        ml_name: c"apis".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: apis },
        ml_flags: METH_NOARGS,
        ml_doc: c"The call and the iteration step this CPython gets.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"live".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: ring::live },
        ml_flags: METH_NOARGS,
        ml_doc: c"How many Ring values exist in the process.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

const END: PyModuleDef_Slot = PyModuleDef_Slot { slot: 0, value: ptr::null_mut() };
const EXEC: PyModuleDef_Slot = PyModuleDef_Slot { slot: Py_mod_exec, value: exec as _ };
/// Per-interpreter GIL: supported (2). CPython 3.10 and 3.11 refuse a slot they do not know.
const MULTI: PyModuleDef_Slot =
    PyModuleDef_Slot { slot: Py_mod_multiple_interpreters, value: 2 as *mut c_void };
static mut SLOTS_310: [PyModuleDef_Slot; 2] = [EXEC, END];
static mut SLOTS_312: [PyModuleDef_Slot; 3] = [EXEC, MULTI, END];

const fn module_def(slots: *mut PyModuleDef_Slot) -> PyModuleDef {
    PyModuleDef {
        m_base: PyModuleDef_HEAD_INIT,
        m_name: c"callbacks".as_ptr(),
        m_doc: c"Calling back into Python from Rust.".as_ptr(),
        m_size: size_of::<State>() as Py_ssize_t,
        m_methods: &raw mut METHODS as _,
        m_slots: slots,
        m_traverse: Some(traverse),
        m_clear: Some(clear),
        m_free: Some(free),
    }
}

static mut MODULE_310: PyModuleDef = module_def(&raw mut SLOTS_310 as _);
static mut MODULE_312: PyModuleDef = module_def(&raw mut SLOTS_312 as _);

/// The module's entry point: the definition with the slots this CPython knows.
///
/// # Safety
/// Only CPython calls it, holding the GIL, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyInit_<module>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_callbacks() -> *mut PyObject {
    // SAFETY: CPython calls PyInit_ with the GIL held; the definitions are static.
    unsafe {
        let def = if minor_version() >= 12 { &raw mut MODULE_312 } else { &raw mut MODULE_310 };
        PyModuleDef_Init(def)
    }
}
// ANCHOR_END: module
// ANCHOR_END: all
