// ANCHOR: all
//! `sum(a, b)` by hand, as `METH_FASTCALL | METH_KEYWORDS`: the yardstick for the helper's
//! keyword calls (chapter 7's `rust_fastcall` is the one for positional calls).

use std::ptr;

use pyo3_ffi::*;

// ANCHOR: sum
/// `sum(a, b)`: `nargs` positional arguments at `args`, then one value per name in `kwnames`.
unsafe extern "C" fn sum(
    _module: *mut PyObject,
    args: *const *mut PyObject,
    nargs: Py_ssize_t,
    kwnames: *mut PyObject,
) -> *mut PyObject {
    // SAFETY: CPython's calling convention (see above), with the GIL held.
    unsafe {
        if nargs > 2 {
            let msg = c"sum() takes 2 positional arguments but %zd were given";
            PyErr_Format(PyExc_TypeError, msg.as_ptr(), nargs);
            return ptr::null_mut();
        }
        let mut params = [ptr::null_mut(); 2];
        for (i, param) in params.iter_mut().enumerate().take(nargs as usize) {
            *param = *args.add(i);
        }
        if !kwnames.is_null() {
            for j in 0..PyTuple_Size(kwnames) {
                let key = PyTuple_GetItem(kwnames, j);
                let mut len = 0;
                let name = PyUnicode_AsUTF8AndSize(key, &mut len);
                if name.is_null() {
                    return ptr::null_mut();
                }
                let i = match std::slice::from_raw_parts(name.cast::<u8>(), len as usize) {
                    b"a" => 0,
                    b"b" => 1,
                    _ => {
                        let msg = c"sum() got an unexpected keyword argument '%U'";
                        PyErr_Format(PyExc_TypeError, msg.as_ptr(), key);
                        return ptr::null_mut();
                    }
                };
                if !params[i].is_null() {
                    let msg = c"sum() got multiple values for argument '%U'";
                    PyErr_Format(PyExc_TypeError, msg.as_ptr(), key);
                    return ptr::null_mut();
                }
                params[i] = *args.add((nargs + j) as usize);
            }
        }
        if params.iter().any(|p| p.is_null()) {
            let msg = c"sum() missing required arguments";
            PyErr_SetString(PyExc_TypeError, msg.as_ptr());
            return ptr::null_mut();
        }
        let a = PyLong_AsLongLong(params[0]);
        if a == -1 && !PyErr_Occurred().is_null() {
            return ptr::null_mut();
        }
        let b = PyLong_AsLongLong(params[1]);
        if b == -1 && !PyErr_Occurred().is_null() {
            return ptr::null_mut();
        }
        match a.checked_add(b) {
            Some(result) => PyLong_FromLongLong(result),
            None => {
                let msg = c"sum does not fit in a 64-bit signed integer";
                PyErr_SetString(PyExc_OverflowError, msg.as_ptr());
                ptr::null_mut()
            }
        }
    }
}
// ANCHOR_END: sum

/// CPython only reads the table; a wrapper makes it a plain (not `mut`) static.
struct Methods([PyMethodDef; 2]);
// SAFETY: never written.
unsafe impl Sync for Methods {}

static METHODS: Methods = Methods([
    PyMethodDef {
        ml_name: c"sum".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunctionFastWithKeywords: sum },
        ml_flags: METH_FASTCALL | METH_KEYWORDS,
        ml_doc: c"Add two numbers.".as_ptr(),
    },
    PyMethodDef::zeroed(),
]);

static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"raw_kw".as_ptr(),
    m_doc: ptr::null(),
    m_size: -1,
    m_methods: METHODS.0.as_ptr().cast_mut(),
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

/// The module's entry point.
///
/// # Safety
/// Only CPython calls it, holding the GIL, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyInit_<module name>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_raw_kw() -> *mut PyObject {
    // SAFETY: MODULE lives as long as the program, and only CPython uses it, holding the GIL.
    unsafe { PyModule_Create(&raw mut MODULE) }
}
// ANCHOR_END: all
