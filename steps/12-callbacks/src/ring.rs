// ANCHOR: all
// ANCHOR: top
//! `callbacks.Ring`, a small ring buffer of Python objects, and the iterator it hands out.

use std::cell::{Cell, UnsafeCell};
use std::collections::VecDeque;
use std::ffi::{c_int, c_uint, c_ulong, c_void};
use std::mem::{self, ManuallyDrop};
use std::ptr;
use std::sync::atomic::{AtomicIsize, Ordering};

use pyo3_ffi::*;

use crate::{Kind, Raised, entry, raise, state_of};
// ANCHOR_END: top

// ANCHOR: value
/// How many `Ring` values exist in the process: `callbacks.live()` reads it.
static LIVE: AtomicIsize = AtomicIsize::new(0);

/// The Rust value inside each `Ring`: strong references, oldest first, and a count of the
/// changes made to them, which the iterators compare with the count they started from. Every
/// change to `items` adds one to it: an iterator trusts its pointers into their buffer only
/// while the count is the one it started from.
struct Ring {
    capacity: usize,
    items: VecDeque<*mut PyObject>,
    changes: u64,
}

impl Drop for Ring {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
        for item in mem::take(&mut self.items) {
            // SAFETY: each item is a strong reference the ring owns; a Ring is dropped only by
            // its object's dealloc, with the GIL held. Nothing can reach this Ring any more.
            unsafe { Py_DECREF(item) };
        }
    }
}

/// An instance's memory: the header first, then the value. There is no borrow flag (chapter
/// 10 has one): no reference to the value lives across a call into Python code, and only
/// one thread at a time holds the GIL, so no two references to it ever overlap.
#[repr(C)]
struct RingObject {
    ob_base: PyObject,
    ring: UnsafeCell<Ring>,
}

/// The value of `obj`, for a moment: the caller drops the reference before anything it does
/// can run Python code (releasing an object, calling one).
///
/// # Safety
/// `obj` is a live `Ring` (the type cannot be subclassed, and `ring_new` writes the value
/// before anything can see the object), the GIL is held, and no other reference to the value
/// is live.
unsafe fn ring<'a>(obj: *mut PyObject) -> &'a mut Ring {
    // SAFETY: the caller's promise.
    unsafe { &mut *UnsafeCell::raw_get(&raw const (*obj.cast::<RingObject>()).ring) }
}
// ANCHOR_END: value

// ANCHOR: new
/// `Ring(capacity)`: `tp_new`.
unsafe extern "C" fn ring_new(
    ty: *mut PyTypeObject,
    args: *mut PyObject,
    kwargs: *mut PyObject,
) -> *mut PyObject {
    entry(|| {
        let mut capacity: Py_ssize_t = 0;
        let mut keywords = [c"capacity".as_ptr().cast_mut(), ptr::null_mut()];
        // SAFETY: tp_new is called with the GIL held, `args` a tuple and `kwargs` a dict or
        // NULL; "n" writes one Py_ssize_t, and `keywords` ends with NULL.
        let parsed = unsafe {
            PyArg_ParseTupleAndKeywords(
                args,
                kwargs,
                c"n:Ring".as_ptr(),
                keywords.as_mut_ptr(),
                &raw mut capacity,
            )
        };
        if parsed == 0 {
            return Err(Raised);
        }
        if !(1..=1 << 20).contains(&capacity) {
            return Err(raise(Kind::Value, "capacity must be in 1..=1048576"));
        }
        // SAFETY: GIL held; `ty` is Ring (it has no subclasses), allocated by the generic
        // allocator, which zeroes the memory and tracks the object for the GC.
        let obj = unsafe { PyType_GenericAlloc(ty, 0) };
        if obj.is_null() {
            return Err(Raised);
        }
        LIVE.fetch_add(1, Ordering::Relaxed);
        let value = Ring { capacity: capacity as usize, items: VecDeque::new(), changes: 0 };
        // SAFETY: the memory is ours and large enough; nothing between the allocation and
        // this write can start a collection (no Python object is allocated).
        unsafe { (&raw mut (*obj.cast::<RingObject>()).ring).write(UnsafeCell::new(value)) };
        Ok(obj)
    })
}
// ANCHOR_END: new

// ANCHOR: methods
/// `r.push(item)`: appends `item`; when the ring is full, evicts the oldest and returns it.
unsafe extern "C" fn ring_push(obj: *mut PyObject, item: *mut PyObject) -> *mut PyObject {
    entry(|| {
        // SAFETY: METH_O on a Ring: `obj` is a live instance, the GIL is held; the value's
        // reference ends before anything here can run Python code.
        unsafe {
            let ring = ring(obj);
            // When full, the evicted item's slot takes the new one: no allocation.
            let evicted = if ring.items.len() == ring.capacity {
                ring.items.pop_front()
            } else if ring.items.try_reserve(1).is_err() {
                return Err(raise(Kind::Memory, "Ring.push(): no memory"));
            } else {
                None
            };
            ring.changes += 1;
            ring.items.push_back(Py_NewRef(item));
            // The evicted reference goes to the caller: no release, so no Python code ran.
            Ok(evicted.unwrap_or_else(|| Py_NewRef(Py_None())))
        }
    })
}

/// `r.clear()`: drops every item, after the value's reference has ended (a release can run
/// Python code: an item's `__del__`, which may push to this very ring).
unsafe extern "C" fn ring_clear_method(obj: *mut PyObject, _: *mut PyObject) -> *mut PyObject {
    entry(|| {
        // SAFETY: a live instance, GIL held.
        let taken = unsafe {
            let ring = ring(obj);
            ring.changes += 1;
            mem::take(&mut ring.items)
        };
        for item in taken {
            // SAFETY: each was a strong reference the ring owned.
            unsafe { Py_DECREF(item) };
        }
        // SAFETY: GIL held.
        Ok(unsafe { Py_NewRef(Py_None()) })
    })
}

/// `len(r)`: `sq_length`. Nothing here can panic.
unsafe extern "C" fn ring_len(obj: *mut PyObject) -> Py_ssize_t {
    // SAFETY: a live instance, GIL held.
    unsafe { ring(obj) }.items.len() as Py_ssize_t
}

/// `callbacks.live()`: how many Ring values exist (made and not yet dropped), in the process.
pub unsafe extern "C" fn live(_module: *mut PyObject, _: *mut PyObject) -> *mut PyObject {
    // SAFETY: GIL held (CPython calls module functions with it).
    unsafe { PyLong_FromSsize_t(LIVE.load(Ordering::Relaxed)) }
}
// ANCHOR_END: methods

// ANCHOR: gc
/// `tp_traverse`: every item, and the type. Runs no Python code and cannot panic.
unsafe extern "C" fn ring_traverse(
    obj: *mut PyObject,
    visit: visitproc,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: the GC calls this with the GIL held, for a live instance; no other reference to
    // the value is live while a collection runs (see `ring`).
    unsafe {
        for &item in &ring(obj).items {
            let found = visit(item, arg);
            if found != 0 {
                return found;
            }
        }
        visit(Py_TYPE(obj).cast(), arg)
    }
}

/// `tp_clear`: breaks a cycle by dropping the items (taken out first: see `ring_clear_method`).
unsafe extern "C" fn ring_clear(obj: *mut PyObject) -> c_int {
    // SAFETY: a live instance, GIL held.
    let taken = unsafe {
        let ring = ring(obj);
        ring.changes += 1;
        mem::take(&mut ring.items)
    };
    for item in taken {
        // SAFETY: each was a strong reference the ring owned.
        unsafe { Py_DECREF(item) };
    }
    0
}

/// `tp_dealloc`: untrack, drop the value (through the trashcan), free, release the type.
unsafe extern "C" fn ring_dealloc(obj: *mut PyObject) {
    // SAFETY: CPython calls this once, with the GIL held, for an instance whose count is 0;
    // `ring_new` wrote the value before the object could be seen.
    unsafe {
        let ty = Py_TYPE(obj);
        PyObject_GC_UnTrack(obj.cast());
        let value = ptr::read(UnsafeCell::raw_get(&raw const (*obj.cast::<RingObject>()).ring));
        drop_value(value);
        PyObject_GC_Del(obj.cast());
        Py_DECREF(ty.cast());
    }
}
// ANCHOR_END: gc

// ANCHOR: trashcan
/// Nested drops of `Ring` values on a thread before the next one waits (chapter 10's trashcan,
/// which a chain of rings, each holding the next, needs before CPython 3.14).
const TRASHCAN_DEPTH: usize = 50;

struct Trashcan {
    tstate: Cell<*mut PyThreadState>,
    depth: Cell<usize>,
    /// No destructor: whatever a thread left here when it ended is leaked, never released
    /// without the GIL.
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

/// Drops the value of a ring being freed, waiting in the thread's trashcan past
/// `TRASHCAN_DEPTH` nested drops; the outermost drop empties the trashcan in a loop.
///
/// # Safety
/// The GIL is held.
unsafe fn drop_value(ring: Ring) {
    if ring.items.is_empty() {
        return drop(ring);
    }
    // SAFETY: the GIL is held, so this thread has a thread state.
    let tstate = unsafe { PyThreadState_Get() };
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
        trashcan.later.set(outer.2);
    })
}
// ANCHOR_END: trashcan

// ANCHOR: iter
/// An iterator over a ring: a strong reference to the ring (NULL once exhausted), the ring's
/// count of changes when the iterator was made, and a cursor into the ring's items. A
/// `VecDeque` keeps its items in one buffer, in at most two runs (`as_slices`): `next..end` is
/// what is left of the run being read, `rest..rest_end` the run after it. The pointers are
/// read only while the ring's count is the iterator's, so while the buffer is as it was.
#[repr(C)]
struct RingIterObject {
    ob_base: PyObject,
    ring: *mut PyObject,
    changes: u64,
    next: *const *mut PyObject,
    end: *const *mut PyObject,
    rest: *const *mut PyObject,
    rest_end: *const *mut PyObject,
}

/// `iter(r)`: `tp_iter`. A new iterator, which keeps the ring alive.
unsafe extern "C" fn ring_iter(obj: *mut PyObject) -> *mut PyObject {
    entry(|| {
        // SAFETY: a live instance, GIL held; the iterator type is this module's.
        unsafe {
            let ty = (*state_of(Py_TYPE(obj))).ring_iter;
            if ty.is_null() {
                return Err(raise(Kind::Runtime, "the callbacks module was cleared"));
            }
            let it = PyType_GenericAlloc(ty.cast(), 0);
            if it.is_null() {
                return Err(Raised);
            }
            let this = it.cast::<RingIterObject>();
            let ring = ring(obj);
            let (first, second) = ring.items.as_slices();
            (*this).ring = Py_NewRef(obj);
            (*this).changes = ring.changes;
            (*this).next = first.as_ptr_range().start;
            (*this).end = first.as_ptr_range().end;
            (*this).rest = second.as_ptr_range().start;
            (*this).rest_end = second.as_ptr_range().end;
            Ok(it)
        }
    })
}

/// `next(it)`: `tp_iternext`. NULL with no exception set is the end (CPython raises
/// StopIteration for us); NULL with one set is an error. The common step, an item inside the
/// run and an unchanged ring, is done here; nothing in it can panic, so it needs no `entry`.
unsafe extern "C" fn ring_iter_next(it: *mut PyObject) -> *mut PyObject {
    let this = it.cast::<RingIterObject>();
    // SAFETY: CPython calls tp_iternext with the GIL held, for a live iterator. A cursor that is
    // not at its end has a ring (`ring_iter_end` empties it when the ring goes), whose buffer is
    // as it was when the cursor was made if the count of changes is the same.
    unsafe {
        let next = (*this).next;
        if next != (*this).end && ring((*this).ring).changes == (*this).changes {
            (*this).next = next.add(1);
            return Py_NewRef(*next);
        }
        ring_iter_turn(it)
    }
}

/// The other steps of `next`: a changed ring, the end of the first run, the end of the items.
/// (`extern "C"` like the slot, so that the slot can jump to it rather than call it.)
///
/// # Safety
/// As for `ring_iter_next`.
#[cold]
#[inline(never)]
unsafe extern "C" fn ring_iter_turn(it: *mut PyObject) -> *mut PyObject {
    entry(|| {
        let this = it.cast::<RingIterObject>();
        // SAFETY: a live iterator, GIL held; the ring it holds is a live Ring.
        unsafe {
            let obj = (*this).ring;
            if obj.is_null() {
                return Ok(ptr::null_mut()); // exhausted: stays exhausted
            }
            if ring(obj).changes != (*this).changes {
                return Err(raise(Kind::Runtime, "Ring changed during iteration"));
            }
            let next = (*this).rest;
            if next != (*this).rest_end {
                (*this).next = next.add(1);
                (*this).end = (*this).rest_end;
                (*this).rest = (*this).rest_end;
                return Ok(Py_NewRef(*next));
            }
            // The end: let the ring go now, as list's iterator does.
            Py_DECREF(ring_iter_end(this));
            Ok(ptr::null_mut())
        }
    })
}

/// Empties the iterator: no ring, an empty cursor. Returns the ring's reference (or NULL),
/// for the caller to release once the fields are written (a release can run Python code).
///
/// # Safety
/// The GIL is held and `this` is a live iterator.
unsafe fn ring_iter_end(this: *mut RingIterObject) -> *mut PyObject {
    // SAFETY: the caller's promise.
    unsafe {
        (*this).next = ptr::null();
        (*this).end = ptr::null();
        (*this).rest = ptr::null();
        (*this).rest_end = ptr::null();
        mem::replace(&mut (*this).ring, ptr::null_mut())
    }
}

unsafe extern "C" fn ring_iter_traverse(
    it: *mut PyObject,
    visit: visitproc,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: the GC calls this with the GIL held, for a live iterator.
    unsafe {
        let ring = (*it.cast::<RingIterObject>()).ring;
        if !ring.is_null() {
            let found = visit(ring, arg);
            if found != 0 {
                return found;
            }
        }
        visit(Py_TYPE(it).cast(), arg)
    }
}

unsafe extern "C" fn ring_iter_clear(it: *mut PyObject) -> c_int {
    // SAFETY: GIL held; the fields are emptied before the release, which can run Python code.
    unsafe { Py_XDECREF(ring_iter_end(it.cast())) };
    0
}

unsafe extern "C" fn ring_iter_dealloc(it: *mut PyObject) {
    // SAFETY: CPython calls this once, with the GIL held, for an iterator whose count is 0.
    unsafe {
        let ty = Py_TYPE(it);
        PyObject_GC_UnTrack(it.cast());
        ring_iter_clear(it);
        PyObject_GC_Del(it.cast());
        Py_DECREF(ty.cast());
    }
}
// ANCHOR_END: iter

// ANCHOR: spec
static mut METHODS: [PyMethodDef; 3] = [
    PyMethodDef {
        ml_name: c"push".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: ring_push },
        ml_flags: METH_O,
        ml_doc: c"Append an item; when full, evict the oldest and return it.".as_ptr(),
    },
    PyMethodDef {
        ml_name: c"clear".as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunction: ring_clear_method },
        ml_flags: METH_NOARGS,
        ml_doc: c"Drop every item.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

const fn slot(slot: c_int, pfunc: *mut c_void) -> PyType_Slot {
    PyType_Slot { slot, pfunc }
}

static mut SLOTS: [PyType_Slot; 9] = [
    slot(Py_tp_doc, c"Ring(capacity): keeps the last `capacity` items pushed.".as_ptr() as _),
    slot(Py_tp_new, ring_new as newfunc as _),
    slot(Py_tp_dealloc, ring_dealloc as destructor as _),
    slot(Py_tp_traverse, ring_traverse as traverseproc as _),
    slot(Py_tp_clear, ring_clear as inquiry as _),
    slot(Py_tp_methods, &raw mut METHODS as _),
    slot(Py_tp_iter, ring_iter as getiterfunc as _),
    slot(Py_sq_length, ring_len as lenfunc as _),
    slot(0, ptr::null_mut()),
];

const FLAGS: c_ulong = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE;

/// No `Py_TPFLAGS_BASETYPE`: a subclass could not find this module's iterator type.
pub static mut SPEC: PyType_Spec = PyType_Spec {
    name: c"callbacks.Ring".as_ptr(),
    basicsize: size_of::<RingObject>() as c_int,
    itemsize: 0,
    flags: FLAGS as c_uint,
    slots: &raw mut SLOTS as _,
};

static mut ITER_SLOTS: [PyType_Slot; 6] = [
    slot(Py_tp_dealloc, ring_iter_dealloc as destructor as _),
    slot(Py_tp_traverse, ring_iter_traverse as traverseproc as _),
    slot(Py_tp_clear, ring_iter_clear as inquiry as _),
    slot(Py_tp_iter, PyObject_SelfIter as getiterfunc as _),
    slot(Py_tp_iternext, ring_iter_next as iternextfunc as _),
    slot(0, ptr::null_mut()),
];

/// Made only by `iter(ring)`: `RingIterator()` raises TypeError.
pub static mut ITER_SPEC: PyType_Spec = PyType_Spec {
    name: c"callbacks.RingIterator".as_ptr(),
    basicsize: size_of::<RingIterObject>() as c_int,
    itemsize: 0,
    flags: (FLAGS | Py_TPFLAGS_DISALLOW_INSTANTIATION) as c_uint,
    slots: &raw mut ITER_SLOTS as _,
};
// ANCHOR_END: spec
// ANCHOR_END: all
