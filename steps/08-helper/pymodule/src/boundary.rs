// ANCHOR: all
//! The boundary between CPython and Rust, as chapter 6's: every function and every slot that
//! CPython calls runs its body in [`guard`], so an error or a panic is raised as a Python
//! exception and nothing unwinds into CPython's frames.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use pyo3_ffi as ffi;

use crate::err::{PyErr, module_exception};
use crate::gil::Gil;
use crate::state::header;

// ANCHOR: trampoline
/// Runs a body that CPython called: its result is returned, an error is raised and `failed`
/// returned, and a panic becomes the module's `PanicException`. `module` finds the module, for
/// its exception types, only when something is raised.
///
/// # Safety
/// CPython is calling a function or a slot of ours with the GIL held, and `module` returns the
/// module made by [`module!`](crate::module!) that it belongs to, or NULL.
#[inline(always)]
pub(crate) unsafe fn guard<R>(
    failed: R,
    module: impl FnOnce() -> *mut ffi::PyObject,
    body: impl for<'py> FnOnce(Gil<'py>) -> Result<R, PyErr>,
) -> R {
    // SAFETY: CPython holds the GIL for us during the call.
    unsafe { guard_with(failed, Gil::assume(), module, body) }
}

/// [`guard`], with the token to pass on: one that knows the instance whose method runs.
///
/// # Safety
/// As for [`guard`]; `gil` is valid for the whole call.
#[inline(always)]
pub(crate) unsafe fn guard_with<'py, R>(
    failed: R,
    gil: Gil<'py>,
    module: impl FnOnce() -> *mut ffi::PyObject,
    body: impl FnOnce(Gil<'py>) -> Result<R, PyErr>,
) -> R {
    match panic::catch_unwind(AssertUnwindSafe(|| body(gil))) {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => {
            // SAFETY: the caller's promise.
            unsafe { err.restore(module()) };
            failed
        }
        Err(payload) => {
            // SAFETY: the caller's promise.
            unsafe { raise_panic(module(), payload) };
            failed
        }
    }
}

/// Runs a module function's body: [`guard`], with NULL for failure.
///
/// # Safety
/// CPython is calling a function of `module`, a module made by [`module!`](crate::module!), with
/// the GIL held.
#[doc(hidden)]
#[inline(always)]
pub unsafe fn trampoline(
    module: *mut ffi::PyObject,
    body: impl for<'py> FnOnce(Gil<'py>) -> Result<*mut ffi::PyObject, PyErr>,
) -> *mut ffi::PyObject {
    // SAFETY: the caller's promise.
    unsafe { guard(ptr::null_mut(), || module, body) }
}
// ANCHOR_END: trampoline

/// Raises the module's `PanicException` with the panic's message.
///
/// # Safety
/// The GIL is held and `module` is NULL or a module made by [`module!`](crate::module!).
#[cold]
#[inline(never)]
pub(crate) unsafe fn raise_panic(module: *mut ffi::PyObject, payload: Box<dyn Any + Send>) {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a Rust panic".to_owned()
    };
    // Dropping a payload can itself panic; that must not unwind from here either.
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
    // SAFETY: the caller's promise; index 0 is the PanicException of every module of ours.
    unsafe {
        let ty = if !module.is_null() && header(module).is_some() {
            module_exception(module, 0)
        } else {
            ffi::PyExc_SystemError
        };
        let text = ffi::PyUnicode_FromStringAndSize(message.as_ptr().cast(), message.len() as _);
        if !text.is_null() {
            ffi::PyErr_SetObject(ty, text);
            ffi::Py_DecRef(text);
        }
    }
}
// ANCHOR_END: all
