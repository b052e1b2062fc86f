// ANCHOR: all
//! Where a call runs: the interpreter that a function's or a method's arguments and results
//! belong to.

use std::cell::Cell;

use pyo3_ffi as ffi;

/// Where a call runs: the running interpreter, looked up once and kept in a cell. A method's
/// cell is in its instance, which stays in one interpreter all its life, so the lookup is made
/// once per instance; elsewhere the cell is the call's own.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Here<'a>(&'a Cell<*mut ffi::PyInterpreterState>);

impl<'a> Here<'a> {
    /// # Safety
    /// `cell` holds NULL or the interpreter that runs every call that uses this `Here`.
    #[inline(always)]
    pub unsafe fn new(cell: &'a Cell<*mut ffi::PyInterpreterState>) -> Self {
        Here(cell)
    }

    /// The running interpreter. The GIL is held (the `Here` is used inside a call).
    #[inline(always)]
    pub(crate) fn get(self) -> *mut ffi::PyInterpreterState {
        let interp = self.0.get();
        if interp.is_null() { self.look_up() } else { interp }
    }

    #[cold]
    #[inline(never)]
    fn look_up(self) -> *mut ffi::PyInterpreterState {
        // SAFETY: a `Here` is only used inside a call, with the GIL held.
        let interp = unsafe { ffi::PyInterpreterState_Get() };
        self.0.set(interp);
        interp
    }
}
// ANCHOR_END: all
