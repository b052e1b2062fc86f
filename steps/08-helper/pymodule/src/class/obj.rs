// ANCHOR: all
//! Owned references: `Py`, a strong reference to a Python object that a Rust value keeps, and
//! the trashcan that releases them.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ptr::{self, NonNull};

use pyo3_ffi as ffi;

use crate::args::FromPy;
use crate::err::{PyErr, exc, utf8};
use crate::gil::Gil;
use crate::here::Here;
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
///
/// A `Py` also remembers its object's interpreter. The same thread may run another one (a
/// thread-local `Py` outlives `_interpreters.run_string`, which runs code of another
/// interpreter on the calling thread); there, using the `Py` raises `RuntimeError`, the
/// collector does not see it, and dropping it leaks the reference: the object is not that
/// interpreter's to touch.
pub struct Py {
    ptr: NonNull<ffi::PyObject>,
    interp: *mut ffi::PyInterpreterState,
}
// ANCHOR_END: py

impl Py {
    /// Takes over a new reference from a CPython constructor; NULL means that it raised.
    ///
    /// # Safety
    /// The GIL is held, and `ptr` is NULL with an exception set, or a new reference.
    #[inline(always)]
    pub(crate) unsafe fn from_owned(ptr: *mut ffi::PyObject) -> Result<Py, PyErr> {
        match NonNull::new(ptr) {
            // SAFETY: the GIL is held (the caller's promise).
            Some(ptr) => Ok(Py { ptr, interp: unsafe { ffi::PyInterpreterState_Get() } }),
            // SAFETY: the caller's promise: NULL comes with an exception set.
            None => Err(unsafe { PyErr::already_set() }),
        }
    }

    /// The object, borrowed for as long as `self` lives.
    pub fn as_ptr(&self) -> *mut ffi::PyObject {
        self.ptr.as_ptr()
    }

    /// Whether the object belongs to the interpreter `interp`.
    pub(crate) fn belongs_to(&self, interp: *mut ffi::PyInterpreterState) -> bool {
        self.interp == interp
    }

    /// Ok if the object belongs to the interpreter this thread runs, else RuntimeError.
    #[inline(always)]
    pub(crate) fn here(&self, gil: Gil<'_>) -> Result<(), PyErr> {
        if self.belongs_to(gil.interp()) { Ok(()) } else { Err(elsewhere()) }
    }

    /// Another reference to the same object.
    #[inline]
    pub fn clone_ref(&self, gil: Gil<'_>) -> Result<Py, PyErr> {
        self.here(gil)?;
        // SAFETY: the GIL of the object's interpreter is held; the object is alive (we hold a
        // reference).
        unsafe { ffi::Py_INCREF(self.as_ptr()) };
        Ok(Py { ptr: self.ptr, interp: self.interp })
    }

    /// `repr(obj)`, which runs the object's `__repr__`.
    pub fn repr(&self, gil: Gil<'_>) -> Result<String, PyErr> {
        self.here(gil)?;
        // SAFETY: the GIL is held; the text is a new reference, which `Py` releases.
        let text = unsafe { Py::from_owned(ffi::PyObject_Repr(self.as_ptr()))? };
        // SAFETY: the GIL is held; the UTF-8 is copied while `text` is alive.
        unsafe { utf8(text.as_ptr()) }.map(str::to_owned).ok_or_else(|| unsafe {
            // SAFETY: utf8 returned None with an exception set.
            PyErr::already_set()
        })
    }

    /// `self == other`, which runs the objects' `__eq__`.
    pub fn eq(&self, other: &Py, gil: Gil<'_>) -> Result<bool, PyErr> {
        self.here(gil)?;
        if !other.belongs_to(self.interp) {
            return Err(elsewhere());
        }
        // SAFETY: the GIL is held; both objects are alive.
        match unsafe { ffi::PyObject_RichCompareBool(self.as_ptr(), other.as_ptr(), ffi::Py_EQ) } {
            // SAFETY: -1 means that it raised.
            -1 => Err(unsafe { PyErr::already_set() }),
            n => Ok(n == 1),
        }
    }

    /// A new `list` of these objects, in order.
    pub fn list<'a>(gil: Gil<'_>, items: impl IntoIterator<Item = &'a Py>) -> Result<Py, PyErr> {
        let here = gil.interp();
        let mut pointers = Vec::new();
        for item in items {
            if !item.belongs_to(here) {
                return Err(elsewhere());
            }
            if pointers.try_reserve(1).is_err() {
                // SAFETY: the GIL is held; PyErr_NoMemory sets MemoryError without allocating.
                return Err(unsafe {
                    ffi::PyErr_NoMemory();
                    PyErr::already_set()
                });
            }
            pointers.push(item.as_ptr());
        }
        // SAFETY: the GIL is held; the list has one empty place per item, each of which SetItem
        // fills with a new reference that it takes over. No Python code runs until it is full.
        unsafe {
            let list = Py::from_owned(ffi::PyList_New(pointers.len() as ffi::Py_ssize_t))?;
            for (i, &item) in pointers.iter().enumerate() {
                ffi::Py_INCREF(item);
                ffi::PyList_SetItem(list.as_ptr(), i as ffi::Py_ssize_t, item);
            }
            Ok(list)
        }
    }
}

#[cold]
#[inline(never)]
fn elsewhere() -> PyErr {
    PyErr::new::<exc::RuntimeError>("the object belongs to another interpreter")
}

impl Drop for Py {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: we own one reference to the object.
        unsafe { drop_ref(self.as_ptr(), self.interp) }
    }
}

/// Releases a reference that a `Py` owned, to an object of `interp`: only with the GIL of that
/// interpreter held, and never while the collector traverses.
///
/// # Safety
/// The reference is owned, and no one uses it after.
#[inline(never)]
unsafe fn drop_ref(obj: *mut ffi::PyObject, interp: *mut ffi::PyInterpreterState) {
    THREAD.with(|thread| {
        if thread.traversing.get() {
            return; // leaked: no count may change while the collector traverses
        }
        // SAFETY: PyInterpreterState_Get stops the process if this thread has no thread state
        // (it does not hold the GIL); past it, the GIL of `here` is held.
        let here = unsafe { ffi::PyInterpreterState_Get() };
        if here == interp {
            // SAFETY: the caller's promise; the object is of `here`.
            unsafe { release(thread, obj, here) };
        } // else leaked: another interpreter's object, which this one must not touch
    })
}

impl FromPy<'_> for Py {
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        let cell = Cell::new(ptr::null_mut());
        // SAFETY: the caller's promises; the cell starts empty.
        unsafe { Self::from_py_here(obj, Here::new(&cell)) }
    }

    #[inline(always)]
    unsafe fn from_py_here(obj: *mut ffi::PyObject, here: Here<'_>) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises: the GIL is held and `obj` is a valid object (not NULL:
        // `Py` is not optional; `Option<Py>` handles NULL before asking us) of the running
        // interpreter, which `here` knows.
        unsafe {
            ffi::Py_INCREF(obj);
            Ok(Py { ptr: NonNull::new_unchecked(obj), interp: here.get() })
        }
    }
}

// SAFETY: the reference the `Py` owned, handed over.
unsafe impl IntoPy for Py {
    fn into_py(self, gil: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        let cell = Cell::new(ptr::null_mut());
        // SAFETY: the cell starts empty.
        self.into_py_here(gil, unsafe { Here::new(&cell) })
    }

    #[inline(always)]
    fn into_py_here(self, _: Gil<'_>, here: Here<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        if !self.belongs_to(here.get()) {
            return Err(elsewhere());
        }
        Ok(ManuallyDrop::new(self).as_ptr())
    }
}

// ANCHOR: trashcan
/// How many releases may nest on a thread; a deeper one waits.
const TRASH_DEPTH: usize = 50;

/// What the crate keeps per thread. It has no drop glue, so reaching it never fails, even
/// while the thread ends; references that wait in it when a thread dies inside a release are
/// leaked, not released.
pub(crate) struct Thread {
    /// True while a class's `traverse` runs: the collector forbids changing counts then.
    pub(crate) traversing: Cell<bool>,
    /// How many releases (`Py` drops) are running on this thread.
    depth: Cell<usize>,
    /// The interpreter of the release at depth `TRASH_DEPTH`, whose references wait.
    interp: Cell<*mut ffi::PyInterpreterState>,
    /// The references waiting to be released.
    later: Cell<ManuallyDrop<Vec<*mut ffi::PyObject>>>,
}

thread_local! {
    pub(crate) static THREAD: Thread = const {
        Thread {
            traversing: Cell::new(false),
            depth: Cell::new(0),
            interp: Cell::new(ptr::null_mut()),
            later: Cell::new(ManuallyDrop::new(Vec::new())),
        }
    };
}

/// Releases a reference now, or, inside `TRASH_DEPTH` releases, lets it wait: the release at
/// that depth releases the waiting references one after the other once its own is done.
///
/// Releasing the last reference to a ring frees it, and freeing it drops its value, which
/// releases the items, one of which may be the last reference to another ring: a chain of a
/// million rings, each holding the next, would be a million nested calls, and overflow the C
/// stack. CPython's containers have the same problem and a trashcan for it
/// (`Py_TRASHCAN_BEGIN`, outside the limited API), which queues the object being freed; this
/// one queues the reference whose release would start the next deallocation, so that nothing
/// waits with a count of 0.
///
/// # Safety
/// The GIL of `interp`, the running interpreter, is held, and we own a reference to `obj`, an
/// object of `interp`.
unsafe fn release(thread: &Thread, obj: *mut ffi::PyObject, interp: *mut ffi::PyInterpreterState) {
    let depth = thread.depth.get();
    if depth < TRASH_DEPTH {
        thread.depth.set(depth + 1);
        let last = depth + 1 == TRASH_DEPTH;
        if last {
            thread.interp.set(interp);
        }
        // SAFETY: the caller's promise.
        unsafe { ffi::Py_DECREF(obj) };
        if last {
            // SAFETY: every waiting reference came in as `obj` did, in this interpreter.
            unsafe { empty(thread) };
        }
        thread.depth.set(depth);
    } else if interp == thread.interp.get() {
        let mut later = ManuallyDrop::into_inner(thread.later.take());
        let queued = later.try_reserve(1).is_ok();
        if queued {
            later.push(obj);
        }
        thread.later.set(ManuallyDrop::new(later));
        if !queued {
            // No memory to queue it: release it now, one call deeper.
            thread.depth.set(depth + 1);
            // SAFETY: the caller's promise.
            unsafe { ffi::Py_DECREF(obj) };
            thread.depth.set(depth);
        }
    } else {
        // Python code further down (a `__del__`) switched this thread to another interpreter,
        // whose references must not wait for this one's: start over for it, and put this
        // one's back after.
        let saved = (thread.depth.replace(0), thread.interp.get(), thread.later.take());
        // SAFETY: the caller's promise.
        unsafe { release(thread, obj, interp) };
        thread.depth.set(saved.0);
        thread.interp.set(saved.1);
        thread.later.set(saved.2);
    }
}

/// Releases the waiting references, and those that wait meanwhile, until none is left.
///
/// # Safety
/// The caller is the release at depth `TRASH_DEPTH`, with the GIL of the interpreter that every
/// waiting reference belongs to.
unsafe fn empty(thread: &Thread) {
    loop {
        let mut later = ManuallyDrop::into_inner(thread.later.take());
        let Some(obj) = later.pop() else {
            return; // `later` is dropped here, and its memory freed
        };
        thread.later.set(ManuallyDrop::new(later));
        // SAFETY: the caller's promise; the reference is ours since it was queued.
        unsafe { ffi::Py_DECREF(obj) };
    }
}
// ANCHOR_END: trashcan
// ANCHOR_END: all

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::process::Command;

    use pyo3_ffi as ffi;

    use super::Py;
    use crate::IntoPy;
    use crate::embed::{check, eval, extract, raised, with_gil};

    /// The test's own name, to run it again in a child process (the child aborts).
    const SELF: &str = "class::obj::tests::a_py_dropped_without_the_gil_stops_the_process";

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
        assert!(stderr.contains("Fatal Python error: PyInterpreterState_Get"), "{stderr}");
    }

    /// A `Py` kept in a thread-local outlives a switch of the thread to another interpreter
    /// (`_interpreters.run_string` does that): there, it refuses every use, and dropping it
    /// leaks its reference rather than release it under the wrong interpreter.
    #[test]
    fn a_py_of_another_interpreter_is_left_alone() {
        thread_local!(static KEPT: RefCell<Vec<Py>> = const { RefCell::new(Vec::new()) });
        with_gil(|gil| {
            let obj = eval("object()");
            KEPT.with_borrow_mut(|kept| {
                kept.extend((0..4).map(|_| extract::<Py>(obj).unwrap()));
            });
            // SAFETY: the GIL is held; eval's object is never released; the new interpreter
            // shares the GIL (Py_NewInterpreter), runs on this thread, and is ended before the
            // main one's thread state is made current again.
            unsafe {
                let before = ffi::Py_REFCNT(obj);
                let main = ffi::PyThreadState_Get();
                let other = ffi::Py_NewInterpreter();
                assert!(!other.is_null());
                let [a, b, c, d] = KEPT.take().try_into().ok().unwrap();
                let refused = "RuntimeError: the object belongs to another interpreter";
                assert_eq!(a.repr(gil).map_err(raised).unwrap_err(), refused);
                assert_eq!(a.clone_ref(gil).map(drop).map_err(raised).unwrap_err(), refused);
                assert_eq!(a.eq(&b, gil).map_err(raised).unwrap_err(), refused);
                assert_eq!(Py::list(gil, [&a]).map(drop).map_err(raised).unwrap_err(), refused);
                assert_eq!(b.into_py(gil).map_err(raised).unwrap_err(), refused);
                drop((a, c));
                ffi::Py_EndInterpreter(other);
                ffi::PyThreadState_Swap(main);
                // a, b and c were left alone; d, back in its own interpreter, is released.
                assert_eq!(ffi::Py_REFCNT(obj), before);
                drop(d);
                assert_eq!(ffi::Py_REFCNT(obj), before - 1);
            }
        });
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

    mod elsewhere {
        use std::cell::RefCell;

        use pyo3_ffi as ffi;

        use crate::embed::{eval, extract, fetch, with_gil};
        use crate::{Gil, Py};

        thread_local!(static ELSEWHERE: RefCell<Option<Py>> = const { RefCell::new(None) });

        pub struct Nothing;

        crate::class! {
            class taker.Taker for Nothing [] {
                fn __new__() -> Result<Nothing, crate::PyErr> {
                    Ok(Nothing)
                }
                /// Takes a reference to the thread-local's object through the method's `Gil`, and
                /// drops it (returning it would meet the result's own check).
                fn take(&self, gil: Gil<'_>) -> Result<bool, crate::PyErr> {
                    ELSEWHERE.with_borrow(|kept| kept.as_ref().unwrap().clone_ref(gil)).map(drop)?;
                    Ok(true)
                }
            }
        }

        crate::module! {
            mod taker {
                classes { Taker }
            }
        }

        /// `taker.Taker().take()` in the running interpreter, the module made and executed
        /// there as `check` does: a new reference, or NULL with the exception set.
        fn take() -> *mut ffi::PyObject {
            // SAFETY: the GIL is held (the callers run inside with_gil); every object made here
            // is released once.
            unsafe {
                let def = __pymodule_init().cast::<ffi::PyModuleDef>();
                let spec =
                    eval("__import__('importlib.machinery').machinery.ModuleSpec('taker', None)");
                let module = ffi::PyModule_FromDefAndSpec(def, spec);
                assert!(!module.is_null() && ffi::PyModule_ExecDef(module, def) == 0);
                let ty = ffi::PyObject_GetAttrString(module, c"Taker".as_ptr());
                let taker = ffi::PyObject_CallNoArgs(ty);
                let method = ffi::PyObject_GetAttrString(taker, c"take".as_ptr());
                let taken = ffi::PyObject_CallNoArgs(method);
                for obj in [method, taker, ty, module, spec] {
                    ffi::Py_DecRef(obj);
                }
                taken
            }
        }

        /// Inside a method, the `Gil` knows the running interpreter from the instance (no
        /// lookup): an object of another interpreter, kept in a thread-local, is refused there
        /// as everywhere else, and taken in its own interpreter.
        #[test]
        fn a_method_refuses_an_object_of_another_interpreter() {
            with_gil(|_| {
                ELSEWHERE.set(Some(extract::<Py>(eval("object()")).unwrap()));
                // SAFETY: the GIL is held; the new interpreter shares it (Py_NewInterpreter),
                // runs on this thread, and is ended before the main one's is made current again.
                unsafe {
                    let main = ffi::PyThreadState_Get();
                    let other = ffi::Py_NewInterpreter();
                    assert!(!other.is_null());
                    assert!(take().is_null());
                    assert_eq!(fetch(), "RuntimeError: the object belongs to another interpreter");
                    ffi::Py_EndInterpreter(other);
                    ffi::PyThreadState_Swap(main);
                    let taken = take();
                    assert_eq!(taken, ffi::Py_True(), "{}", fetch());
                    ffi::Py_DecRef(taken);
                }
                ELSEWHERE.take();
            });
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
