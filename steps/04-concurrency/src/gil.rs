// ANCHOR: all
//! The two ways a thread holds the GIL: giving it away and taking it back (`without_gil`), or
//! taking it fresh on a thread that Python knows nothing about (`Gil::ensure`).

use std::marker::PhantomData;

use pyo3_ffi::*;

// ANCHOR: without-gil
/// Runs `f` with the GIL released, and takes the GIL back before returning, even if `f` panics:
/// C's `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS`.
///
/// `Send` keeps raw Python pointers out of `f`, which runs while other threads use the interpreter.
///
/// # Safety
/// The calling thread must hold the GIL.
pub unsafe fn without_gil<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    struct Restore(*mut PyThreadState);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: the thread state saved below, given back on the thread that saved it.
            unsafe { PyEval_RestoreThread(self.0) }
        }
    }
    // SAFETY: the caller holds the GIL; this releases it and detaches the thread's state.
    let _restore = Restore(unsafe { PyEval_SaveThread() });
    f()
}
// ANCHOR_END: without-gil

// ANCHOR: gil-guard
/// The GIL, held by a thread that may have no Python thread state of its own, such as a thread
/// that Rust started. Dropping it gives the GIL back.
pub struct Gil {
    state: PyGILState_STATE,
    // Release must happen on the thread that called Ensure: the guard is neither Send nor Sync.
    _same_thread: PhantomData<*mut ()>,
}

impl Gil {
    /// Takes the GIL, creating a thread state for this thread if it has none.
    ///
    /// # Safety
    /// The interpreter must be running, and must keep running until the guard is dropped. foo
    /// makes sure of that for its own threads: it stops and joins them before finalization.
    pub unsafe fn ensure() -> Gil {
        // SAFETY: the interpreter is running (the caller's promise).
        let state = unsafe { PyGILState_Ensure() };
        Gil { state, _same_thread: PhantomData }
    }
}

impl Drop for Gil {
    fn drop(&mut self) {
        // SAFETY: pairs with the PyGILState_Ensure of `ensure`, on the same thread.
        unsafe { PyGILState_Release(self.state) }
    }
}
// ANCHOR_END: gil-guard

/// `PyGILState_Ensure` always attaches a thread to the main interpreter, so a thread working for
/// a subinterpreter must not use it. foo's threads work only for the main one.
pub fn in_main_interpreter() -> bool {
    // SAFETY: called with the GIL held, so there is a current interpreter; the main one has ID 0.
    unsafe { PyInterpreterState_GetID(PyInterpreterState_Get()) == 0 }
}
// ANCHOR_END: all
