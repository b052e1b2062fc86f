// ANCHOR: all
//! `helper_callbacks`: chapter 12's callbacks and iterator, written with the helper, without
//! `unsafe`.
#![forbid(unsafe_code)]

use pymodule::exc::{MemoryError, RuntimeError, ValueError};
use pymodule::{Callable, Gil, Module, Obj, Py, PyErr, Stop, Traverse, Visit};

// ANCHOR: ring
/// What each `Ring` holds: the newest `capacity` items pushed, oldest first, and a count of
/// the changes, which its iterators compare with theirs.
pub struct RingValue {
    capacity: usize,
    items: std::collections::VecDeque<Py>,
    changes: u64,
}

impl Traverse for RingValue {
    fn traverse(&self, visit: &mut Visit<'_>) -> Result<(), Stop> {
        self.items.iter().try_for_each(|item| visit.visit(item))
    }
    fn clear(&mut self) {
        self.items.clear();
    }
}

pymodule::class! {
    /// A ring buffer: keeps the last `capacity` items pushed.
    class helper_callbacks.Ring for RingValue [mutable, gc] {
        fn __new__(capacity: i64) -> Result<RingValue, PyErr> {
            if capacity < 1 {
                return Err(PyErr::new::<ValueError>("capacity must be at least 1"));
            }
            let items = std::collections::VecDeque::new();
            Ok(RingValue { capacity: capacity as usize, items, changes: 0 })
        }
        /// Append `item`; when full, evict the oldest.
        fn push(&mut self, item: Py, /) -> Result<(), PyErr> {
            if self.items.len() == self.capacity {
                self.items.pop_front();
            } else if self.items.try_reserve(1).is_err() {
                return Err(PyErr::new::<MemoryError>("no memory for another item"));
            }
            self.items.push_back(item);
            self.changes += 1;
            Ok(())
        }
        /// Call `f(item)` for each item, oldest first, holding a shared borrow of the ring (a
        /// callback that pushes gets `RuntimeError`); returns how many calls.
        fn each(&self, gil: Gil<'_>, f: Callable<'_>) -> Result<u64, PyErr> {
            for item in &self.items {
                f.call(gil, (item,))?;
            }
            Ok(self.items.len() as u64)
        }
        fn __len__(&self) -> usize {
            self.items.len()
        }
        fn __iter__(this: Obj<Ring>, gil: Gil<'_>) -> Result<Obj<RingIter>, PyErr> {
            let changes = this.borrow(gil)?.changes;
            let ring = this.clone_ref(gil)?;
            Obj::new(gil, &this, Cursor { ring, next: 0, changes })
        }
    }
}
// ANCHOR_END: ring

// ANCHOR: iter
/// An iterator over a ring: it holds the ring (so the ring lives as long as it does), and the
/// index of the next item.
pub struct Cursor {
    ring: Obj<Ring>,
    next: usize,
    changes: u64,
}

impl Traverse for Cursor {
    fn traverse(&self, visit: &mut Visit<'_>) -> Result<(), Stop> {
        visit.visit(self.ring.as_py())
    }
    /// Nothing to drop: a cycle through an iterator goes through its ring's items too, and
    /// the ring's own `clear` breaks it.
    fn clear(&mut self) {}
}

pymodule::class! {
    /// An iterator over a Ring's items, oldest first.
    class helper_callbacks.RingIter for Cursor [mutable, gc] {
        fn __next__(&mut self, gil: Gil<'_>) -> Result<Option<Py>, PyErr> {
            let ring = self.ring.borrow(gil)?;
            if ring.changes != self.changes {
                return Err(PyErr::new::<RuntimeError>("Ring changed during iteration"));
            }
            let Some(item) = ring.items.get(self.next) else { return Ok(None) };
            self.next += 1;
            item.clone_ref(gil).map(Some)
        }
    }
}
// ANCHOR_END: iter

// ANCHOR: module
pymodule::module! {
    /// Chapter 12's callbacks and iterator, through the helper.
    mod helper_callbacks {
        classes { Ring, RingIter }
        /// `f()`, or `f(a)`: what it returns, or what it raises.
        fn apply(m: Module<'_, ()>, f: Callable<'_>, a: Option<Py>) -> Result<Py, PyErr> {
            match a {
                None => f.call(m.gil(), ()),
                Some(a) => f.call(m.gil(), (a,)),
            }
        }
        /// `f(a, b, n)`, with `n` a Rust integer.
        fn apply3(m: Module<'_, ()>, f: Callable<'_>, a: Py, b: Py, n: i64) -> Result<Py, PyErr> {
            f.call(m.gil(), (a, &b, n))
        }
    }
}
// ANCHOR_END: module
// ANCHOR_END: all
