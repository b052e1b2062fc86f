// ANCHOR: all
//! `tally`: a count per module object, so per interpreter, and the helper's other pieces.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use pymodule::{Module, PyErr, exc::ValueError};

/// The module's state: CPython allocates it with each module object. Threads share it, so the
/// count is atomic; it orders nothing else, so `Relaxed` suffices.
#[derive(Default)]
pub struct Tally {
    count: AtomicU64,
}

pymodule::module! {
    /// A count that each interpreter keeps for itself.
    mod tally {
        state: Tally;
        exceptions {
            /// The count would pass 2**64 - 1.
            TallyOverflow(OverflowError),
        }
        /// Add `n` (1 if left out) to the count, and return the new count.
        fn add(m: Module<'_, Tally>, n: Option<u64>) -> Result<u64, PyErr> {
            let n = n.unwrap_or(1);
            match m.state().count.fetch_update(Relaxed, Relaxed, |count| count.checked_add(n)) {
                Ok(old) => Ok(old + n), // checked by the update
                Err(_) => Err(PyErr::new::<TallyOverflow>("the count would overflow")),
            }
        }
        /// The count.
        fn count(m: Module<'_, Tally>) -> u64 {
            m.state().count.load(Relaxed)
        }
        // ANCHOR: threads
        /// Start `threads` OS threads that each add 1 to the count, taking the GIL to do it;
        /// wait for them without the GIL, and return the new count.
        fn add_from_threads(m: Module<'_, Tally>, threads: u64) -> Result<u64, PyErr> {
            if threads > 64 {
                return Err(PyErr::new::<ValueError>("at most 64 threads"));
            }
            m.detach(|attach| {
                std::thread::scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|| {
                            attach.with_gil(|m| {
                                let _ = m.state().count.fetch_update(Relaxed, Relaxed, |count| {
                                    count.checked_add(1)
                                });
                            })
                        });
                    }
                })
            })?;
            Ok(m.state().count.load(Relaxed))
        }
        // ANCHOR_END: threads
        // ANCHOR: primes
        /// The number of primes below `n` (at most 1,000,000), counted without the GIL.
        fn count_primes(m: Module<'_, Tally>, n: u64) -> Result<u64, PyErr> {
            if n > 1_000_000 {
                return Err(PyErr::new::<ValueError>("n must be at most 1000000"));
            }
            Ok(m.gil().allow_threads(|| (2..n).filter(|&k| is_prime(k)).count() as u64))
        }
        // ANCHOR_END: primes
        /// Every argument type the helper converts, described back.
        fn describe(
            i: i64, u: u64, x: f64, flag: bool, text: &str, data: &[u8], extra: Option<i64>,
        ) -> String {
            format!("i={i} u={u} x={x:?} flag={flag} text={text:?} data={data:?} extra={extra:?}")
        }
    }
}

fn is_prime(k: u64) -> bool {
    (2..).take_while(|d| d * d <= k).all(|d| !k.is_multiple_of(d))
}
// ANCHOR_END: all
