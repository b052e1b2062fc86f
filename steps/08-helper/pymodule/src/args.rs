// ANCHOR: all
//! Arguments: sorting a `METH_FASTCALL | METH_KEYWORDS` call into parameters, and converting each.

use std::fmt::Write;
use std::ptr;

use pyo3_ffi as ffi;

use crate::err::{PyErr, exc, type_name, utf8};
use crate::here::Here;

/// A Rust type that a Python argument converts to.
///
/// Implemented for `i64`, `u64`, `f64`, `bool`, `&str`, `&[u8]` (a `bytes` object) and
/// `Option<T>`, which makes a parameter optional: `None` when the caller leaves it out or passes
/// `None`. The conversions raise what CPython's own would: `TypeError` for the wrong type,
/// `OverflowError` for an integer out of range, `UnicodeEncodeError` for a `str` with a lone
/// surrogate; the function's wrapper then names the function and the parameter, in front of the
/// message of a `TypeError`, `ValueError` or `OverflowError`, in a note on any other exception.
///
/// ```
/// # pymodule::embed::with_gil(|_| {
/// use pymodule::embed::{eval, extract};
/// assert_eq!(extract::<i64>(eval("2**63 - 1")).unwrap(), i64::MAX);
/// let err = extract::<i64>(eval("2**63")).unwrap_err();
/// assert_eq!(pymodule::embed::raised(err), "OverflowError: int too big to convert");
/// # });
/// ```
// ANCHOR: trait
pub trait FromPy<'a>: Sized {
    /// Whether the parameter may be left out (only `Option<T>` says yes).
    const OPTIONAL: bool = false;

    /// Converts `obj`, a borrowed reference that stays valid for `'a`; NULL means that the
    /// caller left the parameter out, which only happens when [`FromPy::OPTIONAL`] is true.
    ///
    /// # Safety
    /// The GIL is held, and `obj` is NULL (see above) or a valid object that lives for `'a`.
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr>;

    /// [`FromPy::from_py`] inside a method, whose instance knows its interpreter.
    ///
    /// # Safety
    /// As for `from_py`.
    #[doc(hidden)]
    #[inline(always)]
    unsafe fn from_py_here(obj: *mut ffi::PyObject, here: Here<'_>) -> Result<Self, PyErr> {
        let _ = here;
        // SAFETY: the caller's promises.
        unsafe { Self::from_py(obj) }
    }
}
// ANCHOR_END: trait

/// TypeError "keywords must be strings", replacing the exception that `utf8` set.
#[cold]
#[inline(never)]
fn not_a_string() -> PyErr {
    // SAFETY: called with the GIL held, after `utf8` failed and set an exception.
    unsafe { ffi::PyErr_Clear() };
    PyErr::new::<exc::TypeError>("keywords must be strings")
}

/// `-1` with an exception set is how CPython's integer and float conversions fail.
///
/// # Safety
/// The GIL is held.
#[inline(always)]
unsafe fn failed<T: PartialEq>(value: T, error_value: T) -> bool {
    // SAFETY: the caller's promise.
    value == error_value && unsafe { !ffi::PyErr_Occurred().is_null() }
}

// ANCHOR: i64
impl FromPy<'_> for i64 {
    #[inline(always)]
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises. PyLong_AsLongLong accepts an int or anything with
        // __index__, and raises TypeError or OverflowError otherwise.
        let value = unsafe { ffi::PyLong_AsLongLong(obj) };
        // SAFETY: the GIL is held; an exception is set when `failed` says so.
        if unsafe { failed(value, -1) } { Err(unsafe { PyErr::already_set() }) } else { Ok(value) }
    }
}
// ANCHOR_END: i64

impl FromPy<'_> for u64 {
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        // PyLong_AsUnsignedLongLong takes only an int (a float is "TypeError: an integer is
        // required", an object with __index__ too), so ask for __index__ first, as
        // PyLong_AsLongLong does by itself.
        // SAFETY: the caller's promises; `int` is a new reference, released below.
        unsafe {
            let int = ffi::PyNumber_Index(obj);
            if int.is_null() {
                return Err(PyErr::already_set());
            }
            let value = ffi::PyLong_AsUnsignedLongLong(int);
            ffi::Py_DecRef(int);
            if failed(value, u64::MAX) { Err(PyErr::already_set()) } else { Ok(value) }
        }
    }
}

impl FromPy<'_> for f64 {
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises. PyFloat_AsDouble takes a float, or anything with
        // __float__ or __index__ (an int too big for a double raises OverflowError).
        let value = unsafe { ffi::PyFloat_AsDouble(obj) };
        // SAFETY: as for i64.
        if unsafe { failed(value, -1.0) } {
            // SAFETY: the GIL is held and an exception is set.
            Err(unsafe { PyErr::already_set() })
        } else {
            Ok(value)
        }
    }
}

impl FromPy<'_> for bool {
    /// Only `True` and `False`: an `int` or any other object is a `TypeError`. PyO3 0.30 also
    /// takes numpy's `bool_` (a type it knows by name, and asks for its truth value); CPython's
    /// `"p"` format asks any object for its truth value.
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises.
        unsafe {
            if obj == ffi::Py_True() {
                Ok(true)
            } else if obj == ffi::Py_False() {
                Ok(false)
            } else {
                Err(expected("bool", obj))
            }
        }
    }
}

impl<'a> FromPy<'a> for &'a str {
    /// Borrows the `str` object's UTF-8, which CPython keeps with the object: nothing is copied.
    /// A `str` with lone surrogates has none, and raises `UnicodeEncodeError`.
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises.
        unsafe {
            if ffi::PyUnicode_Check(obj) == 0 {
                return Err(expected("str", obj));
            }
            utf8(obj).ok_or_else(|| PyErr::already_set())
        }
    }
}

impl<'a> FromPy<'a> for &'a [u8] {
    /// Borrows a `bytes` object's contents (only `bytes`: not `bytearray`, which can change).
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises; a bytes object's buffer never moves or changes.
        unsafe {
            if ffi::PyBytes_Check(obj) == 0 {
                return Err(expected("bytes", obj));
            }
            let mut data = ptr::null_mut();
            let mut len = 0;
            if ffi::PyBytes_AsStringAndSize(obj, &mut data, &mut len) < 0 {
                return Err(PyErr::already_set());
            }
            Ok(std::slice::from_raw_parts(data.cast(), len as usize))
        }
    }
}

impl<'a, T: FromPy<'a>> FromPy<'a> for Option<T> {
    const OPTIONAL: bool = true;

    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises.
        unsafe {
            if obj.is_null() || obj == ffi::Py_None() {
                Ok(None)
            } else {
                T::from_py(obj).map(Some)
            }
        }
    }

    unsafe fn from_py_here(obj: *mut ffi::PyObject, here: Here<'_>) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises.
        unsafe {
            if obj.is_null() || obj == ffi::Py_None() {
                Ok(None)
            } else {
                T::from_py_here(obj, here).map(Some)
            }
        }
    }
}

/// TypeError "must be WHAT, not TYPE".
///
/// # Safety
/// The GIL is held and `obj` is valid.
#[cold]
unsafe fn expected(what: &str, obj: *mut ffi::PyObject) -> PyErr {
    // SAFETY: the caller's promise.
    let got = unsafe { type_name(obj) };
    PyErr::new::<exc::TypeError>(format!("must be {what}, not {got}"))
}

/// One parameter of a function: its name, and whether it may be left out.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// The name, as keyword arguments spell it.
    pub name: &'static str,
    /// Whether the caller may leave it out ([`FromPy::OPTIONAL`] of its type).
    pub optional: bool,
}

/// A function's parameters, which [`module!`](crate::module!) writes down from its Rust
/// signature, and which sort a call's arguments.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    /// The function's name, for messages.
    pub name: &'static str,
    /// The parameters, in order.
    pub params: &'static [Param],
    /// Whether every parameter is positional-only (`/` after the last one): then keyword
    /// arguments are refused, as for `def f(a, b, /)`.
    pub positional_only: bool,
}

// ANCHOR: parse
/// One argument of a call, as [`parse`] sorted it: a borrowed reference, or NULL for an optional
/// parameter left out. The wrapper keeps it in a local variable and converts it from there, so
/// what a conversion borrows from it (a `&str`, a `&[u8]`) cannot outlive the call.
#[doc(hidden)]
#[repr(transparent)]
pub struct Arg(*mut ffi::PyObject);

/// Sorts the arguments of a `METH_FASTCALL | METH_KEYWORDS` call into the `N` parameters of
/// `sig`: a borrowed reference per parameter, NULL for an optional one that was left out. The
/// common case, every parameter passed by position, is a copy; anything else goes to
/// [`Signature::sort`].
///
/// # Safety
/// The GIL is held; `args` holds `nargs` positional arguments followed by one value per name in
/// `kwnames` (a tuple of `str`, or NULL), as CPython passes them.
#[inline(always)]
pub unsafe fn parse<const N: usize>(
    sig: &Signature,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> Result<[Arg; N], PyErr> {
    if kwnames.is_null() && nargs == N as ffi::Py_ssize_t {
        // SAFETY: `args` holds `nargs` = N pointers.
        return Ok(std::array::from_fn(|i| Arg(unsafe { *args.add(i) })));
    }
    let mut out = [ptr::null_mut(); N];
    // SAFETY: the caller's promises.
    unsafe { sig.sort(args, nargs, kwnames, &mut out)? };
    Ok(out.map(Arg))
}
// ANCHOR_END: parse

/// Strong references that a `__new__` keeps while it converts its arguments and runs: the values
/// of its keyword arguments, which the caller's dict could drop meanwhile (the conversion of one
/// argument can run Python code, `__index__` for one, that deletes another from the dict).
#[doc(hidden)]
pub struct Kept(*mut ffi::PyObject);

impl Drop for Kept {
    #[inline(always)]
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: dropped inside the call, with the GIL held; the tuple is ours.
            unsafe { ffi::Py_DecRef(self.0) };
        }
    }
}

/// [`parse`] for a `__new__` (`tp_new`), which CPython calls with a tuple and a dict. The
/// arguments stay valid as long as the [`Kept`] lives.
///
/// # Safety
/// The GIL is held; `args` is a tuple and `kwargs` NULL or a dict, both alive for the call.
#[inline(always)]
pub unsafe fn parse_tuple<const N: usize>(
    sig: &Signature,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> Result<([Arg; N], Kept), PyErr> {
    // SAFETY: the caller's promises; the items are borrowed from the tuple, which cannot change.
    unsafe {
        let nargs = ffi::PyTuple_Size(args);
        if kwargs.is_null() && nargs == N as ffi::Py_ssize_t {
            let items = std::array::from_fn(|i| Arg(ffi::PyTuple_GetItem(args, i as _)));
            return Ok((items, Kept(ptr::null_mut())));
        }
        parse_tuple_slow(sig, args, nargs, kwargs)
    }
}

/// The general case of [`parse_tuple`]: the tuple's items and the dict's values in one array,
/// the dict's keys in a tuple, as a vectorcall passes them, for [`Signature::sort`].
///
/// # Safety
/// As for [`parse_tuple`]; `nargs` is the tuple's size.
#[inline(never)]
unsafe fn parse_tuple_slow<const N: usize>(
    sig: &Signature,
    args: *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwargs: *mut ffi::PyObject,
) -> Result<([Arg; N], Kept), PyErr> {
    // SAFETY: the caller's promises. The keyword values are kept alive in `kept`, since Python
    // code may change the caller's dict; no Python code runs while the dict is walked.
    unsafe {
        let mut values: Vec<*mut ffi::PyObject> =
            (0..nargs).map(|i| ffi::PyTuple_GetItem(args, i)).collect();
        let mut kwnames = ptr::null_mut();
        let mut kept = Kept(ptr::null_mut());
        let size = if kwargs.is_null() { 0 } else { ffi::PyDict_Size(kwargs) };
        if size > 0 {
            kept = Kept(ffi::PyTuple_New(size));
            if kept.0.is_null() {
                return Err(PyErr::already_set());
            }
            kwnames = ffi::PyTuple_New(size);
            if kwnames.is_null() {
                return Err(PyErr::already_set());
            }
            let (mut pos, mut key, mut value) = (0, ptr::null_mut(), ptr::null_mut());
            let mut j = 0;
            while j < size && ffi::PyDict_Next(kwargs, &mut pos, &mut key, &mut value) != 0 {
                ffi::Py_INCREF(key);
                ffi::PyTuple_SetItem(kwnames, j, key);
                ffi::Py_INCREF(value);
                ffi::PyTuple_SetItem(kept.0, j, value);
                values.push(value);
                j += 1;
            }
        }
        let mut out = [ptr::null_mut(); N];
        let sorted = sig.sort(values.as_ptr(), nargs, kwnames, &mut out);
        if !kwnames.is_null() {
            ffi::Py_DECREF(kwnames);
        }
        sorted.map(|()| (out.map(Arg), kept))
    }
}

impl Signature {
    /// The general case of [`parse`]: fewer arguments, keywords, or errors. The messages are
    /// those of a Python `def` with the same parameters. It is inlined into each function's
    /// wrapper, where the parameters are constants, so the search for a keyword's parameter
    /// compiles to a few byte comparisons; the errors are built out of line.
    ///
    /// # Safety
    /// As for [`parse`]; `out` has one entry per parameter, all NULL.
    #[inline(always)]
    pub unsafe fn sort(
        &self,
        args: *const *mut ffi::PyObject,
        nargs: ffi::Py_ssize_t,
        kwnames: *mut ffi::PyObject,
        out: &mut [*mut ffi::PyObject],
    ) -> Result<(), PyErr> {
        let nargs = nargs.max(0) as usize;
        if nargs > self.params.len() {
            return Err(self.too_many(nargs));
        }
        for (i, slot) in out.iter_mut().enumerate().take(nargs) {
            // SAFETY: `args` holds `nargs` positional arguments.
            *slot = unsafe { *args.add(i) };
        }
        if !kwnames.is_null() {
            // SAFETY: `kwnames` is a tuple (the caller's promise).
            let nkw = unsafe { ffi::PyTuple_Size(kwnames) };
            for j in 0..nkw.max(0) as usize {
                // SAFETY: j < the tuple's size; the item is borrowed from the tuple.
                let key = unsafe { ffi::PyTuple_GetItem(kwnames, j as _) };
                // SAFETY: the GIL is held; `key` is valid.
                let Some(name) = (unsafe { utf8(key) }) else {
                    return Err(not_a_string());
                };
                let Some(i) = self.params.iter().position(|p| p.name.as_bytes() == name.as_bytes())
                else {
                    return Err(self.unexpected(name));
                };
                if self.positional_only {
                    return Err(self.positional_only_error(kwnames));
                }
                if !out[i].is_null() {
                    return Err(self.multiple(name));
                }
                // SAFETY: the keyword values follow the positional ones.
                out[i] = unsafe { *args.add(nargs + j) };
            }
        }
        for (param, value) in self.params.iter().zip(out.iter()) {
            if !param.optional && value.is_null() {
                return Err(self.missing(out));
            }
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn unexpected(&self, name: &str) -> PyErr {
        let msg = format!("{}() got an unexpected keyword argument '{name}'", self.name);
        PyErr::new::<exc::TypeError>(msg)
    }

    #[cold]
    #[inline(never)]
    fn multiple(&self, name: &str) -> PyErr {
        let msg = format!("{}() got multiple values for argument '{name}'", self.name);
        PyErr::new::<exc::TypeError>(msg)
    }

    /// Names every keyword that names a parameter, as Python does.
    #[cold]
    #[inline(never)]
    fn positional_only_error(&self, kwnames: *mut ffi::PyObject) -> PyErr {
        let mut names = Vec::new();
        // SAFETY: called from `sort`, with the GIL held and `kwnames` a tuple of str.
        unsafe {
            for j in 0..ffi::PyTuple_Size(kwnames) {
                if let Some(name) = utf8(ffi::PyTuple_GetItem(kwnames, j))
                    && self.params.iter().any(|p| p.name == name)
                {
                    names.push(name);
                }
            }
        }
        let msg = format!(
            "{}() got some positional-only arguments passed as keyword arguments: '{}'",
            self.name,
            names.join(", ")
        );
        PyErr::new::<exc::TypeError>(msg)
    }

    #[cold]
    #[inline(never)]
    fn too_many(&self, given: usize) -> PyErr {
        let max = self.params.len();
        let min = self.params.iter().filter(|p| !p.optional).count();
        let takes = if min == max { format!("{max}") } else { format!("from {min} to {max}") };
        // As CPython words it: "takes 1 positional argument", "takes from 0 to 1 ... arguments".
        let s = if max == 1 && min == max { "" } else { "s" };
        let were = if given == 1 { "was" } else { "were" };
        PyErr::new::<exc::TypeError>(format!(
            "{}() takes {takes} positional argument{s} but {given} {were} given",
            self.name
        ))
    }

    #[cold]
    #[inline(never)]
    fn missing(&self, out: &[*mut ffi::PyObject]) -> PyErr {
        let names: Vec<&str> = (self.params.iter().zip(out))
            .filter(|(p, v)| !p.optional && v.is_null())
            .map(|(p, _)| p.name)
            .collect();
        let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        let list = match quoted.as_slice() {
            [one] => one.clone(),
            [a, b] => format!("{a} and {b}"),
            [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
            [] => String::new(),
        };
        let (n, s) = (names.len(), if names.len() == 1 { "" } else { "s" });
        let mut msg = format!("{}() missing {n} required positional argument{s}: ", self.name);
        let _ = write!(msg, "{list}");
        PyErr::new::<exc::TypeError>(msg)
    }

    /// Names the function and the parameter in a conversion's error, as "NAME() argument
    /// 'PARAM': message" where the exception's type allows it, else in a note.
    #[doc(hidden)]
    #[cold]
    #[inline(never)]
    pub fn argument_error(&self, param: &str, err: PyErr) -> PyErr {
        err.at(&format!("{}() argument '{param}'", self.name))
    }
}

/// Converts the argument for parameter `param` of a call, naming the function and the parameter
/// in an error. The result may borrow from `arg` for `'a`, the life of the wrapper's local
/// variable: a parameter type that wants a longer borrow (`&'static str`) does not compile.
///
/// # Safety
/// The GIL is held, and `arg` comes from [`parse`] for the call being made.
#[doc(hidden)]
#[inline(always)]
pub unsafe fn extract<'a, T: FromPy<'a>>(
    arg: &'a Arg,
    sig: &Signature,
    param: &str,
) -> Result<T, PyErr> {
    // SAFETY: the caller's promises: the caller of the function keeps the object alive for the
    // call, which outlasts the local variable that `arg` borrows.
    match unsafe { T::from_py(arg.0) } {
        Ok(value) => Ok(value),
        Err(err) => Err(sig.argument_error(param, err)),
    }
}

/// [`extract`] inside a method, whose instance knows its interpreter.
///
/// # Safety
/// As for [`extract`], and `here` is the running interpreter's.
#[doc(hidden)]
#[inline(always)]
pub unsafe fn extract_here<'a, T: FromPy<'a>>(
    arg: &'a Arg,
    sig: &Signature,
    param: &str,
    here: Here<'_>,
) -> Result<T, PyErr> {
    // SAFETY: as for extract.
    match unsafe { T::from_py_here(arg.0, here) } {
        Ok(value) => Ok(value),
        Err(err) => Err(sig.argument_error(param, err)),
    }
}
// ANCHOR_END: all

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::{eval, extract, raised, with_gil};

    /// The converted value, or "Type: message" of the exception the conversion raised.
    fn convert<T: FromPy<'static>>(code: &str) -> Result<T, String> {
        extract::<T>(eval(code)).map_err(raised)
    }

    #[test]
    fn i64_edges() {
        with_gil(|_| {
            assert_eq!(convert::<i64>("-2**63"), Ok(i64::MIN));
            assert_eq!(convert::<i64>("2**63 - 1"), Ok(i64::MAX));
            assert_eq!(convert::<i64>("-1"), Ok(-1));
            assert_eq!(convert::<i64>("True"), Ok(1));
            let index = "type('I', (), {'__index__': lambda self: 7})()";
            assert_eq!(convert::<i64>(index), Ok(7));
            let too_big = Err("OverflowError: int too big to convert".to_owned());
            assert_eq!(convert::<i64>("2**63"), too_big);
            assert_eq!(convert::<i64>("-2**63 - 1"), too_big);
            let not_int = "TypeError: 'float' object cannot be interpreted as an integer";
            assert_eq!(convert::<i64>("1.0"), Err(not_int.to_owned()));
            assert!(convert::<i64>("'1'").unwrap_err().starts_with("TypeError: "));
        })
    }

    #[test]
    fn u64_edges() {
        with_gil(|_| {
            assert_eq!(convert::<u64>("0"), Ok(0));
            assert_eq!(convert::<u64>("2**64 - 1"), Ok(u64::MAX));
            let index = "type('I', (), {'__index__': lambda self: 7})()";
            assert_eq!(convert::<u64>(index), Ok(7));
            assert!(convert::<u64>("2**64").unwrap_err().starts_with("OverflowError: "));
            let negative = "OverflowError: can't convert negative int to unsigned";
            assert_eq!(convert::<u64>("-1"), Err(negative.to_owned()));
            assert!(convert::<u64>("1.0").unwrap_err().starts_with("TypeError: "));
            assert!(convert::<u64>("None").unwrap_err().starts_with("TypeError: "));
        })
    }

    #[test]
    fn f64_edges() {
        with_gil(|_| {
            assert_eq!(convert::<f64>("0.5"), Ok(0.5));
            assert_eq!(convert::<f64>("-1.0"), Ok(-1.0));
            assert_eq!(convert::<f64>("1"), Ok(1.0));
            assert_eq!(convert::<f64>("float('inf')"), Ok(f64::INFINITY));
            assert!(convert::<f64>("float('nan')").unwrap().is_nan());
            assert_eq!(convert::<f64>("2**1023"), Ok(2f64.powi(1023)));
            let huge = "OverflowError: int too large to convert to float";
            assert_eq!(convert::<f64>("2**1024"), Err(huge.to_owned()));
            assert!(convert::<f64>("'1'").unwrap_err().starts_with("TypeError: "));
        })
    }

    #[test]
    fn bool_takes_only_bools() {
        with_gil(|_| {
            assert_eq!(convert::<bool>("True"), Ok(true));
            assert_eq!(convert::<bool>("False"), Ok(false));
            assert_eq!(convert::<bool>("1"), Err("TypeError: must be bool, not int".to_owned()));
            assert_eq!(
                convert::<bool>("None"),
                Err("TypeError: must be bool, not NoneType".into())
            );
        })
    }

    #[test]
    fn str_edges() {
        with_gil(|_| {
            assert_eq!(convert::<&str>("''"), Ok(""));
            assert_eq!(convert::<&str>("'héllo \\U0001F600'"), Ok("héllo \u{1F600}"));
            assert_eq!(convert::<&str>("'a\\0b'"), Ok("a\0b"));
            let surrogate = convert::<&str>("'\\udc80'").unwrap_err();
            assert!(surrogate.starts_with("UnicodeEncodeError: "), "{surrogate}");
            assert_eq!(convert::<&str>("b'x'"), Err("TypeError: must be str, not bytes".into()));
        })
    }

    #[test]
    fn bytes_edges() {
        with_gil(|_| {
            assert_eq!(convert::<&[u8]>("b''"), Ok(&b""[..]));
            assert_eq!(convert::<&[u8]>("b'\\x00\\xff'"), Ok(&b"\x00\xff"[..]));
            let bytearray = "TypeError: must be bytes, not bytearray";
            assert_eq!(convert::<&[u8]>("bytearray(b'x')"), Err(bytearray.into()));
            assert_eq!(convert::<&[u8]>("'x'"), Err("TypeError: must be bytes, not str".into()));
        })
    }

    #[test]
    fn option_is_left_out_or_none() {
        with_gil(|_| {
            assert_eq!(convert::<Option<i64>>("None"), Ok(None));
            assert_eq!(convert::<Option<i64>>("5"), Ok(Some(5)));
            // SAFETY: the GIL is held; NULL is how a left-out argument arrives.
            assert_eq!(unsafe { Option::<i64>::from_py(ptr::null_mut()) }.ok(), Some(None));
            assert!(convert::<Option<i64>>("'5'").unwrap_err().starts_with("TypeError: "));
        })
    }

    const PARAMS: &[Param] = &[
        Param { name: "a", optional: false },
        Param { name: "b", optional: false },
        Param { name: "c", optional: false },
        Param { name: "d", optional: true },
    ];
    const F: Signature = Signature { name: "f", params: PARAMS, positional_only: false };

    /// Sorts `args` (a tuple) and `kw` (a dict) as a call of F would.
    fn sort(sig: &Signature, args: &str, kw: &str) -> Result<Vec<bool>, String> {
        let items = eval(&format!("tuple({args}) + tuple(({kw}).values())"));
        let names = eval(&format!("tuple({kw}) or None"));
        // SAFETY: the GIL is held; eval's objects are never released.
        unsafe {
            let nargs = ffi::PyTuple_Size(eval(&format!("tuple({args})")));
            let array: Vec<_> =
                (0..ffi::PyTuple_Size(items)).map(|i| ffi::PyTuple_GetItem(items, i)).collect();
            let kwnames = if names == ffi::Py_None() { ptr::null_mut() } else { names };
            let mut out = [ptr::null_mut(); 4];
            sig.sort(array.as_ptr(), nargs, kwnames, &mut out).map_err(raised)?;
            Ok(out.iter().map(|p| !p.is_null()).collect())
        }
    }

    #[test]
    fn sorting_arguments() {
        with_gil(|_| {
            assert_eq!(sort(&F, "(1, 2, 3)", "{}"), Ok(vec![true, true, true, false]));
            assert_eq!(sort(&F, "(1,)", "{'c': 3, 'b': 2}"), Ok(vec![true, true, true, false]));
            assert_eq!(sort(&F, "()", "dict(a=1, b=2, c=3, d=4)"), Ok(vec![true; 4]));
            // Each call of f that CPython refuses, and the message it gives (only a C caller
            // can repeat a keyword, or pass one that is not a str).
            for (args, kwargs, message) in [
                (
                    "(1, 2, 3, 4, 5)",
                    "{}",
                    "takes from 3 to 4 positional arguments but 5 were given",
                ),
                ("(1, 2)", "{}", "missing 1 required positional argument: 'c'"),
                ("(1,)", "{}", "missing 2 required positional arguments: 'b' and 'c'"),
                ("()", "{}", "missing 3 required positional arguments: 'a', 'b', and 'c'"),
                ("(1, 2, 3)", "{'e': 5}", "got an unexpected keyword argument 'e'"),
                ("(1, 2, 3)", "{'a': 5}", "got multiple values for argument 'a'"),
                ("(1, 2)", "{'c': 3, 'c ': 3}", "got an unexpected keyword argument 'c '"),
            ] {
                assert_eq!(sort(&F, args, kwargs), Err(format!("TypeError: f() {message}")));
            }
            assert_eq!(
                sort(&F, "(1, 2, 3)", "{4: 4}"),
                Err("TypeError: keywords must be strings".into())
            );
            let posonly = Signature { positional_only: true, ..F };
            assert_eq!(
                sort(&posonly, "(1,)", "{'b': 2, 'c': 3}"),
                Err("TypeError: f() got some positional-only arguments passed as keyword \
                     arguments: 'b, c'"
                    .into())
            );
            let none = Signature { name: "g", params: &[], positional_only: false };
            assert_eq!(
                sort(&none, "(1,)", "{}"),
                Err("TypeError: g() takes 0 positional arguments but 1 was given".into())
            );
        })
    }

    #[test]
    fn argument_errors_name_the_function_and_the_parameter() {
        with_gil(|_| {
            // SAFETY: the GIL is held; eval's objects are never released.
            let err =
                unsafe { super::extract::<i64>(&Arg(eval("'x'")), &F, "b") }.err().map(raised);
            let msg =
                "TypeError: f() argument 'b': 'str' object cannot be interpreted as an integer";
            assert_eq!(err.as_deref(), Some(msg));
            // SAFETY: as above.
            let err = unsafe { super::extract::<bool>(&Arg(eval("0")), &F, "d") }.err().map(raised);
            assert_eq!(err.as_deref(), Some("TypeError: f() argument 'd': must be bool, not int"));
        })
    }
}
