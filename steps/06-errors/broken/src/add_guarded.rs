use std::ffi::c_longlong;
use std::ptr;

use pyo3_ffi::{PyArg_ParseTuple, PyLong_FromLongLong, PyObject};

use crate::boundary;

/// `add_guarded(a, b)`: the same bug as `add`, but the body runs inside `guard`.
pub(crate) unsafe extern "C" fn add_guarded(
    _module: *mut PyObject,
    args: *mut PyObject,
) -> *mut PyObject {
    boundary::guard(|| {
        let (mut a, mut b): (c_longlong, c_longlong) = (0, 0);
        // SAFETY: CPython calls us with the GIL held; "LL" writes two long longs.
        if unsafe { PyArg_ParseTuple(args, c"LL:add_guarded".as_ptr(), &mut a, &mut b) } == 0 {
            return ptr::null_mut();
        }
        // SAFETY: the GIL is held.
        unsafe { PyLong_FromLongLong(a + b) } // BUG: unchecked overflow
    })
}
