// ANCHOR: all
//! The borrow protocols under loom, which runs each model under every interleaving of its
//! threads that the C11 memory model allows (within loom's bounds), and fails a model in which
//! two threads touch a `loom::cell::UnsafeCell` without one happening before the other.
//!
//!     RUSTFLAGS="--cfg loom" cargo test --release -p step13-borrow --test loom
#![cfg(loom)]

use std::panic::{self, AssertUnwindSafe};

use borrow::BorrowState;
use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

// ANCHOR: chapter10
/// Chapter 10's protocol, modelled: the flag is a plain integer (a `Cell<isize>` there), read,
/// tested, then written; the value is read or written in between.
struct Chapter10Ring {
    flag: UnsafeCell<isize>,
    items: UnsafeCell<Vec<i32>>,
}

impl Chapter10Ring {
    /// `push`: `borrow_mut` (flag 0, or "already borrowed"), the write, the flag back to 0.
    fn push(&self, item: i32) -> Result<(), &'static str> {
        // SAFETY (for loom): loom itself checks every access below against the others.
        if self.flag.with(|flag| unsafe { *flag }) != 0 {
            return Err("already borrowed");
        }
        self.flag.with_mut(|flag| unsafe { *flag = -1 });
        self.items.with_mut(|items| unsafe { (*items).push(item) });
        self.flag.with_mut(|flag| unsafe { *flag = 0 });
        Ok(())
    }
}

/// Two threads push to one ring with no GIL around the calls.
fn chapter10_without_a_gil() {
    let ring = Arc::new(Chapter10Ring { flag: UnsafeCell::new(0), items: UnsafeCell::new(vec![]) });
    let other = ring.clone();
    let t = thread::spawn(move || other.push(1));
    let _ = ring.push(2);
    let _ = t.join().unwrap();
}

#[test]
fn loom_finds_the_race_in_chapter_10s_flag() {
    // loom reports what it finds by panicking; the report is printed below, once.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let found = panic::catch_unwind(AssertUnwindSafe(|| loom::model(chapter10_without_a_gil)));
    panic::set_hook(hook);
    let message = found.expect_err("loom found no race in chapter 10's flag");
    let text = message
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| message.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(text.contains("Causality violation"), "another failure: {text}");
    println!("chapter 10's flag without a GIL: {}", text.lines().next().unwrap_or(""));
}

/// The same calls, each holding a lock for its whole length: what the GIL did.
#[test]
fn chapter_10s_flag_is_sound_under_a_gil() {
    loom::model(|| {
        let gil = Arc::new(Mutex::new(()));
        let ring =
            Arc::new(Chapter10Ring { flag: UnsafeCell::new(0), items: UnsafeCell::new(vec![]) });
        let (other, other_gil) = (ring.clone(), gil.clone());
        let t = thread::spawn(move || {
            let _held = other_gil.lock().unwrap();
            other.push(1)
        });
        let mine = {
            let _held = gil.lock().unwrap();
            ring.push(2)
        };
        let theirs = t.join().unwrap();
        assert_eq!((mine, theirs), (Ok(()), Ok(())), "under a GIL both pushes succeed");
        ring.items.with(|items| assert_eq!(unsafe { (*items).len() }, 2));
    });
}
// ANCHOR_END: chapter10

// ANCHOR: atomic
/// The new protocol: the real `BorrowState` (built on loom's atomic), guarding the value.
struct SafeRing {
    state: BorrowState,
    items: UnsafeCell<Vec<i32>>,
}

impl SafeRing {
    fn push(&self, item: i32) -> Result<(), &'static str> {
        let _borrow = self.state.exclusive().ok_or("already borrowed")?;
        self.items.with_mut(|items| unsafe { (*items).push(item) });
        Ok(())
    }

    fn len(&self) -> Result<usize, &'static str> {
        let _borrow = self.state.share().ok_or("already borrowed")?;
        Ok(self.items.with(|items| unsafe { (*items).len() }))
    }
}

#[test]
fn loom_finds_no_race_in_the_atomic_state() {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    loom::model(|| {
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ring = Arc::new(SafeRing { state: BorrowState::new(), items: UnsafeCell::new(vec![]) });
        let (a, b) = (ring.clone(), ring.clone());
        let pusher = thread::spawn(move || a.push(1));
        let reader = thread::spawn(move || b.len());
        let mine = ring.push(2);
        let (theirs, len) = (pusher.join().unwrap(), reader.join().unwrap());
        // Every borrow either succeeded or was refused; the value holds exactly the pushes that
        // succeeded, and a reader saw a length some moment of it had.
        let pushed = [mine, theirs].iter().filter(|r| r.is_ok()).count();
        assert_eq!(ring.len(), Ok(pushed));
        if let Ok(len) = len {
            assert!(len <= pushed);
        }
    });
    let runs = RUNS.load(std::sync::atomic::Ordering::Relaxed);
    println!("the atomic state: no race in {runs} interleavings");
}
// ANCHOR_END: atomic

// ANCHOR: publish
/// The helper's state block (chapter 8's `state.rs`), modelled: the exec slot writes the block,
/// then sets `ready`; a call loads `ready`, and reads the block if it is set.
struct Block {
    ready: AtomicBool,
    types: UnsafeCell<Vec<i32>>,
}

/// Exec and one call at once, with `store` for exec's setting of `ready` and `load` for the
/// call's reading of it.
fn exec_and_call(store: Ordering, load: Ordering) {
    let block = Arc::new(Block { ready: AtomicBool::new(false), types: UnsafeCell::new(vec![]) });
    let caller = block.clone();
    let call = thread::spawn(move || {
        if caller.ready.load(load) {
            caller.types.with(|types| assert_eq!(unsafe { (*types).len() }, 2));
        }
    });
    block.types.with_mut(|types| unsafe { (*types).extend([1, 2]) });
    block.ready.store(true, store);
    call.join().unwrap();
}

#[test]
fn the_helpers_state_is_published_whole() {
    loom::model(|| exec_and_call(Ordering::Release, Ordering::Acquire));
    println!("the helper's state, release and acquire: no race");
}

/// The fault: `ready` stored and loaded `Relaxed`, which orders nothing else.
#[test]
fn loom_finds_a_relaxed_publication() {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let found =
        panic::catch_unwind(|| loom::model(|| exec_and_call(Ordering::Relaxed, Ordering::Relaxed)));
    panic::set_hook(hook);
    let message = found.expect_err("loom found no race in a relaxed publication");
    let text = message.downcast_ref::<String>().map(String::as_str).unwrap_or("");
    assert!(text.contains("Causality violation"), "another failure: {text}");
    println!("the helper's state, relaxed: {}", text.lines().next().unwrap_or(""));
}
// ANCHOR_END: publish
// ANCHOR_END: all
