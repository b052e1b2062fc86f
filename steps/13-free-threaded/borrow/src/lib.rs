// ANCHOR: all
//! Chapter 13: the borrow state of a `Ring`, safe when two threads call its methods at once.
//!
//! Chapter 10's flag was a `Cell<isize>`: a check, then a write, correct only because the GIL
//! let one thread at a time run them. Here the same states (0 free, n > 0 shared borrows, -1
//! borrowed exclusively) live in one atomic, and each change is one compare-and-swap: a thread
//! either takes the borrow it asked for or is told "already borrowed". Nothing here ever waits.
//!
//! Built with `--cfg loom`, the atomic is loom's, and loom runs the tests in tests/loom.rs
//! under every interleaving of their threads.

// ANCHOR: state
#[cfg(loom)]
use loom::sync::atomic::{AtomicIsize, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicIsize, Ordering};

/// The borrow state of one value. All bits zero is "free", so memory that CPython's `tp_alloc`
/// zeroed already holds a free state.
#[repr(transparent)]
pub struct BorrowState(AtomicIsize);

const EXCLUSIVE: isize = -1;

impl BorrowState {
    /// A free state.
    #[inline]
    pub fn new() -> BorrowState {
        BorrowState(AtomicIsize::new(0))
    }

    /// Takes a shared borrow, unless the value is borrowed exclusively. (`#[inline]`: the
    /// module is another crate, and a call per borrow would cost more than the borrow.)
    #[inline]
    pub fn share(&self) -> Option<Shared<'_>> {
        // Relaxed: the compare-and-swap below reads the state again.
        let mut now = self.0.load(Ordering::Relaxed);
        loop {
            if now == EXCLUSIVE || now == isize::MAX {
                return None;
            }
            // Acquire on success: what the last exclusive borrower wrote is visible from here.
            match self.0.compare_exchange_weak(now, now + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(Shared(self)),
                Err(changed) => now = changed,
            }
        }
    }

    /// Takes the exclusive borrow, if the value is not borrowed at all.
    #[inline]
    pub fn exclusive(&self) -> Option<Exclusive<'_>> {
        let taken = self.0.compare_exchange(0, EXCLUSIVE, Ordering::Acquire, Ordering::Relaxed);
        taken.ok().map(|_| Exclusive(self))
    }
}

impl Default for BorrowState {
    fn default() -> BorrowState {
        BorrowState::new()
    }
}

/// A shared borrow, released when dropped.
pub struct Shared<'a>(&'a BorrowState);

/// The exclusive borrow, released when dropped.
pub struct Exclusive<'a>(&'a BorrowState);

impl Drop for Shared<'_> {
    #[inline]
    fn drop(&mut self) {
        // Release: this borrower's reads happen before the next exclusive borrower's writes.
        self.0.0.fetch_sub(1, Ordering::Release);
    }
}

impl Drop for Exclusive<'_> {
    #[inline]
    fn drop(&mut self) {
        // Release: this borrower's writes happen before whatever the next borrower reads.
        self.0.0.store(0, Ordering::Release);
    }
}
// ANCHOR_END: state

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn shared_borrows_exclude_the_exclusive_one() {
        let state = BorrowState::new();
        let a = state.share().unwrap();
        let b = state.share().unwrap();
        assert!(state.exclusive().is_none());
        drop((a, b));
        let e = state.exclusive().unwrap();
        assert!(state.share().is_none());
        assert!(state.exclusive().is_none());
        drop(e);
        assert!(state.share().is_some());
    }

    #[test]
    fn zeroed_memory_is_a_free_state() {
        // SAFETY: an AtomicIsize is an isize; all zero bits are the value 0.
        let state: BorrowState = unsafe { std::mem::zeroed() };
        assert!(state.exclusive().is_some());
    }
}
// ANCHOR_END: all
