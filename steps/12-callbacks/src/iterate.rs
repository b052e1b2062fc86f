// ANCHOR: all
//! Consuming any iterable from Rust.

use std::ptr;

use pyo3_ffi::*;

use crate::{Kind, Raised, api, entry, raise};

// ANCHOR: next
/// The next item of the iterator `it`: `Some` new reference, `None` at the end, or `Err` with
/// an exception set.
///
/// # Safety
/// The GIL is held and `it` is an iterator (what `PyObject_GetIter` returns).
pub unsafe fn next(it: *mut PyObject) -> Result<Option<*mut PyObject>, Raised> {
    match api().next_item {
        // 3.14 on: the return value says which of the three it is.
        Some(next_item) => {
            let mut item = ptr::null_mut();
            // SAFETY: the caller's promise; `item` is written on every path.
            match unsafe { next_item(it, &mut item) } {
                1 => Ok(Some(item)),
                0 => Ok(None),
                _ => Err(Raised),
            }
        }
        // Before: NULL means the end or an error, and only the error indicator tells which
        // (a StopIteration raised by the iterator has already been cleared).
        None => {
            // SAFETY: the caller's promise.
            let (item, raised) = unsafe {
                let item = PyIter_Next(it);
                (item, item.is_null() && !PyErr_Occurred().is_null())
            };
            match (item.is_null(), raised) {
                (false, _) => Ok(Some(item)),
                (true, false) => Ok(None),
                (true, true) => Err(Raised),
            }
        }
    }
}
// ANCHOR_END: next

// ANCHOR: total
/// `callbacks.total(iterable)`: the sum of its items, each an int.
pub unsafe extern "C" fn total(_module: *mut PyObject, iterable: *mut PyObject) -> *mut PyObject {
    entry(|| {
        // SAFETY: GIL held (METH_O); `iterable` is borrowed for the call.
        let it = unsafe { PyObject_GetIter(iterable) };
        if it.is_null() {
            return Err(Raised); // TypeError: 'int' object is not iterable
        }
        // SAFETY: `it` is an iterator we own; it is released once, whatever `sum` returns.
        let sum = unsafe {
            let sum = sum(it);
            Py_DECREF(it);
            sum
        };
        // SAFETY: GIL held.
        Ok(unsafe { PyLong_FromLongLong(sum?) })
    })
}

/// # Safety
/// The GIL is held and `it` is an iterator.
unsafe fn sum(it: *mut PyObject) -> Result<i64, Raised> {
    let mut sum: i64 = 0;
    // SAFETY: the caller's promise; each item is released once, after its conversion.
    while let Some(item) = unsafe { next(it)? } {
        // SAFETY: GIL held; `item` is a new reference, released once.
        let value = unsafe {
            let value = PyLong_AsLongLong(item);
            Py_DECREF(item);
            if value == -1 && !PyErr_Occurred().is_null() {
                return Err(Raised);
            }
            value
        };
        sum = sum
            .checked_add(value)
            .ok_or_else(|| raise(Kind::Overflow, "total(): the sum does not fit in 64 bits"))?;
    }
    Ok(sum)
}
// ANCHOR_END: total
// ANCHOR_END: all
