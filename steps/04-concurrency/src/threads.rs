// ANCHOR: all
//! Threads that outlive the call (`tick`, `every`), waiting for them (`join`, `stop`), and what
//! foo does about them when the interpreter exits.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, c_int, c_longlong};
use std::io::{self, Write};
use std::ptr;
use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::thread;
use std::time::Duration;

use pyo3_ffi::*;

use crate::gil::{Gil, in_main_interpreter, without_gil};
use crate::{Exc, def, entry, in_range, none, raise};

// ANCHOR: registry
/// What foo knows about the threads it started.
struct Registry {
    /// How many have not finished yet (in this process: see `after_fork_in_child`).
    running: usize,
    /// Bumped by `stop()`: a thread started before the bump stops early.
    generation: u64,
    /// Set by the at-exit hook: every thread stops, and no new one may start.
    exiting: bool,
}

static REGISTRY: Mutex<Registry> =
    Mutex::new(Registry { running: 0, generation: 0, exiting: false });
/// Notified whenever a field of the registry changes.
static CHANGED: Condvar = Condvar::new();

fn registry() -> MutexGuard<'static, Registry> {
    // Every update is a single field assignment, so a panic can't leave the registry torn.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One thread that foo counts as running; dropping it counts the thread out.
pub struct Running {
    generation: u64,
}

/// Why `Running::sleep` returned.
pub enum Wake {
    Elapsed,
    Stopped,
    Exiting,
}

impl Running {
    /// Counts a new thread in, unless the interpreter is exiting.
    pub fn enlist() -> Option<Running> {
        let mut registry = registry();
        if registry.exiting {
            return None;
        }
        registry.running += 1;
        Some(Running { generation: registry.generation })
    }

    /// Sleeps for `interval`, or less if the thread is asked to stop.
    pub fn sleep(&self, interval: Duration) -> Wake {
        let asked_to_stop = |r: &mut Registry| r.exiting || r.generation != self.generation;
        let (registry, _) = CHANGED
            .wait_timeout_while(registry(), interval, |r| !asked_to_stop(r))
            .unwrap_or_else(PoisonError::into_inner);
        match (registry.exiting, registry.generation == self.generation) {
            (true, _) => Wake::Exiting,
            (false, false) => Wake::Stopped,
            (false, true) => Wake::Elapsed,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        registry().running -= 1;
        CHANGED.notify_all();
    }
}
// ANCHOR_END: registry

// ANCHOR: fork
thread_local! {
    /// The registry, locked by the thread that calls fork() for as long as fork() runs.
    static LOCKED_FOR_FORK: RefCell<Option<MutexGuard<'static, Registry>>> =
        const { RefCell::new(None) };
}

unsafe extern "C" {
    /// POSIX: the three functions run in every fork(), in the forking thread.
    fn pthread_atfork(
        prepare: Option<extern "C" fn()>,
        parent: Option<extern "C" fn()>,
        child: Option<extern "C" fn()>,
    ) -> c_int;
}

/// Makes every fork() leave the child a registry that counts the threads the child has. Called
/// by `PyInit_foo`; registers once per process.
fn count_right_after_fork() {
    static REGISTERED: Once = Once::new();
    // SAFETY: the functions stay loaded as long as the process: CPython never unloads an
    // extension module. None of them takes a lock that fork()'s caller can be holding.
    REGISTERED.call_once(|| unsafe {
        pthread_atfork(Some(before_fork), Some(after_fork_in_parent), Some(after_fork_in_child));
    });
}

/// No other thread is in the middle of an update when fork() copies the registry: a lock held
/// by a thread that the child does not have would stay locked there for ever.
extern "C" fn before_fork() {
    LOCKED_FOR_FORK.set(Some(registry()));
}

extern "C" fn after_fork_in_parent() {
    LOCKED_FOR_FORK.take(); // unlocks
}

/// The child has one thread, the one that called fork(). It is one of foo's when a callback
/// forked: that thread goes on running in the child, and will count itself out there.
extern "C" fn after_fork_in_child() {
    if let Some(mut registry) = LOCKED_FOR_FORK.take() {
        registry.running = usize::from(STARTED_BY_FOO.get());
    }
}
// ANCHOR_END: fork

/// What starting a thread raises once the at-exit hook has run.
pub const EXITING: &CStr = c"cannot start a thread: the interpreter is exiting";

thread_local! {
    /// True on the threads foo starts: they must not wait for foo's threads, themselves included.
    static STARTED_BY_FOO: Cell<bool> = const { Cell::new(false) };
}

// ANCHOR: spawn
/// Starts `work` on a new thread that foo counts as running until `work` has returned and
/// dropped everything it owns. Returns None, or NULL with RuntimeError set.
fn spawn(name: &str, work: impl FnOnce(&Running) + Send + 'static) -> *mut PyObject {
    let Some(running) = Running::enlist() else {
        return raise(Exc::Runtime, EXITING);
    };
    let started = thread::Builder::new().name(name.into()).spawn(move || {
        STARTED_BY_FOO.set(true);
        work(&running);
    });
    match started {
        Ok(_detached) => none(),
        Err(_) => raise(Exc::Runtime, c"can't start new thread"),
    }
}
// ANCHOR_END: spawn

const MAX_INTERVAL_MS: c_longlong = 86_400_000;

fn interval(ms: c_longlong) -> Option<Duration> {
    in_range(ms, MAX_INTERVAL_MS, c"interval_ms must be between 0 and 86400000")
        .map(Duration::from_millis)
}

// ANCHOR: tick
pub unsafe extern "C" fn tick(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    entry(|| {
        let (mut count, mut interval_ms): (c_longlong, c_longlong) = (0, 0);
        // SAFETY: Python called us, so we hold the GIL; "LL" writes two long longs.
        if unsafe { PyArg_ParseTuple(args, c"LL:tick".as_ptr(), &mut count, &mut interval_ms) } == 0
        {
            return ptr::null_mut();
        }
        let Some(count) = in_range(count, c_longlong::MAX, c"count must not be negative") else {
            return ptr::null_mut();
        };
        let Some(interval) = interval(interval_ms) else {
            return ptr::null_mut();
        };
        spawn("foo-tick", move |me| {
            // A closed stdout ends the ticker; there is nobody to tell.
            let _ = print_ticks(me, count, interval);
        })
    })
}

/// Runs on the ticker's thread, which never touches Python: it needs no GIL.
fn print_ticks(me: &Running, count: u64, interval: Duration) -> io::Result<()> {
    // Rust's stdout writes each complete line at once, straight to file descriptor 1.
    let mut out = io::stdout();
    for i in 1..=count {
        match me.sleep(interval) {
            Wake::Elapsed => writeln!(out, "tick {i}")?,
            Wake::Stopped => return writeln!(out, "tick: stopped after {} of {count}", i - 1),
            Wake::Exiting => return writeln!(out, "tick: the interpreter is exiting, stopping"),
        }
    }
    Ok(())
}
// ANCHOR_END: tick

// ANCHOR: every
pub unsafe extern "C" fn every(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    entry(|| {
        let (mut interval_ms, mut count): (c_longlong, c_longlong) = (0, 0);
        let mut callback: *mut PyObject = ptr::null_mut();
        // SAFETY: Python called us, so we hold the GIL; "O" lends us the object (no new reference).
        let parsed = unsafe {
            PyArg_ParseTuple(
                args,
                c"LLO:every".as_ptr(),
                &mut interval_ms,
                &mut count,
                &mut callback,
            )
        };
        if parsed == 0 {
            return ptr::null_mut();
        }
        let Some(interval) = interval(interval_ms) else {
            return ptr::null_mut();
        };
        let Some(count) = in_range(count, c_longlong::MAX, c"count must not be negative") else {
            return ptr::null_mut();
        };
        // SAFETY: we hold the GIL and `callback` is alive (the argument tuple holds it).
        if unsafe { PyCallable_Check(callback) } == 0 {
            return raise(Exc::Type, c"callback must be callable");
        }
        if !in_main_interpreter() {
            return raise(Exc::Runtime, c"every() works only in the main interpreter");
        }
        // SAFETY: as above; the new reference belongs to the thread from here on.
        let callback = unsafe { Owned::new_ref(callback) };
        spawn("foo-every", move |me| call_every(me, interval, count, callback))
    })
}
// ANCHOR_END: every

// ANCHOR: call-every
/// Runs on a thread that Rust started: it has no Python thread state until `Gil::ensure`.
fn call_every(me: &Running, interval: Duration, count: u64, callback: Owned) {
    for i in 1..=count {
        if !matches!(me.sleep(interval), Wake::Elapsed) {
            return;
        }
        // SAFETY: the interpreter keeps running until this thread is counted out (at-exit hook).
        let _gil = unsafe { Gil::ensure() };
        // SAFETY: we hold the GIL.
        if !unsafe { call(callback.0, i) } {
            return;
        }
    } // `_gil` is dropped at the end of each round: the GIL is free while we sleep.
}

/// Calls `callback(i)`. If it raises, reports the exception and returns false.
///
/// # Safety
/// The GIL must be held.
unsafe fn call(callback: *mut PyObject, i: u64) -> bool {
    // SAFETY: the caller holds the GIL; every new reference is released before returning.
    unsafe {
        let arg = PyLong_FromUnsignedLongLong(i);
        let result = if arg.is_null() {
            ptr::null_mut()
        } else {
            PyObject_CallFunctionObjArgs(callback, arg, ptr::null_mut::<PyObject>())
        };
        Py_DecRef(arg);
        if result.is_null() {
            // There is no caller to raise it to: sys.unraisablehook gets it (and prints it).
            PyErr_WriteUnraisable(callback);
            return false;
        }
        Py_DecRef(result);
        true
    }
}

// ANCHOR_END: call-every

// ANCHOR: owned
/// A strong reference to a Python object, owned by one of foo's threads.
struct Owned(*mut PyObject);

impl Owned {
    /// # Safety
    /// The GIL must be held and `object` must be alive.
    unsafe fn new_ref(object: *mut PyObject) -> Owned {
        // SAFETY: the caller's promise.
        unsafe { Py_IncRef(object) };
        Owned(object)
    }
}

// SAFETY: the pointer is used only with the GIL held, and the reference keeps the object alive
// whichever thread holds the `Owned`.
unsafe impl Send for Owned {}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: only foo's threads (and foo's functions) own one, and the interpreter keeps
        // running until they are done; a thread that already holds the GIL may ensure it again.
        let _gil = unsafe { Gil::ensure() };
        // SAFETY: we hold the GIL and own this reference.
        unsafe { Py_DecRef(self.0) }
    }
}
// ANCHOR_END: owned

// ANCHOR: join
/// Waits, without the GIL, until no thread foo started is running.
fn wait_for_threads(interruptible: bool) -> *mut PyObject {
    if STARTED_BY_FOO.get() {
        return raise(Exc::Runtime, c"foo's own threads cannot wait for foo's threads");
    }
    loop {
        // SAFETY: Python called us, so we hold the GIL; the closure touches no Python object.
        if unsafe { without_gil(|| wait_until_idle(Duration::from_millis(50))) } {
            return none();
        }
        // SAFETY: we hold the GIL again. A signal handler that raised (Ctrl-C's
        // KeyboardInterrupt) ends the wait, as it ends Thread.join.
        if interruptible && unsafe { PyErr_CheckSignals() } != 0 {
            return ptr::null_mut();
        }
    }
}

/// Waits at most `timeout` for foo's threads to finish; true if none is running.
fn wait_until_idle(timeout: Duration) -> bool {
    let (registry, _) = CHANGED
        .wait_timeout_while(registry(), timeout, |r| r.running > 0)
        .unwrap_or_else(PoisonError::into_inner);
    registry.running == 0
}

pub unsafe extern "C" fn join(_module: *mut PyObject, _no_args: *mut PyObject) -> *mut PyObject {
    entry(|| wait_for_threads(true))
}

pub unsafe extern "C" fn stop(_module: *mut PyObject, _no_args: *mut PyObject) -> *mut PyObject {
    entry(|| {
        if !STARTED_BY_FOO.get() {
            registry().generation += 1;
            CHANGED.notify_all();
        }
        wait_for_threads(true) // raises on foo's own threads: they would wait for themselves
    })
}
// ANCHOR_END: join

pub unsafe extern "C" fn count(_module: *mut PyObject, _no_args: *mut PyObject) -> *mut PyObject {
    entry(|| {
        let running = registry().running; // the lock is not held while Python allocates
        // SAFETY: Python called us, so we hold the GIL.
        unsafe { PyLong_FromSize_t(running) }
    })
}

// ANCHOR: at-exit
/// Registers foo's at-exit hook with the `atexit` module. Python runs it as the interpreter
/// begins to exit, before finalization: the interpreter is still whole, threads may still take
/// the GIL, and the hook waits (without the GIL) until every thread foo started has finished.
/// Called by `PyInit_foo`; false if an exception was raised.
pub fn stop_and_join_at_exit() -> bool {
    static mut HOOK: PyMethodDef = def(
        c"_foo_stop_and_join",
        at_exit,
        METH_NOARGS,
        c"Stop every thread foo started, and wait for them.",
    );
    // A new life of the interpreter (Py_Initialize after Py_FinalizeEx, when embedding).
    registry().exiting = false;
    count_right_after_fork();
    // SAFETY: PyInit_foo calls us with the GIL held; HOOK lives as long as the process.
    unsafe {
        let hook = PyCFunction_NewEx(&raw mut HOOK, ptr::null_mut(), ptr::null_mut());
        let atexit = PyImport_ImportModule(c"atexit".as_ptr());
        let registered = if hook.is_null() || atexit.is_null() {
            ptr::null_mut()
        } else {
            PyObject_CallMethod(atexit, c"register".as_ptr(), c"O".as_ptr(), hook)
        };
        Py_DecRef(atexit);
        Py_DecRef(hook);
        Py_DecRef(registered);
        !registered.is_null()
    }
}

unsafe extern "C" fn at_exit(_self: *mut PyObject, _no_args: *mut PyObject) -> *mut PyObject {
    entry(|| {
        registry().exiting = true;
        CHANGED.notify_all();
        // Not interruptible: a thread left running would ask for the GIL during finalization.
        wait_for_threads(false)
    })
}
// ANCHOR_END: at-exit
// ANCHOR_END: all
