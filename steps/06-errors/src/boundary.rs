// ANCHOR: all
//! The boundary between CPython and Rust: no panic may cross it.
//!
//! Every function that CPython calls runs its body inside [`guard`], which catches a panic and
//! raises `PanicException` instead. The broken demonstration module includes this same file.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use pyo3_ffi::*;

// ANCHOR: guard
/// Runs `body`, the whole of a function that CPython calls, and turns a panic into a Python
/// exception: the panic stops here, before it reaches CPython's C frames.
pub fn guard(body: impl FnOnce() -> *mut PyObject) -> *mut PyObject {
    // AssertUnwindSafe: after a panic we only raise an exception; we never look at what the
    // body may have left half-done, and its owned references were released while unwinding.
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(payload) => {
            // SAFETY: CPython called the function that called us, so we hold the GIL.
            unsafe { raise_panic(payload.as_ref()) };
            ptr::null_mut()
        }
    }
}

/// Sets `PanicException(message)` as the current exception, with the panic's message.
///
/// # Safety
/// The caller holds the GIL.
unsafe fn raise_panic(payload: &(dyn Any + Send)) {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "panic with a payload that is not a string"
    };
    // SAFETY: the GIL is held; the pointer and length describe `message`, valid UTF-8.
    unsafe {
        let text = PyUnicode_FromStringAndSize(message.as_ptr().cast(), message.len() as isize);
        if text.is_null() {
            return; // MemoryError is set: that exception goes up instead
        }
        PyErr_SetObject(panic_exception(), text);
        Py_DecRef(text);
    }
}
// ANCHOR_END: guard

// ANCHOR: panic-exception
/// The module's `PanicException`, created once by [`add_panic_exception`].
static PANIC_EXCEPTION: AtomicPtr<PyObject> = AtomicPtr::new(ptr::null_mut());

/// Creates the exception type `<module>.PanicException` and adds it to `module`.
/// Returns -1 with an exception set if that fails.
///
/// # Safety
/// The caller holds the GIL and `module` is a module object; `name` is "module.PanicException".
pub unsafe fn add_panic_exception(module: *mut PyObject, name: &std::ffi::CStr) -> i32 {
    // SAFETY: the GIL is held (the caller's promise); every pointer passed is valid.
    unsafe {
        // A subclass of BaseException, as in PyO3: `except Exception` must not swallow a bug.
        let doc = c"A Rust panic, caught at the boundary and raised as a Python exception.";
        let exc = PyErr_NewExceptionWithDoc(
            name.as_ptr(),
            doc.as_ptr(),
            PyExc_BaseException,
            ptr::null_mut(),
        );
        if exc.is_null() {
            return -1;
        }
        // The static keeps this reference for as long as the process runs.
        PANIC_EXCEPTION.store(exc, Ordering::Release);
        PyModule_AddObjectRef(module, c"PanicException".as_ptr(), exc)
    }
}

fn panic_exception() -> *mut PyObject {
    let exc = PANIC_EXCEPTION.load(Ordering::Acquire);
    if exc.is_null() {
        // Only reachable if a panic happens before the module finished initialising.
        // SAFETY: reading the address of a built-in exception type, which never changes.
        unsafe { PyExc_SystemError }
    } else {
        exc
    }
}
// ANCHOR_END: panic-exception
// ANCHOR_END: all
