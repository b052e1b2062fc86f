// ANCHOR: all
//! Work on the pieces of a buffer in threads of their own, without the GIL, while the calling
//! thread watches for Ctrl-C and reports progress (chapter 11's, with a progress callback).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use counting::Bytes;
use pyo3_ffi::*;

/// How often the calling thread takes the GIL back to run Python's signal handlers, and to
/// report progress if a piece has ended since the last report.
pub const POLL: Duration = Duration::from_millis(10);

/// Why the work did not finish.
pub enum Stopped {
    /// A signal handler (Ctrl-C: `KeyboardInterrupt`) or the progress callback raised; the
    /// exception is set.
    Raised,
    /// A thread could not be started.
    Spawn(std::io::Error),
    /// A worker panicked (a bug).
    Panicked,
}

// ANCHOR: released
/// The GIL, released: taken back when this is dropped, even by a panic. Once the interpreter
/// is finalising (a call in a daemon thread at exit), taking it back never returns: pyo3-ffi's
/// `PyEval_RestoreThread` parks the thread for good, as CPython's own does from 3.14.
struct Released(*mut PyThreadState);

impl Released {
    /// # Safety
    /// The calling thread holds the GIL.
    unsafe fn new() -> Released {
        // SAFETY: the caller's promise.
        Released(unsafe { PyEval_SaveThread() })
    }

    // ANCHOR: visit
    /// Takes the GIL for a moment to run the signal handlers of any signal that arrived (only
    /// the main thread of the main interpreter runs them: elsewhere this does nothing), then,
    /// if `done` is `Some`, `progress(done)`; says whether either raised an exception.
    fn raised(&mut self, done: Option<usize>, progress: &mut impl FnMut(usize) -> bool) -> bool {
        // SAFETY: self.0 is this thread's state, saved by PyEval_SaveThread; the GIL is held
        // between the two calls, and released again after.
        unsafe {
            PyEval_RestoreThread(self.0);
            let raised = PyErr_CheckSignals() != 0 || done.is_some_and(|n| !progress(n));
            self.0 = PyEval_SaveThread();
            raised
        }
    }
    // ANCHOR_END: visit
}

impl Drop for Released {
    fn drop(&mut self) {
        // SAFETY: this thread released the GIL in `new` (or `signal_raised`) and takes it back.
        unsafe { PyEval_RestoreThread(self.0) }
    }
}
// ANCHOR_END: released

// ANCHOR: run
/// Runs `work` on every piece, in `threads` threads of their own, with the GIL released, and
/// returns the pieces' results (in no particular order). Each thread takes the next piece that
/// no thread has taken yet, so a thread on a faster (or less busy) core takes more of them.
/// Meanwhile the calling thread, every `POLL`, runs Python's signal handlers and, if pieces
/// have ended since its last report, calls `progress` with the bytes done, with the GIL held;
/// when either raises (`progress` returns false), it sets the flag that every worker looks at
/// between chunks, waits for them, and returns `Stopped::Raised` with the exception set.
///
/// # Safety
/// The calling thread holds the GIL (it has it again when this returns).
pub unsafe fn run<'a, R: Send>(
    pieces: Vec<Bytes<'a>>,
    threads: usize,
    work: impl Fn(Bytes<'a>, &AtomicBool) -> Option<R> + Sync,
    mut progress: impl FnMut(usize) -> bool,
) -> Result<Vec<R>, Stopped> {
    let stop = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    // The bytes of the pieces that have ended, for the progress reports.
    let counted = AtomicUsize::new(0);
    // SAFETY: the caller's promise.
    let mut gil = unsafe { Released::new() };
    let mut stopped = None;
    let results = thread::scope(|scope| {
        let (done, finished) = mpsc::channel();
        let mut workers = Vec::new();
        for k in 0..threads.min(pieces.len()) {
            let (done, stop, next, pieces, work) = (done.clone(), &stop, &next, &pieces, &work);
            let counted = &counted;
            let started =
                thread::Builder::new().name(format!("hist-{k}")).spawn_scoped(scope, move || {
                    let mut mine = Vec::new();
                    while let Some(&piece) = pieces.get(next.fetch_add(1, Relaxed)) {
                        match work(piece, stop) {
                            Some(result) => mine.push(result),
                            None => break, // stopped
                        }
                        counted.fetch_add(piece.len(), Relaxed);
                    }
                    let _ = done.send(());
                    mine
                });
            match started {
                Ok(worker) => workers.push(worker),
                Err(e) => {
                    stop.store(true, Relaxed);
                    stopped = Some(Stopped::Spawn(e));
                    break;
                }
            }
        }
        drop(done);
        // ANCHOR: poll
        let mut running = workers.len();
        let mut reported = 0;
        while running > 0 && stopped.is_none() {
            match finished.recv_timeout(POLL) {
                Ok(()) => running -= 1,
                Err(RecvTimeoutError::Timeout) => {
                    let bytes = counted.load(Relaxed);
                    let done = (bytes > reported).then_some(bytes);
                    if gil.raised(done, &mut progress) {
                        // (The broken variant forgets to tell the workers.)
                        stop.store(!cfg!(feature = "broken"), Relaxed);
                        stopped = Some(Stopped::Raised);
                    }
                    reported = bytes;
                }
                Err(RecvTimeoutError::Disconnected) => break, // a worker panicked
            }
        }
        // ANCHOR_END: poll
        workers.into_iter().map(|w| w.join()).collect::<Vec<_>>()
    });
    drop(gil);
    if let Some(why) = stopped {
        return Err(why);
    }
    let mut out = Vec::with_capacity(pieces.len());
    for result in results {
        match result {
            Ok(mine) => out.extend(mine),
            Err(_) => return Err(Stopped::Panicked),
        }
    }
    if out.len() != pieces.len() {
        // Nothing set the flag but a signal, which returned above.
        return Err(Stopped::Panicked);
    }
    Ok(out)
}
// ANCHOR_END: run
// ANCHOR_END: all
