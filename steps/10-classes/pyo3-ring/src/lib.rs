// ANCHOR: all
//! Chapter 10: the same `Ring` with PyO3. `#[pyclass]` writes the type's spec, its layout (with
//! a borrow flag of its own) and every slot; `#[pymethods]` the method table and the
//! conversions.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicIsize, Ordering};

use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use pyo3::{PyTraverseError, PyVisit};

static LIVE: AtomicIsize = AtomicIsize::new(0);

// ANCHOR: class
/// Ring(capacity): keeps the last `capacity` items pushed.
#[pyclass(module = "pyo3_ring", subclass, weakref)]
struct Ring {
    capacity: usize,
    items: VecDeque<Py<PyAny>>,
}

impl Drop for Ring {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}
// ANCHOR_END: class

// ANCHOR: methods
#[pymethods]
impl Ring {
    #[new]
    fn new(capacity: isize) -> PyResult<Self> {
        if capacity < 1 {
            return Err(PyValueError::new_err(format!("capacity must be >= 1, not {capacity}")));
        }
        LIVE.fetch_add(1, Ordering::Relaxed);
        Ok(Ring { capacity: capacity as usize, items: VecDeque::new() })
    }

    /// Append an item; when full, evict the oldest and return it.
    fn push(&mut self, item: Py<PyAny>) -> PyResult<Option<Py<PyAny>>> {
        if self.items.len() == self.capacity {
            let evicted = self.items.pop_front();
            self.items.push_back(item); // into the room just made: no allocation
            return Ok(evicted);
        }
        // Rust's allocator aborts the process when it fails: ask first, and raise as list does.
        self.items.try_reserve(1).map_err(|_| PyMemoryError::new_err("the ring cannot grow"))?;
        self.items.push_back(item);
        Ok(None)
    }

    /// A new list of the items, oldest first.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.items.iter().map(|item| item.clone_ref(py)))
    }

    /// Drop every item.
    fn clear(&mut self) {
        self.items.clear();
    }

    /// How many items the ring keeps.
    #[getter]
    fn capacity(&self) -> usize {
        self.capacity
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let name = slf.get_type().name()?;
        let ring = slf.try_borrow()?;
        let items = ring.items(slf.py())?;
        Ok(format!("{name}({}, {})", ring.capacity, items.repr()?))
    }

    /// `==`, and `!=` derived from it; an `other` that is not a Ring fails to convert, and PyO3
    /// returns NotImplemented. No `__hash__`: CPython's `PyType_Ready` then sets `__hash__ = None`.
    fn __eq__(&self, other: &Bound<'_, Ring>) -> PyResult<bool> {
        let other = other.try_borrow()?;
        if self.capacity != other.capacity || self.items.len() != other.items.len() {
            return Ok(false);
        }
        let py = other.py();
        for (x, y) in self.items.iter().zip(&other.items) {
            if !x.bind(py).eq(y)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for item in &self.items {
            visit.call(item)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.items.clear();
    }
}
// ANCHOR_END: methods

/// How many Ring values exist in the process.
#[pyfunction]
fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

#[pymodule]
fn pyo3_ring(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Ring>()?;
    m.add_function(wrap_pyfunction!(live, m)?)
}
// ANCHOR_END: all
