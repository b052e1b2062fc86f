// ANCHOR: all
//! Chapter 11's histogram with PyO3: the same loop (the `counting` crate), PyO3's bindings.

use std::sync::atomic::AtomicBool;

use pyo3::prelude::*;

/// histogram(data: bytes) -> list[int]: how many bytes of each value 0 to 255 `data` holds.
#[pyfunction]
fn histogram(py: Python<'_>, data: &[u8]) -> Vec<u64> {
    // `bytes` cannot change, so its `&[u8]` may go to code that runs without the GIL.
    let counts = py.detach(|| counting::Bytes::from(data).count(&AtomicBool::new(false)));
    counts.expect("nothing sets the stop flag").to_vec()
}

#[pymodule]
fn pyo3_hist(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(histogram, m)?)
}
// ANCHOR_END: all
