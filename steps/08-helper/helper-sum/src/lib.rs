// ANCHOR: all
//! `sum` with the helper, for chapter 7's table and for chapter 8's measure of what the helper
//! costs: positional-only, as chapter 7's hand-written functions; and `sum_kw`, which also takes
//! keyword arguments, as PyO3's.

use pymodule::{PyErr, exc::OverflowError};

pymodule::module! {
    mod helper_sum {
        /// Add two numbers.
        fn sum(a: i64, b: i64, /) -> Result<i64, PyErr> {
            add(a, b)
        }
        /// Add two numbers.
        fn sum_kw(a: i64, b: i64) -> Result<i64, PyErr> {
            add(a, b)
        }
    }
}

fn add(a: i64, b: i64) -> Result<i64, PyErr> {
    a.checked_add(b)
        .ok_or_else(|| PyErr::new::<OverflowError>("sum does not fit in a 64-bit signed integer"))
}
// ANCHOR_END: all
