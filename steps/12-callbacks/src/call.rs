// ANCHOR: all
//! Calling a Python callable from Rust, with the cheapest call each CPython offers.

use std::ptr;

use pyo3_ffi::*;

use crate::{Kind, Raised, api, entry, raise};

// ANCHOR: call-one
/// Set in `nargsf` to say that `args[-1]` may be overwritten: a bound method then puts `self`
/// there instead of copying the arguments to a new array (`PY_VECTORCALL_ARGUMENTS_OFFSET`).
const ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);

/// `f(arg)`: a new reference, or NULL with the exception that the call raised.
///
/// # Safety
/// The GIL is held; `f` and `arg` are valid objects (borrowed: the call takes no reference).
pub unsafe fn call_one(f: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    match api().vectorcall {
        // 3.12 on: the arguments go as a C array, one free slot in front of them.
        Some(vectorcall) => {
            let args = [ptr::null_mut(), arg];
            // SAFETY: the caller's promise; args[1..] holds one argument and args[0] may be
            // written by the callee (the offset flag says so).
            unsafe { vectorcall(f, args.as_ptr().add(1), 1 | ARGUMENTS_OFFSET, ptr::null_mut()) }
        }
        // 3.10 and 3.11: a variadic call, ended by NULL. CPython copies the arguments into a
        // small array on its stack and makes a vectorcall itself: no tuple either.
        // SAFETY: the caller's promise; the list of objects ends with a null pointer.
        None => unsafe { PyObject_CallFunctionObjArgs(f, arg, ptr::null_mut::<PyObject>()) },
    }
}
// ANCHOR_END: call-one

// ANCHOR: call-n
/// `callbacks.call_n(f, n)`: the sum of `f(i)` for `i` in `range(n)`, each result an int.
pub unsafe extern "C" fn call_n(
    _module: *mut PyObject,
    args: *mut *mut PyObject,
    nargs: Py_ssize_t,
) -> *mut PyObject {
    entry(|| {
        if nargs != 2 {
            let message = format!("call_n() takes exactly 2 arguments ({nargs} given)");
            return Err(raise(Kind::Type, &message));
        }
        // SAFETY: METH_FASTCALL: `args` holds `nargs` valid objects, borrowed for the call.
        let (f, n) = unsafe { (*args, *args.add(1)) };
        // SAFETY: GIL held; `f` and `n` are valid objects.
        unsafe {
            if PyCallable_Check(f) == 0 {
                return Err(raise(Kind::Type, "call_n() argument 1 must be callable"));
            }
            let n = PyLong_AsSsize_t(n);
            if n == -1 && !PyErr_Occurred().is_null() {
                return Err(Raised);
            }
            if n < 0 {
                return Err(raise(Kind::Value, "call_n() argument 2 must be >= 0"));
            }
            let mut sum: i64 = 0;
            for i in 0..n {
                sum = sum.checked_add(call_with_index(f, i)?).ok_or_else(|| {
                    raise(Kind::Overflow, "call_n(): the sum does not fit in 64 bits")
                })?;
            }
            Ok(PyLong_FromLongLong(sum))
        }
    })
}

/// `f(i)` converted to an `i64`. If `f` raised, its exception stays set, untouched: the caller
/// of `call_n` gets that very object, with the callback's frames in its traceback.
///
/// # Safety
/// The GIL is held and `f` is a valid object.
unsafe fn call_with_index(f: *mut PyObject, i: Py_ssize_t) -> Result<i64, Raised> {
    // SAFETY: the caller's promise. Each new reference is released once, on every path: the
    // argument right after the call (a callback that kept it holds a reference of its own),
    // the result after its conversion.
    unsafe {
        let arg = PyLong_FromSsize_t(i);
        if arg.is_null() {
            return Err(Raised);
        }
        let result = call_one(f, arg);
        Py_DECREF(arg);
        if result.is_null() {
            return Err(Raised);
        }
        let value = PyLong_AsLongLong(result);
        Py_DECREF(result);
        if value == -1 && !PyErr_Occurred().is_null() {
            return Err(Raised);
        }
        Ok(value)
    }
}
// ANCHOR_END: call-n
// ANCHOR_END: all
