// ANCHOR: all
//! Chapter 3's module `foo`, written with PyO3.

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;

#[pymodule]
mod foo {
    use super::*;

    /// Add two numbers.
    #[pyfunction]
    #[pyo3(signature = (a, b, /))]
    fn sum(a: i64, b: i64) -> PyResult<i64> {
        a.checked_add(b)
            .ok_or_else(|| PyOverflowError::new_err("sum does not fit in a 64-bit signed integer"))
    }
}
// ANCHOR_END: all
