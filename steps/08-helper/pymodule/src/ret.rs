// ANCHOR: all
//! Results: converting what a function returns into a Python object.

use pyo3_ffi as ffi;

use crate::err::PyErr;
use crate::gil::Gil;
use crate::here::Here;

/// A Rust value that a function can return to Python.
///
/// `i64` and `u64` become `int`, `f64` `float`, `bool` `bool`, `&str` and `String` `str`, `&[u8]`
/// and `Vec<u8>` `bytes`, `()` and `None` `None`; `Option<T>` is `None` or `T`'s object; and
/// `Result<T, PyErr>` is `T`'s object, or raises the error.
///
/// ```
/// # pymodule::embed::with_gil(|gil| {
/// use pymodule::{IntoPy, embed::repr};
/// assert_eq!(repr(42_i64.into_py(gil).unwrap()), "42");
/// assert_eq!(repr(u64::MAX.into_py(gil).unwrap()), "18446744073709551615");
/// assert_eq!(repr("héllo".into_py(gil).unwrap()), "'héllo'");
/// assert_eq!(repr(Some(b"\x00".as_slice()).into_py(gil).unwrap()), "b'\\x00'");
/// assert_eq!(repr(None::<f64>.into_py(gil).unwrap()), "None");
/// # });
/// ```
///
/// # Safety
///
/// The pointer that `into_py` returns goes to CPython as it is, so an implementation promises
/// that it is a new reference to a live object. That is why the trait is `unsafe`: a crate that
/// forbids `unsafe` code returns the types above (and the helper's `Py` and `Obj`), and cannot
/// write an implementation that hands CPython a bad pointer:
///
/// ```compile_fail,E0200
/// #![forbid(unsafe_code)]
/// use pymodule::{Gil, IntoPy, PyErr, ffi};
///
/// pub struct Dangling;
/// impl IntoPy for Dangling {
///     fn into_py(self, _: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
///         Ok(std::ptr::dangling_mut()) // CPython would read this as an object
///     }
/// }
/// # fn main() {}
/// ```
pub unsafe trait IntoPy {
    /// A new reference to the Python object for `self`, or the error that making it raised.
    fn into_py(self, gil: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr>;

    /// [`IntoPy::into_py`] inside a method, whose instance knows its interpreter.
    #[doc(hidden)]
    #[inline(always)]
    fn into_py_here(self, gil: Gil<'_>, here: Here<'_>) -> Result<*mut ffi::PyObject, PyErr>
    where
        Self: Sized,
    {
        let _ = here;
        self.into_py(gil)
    }
}

/// A new reference from a CPython constructor: NULL means that it has set an exception.
#[inline(always)]
fn new_ref(obj: *mut ffi::PyObject) -> Result<*mut ffi::PyObject, PyErr> {
    // SAFETY: a constructor that returns NULL has set an exception.
    if obj.is_null() { Err(unsafe { PyErr::already_set() }) } else { Ok(obj) }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl IntoPy for i64 {
    #[inline(always)]
    fn into_py(self, _: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        // SAFETY: the GIL is held (the token proves it).
        new_ref(unsafe { ffi::PyLong_FromLongLong(self) })
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl IntoPy for u64 {
    fn into_py(self, _: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        // SAFETY: the GIL is held.
        new_ref(unsafe { ffi::PyLong_FromUnsignedLongLong(self) })
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl IntoPy for f64 {
    fn into_py(self, _: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        // SAFETY: the GIL is held.
        new_ref(unsafe { ffi::PyFloat_FromDouble(self) })
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl IntoPy for bool {
    fn into_py(self, _: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        // SAFETY: the GIL is held; PyBool_FromLong returns a new reference to True or False.
        new_ref(unsafe { ffi::PyBool_FromLong(self.into()) })
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl IntoPy for () {
    fn into_py(self, _: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        // SAFETY: the GIL is held; None is immortal from 3.12 on, and counted before.
        unsafe {
            let none = ffi::Py_None();
            ffi::Py_IncRef(none);
            Ok(none)
        }
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl IntoPy for &str {
    fn into_py(self, _: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        // SAFETY: the GIL is held; the pointer and length describe valid UTF-8, which is copied.
        new_ref(unsafe { ffi::PyUnicode_FromStringAndSize(self.as_ptr().cast(), self.len() as _) })
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl IntoPy for String {
    fn into_py(self, gil: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        self.as_str().into_py(gil)
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl IntoPy for &[u8] {
    fn into_py(self, _: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        // SAFETY: the GIL is held; the bytes are copied into the new object.
        new_ref(unsafe { ffi::PyBytes_FromStringAndSize(self.as_ptr().cast(), self.len() as _) })
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl IntoPy for Vec<u8> {
    fn into_py(self, gil: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        self.as_slice().into_py(gil)
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl<T: IntoPy> IntoPy for Option<T> {
    fn into_py(self, gil: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        match self {
            Some(value) => value.into_py(gil),
            None => ().into_py(gil),
        }
    }

    #[inline(always)]
    fn into_py_here(self, gil: Gil<'_>, here: Here<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        match self {
            Some(value) => value.into_py_here(gil, here),
            None => ().into_py(gil),
        }
    }
}

// SAFETY: a new reference from a CPython constructor (here, or in the implementation that this
// one calls), or the error that the constructor set.
unsafe impl<T: IntoPy> IntoPy for Result<T, PyErr> {
    #[inline(always)]
    fn into_py(self, gil: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        self.and_then(|value| value.into_py(gil))
    }

    #[inline(always)]
    fn into_py_here(self, gil: Gil<'_>, here: Here<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        self.and_then(|value| value.into_py_here(gil, here))
    }
}
// ANCHOR_END: all

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::{raised, repr, with_gil};

    fn shown(value: impl IntoPy) -> String {
        with_gil(|gil| value.into_py(gil).map(repr).unwrap_or_else(raised))
    }

    #[test]
    fn results_edges() {
        assert_eq!(shown(i64::MIN), "-9223372036854775808");
        assert_eq!(shown(i64::MAX), "9223372036854775807");
        assert_eq!(shown(u64::MAX), "18446744073709551615");
        assert_eq!(shown(-0.0), "-0.0");
        assert_eq!(shown(f64::NAN), "nan");
        assert_eq!(shown(f64::NEG_INFINITY), "-inf");
        assert_eq!((shown(true), shown(false)), ("True".into(), "False".into()));
        assert_eq!(shown(""), "''");
        assert_eq!(shown(String::from("a\0é")), "'a\\x00é'");
        assert_eq!(shown(vec![0u8, 255]), "b'\\x00\\xff'");
        assert_eq!(shown(&b""[..]), "b''");
        assert_eq!(shown(()), "None");
        assert_eq!((shown(Some(1_i64)), shown(None::<i64>)), ("1".into(), "None".into()));
        let err: Result<i64, PyErr> = Err(PyErr::new::<crate::exc::ValueError>("no"));
        assert_eq!(shown(err), "ValueError: no");
    }
}
