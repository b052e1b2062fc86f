// ANCHOR: all
//! CPU-bound work, in two versions: one holds the GIL, the other releases it; each notes when its
//! call began and ended. And a sleep that releases the GIL while blocking.

use std::cell::Cell;
use std::ffi::c_longlong;
use std::ptr;
use std::sync::LazyLock;
use std::thread;
use std::time::{Duration, Instant};

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
        // We hold the GIL all along: no other Python thread runs while we count.
        let count = timed(|| primes_below(n));
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
        let count = timed(|| unsafe { without_gil(|| primes_below(n)) });
        // SAFETY: we hold the GIL again.
        unsafe { PyLong_FromSize_t(count) }
    })
}
// ANCHOR_END: two-versions

// ANCHOR: last-call
thread_local! {
    /// When this thread's last call of a counting function began and ended (see `timed`).
    static LAST_CALL: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

/// The instant that every thread's nanoseconds count from, so that two threads' figures compare.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn nanos() -> u64 {
    u64::try_from(EPOCH.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Runs the body of a counting function and notes, for `last_call()`, when it began and ended.
/// Both instants are read with the GIL held: the call has it on entry, and takes it back before
/// returning.
fn timed<T>(body: impl FnOnce() -> T) -> T {
    let start = nanos();
    let value = body();
    LAST_CALL.set(Some((start, nanos())));
    value
}

pub unsafe extern "C" fn last_call(_module: *mut PyObject, _args: *mut PyObject) -> *mut PyObject {
    entry(|| match LAST_CALL.get() {
        // SAFETY: Python called us, so we hold the GIL; "(KK)" reads two unsigned long longs.
        Some((start, end)) => unsafe { Py_BuildValue(c"(KK)".as_ptr(), start, end) },
        None => none(),
    })
}
// ANCHOR_END: last-call

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
