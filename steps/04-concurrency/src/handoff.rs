// ANCHOR: all
//! `gil()`: give the GIL away, let another thread make the result while it holds the GIL, take
//! the GIL back and return the result.

use std::panic;
use std::ptr;
use std::thread;

use pyo3_ffi::*;

use crate::gil::{Gil, in_main_interpreter, without_gil};
use crate::threads::{EXITING, Running};
use crate::{Exc, entry, raise};

// ANCHOR: gil
pub unsafe extern "C" fn gil(_module: *mut PyObject, _no_args: *mut PyObject) -> *mut PyObject {
    entry(|| {
        if !in_main_interpreter() {
            return raise(Exc::Runtime, c"gil() works only in the main interpreter");
        }
        let Some(running) = Running::enlist() else {
            return raise(Exc::Runtime, EXITING);
        };
        // SAFETY: Python called us, so we hold the GIL. Our thread state stays with us.
        let handed_back = unsafe { without_gil(|| make_one_elsewhere(running)) };
        // We hold the GIL again, with our own thread state, on our own thread.
        match handed_back {
            Some(Handback::Value(one)) => one,
            Some(Handback::Raised(kind, value, traceback)) => {
                // SAFETY: we hold the GIL; PyErr_Restore takes over the three references.
                unsafe { PyErr_Restore(kind, value, traceback) };
                ptr::null_mut()
            }
            None => raise(Exc::Runtime, c"can't start new thread"),
        }
    })
}

/// Runs while the calling thread has released the GIL. None if no thread could be started.
fn make_one_elsewhere(running: Running) -> Option<Handback> {
    thread::scope(|scope| {
        let helper = thread::Builder::new().name("foo-gil".into()).spawn_scoped(scope, move || {
            let _running = running;
            // SAFETY: the interpreter keeps running until this thread is counted out.
            let _gil = unsafe { Gil::ensure() };
            // SAFETY: this thread holds the GIL, with a thread state of its own.
            unsafe { Handback::of(PyLong_FromLong(1)) }
        });
        // A panic on the helper goes on unwinding here, in the caller.
        let joined = helper.ok()?.join();
        Some(joined.unwrap_or_else(|payload| panic::resume_unwind(payload)))
    })
}

/// What the helper hands back: a new reference, or the exception it raised. An exception is
/// stored in the thread state of the thread that raised it, so it must be carried back too.
enum Handback {
    Value(*mut PyObject),
    Raised(*mut PyObject, *mut PyObject, *mut PyObject),
}

// SAFETY: the pointers are strong references, made under the GIL and used again only under the
// GIL, by the thread that receives them.
unsafe impl Send for Handback {}

impl Handback {
    /// # Safety
    /// The GIL must be held; `result` is a new reference, or NULL with an exception set.
    unsafe fn of(result: *mut PyObject) -> Handback {
        if !result.is_null() {
            return Handback::Value(result);
        }
        let (mut kind, mut value, mut traceback) =
            (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        // SAFETY: the caller holds the GIL; this takes the exception out of this thread's state.
        unsafe { PyErr_Fetch(&mut kind, &mut value, &mut traceback) };
        Handback::Raised(kind, value, traceback)
    }
}
// ANCHOR_END: gil
// ANCHOR_END: all
