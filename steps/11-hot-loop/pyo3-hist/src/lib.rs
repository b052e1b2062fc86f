// ANCHOR: all
//! Chapter 11's histogram with PyO3 and rust-numpy: the same loop (the `counting` crate),
//! their bindings.

use std::sync::atomic::AtomicBool;

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

/// histogram(data: numpy.ndarray) -> list[int]: how many bytes of each value 0 to 255 a
/// one-dimensional, contiguous array of uint8 holds.
#[pyfunction]
fn histogram(data: PyReadonlyArray1<'_, u8>) -> PyResult<Vec<u64>> {
    // rust-numpy's borrow flags keep other Rust code from writing the array, not Python code
    // (its unsafe `as_slice` is undefined behaviour if the array is "concurrently modified by
    // Python"): the GIL, held for the whole call, is what keeps Python threads out meanwhile.
    let bytes = data.as_slice()?; // AsSliceError, a TypeError, for a strided array
    let counts = counting::Bytes::from(bytes).count(&AtomicBool::new(false));
    Ok(counts.map(|c| c.to_vec()).unwrap_or_default()) // nothing sets the stop flag
}

#[pymodule]
fn pyo3_hist(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(histogram, m)?)
}
// ANCHOR_END: all
