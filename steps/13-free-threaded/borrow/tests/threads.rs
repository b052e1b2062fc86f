// ANCHOR: all
//! The real `BorrowState`, hammered by threads, for ThreadSanitizer to watch:
//!
//!     RUSTFLAGS="-Zsanitizer=thread" cargo +nightly test -Zbuild-std \
//!         --target x86_64-unknown-linux-gnu -p step13-borrow --test threads
//!
//! TSan reports two accesses to one memory location, from two threads, at least one a write,
//! with no happens-before between them. The value below is read and written only under the
//! borrows, so a report would mean the state let two threads in at once. The ignored test is
//! chapter 10's plain flag, for TSan to catch (run alone: `-- --ignored plain`).
#![cfg(not(loom))]

use std::cell::UnsafeCell;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use borrow::BorrowState;

const THREADS: usize = 4;
const ROUNDS: usize = 500_000;

// ANCHOR: atomic
struct Guarded {
    state: BorrowState,
    items: UnsafeCell<Vec<usize>>,
}

// SAFETY: `items` is read only under a shared borrow and written only under the exclusive one.
unsafe impl Sync for Guarded {}

#[test]
fn atomic_state_under_threads() {
    let ring = Guarded { state: BorrowState::new(), items: UnsafeCell::new(Vec::new()) };
    let start = Barrier::new(THREADS);
    let (mut written, mut refused) = (0, 0);
    thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (ring, start) = (&ring, &start);
                s.spawn(move || {
                    start.wait(); // all at once, so that their borrows overlap
                    let (mut w, mut r) = (0, 0);
                    for i in 0..ROUNDS {
                        if (i + t) % 3 == 0 {
                            if let Some(_e) = ring.state.exclusive() {
                                // SAFETY: the exclusive borrow is held.
                                let items = unsafe { &mut *ring.items.get() };
                                items.push(i);
                                if items.len() > 8 {
                                    items.remove(0);
                                }
                                w += 1;
                            } else {
                                r += 1;
                            }
                        } else if let Some(_s) = ring.state.share() {
                            // SAFETY: a shared borrow is held.
                            let items = unsafe { &*ring.items.get() };
                            assert!(items.len() <= 8 && items.iter().all(|&n| n < ROUNDS));
                        } else {
                            r += 1;
                        }
                    }
                    (w, r)
                })
            })
            .collect();
        for worker in workers {
            let (w, r) = worker.join().unwrap();
            (written, refused) = (written + w, refused + r);
        }
    });
    // How many borrows were refused depends on the scheduler: it is checked, not printed.
    assert!(written > 0, "no exclusive borrow succeeded ({refused} refused)");
}
/// The same value, two threads strictly taking turns (by a relaxed counter, which orders nothing):
/// every access of one thread meets the other's last one, so TSan judges each pair, and only the
/// state's acquire and release order them.
#[test]
fn atomic_state_taking_turns() {
    let ring = Guarded { state: BorrowState::new(), items: UnsafeCell::new(Vec::new()) };
    let turn = AtomicUsize::new(0);
    thread::scope(|s| {
        for me in 0..2 {
            let (ring, turn) = (&ring, &turn);
            s.spawn(move || {
                for i in 0..1000 {
                    while turn.load(Ordering::Relaxed) % 2 != me {
                        thread::yield_now();
                    }
                    if me == 0 {
                        let _e = ring.state.exclusive().expect("nobody else holds it");
                        // SAFETY: the exclusive borrow is held.
                        unsafe { (*ring.items.get()).push(i) };
                    } else {
                        let _s = ring.state.share().expect("nobody holds it exclusively");
                        // SAFETY: a shared borrow is held.
                        assert!(unsafe { (*ring.items.get()).len() } <= 1000);
                    }
                    turn.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
}
// ANCHOR_END: atomic

// ANCHOR: plain
/// Chapter 10's flag: a plain integer, checked, then written.
struct Chapter10 {
    flag: UnsafeCell<isize>,
    items: UnsafeCell<Vec<usize>>,
}

// SAFETY: none: this is the race TSan must find (the test is ignored unless asked for).
unsafe impl Sync for Chapter10 {}

#[test]
#[ignore = "a data race on purpose: run alone under ThreadSanitizer (`-- --ignored plain`)"]
fn plain_flag_under_threads() {
    let ring = Chapter10 { flag: UnsafeCell::new(0), items: UnsafeCell::new(Vec::new()) };
    // The two threads take turns, by a relaxed counter, which orders nothing for TSan (nor for
    // the memory model). Without the turns, TSan missed this race in most runs on a loaded
    // machine: it judges only the accesses it is shown, and there they seldom met.
    let turn = AtomicUsize::new(0);
    thread::scope(|s| {
        for me in 0..2 {
            let (ring, turn) = (&ring, &turn);
            s.spawn(move || {
                for i in 0..1000 {
                    while turn.load(Ordering::Relaxed) % 2 != me {
                        thread::yield_now();
                    }
                    // SAFETY: none, under threads: the race itself.
                    unsafe {
                        if *ring.flag.get() == 0 {
                            *ring.flag.get() = -1;
                            (*ring.items.get()).push(i);
                            (*ring.items.get()).clear();
                            *ring.flag.get() = 0;
                        }
                    }
                    turn.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
}
// ANCHOR_END: plain
// ANCHOR_END: all
