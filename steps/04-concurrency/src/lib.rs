// ANCHOR: all
//! Chapter 4: the module `foo`, whose functions start threads, give the GIL away and take it back.
//!
//! Everything is Rust on raw pyo3-ffi: the functions, the method table, the module definition and
//! `PyInit_foo`. The GIL tools are in `gil.rs`, the threads in `threads.rs`, the hand-off of
//! `gil()` in `handoff.rs` and the CPU-bound work in `primes.rs`.

use std::ffi::{CStr, c_int, c_longlong};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use pyo3_ffi::*;

mod gil;
mod handoff;
mod primes;
mod threads;

// ANCHOR: sum
unsafe extern "C" fn sum(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    entry(|| {
        let (mut a, mut b): (c_longlong, c_longlong) = (0, 0);
        // SAFETY: Python called us, so we hold the GIL; "LL" writes two long longs.
        if unsafe { PyArg_ParseTuple(args, c"LL:sum".as_ptr(), &mut a, &mut b) } == 0 {
            return ptr::null_mut();
        }
        match a.checked_add(b) {
            // SAFETY: we hold the GIL.
            Some(total) => unsafe { PyLong_FromLongLong(total) },
            None => raise(Exc::Overflow, c"sum does not fit in a 64-bit signed integer"),
        }
    })
}
// ANCHOR_END: sum

// ANCHOR: entry
/// Runs the body of a function that Python calls. A Rust panic must never unwind into CPython's
/// C frames, so one is caught here and becomes a `SystemError`.
fn entry(body: impl FnOnce() -> *mut PyObject) -> *mut PyObject {
    panic::catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|_| raise(Exc::System, c"foo: a Rust panic was caught (this is a bug)"))
}
// ANCHOR_END: entry

/// The exceptions foo raises.
#[derive(Clone, Copy)]
enum Exc {
    Overflow,
    Runtime,
    System,
    Type,
    Value,
}

/// Sets a Python exception and returns NULL: the C API's way of saying "raise".
fn raise(kind: Exc, message: &CStr) -> *mut PyObject {
    // SAFETY: every caller runs in a function Python called, so it holds the GIL; the exception
    // types are statics that live as long as the interpreter.
    unsafe {
        let kind = match kind {
            Exc::Overflow => PyExc_OverflowError,
            Exc::Runtime => PyExc_RuntimeError,
            Exc::System => PyExc_SystemError,
            Exc::Type => PyExc_TypeError,
            Exc::Value => PyExc_ValueError,
        };
        PyErr_SetString(kind, message.as_ptr());
    }
    ptr::null_mut()
}

/// A new reference to `None`, what a function returns when it has nothing to say.
fn none() -> *mut PyObject {
    // SAFETY: called with the GIL held (see `raise`).
    unsafe {
        let none = Py_None();
        Py_IncRef(none);
        none
    }
}

/// `value` as a `u64` if it lies in `0..=max`; otherwise raises `ValueError` with `message`.
/// (An int too large for a C long long never gets here: `PyArg_ParseTuple` raised OverflowError.)
fn in_range(value: c_longlong, max: c_longlong, message: &CStr) -> Option<u64> {
    match u64::try_from(value) {
        Ok(v) if value <= max => Some(v),
        _ => {
            raise(Exc::Value, message);
            None
        }
    }
}

type Function = unsafe extern "C" fn(*mut PyObject, *mut PyObject) -> *mut PyObject;

const fn def(name: &'static CStr, f: Function, flags: c_int, doc: &'static CStr) -> PyMethodDef {
    PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: f },
        ml_flags: flags,
        ml_doc: doc.as_ptr(),
    }
}

// ANCHOR: methods
static mut METHODS: [PyMethodDef; 12] = [
    def(c"sum", sum, METH_VARARGS, c"Add two numbers."),
    def(c"tick", threads::tick, METH_VARARGS,
        c"tick(count, interval_ms)\n--\n\nStart a thread that prints `tick N` count times, one every \
          interval_ms milliseconds (0 to 86400000), then ends. Returns at once."),
    def(c"every", threads::every, METH_VARARGS,
        c"every(interval_ms, count, callback)\n--\n\nStart a thread that calls callback(i) for i in \
          1..=count, one every interval_ms milliseconds (0 to 86400000). An exception raised by \
          the callback goes to sys.unraisablehook and ends the series. Returns at once."),
    def(c"join", threads::join, METH_NOARGS,
        c"join()\n--\n\nWait until every thread foo started has finished."),
    def(c"stop", threads::stop, METH_NOARGS,
        c"stop()\n--\n\nAsk every thread foo started to stop early, and wait until they have."),
    def(c"gil", handoff::gil, METH_NOARGS,
        c"gil()\n--\n\nRelease the GIL, let another thread make the int 1 while it holds the GIL, \
          take the GIL back and return that int."),
    def(c"count_primes", primes::count_primes, METH_VARARGS,
        c"count_primes(n)\n--\n\nThe number of primes below n (0 to 1000000), holding the GIL."),
    def(c"count_primes_nogil", primes::count_primes_nogil, METH_VARARGS,
        c"count_primes_nogil(n)\n--\n\nThe number of primes below n (0 to 1000000), computed with \
          the GIL released."),
    def(c"last_call", primes::last_call, METH_NOARGS,
        c"last_call()\n--\n\nWhen this thread's last call of count_primes or count_primes_nogil \
          began and ended: (start, end), in nanoseconds on a clock that all threads share. None \
          before the first call."),
    def(c"sleep", primes::sleep, METH_VARARGS,
        c"sleep(ms)\n--\n\nSleep for ms milliseconds (0 to 1000) with the GIL released."),
    def(c"threads", threads::count, METH_NOARGS,
        c"threads()\n--\n\nThe number of threads foo started that are still running."),
    PyMethodDef::zeroed(),
];
// ANCHOR_END: methods

// ANCHOR: module
static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"foo".as_ptr(),
    m_doc: c"Chapter 4's module: threads that outlive the call, and the GIL.".as_ptr(),
    m_size: -1,
    m_methods: (&raw mut METHODS).cast(),
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

/// The module's entry point, which `import foo` looks up by name.
///
/// # Safety
/// Only for Python's import system, which calls it with the GIL held.
#[allow(non_snake_case, reason = "Python looks up exactly PyInit_<module name>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_foo() -> *mut PyObject {
    entry(|| {
        // SAFETY: the import system calls us with the GIL held; MODULE lives as long as the process.
        let module = unsafe { PyModule_Create(&raw mut MODULE) };
        if !module.is_null() && !threads::stop_and_join_at_exit() {
            // SAFETY: we own the new module object, and give it up: the import fails.
            unsafe { Py_DecRef(module) };
            return ptr::null_mut();
        }
        module
    })
}
// ANCHOR_END: module
// ANCHOR_END: all
