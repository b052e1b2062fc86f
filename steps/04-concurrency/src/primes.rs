// ANCHOR: all
//! CPU-bound work, in two versions: one holds the GIL, the other releases it. And a sleep that
//! releases it while blocking.

use std::ffi::c_longlong;
use std::ptr;
use std::thread;
use std::time::Duration;

use pyo3_ffi::*;

use crate::gil::without_gil;
use crate::{entry, in_range, none};

/// The largest n: keeps one call well under a second.
const MAX_N: c_longlong = 1_000_000;

// ANCHOR: primes
/// How many primes are below `n`, by trial division: plain CPU work that needs no Python.
fn primes_below(n: u64) -> usize {
    (2..n).filter(|&k| is_prime(k)).count()
}

fn is_prime(k: u64) -> bool {
    if k.is_multiple_of(2) {
        return k == 2;
    }
    let mut divisor = 3;
    while divisor * divisor <= k {
        if k.is_multiple_of(divisor) {
            return false;
        }
        divisor += 2;
    }
    k > 1
}
// ANCHOR_END: primes

/// Parses the one argument `n` (`format` is "L:<function name>"); None if an exception was set.
fn parse_n(args: *mut PyObject, format: &std::ffi::CStr) -> Option<u64> {
    let mut n: c_longlong = 0;
    // SAFETY: Python called our caller, so we hold the GIL; "L" writes one long long.
    if unsafe { PyArg_ParseTuple(args, format.as_ptr(), &mut n) } == 0 {
        return None;
    }
    in_range(n, MAX_N, c"n must be between 0 and 1000000")
}

// ANCHOR: two-versions
pub unsafe extern "C" fn count_primes(
    _module: *mut PyObject,
    args: *mut PyObject,
) -> *mut PyObject {
    entry(|| {
        let Some(n) = parse_n(args, c"L:count_primes") else {
            return ptr::null_mut();
        };
        let count = primes_below(n); // all along, we hold the GIL: no other Python thread runs
        // SAFETY: we hold the GIL.
        unsafe { PyLong_FromSize_t(count) }
    })
}

pub unsafe extern "C" fn count_primes_nogil(
    _module: *mut PyObject,
    args: *mut PyObject,
) -> *mut PyObject {
    entry(|| {
        let Some(n) = parse_n(args, c"L:count_primes_nogil") else {
            return ptr::null_mut();
        };
        // SAFETY: Python called us, so we hold the GIL; the work touches no Python object.
        let count = unsafe { without_gil(|| primes_below(n)) };
        // SAFETY: we hold the GIL again.
        unsafe { PyLong_FromSize_t(count) }
    })
}
// ANCHOR_END: two-versions

// ANCHOR: sleep
pub unsafe extern "C" fn sleep(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    entry(|| {
        let mut ms: c_longlong = 0;
        // SAFETY: Python called us, so we hold the GIL; "L" writes one long long.
        if unsafe { PyArg_ParseTuple(args, c"L:sleep".as_ptr(), &mut ms) } == 0 {
            return ptr::null_mut();
        }
        let Some(ms) = in_range(ms, 1000, c"ms must be between 0 and 1000") else {
            return ptr::null_mut();
        };
        // SAFETY: as above; sleeping touches no Python object.
        unsafe { without_gil(|| thread::sleep(Duration::from_millis(ms))) };
        none()
    })
}
// ANCHOR_END: sleep
// ANCHOR_END: all
