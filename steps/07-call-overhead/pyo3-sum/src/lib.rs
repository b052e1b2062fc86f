// ANCHOR: all
//! Chapter 7: the same `sum` with PyO3, which writes the method table, the argument conversion
//! and the module's init function for us.

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;

/// Add two numbers.
#[pyfunction]
fn sum(a: i64, b: i64) -> PyResult<i64> {
    a.checked_add(b)
        .ok_or_else(|| PyOverflowError::new_err("sum does not fit in a 64-bit signed integer"))
}

#[pymodule]
fn pyo3_sum(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sum, m)?)
}
// ANCHOR_END: all
