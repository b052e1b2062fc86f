// ANCHOR: all
// ANCHOR: top
//! Python from threads that Python did not start.

use std::mem;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use pyo3_ffi::*;

use crate::call::call_one;
use crate::{Kind, Raised, entry, raise};

/// A pointer to a Python object, moved to a worker thread. The worker touches the object only
/// while it holds the GIL, and a reference keeps it alive meanwhile (see each use).
struct Carried(*mut PyObject);

// SAFETY: see above: the GIL, not the thread, guards every access to the object.
unsafe impl Send for Carried {}
// ANCHOR_END: top

// ANCHOR: refuse
/// Set by the hook that `atexit` runs: from then on, no thread of ours may call into Python.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// How many `from_thread` threads are running, and the signal that one has ended: the
/// `atexit` hook waits for them all.
static ACTIVE: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// Raises unless a new thread may call back into this interpreter: it must be the main one
/// (`PyGILState_Ensure` always attaches to the main interpreter), and the module's `atexit`
/// hook must not have run (after it, the interpreter finalises, and a thread that attaches
/// then never comes back).
///
/// # Safety
/// The GIL is held.
unsafe fn may_start(name: &str) -> Result<(), Raised> {
    // SAFETY: the caller's promise.
    let id = unsafe { PyInterpreterState_GetID(PyInterpreterState_Get()) };
    if id != 0 {
        let message = format!("{name}() works in the main interpreter only");
        return Err(raise(Kind::Runtime, &message));
    }
    if CLOSED.load(Ordering::Acquire) {
        let message = format!("{name}(): the interpreter is shutting down");
        return Err(raise(Kind::Runtime, &message));
    }
    Ok(())
}

/// A lock that a panic elsewhere cannot poison for us (nothing it guards can be left broken).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
// ANCHOR_END: refuse

// ANCHOR: from-thread
/// `callbacks.from_thread(f, n, keep)`: a new Rust thread calls `f(i)` for `i` in `range(n)`,
/// attaching to the interpreter for each call; with `keep`, it keeps its thread state from the
/// first call to the last. Returns how long each call waited to attach, in nanoseconds. The
/// exception a call raised ends the loop and is raised here, the same object.
pub unsafe extern "C" fn from_thread(
    _module: *mut PyObject,
    args: *mut *mut PyObject,
    nargs: Py_ssize_t,
) -> *mut PyObject {
    entry(|| {
        if nargs != 3 {
            let message = format!("from_thread() takes exactly 3 arguments ({nargs} given)");
            return Err(raise(Kind::Type, &message));
        }
        // SAFETY: METH_FASTCALL: three valid objects, borrowed for the call, GIL held.
        let (f, n, keep) = unsafe { (*args, *args.add(1), *args.add(2)) };
        // SAFETY: GIL held; the three are valid objects.
        let (n, keep) = unsafe {
            let n = callable_and_count("from_thread", f, n)?;
            let keep = PyObject_IsTrue(keep);
            if keep < 0 {
                return Err(Raised);
            }
            may_start("from_thread")?;
            (n, keep == 1)
        };
        // `f` stays alive: the caller's reference outlives this call, which waits for the thread.
        let f = Carried(f);
        // Counted while the GIL is held: the atexit hook either sees this thread or has
        // already closed the door (`may_start`).
        *lock(&ACTIVE.0) += 1;
        // SAFETY: GIL held; released here, taken back below, on every path.
        let saved = unsafe { PyEval_SaveThread() };
        let joined = thread::Builder::new()
            .name("from_thread".into())
            // SAFETY: `f` is alive until the join (above); the thread attaches before using it.
            .spawn(move || unsafe { attach_and_call(f, n, keep) })
            .map(JoinHandle::join);
        *lock(&ACTIVE.0) -= 1;
        ACTIVE.1.notify_all();
        // SAFETY: `saved` is this thread's state, released above.
        unsafe { PyEval_RestoreThread(saved) };
        if CLOSED.load(Ordering::Acquire) {
            return Err(raise(Kind::Runtime, "from_thread(): stopped at exit"));
        }
        let Ok(Ok(outcome)) = joined else {
            return Err(raise(Kind::Runtime, "from_thread(): the thread failed"));
        };
        if let Some([kind, value, traceback]) = outcome.raised {
            // SAFETY: GIL held; the three references the worker fetched are given back.
            unsafe { PyErr_Restore(kind.0, value.0, traceback.0) };
            return Err(Raised);
        }
        // SAFETY: GIL held.
        unsafe { nanoseconds(&outcome.waits) }
    })
}

/// What a worker brings back: the wait before each call, and what a call raised.
struct Outcome {
    waits: Vec<u64>,
    raised: Option<[Carried; 3]>,
}

/// The body of `from_thread`'s thread: it starts with no thread state of its own.
///
/// # Safety
/// `f` is a callable that outlives the thread.
unsafe fn attach_and_call(f: Carried, n: usize, keep: bool) -> Outcome {
    let mut waits = Vec::with_capacity(n);
    let mut raised = None;
    let mut kept: Option<(PyGILState_STATE, *mut PyThreadState)> = None;
    for i in 0..n {
        if CLOSED.load(Ordering::Acquire) {
            break; // the atexit hook waits for this thread: end now
        }
        let start = Instant::now();
        // SAFETY: the thread holds no GIL here. With a kept thread state, take the GIL back
        // with it; else make one (the first time, or every time without `keep`).
        let gil = unsafe {
            match kept.take() {
                Some((gil, tstate)) => {
                    PyEval_RestoreThread(tstate);
                    gil
                }
                None => PyGILState_Ensure(),
            }
        };
        waits.push(start.elapsed().as_nanos() as u64);
        // SAFETY: the GIL is held; `f` is alive (the promise).
        let failed = unsafe { call_and_drop(f.0, i) }.is_err();
        if failed {
            // SAFETY: the GIL is held and the call left an exception set.
            raised = Some(unsafe { fetch() });
        }
        // SAFETY: the GIL is held, taken above; released the way it was taken.
        unsafe {
            if keep && !failed && i + 1 < n {
                // Release the GIL, keep the thread state (and its threading.local values).
                kept = Some((gil, PyEval_SaveThread()));
            } else {
                PyGILState_Release(gil); // the thread state made by Ensure goes with it
            }
        }
        if failed {
            break;
        }
    }
    if let Some((gil, tstate)) = kept {
        // Stopped early, at exit: attach once more to let the kept thread state go. The atexit
        // hook is waiting for this thread, so the interpreter is not finalising yet.
        // SAFETY: the state saved above; the GIL is released with it.
        unsafe {
            PyEval_RestoreThread(tstate);
            PyGILState_Release(gil);
        }
    }
    Outcome { waits, raised }
}
// ANCHOR_END: from-thread

// ANCHOR: helpers
/// The count `n` for a callable `f`, or TypeError / ValueError.
///
/// # Safety
/// The GIL is held; both are valid objects.
unsafe fn callable_and_count(
    name: &str,
    f: *mut PyObject,
    n: *mut PyObject,
) -> Result<usize, Raised> {
    // SAFETY: the caller's promise.
    unsafe {
        if PyCallable_Check(f) == 0 {
            let message = format!("{name}() argument 1 must be callable");
            return Err(raise(Kind::Type, &message));
        }
        let n = PyLong_AsSsize_t(n);
        if n == -1 && !PyErr_Occurred().is_null() {
            return Err(Raised);
        }
        if !(0..=1_000_000).contains(&n) {
            let message = format!("{name}() argument 2 must be in 0..=1000000");
            return Err(raise(Kind::Value, &message));
        }
        Ok(n as usize)
    }
}

/// `f(i)`, its result dropped.
///
/// # Safety
/// The GIL is held and `f` is valid.
unsafe fn call_and_drop(f: *mut PyObject, i: usize) -> Result<(), Raised> {
    // SAFETY: the caller's promise; each new reference is released once.
    unsafe {
        let arg = PyLong_FromSize_t(i);
        if arg.is_null() {
            return Err(Raised);
        }
        let result = call_one(f, arg);
        Py_DECREF(arg);
        if result.is_null() {
            return Err(Raised);
        }
        Py_DECREF(result);
        Ok(())
    }
}

/// Takes the current exception out of the thread state, to raise it on another thread. The
/// traceback stays with it.
///
/// # Safety
/// The GIL is held and an exception is set.
unsafe fn fetch() -> [Carried; 3] {
    let mut parts = [ptr::null_mut(); 3];
    let [kind, value, traceback] = &mut parts;
    // SAFETY: the caller's promise; PyErr_Fetch hands us the three references (or NULLs).
    unsafe { PyErr_Fetch(kind, value, traceback) };
    parts.map(Carried)
}

/// A list of ints.
///
/// # Safety
/// The GIL is held.
unsafe fn nanoseconds(values: &[u64]) -> Result<*mut PyObject, Raised> {
    // SAFETY: the caller's promise; PyList_SetItem steals each new int.
    unsafe {
        let list = PyList_New(values.len() as Py_ssize_t);
        if list.is_null() {
            return Err(Raised);
        }
        for (i, &value) in values.iter().enumerate() {
            let item = PyLong_FromUnsignedLongLong(value);
            if item.is_null() {
                Py_DECREF(list);
                return Err(Raised);
            }
            PyList_SetItem(list, i as Py_ssize_t, item);
        }
        Ok(list)
    }
}
// ANCHOR_END: helpers

// ANCHOR: workers
/// The workers started and not yet joined.
static WORKERS: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());
/// How many workers may run at once. Each one waits for the GIL before every call, and a
/// thread that wants the GIL waits its turn behind all of them (5 ms each, the switch
/// interval, when they are busy): without a bound, a loop that starts workers starves every
/// Python thread, and the exit waits for thousands of them to finish their call.
const MAX_WORKERS: usize = 64;
/// Asks the workers to stop before their next call.
static STOP: AtomicBool = AtomicBool::new(false);

/// `callbacks.start_worker(f, n)`: a Rust thread calls `f()` up to `n` times, in the
/// background, attaching for each call. What a call raises is printed (as unraisable: there
/// is no caller to give it to) and the worker goes on.
pub unsafe extern "C" fn start_worker(
    _module: *mut PyObject,
    args: *mut *mut PyObject,
    nargs: Py_ssize_t,
) -> *mut PyObject {
    entry(|| {
        if nargs != 2 {
            let message = format!("start_worker() takes exactly 2 arguments ({nargs} given)");
            return Err(raise(Kind::Type, &message));
        }
        // SAFETY: METH_FASTCALL: two valid objects, GIL held.
        // The worker's own reference to `f`, released by the worker, attached.
        let f = unsafe {
            let n = callable_and_count("start_worker", *args, *args.add(1))?;
            may_start("start_worker")?;
            (Carried(Py_NewRef(*args)), n)
        };
        let (f, n) = f;
        let mut workers = lock(&WORKERS);
        // The finished ones are let go (dropping the handle of a thread that has ended frees
        // it); then there must be room for one more.
        workers.retain(|handle| !handle.is_finished());
        if workers.len() >= MAX_WORKERS {
            drop(workers);
            // SAFETY: GIL held; the reference made above is released, the thread never started.
            unsafe { Py_DECREF(f.0) };
            let message = format!(
                "start_worker(): {MAX_WORKERS} workers are running; call stop_workers() first"
            );
            return Err(raise(Kind::Runtime, &message));
        }
        // SAFETY: the worker owns a reference to `f` and attaches before touching it.
        let spawned =
            thread::Builder::new().name("worker".into()).spawn(move || unsafe { work(f, n) });
        match spawned {
            Ok(handle) => workers.push(handle),
            Err(_) => {
                drop(workers);
                // SAFETY: GIL held; the thread never started, so the reference is still ours.
                // (`f` moved into the closure, which was dropped: release the one we made.)
                unsafe { Py_DECREF(*args) };
                return Err(raise(Kind::Runtime, "start_worker(): no thread"));
            }
        }
        // SAFETY: GIL held.
        Ok(unsafe { Py_NewRef(Py_None()) })
    })
}

/// A worker's body.
///
/// # Safety
/// `f` is a strong reference to a callable, which this function releases.
unsafe fn work(f: Carried, n: usize) {
    for _ in 0..n {
        if STOP.load(Ordering::Acquire) {
            break;
        }
        // SAFETY: no GIL held here; attach, call, detach. The reference to `f` is ours.
        unsafe {
            let gil = PyGILState_Ensure();
            let result = PyObject_CallNoArgs(f.0);
            if result.is_null() {
                PyErr_WriteUnraisable(f.0);
            } else {
                Py_DECREF(result);
            }
            PyGILState_Release(gil);
        }
    }
    if CLOSED.load(Ordering::Acquire) {
        // At exit, attach no more: the reference to `f` is left to the interpreter's end.
        return;
    }
    // SAFETY: as above: attach to release our reference.
    unsafe {
        let gil = PyGILState_Ensure();
        Py_DECREF(f.0);
        PyGILState_Release(gil);
    }
}

/// `callbacks.stop_workers()`: asks every worker to stop, waits for them with the GIL
/// released (a worker may be waiting for it), and returns how many were joined.
pub unsafe extern "C" fn stop_workers(_module: *mut PyObject, _: *mut PyObject) -> *mut PyObject {
    entry(|| {
        let handles = mem::take(&mut *lock(&WORKERS));
        let count = handles.len();
        STOP.store(true, Ordering::Release);
        // SAFETY: GIL held; released for the joins and taken back on every path.
        let saved = unsafe { PyEval_SaveThread() };
        for handle in handles {
            let _ = handle.join(); // a worker runs no code that can panic
        }
        STOP.store(false, Ordering::Release);
        // SAFETY: `saved` is this thread's state, released above.
        unsafe {
            PyEval_RestoreThread(saved);
            Ok(PyLong_FromSize_t(count))
        }
    })
}
// ANCHOR_END: workers

// ANCHOR: at-exit
/// The `atexit` hook: no new workers from now on, and the running ones stopped and joined,
/// before the interpreter starts to finalise (CPython runs `atexit` hooks first).
unsafe extern "C" fn at_exit(module: *mut PyObject, unused: *mut PyObject) -> *mut PyObject {
    CLOSED.store(true, Ordering::Release);
    STOP.store(true, Ordering::Release);
    // SAFETY: called by atexit, with the GIL held: released while the `from_thread` threads
    // finish the call they are making (they need the GIL for it), then taken back.
    unsafe {
        let saved = PyEval_SaveThread();
        let mut active = lock(&ACTIVE.0);
        while *active > 0 {
            active = ACTIVE.1.wait(active).unwrap_or_else(|e| e.into_inner());
        }
        drop(active);
        PyEval_RestoreThread(saved);
        stop_workers(module, unused)
    }
}

static mut AT_EXIT: PyMethodDef = PyMethodDef {
    ml_name: c"_stop_workers_at_exit".as_ptr(),
    ml_meth: PyMethodDefPointer { PyCFunction: at_exit },
    ml_flags: METH_NOARGS,
    ml_doc: ptr::null(),
};

/// Registers `at_exit` with `atexit`, once, from the main interpreter's module.
///
/// # Safety
/// The GIL is held; `module` is the module being executed.
pub unsafe fn register_at_exit(module: *mut PyObject) -> std::ffi::c_int {
    static REGISTERED: AtomicBool = AtomicBool::new(false);
    // SAFETY: the caller's promise; every new reference is released once.
    unsafe {
        if PyInterpreterState_GetID(PyInterpreterState_Get()) != 0
            || REGISTERED.swap(true, Ordering::AcqRel)
        {
            return 0;
        }
        let hook = PyCFunction_NewEx(&raw mut AT_EXIT, module, ptr::null_mut());
        if hook.is_null() {
            return -1;
        }
        let atexit = PyImport_ImportModule(c"atexit".as_ptr());
        let done = if atexit.is_null() {
            ptr::null_mut()
        } else {
            PyObject_CallMethod(atexit, c"register".as_ptr(), c"O".as_ptr(), hook)
        };
        Py_XDECREF(atexit);
        Py_DECREF(hook);
        if done.is_null() {
            REGISTERED.store(false, Ordering::Release);
            return -1;
        }
        Py_DECREF(done);
        0
    }
}
// ANCHOR_END: at-exit
// ANCHOR_END: all
