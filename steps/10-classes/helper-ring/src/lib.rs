// ANCHOR: all
//! `helper_ring`: chapter 10's `Ring`, a fixed-capacity ring buffer of Python objects, written
//! with the helper, without `unsafe`.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use pymodule::exc::{MemoryError, ValueError};
use pymodule::{Gil, Py, PyErr, Stop, Traverse, Visit};

/// How many `RingValue`s exist, in every interpreter: each is counted when made and when dropped.
static LIVE: AtomicU64 = AtomicU64::new(0);

// ANCHOR: value
/// What each `Ring` holds: the newest `capacity` items pushed, oldest first.
pub struct RingValue {
    capacity: usize,
    items: VecDeque<Py>,
}

impl Drop for RingValue {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The items are Python objects: the collector must see them, and may drop them to free a
/// cycle (`r.push(r)`).
impl Traverse for RingValue {
    fn traverse(&self, visit: &mut Visit<'_>) -> Result<(), Stop> {
        self.items.iter().try_for_each(|item| visit.visit(item))
    }
    fn clear(&mut self) {
        self.items.clear();
    }
}
// ANCHOR_END: value

// ANCHOR: class
pymodule::class! {
    /// A ring buffer: keeps the last `capacity` items pushed.
    class helper_ring.Ring for RingValue [mutable, gc, weakref, subclass] {
        fn __new__(capacity: i64) -> Result<RingValue, PyErr> {
            // Nothing is allocated up front, but a ring whose items could never fit in the
            // address space is refused now rather than when it fills.
            const MOST: i64 = (isize::MAX as usize / size_of::<Py>()) as i64;
            if !(1..=MOST).contains(&capacity) {
                return Err(if capacity < 1 {
                    PyErr::new::<ValueError>("capacity must be at least 1")
                } else {
                    PyErr::new::<MemoryError>("capacity too large")
                });
            }
            LIVE.fetch_add(1, Ordering::Relaxed);
            Ok(RingValue { capacity: capacity as usize, items: VecDeque::new() })
        }
        /// Append `item`; when full, evict and return the oldest.
        fn push(&mut self, item: Py, /) -> Result<Option<Py>, PyErr> {
            if self.items.len() == self.capacity {
                let evicted = self.items.pop_front();
                self.items.push_back(item);
                return Ok(evicted);
            }
            // Growing may fail: MemoryError, as list.append raises, not an abort.
            if self.items.try_reserve(1).is_err() {
                return Err(PyErr::new::<MemoryError>("no memory for another item"));
            }
            self.items.push_back(item);
            Ok(None)
        }
        /// The items, oldest to newest, in a new list.
        fn items(&self, gil: Gil<'_>) -> Result<Py, PyErr> {
            Py::list(gil, &self.items)
        }
        /// Drop every item.
        fn clear(&mut self) {
            self.items.clear();
        }
        /// The most items the ring keeps.
        #[getter]
        fn capacity(&self) -> i64 {
            self.capacity as i64
        }
        fn __len__(&self) -> usize {
            self.items.len()
        }
        fn __repr__(&self, gil: Gil<'_>, name: &str) -> Result<String, PyErr> {
            let items = Py::list(gil, &self.items)?.repr(gil)?;
            Ok(format!("{name}({}, {items})", self.capacity))
        }
        fn __eq__(&self, other: &Self, gil: Gil<'_>) -> Result<bool, PyErr> {
            if self.capacity != other.capacity || self.items.len() != other.items.len() {
                return Ok(false);
            }
            for (a, b) in self.items.iter().zip(&other.items) {
                if !a.eq(b, gil)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
    }
}
// ANCHOR_END: class

// ANCHOR: module
pymodule::module! {
    /// Chapter 10's Ring, through the helper.
    mod helper_ring {
        classes { Ring }
        /// How many Ring values exist (made and not yet dropped).
        fn live() -> u64 {
            LIVE.load(Ordering::Relaxed)
        }
    }
}
// ANCHOR_END: module
// ANCHOR_END: all
