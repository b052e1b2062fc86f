// ANCHOR: all
//! Two counts with PyO3, to compare what its attributes become: a frozen class that threads share
//! through an atomic, a class with a `&mut self` method, and a module that declares that it needs
//! no GIL. Chapter 13 shows an excerpt of the expansion.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use pyo3::prelude::*;

#[pymodule(gil_used = false)]
mod pyo3_counter {
    use super::*;

    /// A count that any thread may add to, through `&self`.
    #[pyclass(frozen)]
    struct Counter {
        count: AtomicU64,
    }

    #[pymethods]
    impl Counter {
        #[new]
        fn new() -> Self {
            Counter { count: AtomicU64::new(0) }
        }

        /// Add 1, and return the new count.
        fn add(&self) -> u64 {
            self.count.fetch_add(1, Relaxed) + 1
        }
    }

    /// The same count, changed through `&mut self`: PyO3 checks the borrow at run time.
    #[pyclass]
    struct Total {
        count: u64,
    }

    #[pymethods]
    impl Total {
        #[new]
        fn new() -> Self {
            Total { count: 0 }
        }

        /// Add 1, and return the new count.
        fn add(&mut self) -> u64 {
            self.count += 1;
            self.count
        }
    }
}
// ANCHOR_END: all
