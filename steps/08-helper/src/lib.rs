//! Chapter 3's module `foo`, written with the helper crate.

use pymodule::{PyErr, exc::OverflowError};

pymodule::module! {
    mod foo {
        /// Add two numbers.
        fn sum(a: i64, b: i64, /) -> Result<i64, PyErr> {
            a.checked_add(b).ok_or_else(|| {
                PyErr::new::<OverflowError>("sum does not fit in a 64-bit signed integer")
            })
        }
    }
}
