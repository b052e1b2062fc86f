// ANCHOR: all
//! Chapter 12: the helper's `helper_callbacks` again, with PyO3: `call0`/`call1` for a
//! callback, `#[pyclass]` with `__iter__`/`__next__` for the iterator, and `Python::attach` for
//! a Rust thread that calls Python.

use std::collections::VecDeque;

use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};

// ANCHOR: ring
/// Ring(capacity): keeps the last `capacity` items pushed.
#[pyclass(module = "pyo3_callbacks")]
struct Ring {
    capacity: usize,
    items: VecDeque<Py<PyAny>>,
    changes: u64,
}

#[pymethods]
impl Ring {
    #[new]
    fn new(capacity: isize) -> PyResult<Self> {
        if capacity < 1 {
            return Err(PyValueError::new_err("capacity must be at least 1"));
        }
        Ok(Ring { capacity: capacity as usize, items: VecDeque::new(), changes: 0 })
    }

    /// Append `item`; when full, evict the oldest. `MemoryError` if the ring cannot grow (Rust's
    /// `push_back` would abort the process).
    fn push(&mut self, item: Py<PyAny>) -> PyResult<()> {
        self.items.try_reserve(1).map_err(|_| PyMemoryError::new_err("the ring cannot grow"))?;
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
        self.changes += 1;
        Ok(())
    }

    /// Call `f(item)` for each item, oldest first, holding a shared borrow of the ring.
    fn each(&self, py: Python<'_>, f: &Bound<'_, PyAny>) -> PyResult<u64> {
        for item in &self.items {
            f.call1((item.bind(py),))?;
        }
        Ok(self.items.len() as u64)
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    fn __iter__(slf: Bound<'_, Self>) -> RingIter {
        let changes = slf.borrow().changes;
        RingIter { ring: slf.unbind(), next: 0, changes }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.items.iter().try_for_each(|item| visit.call(item))
    }

    fn __clear__(&mut self) {
        self.items.clear();
    }
}
// ANCHOR_END: ring

// ANCHOR: iter
/// An iterator over a Ring's items: it holds the ring.
#[pyclass(module = "pyo3_callbacks")]
struct RingIter {
    ring: Py<Ring>,
    next: usize,
    changes: u64,
}

#[pymethods]
impl RingIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let ring = self.ring.borrow(py);
        if ring.changes != self.changes {
            return Err(PyRuntimeError::new_err("Ring changed during iteration"));
        }
        let Some(item) = ring.items.get(self.next) else { return Ok(None) };
        self.next += 1;
        Ok(Some(item.clone_ref(py)))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.ring)
    }
}
// ANCHOR_END: iter

// ANCHOR: functions
/// `f()`, or `f(a)`.
#[pyfunction]
#[pyo3(signature = (f, a=None))]
fn apply<'py>(f: &Bound<'py, PyAny>, a: Option<Py<PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    match a {
        None => f.call0(),
        Some(a) => f.call1((a,)),
    }
}

/// `f(n)` from a Rust thread that Python never saw, `times` times; what the last call returned.
#[pyfunction]
fn from_thread(py: Python<'_>, f: Py<PyAny>, times: u64) -> PyResult<Py<PyAny>> {
    py.detach(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut last = Python::attach(|py| py.None());
                for n in 0..times {
                    last = Python::attach(|py| f.call1(py, (n,)))?;
                }
                Ok(last)
            })
            .join()
            .unwrap_or_else(|_| Err(PyRuntimeError::new_err("the thread panicked")))
        })
    })
}
// ANCHOR_END: functions

/// Chapter 12's callbacks and iterator, with PyO3.
#[pymodule]
fn pyo3_callbacks(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Ring>()?;
    m.add_class::<RingIter>()?;
    m.add_function(wrap_pyfunction!(apply, m)?)?;
    m.add_function(wrap_pyfunction!(from_thread, m)?)?;
    Ok(())
}
// ANCHOR_END: all
