// ANCHOR: all
//! Errors: a Rust value that becomes a Python exception when a function returns it.

use std::borrow::Cow;
use std::fmt;
use std::ptr;

use pyo3_ffi as ffi;

use crate::state::header;

/// A Python exception, as a Rust error.
///
/// A function of a [`module!`](crate::module!) that returns `Err(PyErr)` raises it. Make one with
/// [`PyErr::new`], naming a built-in exception type of [`exc`] or one that the module declares:
///
/// ```
/// use pymodule::{PyErr, exc::ValueError};
///
/// fn parse_percent(text: &str) -> Result<u8, PyErr> {
///     match text.strip_suffix('%').and_then(|n| n.parse().ok()) {
///         Some(n) if n <= 100 => Ok(n),
///         _ => Err(PyErr::new::<ValueError>(format!("not a percentage: {text:?}"))),
///     }
/// }
/// assert_eq!(parse_percent("42%").unwrap(), 42);
/// assert!(parse_percent("420%").is_err());
/// ```
///
/// It is one pointer wide, so a `Result<i64, PyErr>` comes back in two registers: `None` means
/// that CPython has already set the exception (a C API call failed), and a box holds a new one,
/// or one that Python code raised and that the error carries (chapter 12: a callback's).
// ANCHOR: pyerr
pub struct PyErr(Option<Box<New>>);

/// An exception to raise: of this kind, with this message, or this exception object.
enum New {
    Make { kind: Kind, message: Cow<'static, str> },
    Raised(crate::Py),
}
// ANCHOR_END: pyerr

/// Where an exception type lives: a built-in one is a static of CPython's, a module's own one is
/// in that module's state, at this index.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum Kind {
    Builtin(fn() -> *mut ffi::PyObject),
    Module(usize),
}

/// An exception type that [`PyErr::new`] can raise: a built-in one of [`exc`], or one declared in
/// the `exceptions` block of [`module!`](crate::module!), which implements it for you.
pub trait Exception {
    #[doc(hidden)]
    const KIND: Kind;
}

impl PyErr {
    /// An exception of type `E` with this message, raised when the function returns it.
    pub fn new<E: Exception>(message: impl Into<Cow<'static, str>>) -> Self {
        PyErr(Some(Box::new(New::Make { kind: E::KIND, message: message.into() })))
    }

    /// Takes the exception that is set out of the thread and into the error, so that the error
    /// can wait while other Python code runs, and raises the same object (its traceback
    /// included) when returned. `SystemError` if none is set.
    ///
    /// # Safety
    /// The GIL is held.
    pub(crate) unsafe fn fetch() -> Self {
        let (mut ty, mut value, mut tb) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        // SAFETY: the GIL is held; Fetch hands us three references (or NULLs): the traceback
        // goes into the value, which the error keeps, and the rest is released.
        unsafe {
            ffi::PyErr_Fetch(&mut ty, &mut value, &mut tb);
            if ty.is_null() {
                return PyErr::new::<exc::SystemError>("an error without an exception set");
            }
            ffi::PyErr_NormalizeException(&mut ty, &mut value, &mut tb);
            if !tb.is_null() && !value.is_null() {
                ffi::PyException_SetTraceback(value, tb);
            }
            for owned in [ty, tb] {
                if !owned.is_null() {
                    ffi::Py_DecRef(owned);
                }
            }
            match crate::Py::from_owned(value) {
                Ok(value) => PyErr(Some(Box::new(New::Raised(value)))),
                // Normalising failed (out of memory): that exception is set instead.
                Err(_) => PyErr::fetch_or_give_up(),
            }
        }
    }

    /// What `fetch` does when the exception cannot be normalised: no object to carry.
    #[cold]
    fn fetch_or_give_up() -> Self {
        PyErr::new::<exc::MemoryError>("could not keep an exception")
    }

    /// Whether the error is an instance of the built-in exception type `E` (or of a subclass),
    /// for an error that carries an exception object; an error made with [`PyErr::new`]
    /// compares its own type.
    pub fn is<E: Exception>(&self, _: crate::Gil<'_>) -> bool {
        let Kind::Builtin(want) = E::KIND else { return false };
        match self.0.as_deref() {
            // SAFETY: the GIL is held (the token); both are exception types.
            Some(New::Make { kind: Kind::Builtin(have), .. }) => unsafe {
                ffi::PyErr_GivenExceptionMatches(have(), want()) == 1
            },
            // SAFETY: the GIL is held; the value is alive (the error holds it).
            Some(New::Raised(value)) => unsafe {
                ffi::PyErr_GivenExceptionMatches(value.as_ptr(), want()) == 1
            },
            _ => false,
        }
    }

    /// The exception that a failed C API call has already set.
    ///
    /// # Safety
    /// An exception must be set in this thread (`PyErr_Occurred()` is not NULL) when the error
    /// is raised, and nothing may clear it before then.
    pub unsafe fn already_set() -> Self {
        PyErr(None)
    }

    /// The message, for an error made with [`PyErr::new`]; `None` for one CPython has set.
    pub fn message(&self) -> Option<&str> {
        match self.0.as_deref() {
            Some(New::Make { message, .. }) => Some(message),
            _ => None,
        }
    }

    /// Says where the error happened (`place`, such as "f() argument 'x'"): in front of the
    /// message, as "PLACE: message", where the exception's type allows it, else in a note.
    #[cold]
    pub(crate) fn at(self, place: &str) -> Self {
        match self.0 {
            Some(mut new) => {
                if let New::Make { message, .. } = &mut *new {
                    *message = format!("{place}: {message}").into();
                }
                PyErr(Some(new))
            }
            // SAFETY: None promises that an exception is set, and we hold the GIL (the error
            // is being handled inside a call from Python).
            None => unsafe { place_set_exception(place) },
        }
    }

    /// Raises the exception in the current thread. `module` is the module whose function
    /// returned it, for the module's own exception types.
    ///
    /// # Safety
    /// The GIL is held, and `module` is a module object made by [`module!`](crate::module!).
    #[cold]
    #[inline(never)]
    pub(crate) unsafe fn restore(self, module: *mut ffi::PyObject) {
        let Some(new) = self.0 else { return };
        let (kind, message) = match *new {
            New::Make { kind, message } => (kind, message),
            // SAFETY: the GIL is held (the caller's promise).
            New::Raised(value) => return unsafe { raise_object(value) },
        };
        let ty = match kind {
            Kind::Builtin(get) => get(),
            // SAFETY: the caller's promises.
            Kind::Module(index) => unsafe { module_exception(module, index) },
        };
        // SAFETY: the GIL is held; the pointer and length describe valid UTF-8.
        let text = unsafe {
            ffi::PyUnicode_FromStringAndSize(message.as_ptr().cast(), message.len() as _)
        };
        if text.is_null() {
            return; // MemoryError is set
        }
        // SAFETY: `ty` is an exception type, `text` a new reference that we release.
        unsafe {
            ffi::PyErr_SetObject(ty, text);
            ffi::Py_DecRef(text);
        }
    }
}

impl fmt::Debug for PyErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_deref() {
            None => f.write_str("PyErr(already set)"),
            Some(New::Make { message, .. }) => write!(f, "PyErr({message:?})"),
            Some(New::Raised(_)) => f.write_str("PyErr(raised by Python code)"),
        }
    }
}

/// Sets `value`, an exception object that Python code raised, as the thread's exception again,
/// with the traceback it kept: the same object goes back to the caller. One of another
/// interpreter (only a thread-local could carry it there) is `SystemError` instead.
///
/// # Safety
/// The GIL is held.
unsafe fn raise_object(value: crate::Py) {
    // SAFETY: the GIL is held; Restore takes over three new references.
    unsafe {
        if !value.belongs_to(ffi::PyInterpreterState_Get()) {
            let msg = c"an exception object of another interpreter";
            return ffi::PyErr_SetString(ffi::PyExc_SystemError, msg.as_ptr());
        }
        let obj = value.as_ptr();
        let ty = ffi::Py_TYPE(obj).cast::<ffi::PyObject>();
        ffi::Py_INCREF(ty);
        ffi::Py_INCREF(obj);
        let tb = ffi::PyException_GetTraceback(obj);
        ffi::PyErr_Restore(ty, obj, tb);
    }
}

/// The module's exception type at `index` (0 is its PanicException); SystemError if the module
/// has none (it cannot happen for a module that [`module!`](crate::module!) made), or if
/// `module` is NULL (a class whose module could not be found).
///
/// # Safety
/// The GIL is held and `module` is NULL or a module object made by [`module!`](crate::module!).
pub(crate) unsafe fn module_exception(
    module: *mut ffi::PyObject,
    index: usize,
) -> *mut ffi::PyObject {
    if module.is_null() {
        // SAFETY: a static of CPython's, read with the GIL held.
        return unsafe { ffi::PyExc_SystemError };
    }
    // SAFETY: the caller's promise; `header` checks that the state is initialised.
    match unsafe { header(module) } {
        // (m_clear may have emptied the entry: then the last arm.)
        Some(h) if index < h.types.len() && !h.types[index].is_null() => h.types[index],
        // SAFETY: a static of CPython's, read with the GIL held.
        _ => unsafe { ffi::PyExc_SystemError },
    }
}

/// Says where the exception that is set happened, keeping the exception itself (its type, its
/// traceback, its cause). A `TypeError`, `ValueError` or `OverflowError` (exactly: what CPython's
/// conversions raise) whose one argument is its message gets "PLACE: " in front of it. Any other
/// exception is not built from one message (a `UnicodeEncodeError` takes five arguments, and
/// `str()` of a `KeyError` is the repr of its key), so its arguments stay as they are and PLACE
/// becomes a note (`__notes__`, 3.11 on; before 3.11 it is left out). Returns
/// `PyErr::already_set()`.
///
/// # Safety
/// The GIL is held and an exception is set.
unsafe fn place_set_exception(place: &str) -> PyErr {
    let (mut ty, mut value, mut tb) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: the GIL is held; Fetch hands us three references (or NULLs), which we give back
    // with Restore. Every other reference we get is released; a failure along the way (out of
    // memory) leaves the exception as it was.
    unsafe {
        ffi::PyErr_Fetch(&mut ty, &mut value, &mut tb);
        ffi::PyErr_NormalizeException(&mut ty, &mut value, &mut tb);
        if !value.is_null() && !prefix_message(value, place) {
            ffi::PyErr_Clear();
            if !add_note(value, place) {
                ffi::PyErr_Clear();
            }
        }
        ffi::PyErr_Restore(ty, value, tb);
        PyErr::already_set()
    }
}

/// `value.args = ("PLACE: " + message,)`, if `value` is exactly a TypeError, ValueError or
/// OverflowError with one `str` argument; false (maybe with an exception set) otherwise.
///
/// # Safety
/// The GIL is held and `value` is an exception object.
unsafe fn prefix_message(value: *mut ffi::PyObject, place: &str) -> bool {
    // SAFETY: the caller's promises; every new reference is released.
    unsafe {
        let ty = ffi::Py_TYPE(value).cast::<ffi::PyObject>();
        if ![ffi::PyExc_TypeError, ffi::PyExc_ValueError, ffi::PyExc_OverflowError].contains(&ty) {
            return false;
        }
        let args = ffi::PyObject_GetAttrString(value, c"args".as_ptr());
        let old = if !args.is_null() && ffi::PyTuple_Size(args) == 1 {
            utf8(ffi::PyTuple_GetItem(args, 0)).map(|old| format!("{place}: {old}"))
        } else {
            None
        };
        if !args.is_null() {
            ffi::Py_DecRef(args);
        }
        let Some(new) = old else { return false };
        let text = ffi::PyUnicode_FromStringAndSize(new.as_ptr().cast(), new.len() as _);
        if text.is_null() {
            return false;
        }
        let args = ffi::PyTuple_New(1);
        if args.is_null() {
            ffi::Py_DecRef(text);
            return false;
        }
        ffi::PyTuple_SetItem(args, 0, text); // steals `text`
        let status = ffi::PyObject_SetAttrString(value, c"args".as_ptr(), args);
        ffi::Py_DecRef(args);
        status == 0
    }
}

/// `value.add_note(PLACE)`; false (with an exception set) where exceptions have no notes.
///
/// # Safety
/// The GIL is held and `value` is an exception object.
unsafe fn add_note(value: *mut ffi::PyObject, place: &str) -> bool {
    // SAFETY: the caller's promises; every new reference is released.
    unsafe {
        let method = ffi::PyObject_GetAttrString(value, c"add_note".as_ptr());
        if method.is_null() {
            return false;
        }
        let note = ffi::PyUnicode_FromStringAndSize(place.as_ptr().cast(), place.len() as _);
        let result = if note.is_null() {
            ptr::null_mut()
        } else {
            let result =
                ffi::PyObject_CallFunctionObjArgs(method, note, ptr::null_mut::<ffi::PyObject>());
            ffi::Py_DecRef(note);
            result
        };
        ffi::Py_DecRef(method);
        if result.is_null() {
            return false;
        }
        ffi::Py_DecRef(result);
        true
    }
}

/// The UTF-8 of a `str` object, borrowed from it; `None` (with an exception set) if it has none.
///
/// # Safety
/// The GIL is held and `obj` is NULL or a valid object that outlives the result.
#[inline(always)]
pub(crate) unsafe fn utf8<'a>(obj: *mut ffi::PyObject) -> Option<&'a str> {
    if obj.is_null() {
        return None;
    }
    let mut len: ffi::Py_ssize_t = 0;
    // SAFETY: the caller's promise.
    let data = unsafe { ffi::PyUnicode_AsUTF8AndSize(obj, &mut len) };
    if data.is_null() {
        return None;
    }
    // SAFETY: CPython returns `len` bytes of valid UTF-8, kept alive by the object.
    Some(unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(data.cast(), len as _))
    })
}

/// `type(obj).__name__`, for messages.
///
/// # Safety
/// The GIL is held and `obj` is a valid object.
pub(crate) unsafe fn type_name(obj: *mut ffi::PyObject) -> String {
    // SAFETY: the caller's promise; every reference we get is released.
    unsafe {
        let name = ffi::PyObject_GetAttrString(ffi::Py_TYPE(obj).cast(), c"__name__".as_ptr());
        let text = utf8(name).map(str::to_owned);
        if !name.is_null() {
            ffi::Py_DecRef(name);
        }
        text.unwrap_or_else(|| {
            ffi::PyErr_Clear();
            "?".into()
        })
    }
}

/// Built-in exception types, for [`PyErr::new`] and as bases of a module's own exceptions.
pub mod exc {
    use super::Kind;

    macro_rules! builtin {
        ($($name:ident = $static:ident),* $(,)?) => {$(
            #[doc = concat!("Python's built-in `", stringify!($name), "`.")]
            pub struct $name;
            impl super::Exception for $name {
                // SAFETY: reading one of CPython's exception statics, which are set before any
                // module loads and never change.
                const KIND: Kind = Kind::Builtin(|| unsafe { pyo3_ffi::$static });
            }
        )*};
    }

    builtin! {
        BaseException = PyExc_BaseException, Exception = PyExc_Exception,
        ArithmeticError = PyExc_ArithmeticError, OverflowError = PyExc_OverflowError,
        ZeroDivisionError = PyExc_ZeroDivisionError, ValueError = PyExc_ValueError,
        TypeError = PyExc_TypeError, KeyError = PyExc_KeyError, IndexError = PyExc_IndexError,
        LookupError = PyExc_LookupError, RuntimeError = PyExc_RuntimeError,
        OSError = PyExc_OSError, SystemError = PyExc_SystemError, MemoryError = PyExc_MemoryError,
    }
}
// ANCHOR_END: all
