// ANCHOR: all
// ANCHOR: top
//! Chapter 13: `safe_ring.Ring`, chapter 10's `ring.Ring` made safe when threads call it with
//! no GIL to take turns: its borrow flag is an atomic `BorrowState` (the crate `borrow`), and
//! the module says so to CPython 3.13 and later (`Py_mod_gil`). Everything else is chapter 10's.
//!
//! "Attached" below means what "holds the GIL" means on a GIL build: the thread has a thread
//! state and may call the C API. On a free-threaded build other attached threads run meanwhile.

use std::cell::{Cell, UnsafeCell};
use std::collections::VecDeque;
use std::ffi::{CStr, c_int, c_uint, c_void};
use std::mem::{self, ManuallyDrop, MaybeUninit};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicIsize, Ordering};

use borrow::BorrowState;
use pyo3_ffi::*;
// ANCHOR_END: top

// ANCHOR: value
/// A strong reference to a Python object, released when dropped. Every `Owned` lives in a
/// `Ring`, which lives in a Python object, so the thread is attached whenever one is dropped.
struct Owned(NonNull<PyObject>);

impl Owned {
    /// A new strong reference to `obj`.
    ///
    /// # Safety
    /// `obj` is a valid object and the thread is attached.
    unsafe fn new(obj: NonNull<PyObject>) -> Owned {
        // SAFETY: the caller's promise.
        unsafe { Py_INCREF(obj.as_ptr()) };
        Owned(obj)
    }

    /// Hands the reference to the caller (to return it to Python).
    fn into_ptr(self) -> *mut PyObject {
        ManuallyDrop::new(self).0.as_ptr()
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: we own one reference, and the thread is attached (see above).
        unsafe { Py_DECREF(self.0.as_ptr()) }
    }
}

/// How many `Ring` values exist in the process: `ring.live()` reads it.
static LIVE: AtomicIsize = AtomicIsize::new(0);

/// The Rust value inside each instance.
struct Ring {
    capacity: usize,
    items: VecDeque<Owned>,
}

/// The most items any `VecDeque<Owned>` can hold: a larger capacity could never be filled.
const MAX_CAPACITY: usize = isize::MAX as usize / size_of::<Owned>();

impl Ring {
    fn new(capacity: usize) -> Ring {
        LIVE.fetch_add(1, Ordering::Relaxed);
        // No allocation up front: the items' memory grows as they come.
        Ring { capacity, items: VecDeque::new() }
    }

    /// Appends `item`; when full, evicts the oldest item and returns it. When memory for one
    /// more item cannot be had, hands `item` back and leaves the ring as it was.
    fn push(&mut self, item: Owned) -> Result<Option<Owned>, Owned> {
        if self.items.len() == self.capacity {
            let evicted = self.items.pop_front();
            self.items.push_back(item); // into the slot just freed: no allocation
            return Ok(evicted);
        }
        if self.items.try_reserve(1).is_err() {
            return Err(item);
        }
        self.items.push_back(item);
        Ok(None)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}
// ANCHOR_END: value

// ANCHOR: layout
/// An instance's memory: the object header first, as CPython expects, then our fields.
#[repr(C)]
struct RingObject {
    ob_base: PyObject,
    /// The list of weak references to this object, managed by CPython (`__weaklistoffset__`).
    weaklist: *mut PyObject,
    // ANCHOR: field
    /// Free, shared or exclusive: chapter 10's `Cell<isize>`, now one atomic (zeroed: free).
    borrow: BorrowState,
    // ANCHOR_END: field
    /// Whether `ring` holds a value: `tp_alloc` zeroes the memory (false), `ring_new` sets it,
    /// before `ring_new` returns the object: no other thread can see it before then.
    written: Cell<bool>,
    ring: UnsafeCell<MaybeUninit<Ring>>,
}

impl RingObject {
    /// A pointer to the value, if `ring_new` wrote one.
    ///
    /// # Safety
    /// `this` is a live instance and the thread attached; the caller decides, by the borrow flag,
    /// whether the pointer may be read or written.
    unsafe fn value(this: *mut RingObject) -> Option<*mut Ring> {
        // SAFETY: the caller's promise; `written` was zeroed by tp_alloc or set by ring_new. No
        // reference to the value is made here: a borrow of it may be live.
        let written = unsafe { (*this).written.get() };
        written.then(|| unsafe { UnsafeCell::raw_get(&raw const (*this).ring) }.cast())
    }
}
// ANCHOR_END: layout

// ANCHOR: borrow
/// A shared borrow of an instance's `Ring`, released when dropped.
struct Shared<'a> {
    _state: borrow::Shared<'a>,
    ring: &'a Ring,
}

/// The exclusive borrow.
struct Exclusive<'a> {
    _state: borrow::Exclusive<'a>,
    ring: &'a mut Ring,
}

/// Borrows the `Ring` of `obj` shared, or raises `RuntimeError` if it is borrowed exclusively,
/// by this thread or another (`ValueError` if it holds no value).
///
/// # Safety
/// `obj` is a live instance of `Ring` (or of a subclass) and the thread is attached for `'a`.
unsafe fn borrow<'a>(obj: *mut PyObject) -> Option<Shared<'a>> {
    let this = obj.cast::<RingObject>();
    // SAFETY: the caller's promise. References are made to the fields only, never to the
    // header, which CPython writes (reference counts).
    let (state, value) = unsafe { (&(*this).borrow, RingObject::value(this)) };
    let Some(ring) = value else { return never_written() };
    let Some(state) = state.share() else { return already_borrowed() };
    // SAFETY: the value was written, and the state says no `&mut Ring` exists, in any thread,
    // and none can be made until this is dropped.
    Some(Shared { _state: state, ring: unsafe { &*ring } })
}

/// Borrows the `Ring` of `obj` exclusively, or raises `RuntimeError` if it is borrowed at all,
/// by this thread or another (`ValueError` if it holds no value).
///
/// # Safety
/// As for `borrow`.
unsafe fn borrow_mut<'a>(obj: *mut PyObject) -> Option<Exclusive<'a>> {
    let this = obj.cast::<RingObject>();
    // SAFETY: as in `borrow`.
    let (state, value) = unsafe { (&(*this).borrow, RingObject::value(this)) };
    let Some(ring) = value else { return never_written() };
    let Some(state) = state.exclusive() else { return already_borrowed() };
    // SAFETY: the value was written, and the state says no other reference to it exists, in
    // any thread, and none can be made until this is dropped.
    Some(Exclusive { _state: state, ring: unsafe { &mut *ring } })
}

fn already_borrowed<T>() -> Option<T> {
    // SAFETY: called attached (from the borrow functions); the message is a C string.
    unsafe { PyErr_SetString(PyExc_RuntimeError, c"Ring is already borrowed".as_ptr()) };
    None
}

/// An instance that did not come from `ring_new` (made by `tp_alloc` alone, through the C API)
/// has no value to read.
fn never_written<T>() -> Option<T> {
    // SAFETY: as in `already_borrowed`.
    unsafe { PyErr_SetString(PyExc_ValueError, c"Ring was never initialised".as_ptr()) };
    None
}
// ANCHOR_END: borrow

// ANCHOR: new
/// `Ring(capacity)`: `tp_new`. Allocates the object with the type's `tp_alloc` and writes the
/// fields after the header. There is no `tp_init`: the value is written here, exactly once.
unsafe extern "C" fn ring_new(
    ty: *mut PyTypeObject,
    args: *mut PyObject,
    kwargs: *mut PyObject,
) -> *mut PyObject {
    // SAFETY: CPython calls tp_new attached, `ty` a subtype of Ring, `args` a tuple.
    let Some(capacity) = (unsafe { parse_capacity(ty, args, kwargs) }) else {
        return ptr::null_mut();
    };
    if !(1..=MAX_CAPACITY as Py_ssize_t).contains(&capacity) {
        // SAFETY: the thread is attached; one %zd, one Py_ssize_t.
        unsafe {
            if capacity < 1 {
                PyErr_Format(PyExc_ValueError, c"capacity must be >= 1, not %zd".as_ptr(), capacity)
            } else {
                let message = c"capacity %zd is more items than memory can hold";
                PyErr_Format(PyExc_MemoryError, message.as_ptr(), capacity)
            }
        };
        return ptr::null_mut();
    }
    // SAFETY: the thread is attached and `ty` is Ring or a Python subclass: both allocate with
    // PyType_GenericAlloc (inherited from object; a class statement cannot change tp_alloc), so
    // calling it directly saves looking the slot up with PyType_GetSlot.
    let obj = unsafe { PyType_GenericAlloc(ty, 0) };
    if obj.is_null() {
        return ptr::null_mut();
    }
    let this = obj.cast::<RingObject>();
    // SAFETY: tp_alloc returned zeroed memory of the type's basicsize, at least
    // size_of::<RingObject>(), with the header written (and a reference to `ty` taken): the
    // borrow flag is 0 (free) and `written` false. The object is already tracked by the GC, but
    // nothing between alloc and these writes can start a collection (no Python object is
    // allocated), so tp_traverse never sees a value half written.
    unsafe {
        let value = MaybeUninit::new(Ring::new(capacity as usize));
        (&raw mut (*this).ring).write(UnsafeCell::new(value));
        (&raw mut (*this).written).write(Cell::new(true));
    }
    obj
}

/// `capacity`, from `Ring(8)` quickly (one int, no keywords), or else from whatever was passed,
/// through `PyArg_ParseTupleAndKeywords`, which takes `capacity=` too and raises CPython's own
/// errors. The quick path matters to the cost of creating a ring (the chapter's last section).
///
/// # Safety
/// The thread is attached, `ty` is Ring or a subclass, `args` a tuple and `kwargs` a dict or NULL.
unsafe fn parse_capacity(
    ty: *mut PyTypeObject,
    args: *mut PyObject,
    kwargs: *mut PyObject,
) -> Option<Py_ssize_t> {
    // SAFETY: the caller's promise.
    unsafe {
        if kwargs.is_null() && PyTuple_Size(args) == 1 {
            let capacity = PyLong_AsSsize_t(PyTuple_GetItem(args, 0));
            if capacity != -1 || PyErr_Occurred().is_null() {
                return Some(capacity);
            }
            // Not an int, or too large: the parser below raises the error CPython would.
            PyErr_Clear();
        }
        parse_capacity_slowly(ty, args, kwargs)
    }
}

/// `parse_capacity` for anything but one int.
///
/// # Safety
/// As for `parse_capacity`.
#[cold]
unsafe fn parse_capacity_slowly(
    ty: *mut PyTypeObject,
    args: *mut PyObject,
    kwargs: *mut PyObject,
) -> Option<Py_ssize_t> {
    // SAFETY: the caller's promise.
    unsafe {
        let object_init = PyType_GetSlot(&raw mut PyBaseObject_Type, Py_tp_init);
        if PyType_GetSlot(ty, Py_tp_init) != object_init {
            // A subclass with an `__init__` of its own gets every argument there: take the
            // capacity, first or `capacity=`, and leave the rest to it, as `object` does.
            return capacity_for_init(args, kwargs);
        }
        let mut capacity: Py_ssize_t = 0;
        let mut keywords = [c"capacity".as_ptr().cast_mut(), ptr::null_mut()];
        // "n" writes one Py_ssize_t; `keywords` ends with NULL.
        let parsed = PyArg_ParseTupleAndKeywords(
            args,
            kwargs,
            c"n:Ring".as_ptr(),
            keywords.as_mut_ptr() as _, // *const *const c_char in a build for 3.13 or later
            &raw mut capacity,
        );
        if parsed == 0 { None } else { Some(capacity) }
    }
}

/// The capacity for a subclass whose `__init__` takes more arguments than `Ring(capacity)`.
///
/// # Safety
/// As for `parse_capacity`.
unsafe fn capacity_for_init(args: *mut PyObject, kwargs: *mut PyObject) -> Option<Py_ssize_t> {
    // SAFETY: the caller's promise; the item is held by a strong reference of our own while
    // `__index__` (Python code) runs, whatever that code does to the dict.
    unsafe {
        // ANCHOR: strong
        let item = if PyTuple_Size(args) > 0 {
            // A tuple never changes: the item it lends stays alive until our increment.
            Py_NewRef(PyTuple_GetItem(args, 0))
        } else if !kwargs.is_null() {
            // A dict can change under us in another thread between a borrowed lookup
            // (chapter 10's PyDict_GetItemString) and Py_INCREF: take a strong reference in
            // one call instead (PyMapping_GetItemString, in every stable ABI).
            let item = PyMapping_GetItemString(kwargs, c"capacity".as_ptr());
            if item.is_null() && PyErr_ExceptionMatches(PyExc_KeyError) != 0 {
                PyErr_Clear();
            }
            item
        } else {
            ptr::null_mut()
        };
        // ANCHOR_END: strong
        if item.is_null() {
            if PyErr_Occurred().is_null() {
                let message = c"Ring() missing required argument 'capacity' (pos 1)";
                PyErr_SetString(PyExc_TypeError, message.as_ptr());
            }
            return None;
        }
        let index = PyNumber_Index(item);
        Py_DECREF(item);
        if index.is_null() {
            return None;
        }
        let capacity = PyLong_AsSsize_t(index);
        Py_DECREF(index);
        if capacity == -1 && !PyErr_Occurred().is_null() { None } else { Some(capacity) }
    }
}
// ANCHOR_END: new

// ANCHOR: dealloc
/// `tp_dealloc`: the reference count reached zero. Untrack, clear the weak references, drop the
/// Rust value if `ring_new` wrote one (exactly once: nothing else drops it), free the memory,
/// and release the type: every instance of a heap type holds a reference to it (taken by
/// tp_alloc).
unsafe extern "C" fn ring_dealloc(obj: *mut PyObject) {
    let this = obj.cast::<RingObject>();
    // SAFETY: CPython calls this once, attached, for an instance whose count is 0.
    unsafe {
        let ty = Py_TYPE(obj);
        PyObject_GC_UnTrack(obj.cast());
        if !(*this).weaklist.is_null() {
            PyObject_ClearWeakRefs(obj);
        }
        // Dropping the items can run Python code (an item's __del__), but none of it can reach
        // this object any more: its count is zero, and it is out of the GC's lists.
        if let Some(ring) = RingObject::value(this) {
            drop_value(ring);
        }
        // tp_free, which for Ring and its Python subclasses is always PyObject_GC_Del.
        PyObject_GC_Del(obj.cast());
        Py_DECREF(ty.cast());
    }
}
// ANCHOR_END: dealloc

// ANCHOR: trashcan
/// How many drops of `Ring` values may be nested on a thread before the next one waits.
const TRASHCAN_DEPTH: usize = 50;

/// One thread's trashcan: how deeply drops of `Ring` values are nested, under which thread
/// state, and the values whose drop waits for the outermost one to return.
struct Trashcan {
    tstate: Cell<*mut PyThreadState>,
    depth: Cell<usize>,
    /// Empty whenever no drop runs on the thread. `ManuallyDrop` gives the thread-local no
    /// destructor: whatever a thread left there when it ended is leaked, never released
    /// while detached from the interpreter.
    later: ManuallyDrop<Cell<Vec<Ring>>>,
}

thread_local! {
    static TRASHCAN: Trashcan = const {
        Trashcan {
            tstate: Cell::new(ptr::null_mut()),
            depth: Cell::new(0),
            later: ManuallyDrop::new(Cell::new(Vec::new())),
        }
    };
}

/// Drops the value of a ring that is being freed. Its items can be rings whose drop drops
/// rings, so a chain of rings, each holding the next, would recurse once per link and overflow
/// the stack. Past `TRASHCAN_DEPTH` nested drops the value is moved out to wait in the thread's
/// trashcan instead, and the outermost drop empties it in a loop.
///
/// # Safety
/// The thread is attached; `ring` is a value nothing uses again (its object is being freed).
unsafe fn drop_value(ring: *mut Ring) {
    // SAFETY: the caller's promise.
    if unsafe { (*ring).items.is_empty() } {
        // Nothing in it can start a chain.
        return unsafe { ptr::drop_in_place(ring) };
    }
    // SAFETY: the thread is attached, so this thread has a thread state; the value is read out once
    // and not used again by the caller.
    let (tstate, ring) = unsafe { (PyThreadState_Get(), ptr::read(ring)) };
    TRASHCAN.with(|trashcan| {
        let depth = trashcan.depth.get();
        if depth > 0 && trashcan.tstate.get() == tstate {
            if depth < TRASHCAN_DEPTH {
                trashcan.depth.set(depth + 1);
                drop(ring);
                trashcan.depth.set(depth);
            } else {
                let mut later = trashcan.later.take();
                if later.try_reserve(1).is_ok() {
                    later.push(ring);
                    trashcan.later.set(later);
                } else {
                    trashcan.later.set(later);
                    drop(ring); // no memory to queue it: dropped here, one level deeper
                }
            }
            return;
        }
        // The outermost drop for this thread state. Another thread state's drops may be under
        // way on this thread (an item's __del__ ran code in another interpreter): their values
        // stay theirs, set aside until this returns.
        let outer =
            (trashcan.tstate.replace(tstate), trashcan.depth.replace(1), trashcan.later.take());
        drop(ring);
        loop {
            let mut later = trashcan.later.take();
            let next = later.pop();
            trashcan.later.set(later);
            let Some(ring) = next else { break };
            drop(ring);
        }
        trashcan.tstate.set(outer.0);
        trashcan.depth.set(outer.1);
        trashcan.later.set(outer.2); // frees the emptied queue's memory
    })
}
// ANCHOR_END: trashcan

// ANCHOR: gc
/// `tp_traverse`: tells the cycle GC every object this one holds a reference to: each item, and
/// the type (a heap type's instances must visit it, since CPython 3.9).
unsafe extern "C" fn ring_traverse(
    obj: *mut PyObject,
    visit: visitproc,
    arg: *mut c_void,
) -> c_int {
    let this = obj.cast::<RingObject>();
    // SAFETY: the GC calls this attached, for a live instance; on a free-threaded build with
    // every other thread stopped (Python/gc_free_threading.c stops the world first). No
    // exclusive borrow is live while a collection can start or a thread can be stopped (push
    // and clear run no Python code and reach no safe point while they hold one), so reading
    // the Ring through a shared reference is sound whatever the state says.
    if let Some(ring) = unsafe { RingObject::value(this) } {
        for item in unsafe { &(*ring).items } {
            // SAFETY: `visit` is the GC's callback, called with objects we hold references to.
            let found = unsafe { visit(item.0.as_ptr(), arg) };
            if found != 0 {
                return found;
            }
        }
    }
    // SAFETY: as above; an instance holds a reference to its type.
    unsafe { visit(Py_TYPE(obj).cast(), arg) }
}

/// `tp_clear`: the GC found this object in unreachable garbage and breaks the cycle by dropping
/// the items. The items are taken out first and released after the borrow ends, because
/// releasing them can run Python code.
unsafe extern "C" fn ring_clear(obj: *mut PyObject) -> c_int {
    // SAFETY: a live instance, attached. A borrowed ring is left as it is (the GC tolerates a
    // tp_clear that does not break the cycle; an object in use is not garbage anyway), and so
    // is one with no value.
    let taken = match unsafe { borrow_mut(obj) } {
        Some(ring) => mem::take(&mut ring.ring.items),
        None => {
            // SAFETY: attached; drop the error borrow_mut set.
            unsafe { PyErr_Clear() };
            return 0;
        }
    };
    drop(taken);
    0
}
// ANCHOR_END: gc

// ANCHOR: methods
/// `r.push(item)`, METH_FASTCALL: the arguments arrive as a C array, without a tuple.
unsafe extern "C" fn ring_push(
    obj: *mut PyObject,
    args: *mut *mut PyObject,
    nargs: Py_ssize_t,
) -> *mut PyObject {
    if nargs != 1 {
        // SAFETY: attached; one %zd, one Py_ssize_t.
        unsafe {
            PyErr_Format(
                PyExc_TypeError,
                c"Ring.push() takes exactly one argument (%zd given)".as_ptr(),
                nargs,
            )
        };
        return ptr::null_mut();
    }
    // SAFETY: `obj` is an instance (CPython checks the method's self type), attached; `args`
    // holds one valid object. Nothing below runs Python code while the borrow is held.
    unsafe {
        let Some(ring) = borrow_mut(obj) else { return ptr::null_mut() };
        let item = Owned::new(NonNull::new_unchecked(*args));
        let pushed = ring.ring.push(item);
        drop(ring);
        match pushed {
            Ok(Some(old)) => old.into_ptr(),
            Ok(None) => Py_NewRef(Py_None()),
            Err(item) => {
                drop(item); // the caller holds another reference: nothing is freed
                PyErr_NoMemory()
            }
        }
    }
}

/// `r.items()`: a new list, oldest to newest.
unsafe extern "C" fn ring_items(obj: *mut PyObject, _unused: *mut PyObject) -> *mut PyObject {
    // SAFETY: a live instance, attached.
    unsafe { items_list(obj) }
}

/// # Safety
/// `obj` is a live instance and the thread is attached.
unsafe fn items_list(obj: *mut PyObject) -> *mut PyObject {
    // SAFETY: the caller's promise. The shared borrow is held across PyList_New, which can run
    // a collection and so Python code (a finalizer): a push from there raises instead of
    // changing the items under us.
    unsafe {
        let Some(ring) = borrow(obj) else { return ptr::null_mut() };
        let list = PyList_New(ring.ring.items.len() as Py_ssize_t);
        if list.is_null() {
            return ptr::null_mut();
        }
        for (i, item) in ring.ring.items.iter().enumerate() {
            // PyList_SetItem steals the new reference; it cannot fail for an index in range.
            PyList_SetItem(list, i as Py_ssize_t, Py_NewRef(item.0.as_ptr()));
        }
        list
    }
}

/// `r.clear()`: drops every item, after the borrow ends (dropping can run Python code).
unsafe extern "C" fn ring_clear_method(obj: *mut PyObject, _: *mut PyObject) -> *mut PyObject {
    // SAFETY: a live instance, attached.
    unsafe {
        let taken = match borrow_mut(obj) {
            Some(ring) => mem::take(&mut ring.ring.items),
            None => return ptr::null_mut(),
        };
        drop(taken);
        Py_NewRef(Py_None())
    }
}

/// `r.capacity`: the getter of a read-only property (no setter: assigning raises).
unsafe extern "C" fn ring_capacity(obj: *mut PyObject, _closure: *mut c_void) -> *mut PyObject {
    // SAFETY: a live instance, attached.
    unsafe {
        let Some(ring) = borrow(obj) else { return ptr::null_mut() };
        PyLong_FromSsize_t(ring.ring.capacity as Py_ssize_t)
    }
}

/// `len(r)`: `sq_length`.
unsafe extern "C" fn ring_len(obj: *mut PyObject) -> Py_ssize_t {
    // SAFETY: a live instance, attached.
    match unsafe { borrow(obj) } {
        Some(ring) => ring.ring.items.len() as Py_ssize_t,
        None => -1,
    }
}
// ANCHOR_END: methods

// ANCHOR: repr
/// `repr(r)`: `Ring(3, [1, 2, 3])`, with the name of the object's own type (a subclass's). A
/// ring met again inside its own repr (it holds itself) is `[...]`, as in `deque`'s.
unsafe extern "C" fn ring_repr(obj: *mut PyObject) -> *mut PyObject {
    // SAFETY: a live instance, attached. Py_ReprEnter returns 1 for an object whose repr is
    // being made on this thread already, -1 with an exception set.
    unsafe {
        match Py_ReprEnter(obj) {
            0 => {}
            1 => return PyUnicode_FromString(c"[...]".as_ptr()),
            _ => return ptr::null_mut(),
        }
        let repr = repr_once(obj);
        Py_ReprLeave(obj);
        repr
    }
}

/// # Safety
/// `obj` is a live instance and the thread is attached.
unsafe fn repr_once(obj: *mut PyObject) -> *mut PyObject {
    // SAFETY: the caller's promise. The items' reprs run Python code: they are made from a new
    // list, after the borrow has ended.
    unsafe {
        let capacity = match borrow(obj) {
            Some(ring) => ring.ring.capacity as Py_ssize_t,
            None => return ptr::null_mut(),
        };
        let list = items_list(obj);
        if list.is_null() {
            return ptr::null_mut();
        }
        // PyType_GetName is stable only from 3.11: read __name__ instead. A metaclass can make
        // that anything, and %U reads a str's memory: check it is one.
        let name = PyObject_GetAttrString(Py_TYPE(obj).cast(), c"__name__".as_ptr());
        let repr = if name.is_null() {
            ptr::null_mut()
        } else if PyUnicode_Check(name) == 0 {
            PyErr_SetString(PyExc_TypeError, c"the type's __name__ is not a str".as_ptr());
            ptr::null_mut()
        } else {
            PyUnicode_FromFormat(c"%U(%zd, %R)".as_ptr(), name, capacity, list)
        };
        Py_XDECREF(name);
        Py_DECREF(list);
        repr
    }
}
// ANCHOR_END: repr

// ANCHOR: richcompare
/// `r == other` and `r != other`: equal when `other` is a Ring (of this interpreter's type, or
/// of a subclass) with the same capacity and equal items. Anything else is NotImplemented.
/// There is no `tp_hash`: a type that defines `tp_richcompare` and no `tp_hash` gets
/// `__hash__ = None` from CPython, which makes it unhashable, like `list`.
unsafe extern "C" fn ring_richcompare(
    obj: *mut PyObject,
    other: *mut PyObject,
    op: c_int,
) -> *mut PyObject {
    // SAFETY: CPython calls tp_richcompare with `obj` an instance of this type (or of a
    // subclass), `other` a valid object, and the attached.
    unsafe {
        let ring_type = ring_type_of(Py_TYPE(obj));
        if (op != Py_EQ && op != Py_NE) || PyObject_TypeCheck(other, ring_type) == 0 {
            return Py_NewRef(Py_NotImplemented());
        }
        let equal = match ring_eq(obj, other) {
            Some(equal) => equal,
            None => return ptr::null_mut(),
        };
        Py_NewRef(if equal == (op == Py_EQ) { Py_True() } else { Py_False() })
    }
}

/// Compares two rings item by item. Each item's `__eq__` is Python code, run while both rings
/// are borrowed shared: if it pushes to or clears either ring, that call raises `RuntimeError`
/// instead of changing the items this loop is reading.
///
/// # Safety
/// Both are live instances and the thread is attached.
unsafe fn ring_eq(a: *mut PyObject, b: *mut PyObject) -> Option<bool> {
    // SAFETY: the caller's promise.
    unsafe {
        let left = borrow(a)?;
        let right = borrow(b)?;
        if left.ring.capacity != right.ring.capacity
            || left.ring.items.len() != right.ring.items.len()
        {
            return Some(false);
        }
        for (x, y) in left.ring.items.iter().zip(&right.ring.items) {
            match PyObject_RichCompareBool(x.0.as_ptr(), y.0.as_ptr(), Py_EQ) {
                1 => {}
                0 => return Some(false),
                _ => return None,
            }
        }
        Some(true)
    }
}
// ANCHOR_END: richcompare

// ANCHOR: defining
/// The `Ring` type that `ty` is or derives from. A slot function is given no defining class,
/// and `PyType_GetModuleByDef` (which finds it) is in the stable ABI only from 3.13, so on the
/// 3.10 baseline we walk the base types ourselves, recognising ours by its `tp_dealloc`: a
/// Python subclass has CPython's own. The type found is this interpreter's.
///
/// # Safety
/// `ty` is `Ring` or a subclass of it, and the thread is attached.
unsafe fn ring_type_of(mut ty: *mut PyTypeObject) -> *mut PyTypeObject {
    let ours = ring_dealloc as destructor as *mut c_void;
    // SAFETY: the caller's promise: the walk ends at Ring, before it could reach NULL.
    unsafe {
        while PyType_GetSlot(ty, Py_tp_dealloc) != ours {
            ty = PyType_GetSlot(ty, Py_tp_base).cast();
        }
    }
    ty
}
// ANCHOR_END: defining

// ANCHOR: spec
static mut METHODS: [PyMethodDef; 4] = [
    PyMethodDef {
        ml_name: c"push".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunctionFast: ring_push },
        ml_flags: METH_FASTCALL,
        ml_doc: c"Append an item; when full, evict the oldest and return it.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"items".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: ring_items },
        ml_flags: METH_NOARGS,
        ml_doc: c"A new list of the items, oldest first.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"clear".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: ring_clear_method },
        ml_flags: METH_NOARGS,
        ml_doc: c"Drop every item.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

static mut GETSET: [PyGetSetDef; 2] = [
    PyGetSetDef {
        name: c"capacity".as_ptr(),
        get: Some(ring_capacity),
        set: None,
        doc: c"How many items the ring keeps.".as_ptr(),
        closure: ptr::null_mut(),
    },
    PyGetSetDef {
        name: ptr::null(),
        get: None,
        set: None,
        doc: ptr::null(),
        closure: ptr::null_mut(),
    },
];

/// In the limited API a type says where its weak-reference list is with this special member.
static mut MEMBERS: [PyMemberDef; 2] = [
    PyMemberDef {
        name: c"__weaklistoffset__".as_ptr(),
        type_code: Py_T_PYSSIZET,
        offset: mem::offset_of!(RingObject, weaklist) as Py_ssize_t,
        flags: Py_READONLY,
        doc: ptr::null(),
    },
    PyMemberDef { name: ptr::null(), type_code: 0, offset: 0, flags: 0, doc: ptr::null() },
];

const fn slot(slot: c_int, pfunc: *mut c_void) -> PyType_Slot {
    PyType_Slot { slot, pfunc }
}

static mut SLOTS: [PyType_Slot; 12] = [
    slot(Py_tp_doc, c"Ring(capacity): keeps the last `capacity` items pushed.".as_ptr() as _),
    slot(Py_tp_new, ring_new as newfunc as _),
    slot(Py_tp_dealloc, ring_dealloc as destructor as _),
    slot(Py_tp_traverse, ring_traverse as traverseproc as _),
    slot(Py_tp_clear, ring_clear as inquiry as _),
    slot(Py_tp_methods, &raw mut METHODS as _),
    slot(Py_tp_getset, &raw mut GETSET as _),
    slot(Py_tp_members, &raw mut MEMBERS as _),
    slot(Py_tp_repr, ring_repr as reprfunc as _),
    slot(Py_tp_richcompare, ring_richcompare as richcmpfunc as _),
    slot(Py_sq_length, ring_len as lenfunc as _),
    slot(0, ptr::null_mut()),
];

static mut SPEC: PyType_Spec = PyType_Spec {
    name: c"safe_ring.Ring".as_ptr(),
    basicsize: size_of::<RingObject>() as c_int,
    itemsize: 0,
    flags: (Py_TPFLAGS_DEFAULT
        | Py_TPFLAGS_HAVE_GC
        | Py_TPFLAGS_BASETYPE
        | Py_TPFLAGS_IMMUTABLETYPE) as c_uint,
    slots: &raw mut SLOTS as _,
};
// ANCHOR_END: spec

// ANCHOR: module
/// `Py_mod_exec`: creates the type and adds it to the module, which keeps it.
unsafe extern "C" fn ring_exec(module: *mut PyObject) -> c_int {
    // SAFETY: CPython runs the exec slot attached, once per module object.
    unsafe {
        let ty = PyType_FromModuleAndSpec(module, &raw mut SPEC, ptr::null_mut());
        if ty.is_null() {
            return -1;
        }
        let added = PyModule_AddType(module, ty.cast()); // takes a reference of its own
        Py_DECREF(ty);
        added
    }
}

/// `ring.live()`: how many Ring values exist (made and not yet dropped), in the process.
unsafe extern "C" fn live(_module: *mut PyObject, _: *mut PyObject) -> *mut PyObject {
    // SAFETY: attached (CPython calls module functions attached).
    unsafe { PyLong_FromSsize_t(LIVE.load(Ordering::Relaxed)) }
}

static mut MODULE_METHODS: [PyMethodDef; 2] = [
    PyMethodDef {
        ml_name: c"live".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: live },
        ml_flags: METH_NOARGS,
        ml_doc: c"How many Ring values exist in the process.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

const END: PyModuleDef_Slot = PyModuleDef_Slot { slot: 0, value: ptr::null_mut() };
const EXEC: PyModuleDef_Slot = PyModuleDef_Slot { slot: Py_mod_exec, value: ring_exec as _ };
/// `Py_mod_multiple_interpreters` = `Py_MOD_PER_INTERPRETER_GIL_SUPPORTED` (2): nothing is
/// shared between interpreters but `LIVE`, an atomic. CPython 3.10 and 3.11 refuse a slot they
/// do not know, so they get a table without it.
const MULTI: PyModuleDef_Slot =
    PyModuleDef_Slot { slot: Py_mod_multiple_interpreters, value: 2 as *mut c_void };
// ANCHOR: gil_slot
/// `Py_mod_gil` = `Py_MOD_GIL_NOT_USED` (1): the module is safe to import with the GIL
/// disabled. pyo3-ffi defines the value only for a 3.13 build, and this one is for 3.10's
/// stable ABI: it is written here. CPython 3.12 and older refuse the slot, so only 3.13 and
/// later get it.
#[allow(clippy::manual_dangling_ptr, reason = "a number in a pointer's place, as in C")]
const NO_GIL: PyModuleDef_Slot = PyModuleDef_Slot { slot: Py_mod_gil, value: 1 as *mut c_void };
static mut SLOTS_310: [PyModuleDef_Slot; 2] = [EXEC, END];
static mut SLOTS_312: [PyModuleDef_Slot; 3] = [EXEC, MULTI, END];
static mut SLOTS_313: [PyModuleDef_Slot; 4] = [EXEC, MULTI, NO_GIL, END];
// ANCHOR_END: gil_slot

const fn module_def(slots: *mut PyModuleDef_Slot) -> PyModuleDef {
    PyModuleDef {
        m_base: PyModuleDef_HEAD_INIT,
        m_name: c"safe_ring".as_ptr(),
        m_doc: c"Chapter 10's Ring, safe without a GIL.".as_ptr(),
        m_size: 0,
        m_methods: &raw mut MODULE_METHODS as _,
        m_slots: slots,
        m_traverse: None,
        m_clear: None,
        m_free: None,
    }
}

static mut MODULE_310: PyModuleDef = module_def(&raw mut SLOTS_310 as _);
static mut MODULE_312: PyModuleDef = module_def(&raw mut SLOTS_312 as _);
static mut MODULE_313: PyModuleDef = module_def(&raw mut SLOTS_313 as _);

/// The module's entry point: the definition with the slots this CPython knows.
///
/// # Safety
/// Only CPython calls it, attached, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyInit_<module>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_safe_ring() -> *mut PyObject {
    // SAFETY: CPython calls PyInit_ attached; the definitions are static.
    unsafe {
        let def = match minor_version() {
            ..12 => &raw mut MODULE_310,
            12 => &raw mut MODULE_312,
            _ => &raw mut MODULE_313,
        };
        PyModuleDef_Init(def)
    }
}

/// The running CPython's minor version, from `Py_GetVersion()` ("3.12.1 (main, ...").
/// (`Py_Version` would be simpler, but is stable only from 3.11.)
fn minor_version() -> u32 {
    // SAFETY: Py_GetVersion returns a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr(Py_GetVersion()) }.to_bytes();
    let minor = text.split(|&b| b == b'.').nth(1).unwrap_or_default();
    minor.iter().take_while(|b| b.is_ascii_digit()).fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}
// ANCHOR_END: module
// ANCHOR_END: all
