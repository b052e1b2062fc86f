use std::ffi::c_longlong;
use std::ptr;

use pyo3_ffi::{PyArg_ParseTuple, PyLong_FromLongLong, PyObject};

/// `add(a, b)`: `a + b`, with no guard. On overflow `+` panics (in a debug build), and a panic
/// cannot leave an `extern "C"` function: the process aborts.
pub(crate) unsafe extern "C" fn add(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    let (mut a, mut b): (c_longlong, c_longlong) = (0, 0);
    // SAFETY: CPython calls us with the GIL held; "LL" writes two long longs.
    if unsafe { PyArg_ParseTuple(args, c"LL:add".as_ptr(), &mut a, &mut b) } == 0 {
        return ptr::null_mut();
    }
    // SAFETY: the GIL is held.
    unsafe { PyLong_FromLongLong(a + b) } // BUG: unchecked overflow
}
