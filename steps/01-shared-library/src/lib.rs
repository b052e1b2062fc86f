// ANCHOR: crate
//! Chapter 1: a Rust library that C can call.
//!
//! `cargo build` turns this crate into `libsum.so` (a shared library) and `libsum.a` (a static
//! one). Only the items marked `#[unsafe(no_mangle)] pub extern "C"` are visible to C.

use std::ffi::{CStr, CString, c_char};
use std::ptr;

// ANCHOR: sum
/// Adds two numbers. Like Go's, the sum wraps around on overflow instead of failing.
#[allow(non_snake_case, reason = "C sees the name exactly as written: Sum, as in the Go original")]
#[unsafe(no_mangle)]
pub extern "C" fn Sum(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}
// ANCHOR_END: sum

// ANCHOR: strings
/// Returns a new string: `s` followed by a dot. Returns NULL if `s` is NULL.
///
/// The caller owns the result and must give it back to `FreeString`, never to `free`.
///
/// # Safety
/// `s` must be NULL or point to a NUL-terminated string.
#[allow(non_snake_case, reason = "C name from the Go original")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn AddDot(s: *const c_char) -> *mut c_char {
    if s.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: the caller promises that `s` points to a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(s) }.to_bytes();
    let mut bytes = Vec::with_capacity(s.len() + 1);
    bytes.extend_from_slice(s);
    bytes.push(b'.');
    // SAFETY: `s` ended at its first NUL, so neither it nor the dot contains one.
    unsafe { CString::from_vec_unchecked(bytes) }.into_raw()
}

/// Frees a string returned by `AddDot`. Does nothing if `s` is NULL.
///
/// # Safety
/// `s` must be NULL or a pointer that `AddDot` returned and that was not freed yet.
#[allow(non_snake_case, reason = "C name in the style of the others")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn FreeString(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: `s` came from `CString::into_raw` in `AddDot` and is freed only once.
        drop(unsafe { CString::from_raw(s) });
    }
}
// ANCHOR_END: strings
// ANCHOR_END: crate

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_adds_and_wraps() {
        assert_eq!(Sum(2, 40), 42);
        assert_eq!(Sum(i64::MAX, 1), i64::MIN);
    }

    #[test]
    fn add_dot_round_trip() {
        let out = unsafe { AddDot(c"Hello, world".as_ptr()) };
        assert_eq!(unsafe { CStr::from_ptr(out) }, c"Hello, world.");
        unsafe { FreeString(out) };
        assert!(unsafe { AddDot(ptr::null()) }.is_null());
    }
}
