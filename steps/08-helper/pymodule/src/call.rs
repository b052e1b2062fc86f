// ANCHOR: all
//! Calling Python (chapter 12): a callable parameter, and a call with arguments whose exception
//! comes back as a [`PyErr`] that carries the same exception object.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};

use pyo3_ffi as ffi;

use crate::Py;
use crate::args::FromPy;
use crate::err::{PyErr, exc, type_name};
use crate::gil::Gil;
use crate::here::Here;
use crate::ret::IntoPy;

// ANCHOR: callable
/// A callable argument, borrowed for the call it was passed to: `f: Callable<'_>` takes any
/// object that `callable()` accepts, and raises `TypeError` for the rest.
///
/// ```
/// #![forbid(unsafe_code)]
/// use pymodule::{Callable, Module, Py, PyErr};
///
/// pymodule::module! {
///     mod calls {
///         /// `f(x, 2 * n)`.
///         fn twice(m: Module<'_, ()>, f: Callable<'_>, x: Py, n: i64) -> Result<Py, PyErr> {
///             f.call(m.gil(), (x, 2 * n))
///         }
///     }
/// }
/// # fn main() { pymodule::embed::check(__pymodule_init, r#"
/// import calls
/// assert calls.twice(lambda x, n: (x, n), "a", 21) == ("a", 42)
/// def fails(x, n):
///     raise KeyError(x)
/// try:
///     calls.twice(fails, "k", 1)
/// except KeyError as e:
///     assert e.args == ("k",) and e.__traceback__.tb_next.tb_frame.f_code.co_name == "fails"
/// try:
///     calls.twice(3, "a", 1)
/// except TypeError as e:
///     assert str(e) == "twice() argument 'f': must be callable, not int", e
/// "#); }
/// ```
///
/// It is not `Send` (a thread that does not hold the GIL cannot call it), and it borrows the
/// caller's reference, so it cannot be kept past the call; [`Callable::to_py`] makes a [`Py`]
/// that can. Both rules are the compiler's:
///
/// ```compile_fail,E0277
/// fn elsewhere(gil: pymodule::Gil<'_>, f: pymodule::Callable<'_>) {
///     gil.allow_threads(|| drop(f)); // error: `NonNull<PyObject>` cannot be sent
/// }
/// ```
///
/// ```compile_fail,E0521
/// use std::cell::RefCell;
/// thread_local!(static KEPT: RefCell<Option<pymodule::Callable<'static>>> = RefCell::new(None));
///
/// fn keep(f: pymodule::Callable<'_>) {
///     KEPT.set(Some(f)); // error: borrowed data escapes the function
/// }
/// ```
pub struct Callable<'a> {
    ptr: NonNull<ffi::PyObject>,
    call: PhantomData<&'a ffi::PyObject>,
}
// ANCHOR_END: callable

impl<'a> FromPy<'a> for Callable<'a> {
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises: the GIL is held and `obj` is a valid object (not
        // NULL: `Callable` is not optional) that lives for 'a.
        unsafe {
            if ffi::PyCallable_Check(obj) == 0 {
                let msg = format!("must be callable, not {}", type_name(obj));
                return Err(PyErr::new::<exc::TypeError>(msg));
            }
            Ok(Callable { ptr: NonNull::new_unchecked(obj), call: PhantomData })
        }
    }
}

impl Callable<'_> {
    /// Calls it with `args` (a tuple of up to four values, each [`IntoPy`]): its result, or the
    /// exception it raised, carried as the same object (see [`PyErr`]).
    // ANCHOR: call
    pub fn call(&self, gil: Gil<'_>, args: impl Args) -> Result<Py, PyErr> {
        // SAFETY: the object is alive for 'a (the caller's reference) and the GIL is held.
        unsafe { call_object(gil, self.ptr.as_ptr(), args) }
    }
    // ANCHOR_END: call

    /// A strong reference to the callable, to keep after the call returns.
    pub fn to_py(&self, _: Gil<'_>) -> Py {
        let cell = std::cell::Cell::new(ptr::null_mut());
        // SAFETY: the GIL is held; the object is valid, of the running interpreter (an
        // argument of the current call); the cell starts empty.
        unsafe { Py::from_py_here(self.ptr.as_ptr(), Here::new(&cell)) }
            .unwrap_or_else(|_| unreachable!("taking a reference cannot fail"))
    }
}

impl Py {
    /// Calls the object with `args`, as [`Callable::call`] does: `TypeError` if it is not
    /// callable.
    pub fn call(&self, gil: Gil<'_>, args: impl Args) -> Result<Py, PyErr> {
        // SAFETY: the GIL is held (the token); we hold a reference to the object.
        unsafe {
            if !self.belongs_to(gil.interp()) {
                let msg = "the object belongs to another interpreter";
                return Err(PyErr::new::<exc::RuntimeError>(msg));
            }
            call_object(gil, self.as_ptr(), args)
        }
    }
}

/// `callable(*args)`: the tuple is built, the call made, and the tuple released.
///
/// # Safety
/// The GIL is held and `callable` is a valid object of the running interpreter.
#[inline(always)]
unsafe fn call_object(
    gil: Gil<'_>,
    callable: *mut ffi::PyObject,
    args: impl Args,
) -> Result<Py, PyErr> {
    let tuple = args.into_tuple(gil)?;
    // SAFETY: the caller's promises; `tuple` is a new reference that we release. A NULL
    // result has an exception set, which the error takes out of the thread.
    unsafe {
        let result = ffi::PyObject_Call(callable, tuple.as_ptr(), ptr::null_mut());
        drop(tuple);
        if result.is_null() {
            return Err(PyErr::fetch());
        }
        Py::from_owned(result)
    }
}

// ANCHOR: args
/// The arguments of a call: `()`, or a tuple of up to four [`IntoPy`] values. Only this crate
/// implements it (it hands CPython a tuple it built).
pub trait Args: sealed::Sealed {
    #[doc(hidden)]
    fn into_tuple(self, gil: Gil<'_>) -> Result<Py, PyErr>;
}

mod sealed {
    pub trait Sealed {}
}

/// A value's object, as a `Py`.
fn owned(value: impl IntoPy, gil: Gil<'_>) -> Result<Py, PyErr> {
    let obj = value.into_py(gil)?;
    // SAFETY: the GIL is held (the token); `into_py` returns a new reference.
    unsafe { Py::from_owned(obj) }
}

// SAFETY: a new reference to the same live object.
unsafe impl IntoPy for &Py {
    /// Another reference to the same object.
    fn into_py(self, gil: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        self.clone_ref(gil)?.into_py(gil)
    }
}

macro_rules! args {
    ($n:literal; $($t:ident $v:ident $i:literal),*) => {
        impl<$($t: IntoPy),*> sealed::Sealed for ($($t,)*) {}
        impl<$($t: IntoPy),*> Args for ($($t,)*) {
            #[allow(unused_variables, reason = "the empty tuple uses neither")]
            fn into_tuple(self, gil: Gil<'_>) -> Result<Py, PyErr> {
                let ($($v,)*) = self;
                // Every argument is converted first: a conversion may run Python code, which
                // must never see the tuple with empty places (`gc.get_objects()` would).
                $(let $v = owned($v, gil)?;)*
                // SAFETY: the GIL is held; the tuple's $n places are each filled by SetItem
                // with a reference it takes over, and no Python code runs in between.
                unsafe {
                    let tuple = Py::from_owned(ffi::PyTuple_New($n))?;
                    $(ffi::PyTuple_SetItem(tuple.as_ptr(), $i, ManuallyDrop::new($v).as_ptr());)*
                    Ok(tuple)
                }
            }
        }
    };
}

args!(0;);
args!(1; A a 0);
args!(2; A a 0, B b 1);
args!(3; A a 0, B b 1, C c 2);
args!(4; A a 0, B b 1, C c 2, D d 3);
// ANCHOR_END: args
// ANCHOR_END: all
