// ANCHOR: all
//! Owned references: `Py`, a strong reference to a Python object that a Rust value keeps.

use std::cell::Cell;
use std::ptr::NonNull;

use pyo3_ffi as ffi;

use crate::args::FromPy;
use crate::err::{PyErr, utf8};
use crate::gil::Gil;
use crate::ret::IntoPy;

// ANCHOR: py
/// A strong reference to a Python object: the object lives at least as long as the `Py`, which
/// releases its reference when dropped.
///
/// A function or method parameter of type `Py` takes a new reference to its argument, and
/// returning a `Py` hands the reference to the caller. It is neither `Send` nor `Sync`, so it
/// stays on threads that hold the GIL: [`Gil::allow_threads`] refuses a closure that captures
/// one, and a class whose value holds one must say how the collector finds it (see
/// [`class!`](crate::class!)).
///
/// ```compile_fail,E0277
/// fn leak(gil: pymodule::Gil<'_>, item: pymodule::Py) {
///     gil.allow_threads(move || drop(item)); // error: `NonNull<PyObject>` is not `Send`
/// }
/// ```
///
/// Dropping one needs the GIL too; a `Py` kept in a thread-local and dropped without it (at
/// the thread's exit, or inside `allow_threads`) stops the process with CPython's fatal error
/// "the function must be called with the GIL held" rather than change a count unguarded, and
/// one dropped while the collector traverses (from a `RefCell` inside a value) is leaked.
pub struct Py(NonNull<ffi::PyObject>);
// ANCHOR_END: py

thread_local! {
    /// True while a class's `traverse` runs: the collector forbids changing counts then.
    pub(crate) static TRAVERSING: Cell<bool> = const { Cell::new(false) };
}

impl Py {
    /// Takes over a new reference from a CPython constructor; NULL means that it raised.
    ///
    /// # Safety
    /// The GIL is held, and `ptr` is NULL with an exception set, or a new reference.
    #[inline(always)]
    pub(crate) unsafe fn from_owned(ptr: *mut ffi::PyObject) -> Result<Py, PyErr> {
        // SAFETY: the caller's promise.
        NonNull::new(ptr).map(Py).ok_or_else(|| unsafe { PyErr::already_set() })
    }

    /// The object, borrowed for as long as `self` lives.
    pub fn as_ptr(&self) -> *mut ffi::PyObject {
        self.0.as_ptr()
    }

    /// Another reference to the same object.
    pub fn clone_ref(&self, _: Gil<'_>) -> Py {
        // SAFETY: the GIL is held (the token); the object is alive (we hold a reference).
        unsafe { ffi::Py_INCREF(self.as_ptr()) };
        Py(self.0)
    }

    /// `repr(obj)`, which runs the object's `__repr__`.
    pub fn repr(&self, _: Gil<'_>) -> Result<String, PyErr> {
        // SAFETY: the GIL is held; the text is a new reference, which `Py` releases.
        let text = unsafe { Py::from_owned(ffi::PyObject_Repr(self.as_ptr()))? };
        // SAFETY: the GIL is held; the UTF-8 is copied while `text` is alive.
        unsafe { utf8(text.as_ptr()) }.map(str::to_owned).ok_or_else(|| unsafe {
            // SAFETY: utf8 returned None with an exception set.
            PyErr::already_set()
        })
    }

    /// `self == other`, which runs the objects' `__eq__`.
    pub fn eq(&self, other: &Py, _: Gil<'_>) -> Result<bool, PyErr> {
        // SAFETY: the GIL is held; both objects are alive.
        match unsafe { ffi::PyObject_RichCompareBool(self.as_ptr(), other.as_ptr(), ffi::Py_EQ) } {
            // SAFETY: -1 means that it raised.
            -1 => Err(unsafe { PyErr::already_set() }),
            n => Ok(n == 1),
        }
    }

    /// A new `list` of these objects, in order.
    pub fn list<'a>(_: Gil<'_>, items: impl IntoIterator<Item = &'a Py>) -> Result<Py, PyErr> {
        let items: Vec<*mut ffi::PyObject> = items.into_iter().map(Py::as_ptr).collect();
        // SAFETY: the GIL is held; the list has one empty place per item, each of which SetItem
        // fills with a new reference that it takes over. No Python code runs until it is full.
        unsafe {
            let list = Py::from_owned(ffi::PyList_New(items.len() as ffi::Py_ssize_t))?;
            for (i, &item) in items.iter().enumerate() {
                ffi::Py_INCREF(item);
                ffi::PyList_SetItem(list.as_ptr(), i as ffi::Py_ssize_t, item);
            }
            Ok(list)
        }
    }
}

impl Drop for Py {
    fn drop(&mut self) {
        if TRAVERSING.get() {
            return; // leaked: no count may change while the collector traverses
        }
        // SAFETY: PyThreadState_Get stops the process if this thread does not hold the GIL;
        // past it, the GIL is held and we release the reference we own.
        unsafe {
            ffi::PyThreadState_Get();
            ffi::Py_DECREF(self.as_ptr());
        }
    }
}

impl FromPy<'_> for Py {
    #[inline(always)]
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises: the GIL is held and `obj` is a valid object (not NULL:
        // `Py` is not optional; `Option<Py>` handles NULL before asking us).
        unsafe {
            ffi::Py_INCREF(obj);
            Ok(Py(NonNull::new_unchecked(obj)))
        }
    }
}

impl IntoPy for Py {
    #[inline(always)]
    fn into_py(self, _: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        let ptr = self.as_ptr();
        std::mem::forget(self);
        Ok(ptr)
    }
}
// ANCHOR_END: all

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::process::Command;

    use super::Py;
    use crate::embed::{check, eval, extract, with_gil};

    /// The test's own name, to run it again in a child process (the child aborts).
    const SELF: &str = "obj::tests::a_py_dropped_without_the_gil_stops_the_process";

    #[test]
    fn a_py_dropped_without_the_gil_stops_the_process() {
        if std::env::var_os("PYMODULE_TEST_CHILD").is_some() {
            thread_local!(static KEPT: RefCell<Option<Py>> = const { RefCell::new(None) });
            with_gil(|gil| {
                KEPT.set(Some(extract::<Py>(eval("object()")).unwrap()));
                // Safe code: the closure captures nothing, and takes the Py from the thread-local.
                gil.allow_threads(|| drop(KEPT.take()));
            });
            return; // not reached: the drop stops the process
        }
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", SELF, "--nocapture", "--test-threads=1"])
            .env("PYMODULE_TEST_CHILD", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert!(!child.status.success(), "the child went on:\n{stderr}");
        assert!(stderr.contains("Fatal Python error: PyThreadState_Get"), "{stderr}");
    }

    pub struct Sneaky(RefCell<Option<Py>>);

    impl crate::Traverse for Sneaky {
        fn traverse(&self, _: &mut crate::Visit<'_>) -> Result<(), crate::Stop> {
            drop(self.0.borrow_mut().take()); // a Py dropped while the collector traverses
            Ok(())
        }
        fn clear(&mut self) {}
    }

    crate::class! {
        class sneaky.Sneak for Sneaky [mutable, gc] {
            fn __new__(item: Py) -> Result<Sneaky, crate::PyErr> {
                Ok(Sneaky(RefCell::new(Some(item))))
            }
        }
    }

    crate::module! {
        mod sneaky {
            classes { Sneak }
        }
    }

    #[test]
    fn a_py_dropped_in_traverse_is_leaked() {
        check(
            __pymodule_init,
            r#"
import gc, sys, sneaky
item = object()
s = sneaky.Sneak(item)
before = sys.getrefcount(item)
gc.collect()
assert sys.getrefcount(item) == before, (before, sys.getrefcount(item))
"#,
        );
    }
}
