// ANCHOR: all
//! The GIL: a token that proves it is held, releasing it, and taking it back from another thread.

use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::Ordering;

use pyo3_ffi as ffi;

use crate::err::PyErr;
use crate::here::Here;
use crate::state::header;

/// Proof that the current thread holds the GIL, for the lifetime `'py`.
///
/// It is one pointer wide, so passing it around costs next to nothing, and it is neither `Send`
/// nor `Sync`, so it never leaves its thread: a closure that captures it (or a [`Module`], which
/// holds one) is not `Send`, and [`Gil::allow_threads`] refuses it:
///
/// ```compile_fail
/// fn leak(gil: pymodule::Gil<'_>) {
///     gil.allow_threads(|| drop(gil)); // error: `Gil` cannot be shared between threads
/// }
/// ```
#[derive(Clone, Copy)]
pub struct Gil<'py> {
    /// Inside a method or a slot of an instance, the instance's cell that keeps its interpreter
    /// (which runs the call): the running interpreter, without asking CPython each time.
    here: Option<Here<'py>>,
    _thread: PhantomData<*mut ()>,
}

impl<'py> Gil<'py> {
    /// The token, for code that knows the GIL is held (a function CPython calls, for one).
    ///
    /// # Safety
    /// The current thread must hold the GIL for all of `'py`.
    pub unsafe fn assume() -> Self {
        Gil { here: None, _thread: PhantomData }
    }

    /// The token inside a method or a slot of an instance, which knows where the running
    /// interpreter is kept.
    ///
    /// # Safety
    /// As for [`Gil::assume`], and `here` holds NULL or the interpreter that runs the thread
    /// whenever code holding the token runs (the instance's own, as
    /// [`here_of`](crate::__private::here_of) says). Python code that the call runs may switch
    /// the thread to another interpreter for a while, but it cannot reach the token, which
    /// cannot be stored beyond `'py` nor sent to another thread.
    #[inline(always)]
    pub(crate) unsafe fn assume_here(here: Here<'py>) -> Self {
        Gil { here: Some(here), _thread: PhantomData }
    }

    /// The interpreter that runs the thread: the instance's cell, where there is one, else
    /// CPython's `PyInterpreterState_Get`.
    #[inline(always)]
    pub(crate) fn interp(self) -> *mut ffi::PyInterpreterState {
        match self.here {
            Some(here) => here.get(),
            // SAFETY: the GIL is held (the token), so there is a current interpreter.
            None => unsafe { ffi::PyInterpreterState_Get() },
        }
    }

    /// Releases the GIL while `f` runs, so that other Python threads can run meanwhile, and takes
    /// it back before returning `f`'s result. A panic in `f` is carried across, after the GIL is
    /// taken back.
    ///
    /// `f` must be `Send`, and so must its result: the bound that keeps Python objects out. Every
    /// handle to a Python object that this crate gives you ([`Gil`], [`Module`]) is not `Send`,
    /// and neither is a raw `*mut PyObject`. What `f` may capture is plain Rust data, including
    /// the `&str` and `&[u8]` arguments of a function: they borrow the immutable contents of a
    /// `str` or `bytes` object that the caller keeps alive for the whole call. The bound is
    /// stricter than needed (an `Rc` is not `Send`, yet harmless here) and not airtight:
    /// `unsafe impl Send` on a wrapper around a `*mut PyObject`, or a raw pointer kept in a
    /// static, gets past it, and calling [`ffi`](crate::ffi) functions inside `f` is `unsafe`
    /// for that reason.
    ///
    /// ```
    /// # pymodule::embed::with_gil(|gil| {
    /// let gil: pymodule::Gil = gil;
    /// let words = "the quick brown fox";
    /// let n = gil.allow_threads(|| words.split(' ').count());
    /// assert_eq!(n, 4);
    /// # });
    /// ```
    // ANCHOR: allow-threads
    pub fn allow_threads<T: Send>(self, f: impl FnOnce() -> T + Send) -> T {
        // SAFETY: `self` proves that this thread holds the GIL; we take it back below before
        // anything else can use Python.
        let tstate = unsafe { ffi::PyEval_SaveThread() };
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        // SAFETY: `tstate` is this thread's state, saved above.
        unsafe { ffi::PyEval_RestoreThread(tstate) };
        result.unwrap_or_else(|payload| panic::resume_unwind(payload))
    }
    // ANCHOR_END: allow-threads
}

/// The module object a function was called on, with its state: the `m: Module<'_, State>` first
/// parameter of a function of [`module!`](crate::module!).
pub struct Module<'py, S> {
    ptr: *mut ffi::PyObject,
    gil: Gil<'py>,
    state: &'py S,
}

impl<S> Clone for Module<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Module<'_, S> {}

impl<'py, S: Send + Sync + 'static> Module<'py, S> {
    /// # Safety
    /// `ptr` is a module object made by [`module!`](crate::module!) with state type `S`, whose
    /// exec slot has written the state, and it stays alive for `'py`.
    #[doc(hidden)]
    pub unsafe fn from_raw(ptr: *mut ffi::PyObject, gil: Gil<'py>) -> Self {
        // SAFETY: the caller's promises: the state is the StateBlock<S> that the exec slot
        // wrote, and it lives as long as the module.
        let state =
            unsafe { &(*ffi::PyModule_GetState(ptr).cast::<crate::state::StateBlock<S>>()).user };
        Module { ptr, gil, state }
    }

    /// The module a function of `sig` was called on, or RuntimeError if its state does not exist
    /// yet: `importlib.util.module_from_spec` makes a module whose functions can be called, and
    /// only `exec_module` (`PyModule_ExecDef`) allocates the state and runs the exec slot.
    ///
    /// # Safety
    /// `ptr` is a module object made by [`module!`](crate::module!) with state type `S`, and it
    /// stays alive for `'py`.
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn from_call(
        ptr: *mut ffi::PyObject,
        gil: Gil<'py>,
        sig: &crate::args::Signature,
    ) -> Result<Self, PyErr> {
        // SAFETY: the caller's promise; the GIL is held (`gil`).
        match unsafe { header(ptr) } {
            Some(h) => {
                let slot = ptr::from_ref(h).cast::<crate::state::StateBlock<S>>();
                // SAFETY: a ready header starts the StateBlock<S> that the exec slot wrote
                // (repr(C)), which lives as long as the module.
                Ok(Module { ptr, gil, state: unsafe { &(*slot).user } })
            }
            None => Err(not_executed(sig)),
        }
    }

    /// The module object, borrowed.
    pub fn as_ptr(&self) -> *mut ffi::PyObject {
        self.ptr
    }

    /// The token that proves the GIL is held.
    pub fn gil(&self) -> Gil<'py> {
        self.gil
    }

    /// This module's state: one per module object, so one per interpreter that imported it.
    ///
    /// It is shared (`&S`) by every thread that calls the module, so `S` must be `Sync`: use
    /// atomics, or a `Mutex`, for what changes. A `Cell` would be sound while the GIL lets one
    /// thread in at a time, and a free-threaded CPython has no GIL, so the helper does not rely
    /// on it: a state that is not `Sync` does not compile (see [`module!`](crate::module!)).
    pub fn state(&self) -> &'py S {
        self.state
    }

    /// Releases the GIL while `f` runs, like [`Gil::allow_threads`], and hands `f` an
    /// [`Attach`]: threads that `f` starts can use it to take the GIL back and reach this
    /// module's state. The threads must end before `f` returns, which `std::thread::scope`
    /// guarantees: `Attach` borrows from this call, so a `std::thread::spawn`ed thread, which
    /// could outlive it, cannot take one.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    /// use pymodule::Module;
    ///
    /// #[derive(Default)]
    /// pub struct Calls(AtomicU64);
    ///
    /// pymodule::module! {
    ///     mod threads {
    ///         state: Calls;
    ///         /// Four threads each add 1 to the module's count, holding the GIL to do it.
    ///         fn four(m: Module<'_, Calls>) -> Result<u64, pymodule::PyErr> {
    ///             m.detach(|attach| {
    ///                 std::thread::scope(|s| {
    ///                     for _ in 0..4 {
    ///                         s.spawn(|| attach.with_gil(|m| m.state().0.fetch_add(1, Relaxed)));
    ///                     }
    ///                 })
    ///             })?;
    ///             Ok(m.state().0.load(Relaxed))
    ///         }
    ///     }
    /// }
    /// # fn main() {
    /// #     pymodule::embed::check(__pymodule_init, "import threads; assert threads.four() == 4");
    /// # }
    /// ```
    // ANCHOR: detach
    pub fn detach<T: Send>(self, f: impl FnOnce(Attach<'_, S>) -> T + Send) -> Result<T, PyErr> {
        if self.exiting() {
            let msg = "cannot start threads that take the GIL: the interpreter is shutting down";
            return Err(PyErr::new::<crate::exc::RuntimeError>(msg));
        }
        // SAFETY: the GIL is held (self.gil), so there is a current interpreter: the module's.
        let interp = unsafe { ffi::PyInterpreterState_Get() };
        let attach = Attach { module: self.ptr, interp, call: PhantomData };
        Ok(self.gil.allow_threads(move || f(attach)))
    }

    /// Whether the module's interpreter has run its exit functions (the module's exit function
    /// said so), or is finalizing (`sys.is_finalizing()`, in case the exit functions were
    /// cleared); true if that cannot be told.
    fn exiting(&self) -> bool {
        // SAFETY: the GIL is held; `self.ptr` is a module of ours with its state written.
        unsafe {
            if header(self.ptr).is_none_or(|h| h.exiting.load(Ordering::Relaxed)) {
                return true;
            }
            let is_finalizing = ffi::PySys_GetObject(c"is_finalizing".as_ptr());
            let answer = if is_finalizing.is_null() {
                ptr::null_mut()
            } else {
                ffi::PyObject_CallObject(is_finalizing, ptr::null_mut())
            };
            if answer.is_null() {
                ffi::PyErr_Clear();
                return true;
            }
            let finalizing = ffi::PyObject_IsTrue(answer);
            ffi::Py_DecRef(answer);
            if finalizing < 0 {
                ffi::PyErr_Clear();
            }
            finalizing != 0
        }
    }
    // ANCHOR_END: detach
}

/// Lets any thread take the GIL of a module's interpreter and use the module: see
/// [`Module::detach`]. It is `Send` and `Sync` (given `S: Send + Sync`), and `Copy`.
pub struct Attach<'call, S> {
    module: *mut ffi::PyObject,
    interp: *mut ffi::PyInterpreterState,
    call: PhantomData<&'call S>,
}

impl<S> Clone for Attach<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Attach<'_, S> {}
// SAFETY: the pointers are only used with the GIL of their interpreter held (with_gil), and the
// module outlives 'call, during which the calling thread keeps its reference to it.
unsafe impl<S: Send + Sync> Send for Attach<'_, S> {}
// SAFETY: as above; `with_gil` takes `&self` and hands each thread a `&S`, which `S: Sync`
// makes sound with or without a GIL to serialise them.
unsafe impl<S: Send + Sync> Sync for Attach<'_, S> {}

impl<S: Send + Sync + 'static> Attach<'_, S> {
    /// Takes the GIL of the module's interpreter, runs `f` with the module, and releases it.
    ///
    /// It works in a thread that Python never saw, and in a subinterpreter: it makes a thread
    /// state for this thread in the module's interpreter (`PyThreadState_New`), which
    /// `PyGILState_Ensure` cannot do (it only knows the main interpreter), and deletes it
    /// afterwards. Call it from a thread that does not hold the GIL already, or it waits for
    /// itself forever.
    // ANCHOR: with-gil
    pub fn with_gil<T>(&self, f: impl for<'py> FnOnce(Module<'py, S>) -> T) -> T {
        // SAFETY: `interp` is the live interpreter of the module (see `detach`); a new thread
        // state for it, made current with its GIL taken, then cleared (GIL held), released
        // and deleted (GIL not held), is the documented life of a thread state.
        unsafe {
            let tstate = ffi::PyThreadState_New(self.interp);
            if tstate.is_null() {
                panic!("could not make a thread state (out of memory)");
            }
            ffi::PyEval_RestoreThread(tstate);
            let module = Module::from_raw(self.module, Gil::assume());
            let result = panic::catch_unwind(AssertUnwindSafe(|| f(module)));
            ffi::PyThreadState_Clear(tstate);
            ffi::PyEval_SaveThread();
            ffi::PyThreadState_Delete(tstate);
            result.unwrap_or_else(|payload| panic::resume_unwind(payload))
        }
    }
    // ANCHOR_END: with-gil
}

#[cold]
#[inline(never)]
fn not_executed(sig: &crate::args::Signature) -> PyErr {
    PyErr::new::<crate::exc::RuntimeError>(format!(
        "{}() called before the module was executed (exec_module makes its state)",
        sig.name
    ))
}
// ANCHOR_END: all
