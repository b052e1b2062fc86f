// ANCHOR: all
//! Chapter 6: the module `errors`, whose functions fail the way Python's own functions do.
//!
//! Built the chapter-5 way, all in Rust on raw pyo3-ffi: a method table, a module definition and
//! `PyInit_errors`. Every function CPython calls runs inside `boundary::guard`.

mod boundary;
mod owned;

use std::ffi::{CStr, c_char, c_int, c_longlong};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

use pyo3_ffi::*;

use boundary::guard;
use owned::Owned;

// ANCHOR: divide
/// `divide(a, b)`: `a / b` for two 64-bit integers, rounded toward zero as in C and Rust.
unsafe extern "C" fn divide(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls us with the GIL held and `args`, a tuple, alive for the call.
    guard(|| unsafe { divide_body(args) })
}

unsafe fn divide_body(args: *mut PyObject) -> *mut PyObject {
    let (mut a, mut b): (c_longlong, c_longlong) = (0, 0);
    // SAFETY: "LL" writes two long longs, and we pass pointers to two long longs.
    if unsafe { PyArg_ParseTuple(args, c"LL:divide".as_ptr(), &mut a, &mut b) } == 0 {
        return ptr::null_mut(); // PyArg_ParseTuple has set TypeError or OverflowError
    }
    if b == 0 {
        // SAFETY: the GIL is held; both pointers are valid for the call.
        unsafe { PyErr_SetString(PyExc_ZeroDivisionError, c"division by zero".as_ptr()) };
        return ptr::null_mut();
    }
    match a.checked_div(b) {
        // SAFETY: the GIL is held. The new reference goes straight to our caller.
        Some(quotient) => unsafe { PyLong_FromLongLong(quotient) },
        None => {
            // The one overflow of integer division: i64::MIN / -1 = 2**63.
            let msg = c"quotient does not fit in a 64-bit signed integer";
            // SAFETY: as above.
            unsafe { PyErr_SetString(PyExc_OverflowError, msg.as_ptr()) };
            ptr::null_mut()
        }
    }
}
// ANCHOR_END: divide

// ANCHOR: raise
/// Sets an exception of type `exc` with a fixed message, and returns `None` so that a caller
/// can write `return raise(…)`.
///
/// # Safety
/// The GIL is held and `exc` is an exception type.
unsafe fn raise<T>(exc: *mut PyObject, message: &CStr) -> Option<T> {
    // SAFETY: the caller's promise; `message` is NUL-terminated.
    unsafe { PyErr_SetString(exc, message.as_ptr()) };
    None
}

/// Wraps a function body written with `Option<Owned>` (where `None` means "an exception is
/// set") into what CPython expects: a new reference, or NULL.
fn into_result(result: Option<Owned>) -> *mut PyObject {
    result.map_or(ptr::null_mut(), Owned::into_raw)
}
// ANCHOR_END: raise

// ANCHOR: parse-error
/// `errors.ParseError`, created by `PyInit_errors`. The static holds one reference forever.
static PARSE_ERROR: AtomicPtr<PyObject> = AtomicPtr::new(ptr::null_mut());

/// Creates `errors.ParseError`, a subclass of `ValueError`, and adds it to the module.
///
/// # Safety
/// The GIL is held and `module` is a module object.
unsafe fn add_parse_error(module: *mut PyObject) -> c_int {
    // SAFETY: the caller's promise; all the strings are NUL-terminated.
    unsafe {
        let exc = PyErr_NewExceptionWithDoc(
            c"errors.ParseError".as_ptr(),
            c"A setting could not be parsed.".as_ptr(),
            PyExc_ValueError,
            ptr::null_mut(),
        );
        if exc.is_null() {
            return -1;
        }
        PARSE_ERROR.store(exc, Ordering::Release);
        PyModule_AddObjectRef(module, c"ParseError".as_ptr(), exc)
    }
}
// ANCHOR_END: parse-error

// ANCHOR: utf8
/// Borrows the UTF-8 text of a `str` object without copying it: CPython keeps the UTF-8 form
/// inside the object. `None` (with UnicodeEncodeError set) if the text holds a lone surrogate,
/// which has no UTF-8 form.
///
/// # Safety
/// The GIL is held, `text` is a `str` object, and the result is not used after `text` dies.
unsafe fn utf8<'a>(text: *mut PyObject) -> Option<&'a str> {
    let mut len: Py_ssize_t = 0;
    // SAFETY: the caller's promise; `len` is a valid place for the length.
    let data = unsafe { PyUnicode_AsUTF8AndSize(text, &mut len) };
    if data.is_null() {
        return None;
    }
    // SAFETY: CPython returns `len` bytes of valid UTF-8 that live as long as `text` does.
    Some(unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(data.cast::<u8>(), len as usize))
    })
}

/// A new `str` holding a copy of `text`.
///
/// # Safety
/// The GIL is held.
unsafe fn new_str(text: &str) -> Option<Owned> {
    // SAFETY: the pointer and length describe valid UTF-8; the result is a new reference.
    unsafe {
        Owned::from_new(PyUnicode_FromStringAndSize(text.as_ptr().cast(), text.len() as isize))
    }
}
// ANCHOR_END: utf8

// ANCHOR: parse-setting
/// `parse_setting(text)`: `"workers = 8"` becomes `("workers", 8)`.
unsafe extern "C" fn parse_setting(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls us with the GIL held and `args`, a tuple, alive for the call.
    guard(|| into_result(unsafe { parse_setting_body(args) }))
}

unsafe fn parse_setting_body(args: *mut PyObject) -> Option<Owned> {
    let mut text: *mut PyObject = ptr::null_mut();
    // SAFETY: "U" stores a borrowed reference to a str; `args` owns it for the whole call.
    if unsafe { PyArg_ParseTuple(args, c"U:parse_setting".as_ptr(), &mut text) } == 0 {
        return None;
    }
    // SAFETY: `text` is a str, alive for the whole call.
    let line = unsafe { utf8(text) }?;
    let parse_error = PARSE_ERROR.load(Ordering::Acquire);
    let Some((name, value)) = line.split_once('=') else {
        // SAFETY: the GIL is held; %R formats `text` with repr().
        unsafe { PyErr_Format(parse_error, c"expected NAME=VALUE, got %R".as_ptr(), text) };
        return None;
    };
    let (name, value) = (name.trim(), value.trim_start());
    if name.is_empty() {
        // SAFETY: as above.
        unsafe { PyErr_Format(parse_error, c"no name before '=' in %R".as_ptr(), text) };
        return None;
    }
    if value.contains('\0') {
        // SAFETY: as above.
        return unsafe { raise(parse_error, c"the value contains a NUL character") };
    }
    // SAFETY: as above.
    let name = unsafe { new_str(name) }?;
    // `value` is the tail of CPython's UTF-8 buffer, which ends with a NUL: it is a C string.
    // SAFETY: the GIL is held; the pointer is valid and NUL-terminated.
    let number = unsafe { PyLong_FromString(value.as_ptr().cast::<c_char>(), ptr::null_mut(), 10) };
    // SAFETY: `number` is a new reference or NULL.
    let Some(number) = (unsafe { Owned::from_new(number) }) else {
        // SAFETY: the GIL is held and an exception (ValueError) is set.
        unsafe { raise_from(parse_error, c"invalid value for %R", name.as_ptr()) };
        return None;
    };
    // SAFETY: the GIL is held.
    unsafe { pair(name, number) }
}
// ANCHOR_END: parse-setting

// ANCHOR: raise-from
/// Raises `exc(format % arg)` with the exception that is set now as its `__cause__`:
/// the C version of `raise exc(...) from error`.
///
/// # Safety
/// The GIL is held, an exception is set, `exc` is an exception type, and `format` contains
/// exactly one `%R` or `%S` or `%U`, for `arg`.
unsafe fn raise_from(exc: *mut PyObject, format: &CStr, arg: *mut PyObject) {
    // SAFETY: the caller's promises.
    unsafe {
        let Some(cause) = take_exception() else {
            return;
        };
        PyErr_Format(exc, format.as_ptr(), arg);
        let Some(error) = take_exception() else {
            return;
        };
        PyException_SetCause(error.as_ptr(), cause.into_raw()); // steals the cause
        PyErr_SetObject(PyExceptionInstance_Class(error.as_ptr()), error.as_ptr());
    }
}

/// Takes the current exception out of the error indicator, as an exception object (with its
/// traceback attached). `None` if no exception is set. Python 3.12 has this as
/// `PyErr_GetRaisedException`; the stable ABI of 3.10 needs three calls.
///
/// # Safety
/// The GIL is held.
unsafe fn take_exception() -> Option<Owned> {
    let (mut kind, mut value, mut traceback) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: the GIL is held. Fetch hands us three new references (or NULLs); we release them.
    unsafe {
        PyErr_Fetch(&mut kind, &mut value, &mut traceback);
        if kind.is_null() {
            return None;
        }
        PyErr_NormalizeException(&mut kind, &mut value, &mut traceback);
        if !traceback.is_null() && !value.is_null() {
            PyException_SetTraceback(value, traceback);
        }
        Py_DecRef(kind);
        if !traceback.is_null() {
            Py_DecRef(traceback);
        }
        Owned::from_new(value)
    }
}
// ANCHOR_END: raise-from

// ANCHOR: swap
/// `swap(pair)`: `(a, b)` becomes `(b, a)`.
unsafe extern "C" fn swap(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls us with the GIL held and `args`, a tuple, alive for the call.
    guard(|| into_result(unsafe { swap_body(args) }))
}

unsafe fn swap_body(args: *mut PyObject) -> Option<Owned> {
    let mut pair_obj: *mut PyObject = ptr::null_mut();
    // SAFETY: "O!" checks the type, then stores a borrowed reference that `args` keeps alive.
    let ok = unsafe {
        PyArg_ParseTuple(args, c"O!:swap".as_ptr(), &raw mut PyTuple_Type, &mut pair_obj)
    };
    if ok == 0 {
        return None;
    }
    // SAFETY: `pair_obj` is a tuple, and the GIL is held.
    if unsafe { PyTuple_Size(pair_obj) } != 2 {
        // SAFETY: as above.
        return unsafe { raise(PyExc_ValueError, c"swap() expects a tuple of two items") };
    }
    // PyTuple_GetItem *borrows*: the tuple keeps owning its items.
    // SAFETY: indexes 0 and 1 exist; the items live as long as the tuple, which outlives us.
    let (first, second) = unsafe { (PyTuple_GetItem(pair_obj, 0), PyTuple_GetItem(pair_obj, 1)) };
    let (first, second) = (NonNull::new(first)?, NonNull::new(second)?);
    // The new tuple needs references of its own to the items: take them.
    // SAFETY: both items are alive (the argument tuple holds them); the GIL is held.
    unsafe { pair(Owned::from_borrowed(second), Owned::from_borrowed(first)) }
}

/// A new tuple `(first, second)`. `PyTuple_SetItem` *steals* the reference it is given: each
/// `Owned` is handed on with `into_raw`, never dropped.
///
/// # Safety
/// The GIL is held.
unsafe fn pair(first: Owned, second: Owned) -> Option<Owned> {
    // SAFETY: the GIL is held. If PyTuple_New fails, `first` and `second` are dropped (released).
    let tuple = unsafe { Owned::from_new(PyTuple_New(2)) }?;
    // SAFETY: a fresh tuple of two slots, which nobody else has seen yet.
    unsafe {
        PyTuple_SetItem(tuple.as_ptr(), 0, first.into_raw());
        PyTuple_SetItem(tuple.as_ptr(), 1, second.into_raw());
    }
    Some(tuple)
}
// ANCHOR_END: swap

// ANCHOR: strings
/// `encode(text)`: the UTF-8 bytes of a str.
unsafe extern "C" fn encode(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls us with the GIL held and `args`, a tuple, alive for the call.
    guard(|| into_result(unsafe { encode_body(args) }))
}

unsafe fn encode_body(args: *mut PyObject) -> Option<Owned> {
    let mut text: *mut PyObject = ptr::null_mut();
    // SAFETY: "U" stores a borrowed reference to a str, alive for the whole call.
    if unsafe { PyArg_ParseTuple(args, c"U:encode".as_ptr(), &mut text) } == 0 {
        return None;
    }
    // SAFETY: `text` is a str, alive for the whole call.
    let bytes = unsafe { utf8(text) }?.as_bytes();
    // One copy, into the new bytes object, which must own its memory.
    // SAFETY: the pointer and length describe `bytes`; the result is a new reference.
    unsafe {
        Owned::from_new(PyBytes_FromStringAndSize(bytes.as_ptr().cast(), bytes.len() as isize))
    }
}

/// `shout(text)`: the text in upper case, with an exclamation mark.
unsafe extern "C" fn shout(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    // SAFETY: CPython calls us with the GIL held and `args`, a tuple, alive for the call.
    guard(|| into_result(unsafe { shout_body(args) }))
}

unsafe fn shout_body(args: *mut PyObject) -> Option<Owned> {
    let mut text: *mut PyObject = ptr::null_mut();
    // SAFETY: "U" stores a borrowed reference to a str, alive for the whole call.
    if unsafe { PyArg_ParseTuple(args, c"U:shout".as_ptr(), &mut text) } == 0 {
        return None;
    }
    // SAFETY: `text` is a str, alive for the whole call.
    let mut loud = unsafe { utf8(text) }?.to_uppercase();
    loud.push('!');
    // SAFETY: the GIL is held.
    unsafe { new_str(&loud) }
}
// ANCHOR_END: strings

// ANCHOR: module
static mut METHODS: [PyMethodDef; 6] = [
    PyMethodDef {
        ml_name: c"divide".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: divide },
        ml_flags: METH_VARARGS,
        ml_doc: c"divide(a, b)\n--\n\na / b for 64-bit integers, rounded toward zero.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"parse_setting".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: parse_setting },
        ml_flags: METH_VARARGS,
        ml_doc: c"parse_setting(text)\n--\n\n'workers = 8' becomes ('workers', 8).".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"swap".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: swap },
        ml_flags: METH_VARARGS,
        ml_doc: c"swap(pair)\n--\n\n(a, b) becomes (b, a).".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"encode".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: encode },
        ml_flags: METH_VARARGS,
        ml_doc: c"encode(text)\n--\n\nThe UTF-8 bytes of text.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"shout".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: shout },
        ml_flags: METH_VARARGS,
        ml_doc: c"shout(text)\n--\n\nThe text in upper case, with an exclamation mark.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"errors".as_ptr(),
    m_doc: c"Chapter 6: functions that fail the way Python's own functions do.".as_ptr(),
    m_size: -1,
    m_methods: &raw mut METHODS as *mut PyMethodDef,
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

/// The module's entry point: `import errors` finds the file errors.abi3.so and calls this.
///
/// # Safety
/// Only CPython calls it, with the GIL held, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyInit_<module>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_errors() -> *mut PyObject {
    // SAFETY: CPython calls PyInit_errors with the GIL held, once per process (m_size is -1).
    guard(|| unsafe {
        let Some(module) = Owned::from_new(PyModule_Create(&raw mut MODULE)) else {
            return ptr::null_mut();
        };
        if add_parse_error(module.as_ptr()) < 0
            || boundary::add_panic_exception(module.as_ptr(), c"errors.PanicException") < 0
        {
            return ptr::null_mut(); // `module` is released on the way out
        }
        module.into_raw()
    })
}
// ANCHOR_END: module
// ANCHOR_END: all
