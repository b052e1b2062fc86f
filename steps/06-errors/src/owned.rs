// ANCHOR: all
//! The book's rule for references, written as a type: a reference we own is an `Owned`.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use pyo3_ffi::*;

// ANCHOR: owned
/// A reference to a Python object that we own: it must be given up exactly once.
/// Dropping an `Owned` gives it up (`Py_DecRef`); `into_raw` hands it on instead.
/// It is neither `Send` nor `Sync` (it holds a raw pointer): it never leaves the thread that
/// holds the GIL.
pub struct Owned(NonNull<PyObject>);

impl Owned {
    /// Takes charge of a new reference, as returned by `PyLong_FromLongLong` and friends.
    /// `None` if `ptr` is NULL: the call failed and has set an exception.
    ///
    /// # Safety
    /// `ptr` is NULL or a new reference that nobody else will release; the GIL is held.
    pub unsafe fn from_new(ptr: *mut PyObject) -> Option<Owned> {
        NonNull::new(ptr).map(Owned)
    }

    /// Makes a new reference from a borrowed one, as returned by `PyTuple_GetItem`.
    ///
    /// # Safety
    /// `ptr` points to a live object; the GIL is held.
    pub unsafe fn from_borrowed(ptr: NonNull<PyObject>) -> Owned {
        // SAFETY: the object is alive (the caller's promise), so adding a reference is sound.
        unsafe { Py_IncRef(ptr.as_ptr()) };
        Owned(ptr)
    }

    pub fn as_ptr(&self) -> *mut PyObject {
        self.0.as_ptr()
    }

    /// Hands the reference on: to our caller (a return value) or to a function that steals it.
    pub fn into_raw(self) -> *mut PyObject {
        ManuallyDrop::new(self).0.as_ptr()
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: we own this reference and give it up once. We only make an `Owned` while
        // holding the GIL, never release the GIL while one lives, and it cannot change threads.
        unsafe { Py_DecRef(self.0.as_ptr()) }
    }
}
// ANCHOR_END: owned
// ANCHOR_END: all
