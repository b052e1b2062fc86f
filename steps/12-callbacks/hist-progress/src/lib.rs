// ANCHOR: all
// ANCHOR: top
//! Chapter 12: chapter 11's `hist.histogram` with `progress=callable`, called from the calling
//! thread, never from the workers. Raw pyo3-ffi, for the stable ABI of CPython 3.11 on.

// Chapter 11's buffer module, unchanged.
#[path = "../../../11-hot-loop/src/buffer.rs"]
mod buffer;
mod workers;

use std::ffi::{CStr, CString, c_int, c_long};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::AtomicBool;

use buffer::Export;
use counting::{Bytes, Counts};
use pyo3_ffi::*;
use workers::Stopped;

/// At most this many threads: more would only add start-up time on any machine we know.
const MAX_THREADS: c_long = 64;
/// A buffer smaller than this (1 MiB, about half a millisecond of counting) is counted on the
/// calling thread, with the GIL held: starting a thread costs tens of microseconds.
const ON_THE_CALLING_THREAD: usize = 1 << 20;
/// What a thread takes at a time from a larger buffer: 4 MiB, about 2 ms of counting.
const PIECE: usize = 4 << 20;
// ANCHOR_END: top

/// Returned by a function that has set a Python exception.
struct Raised;

fn raise(kind: *mut PyObject, message: &str) -> Raised {
    let message = CString::new(message).unwrap_or_default();
    // SAFETY: only functions that Python called raise, holding the GIL; `kind` is one of the
    // interpreter's exception types.
    unsafe { PyErr_SetString(kind, message.as_ptr()) };
    Raised
}

// ANCHOR: entry
/// The body of every function Python calls: a panic becomes a `SystemError`, never an unwind
/// across `extern "C"`.
fn entry(body: impl FnOnce() -> Result<*mut PyObject, Raised>) -> *mut PyObject {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(result)) => result,
        Ok(Err(Raised)) => ptr::null_mut(),
        Err(_) => {
            // A panic leaves the GIL held, as it was on entry (see workers::Released).
            raise(unsafe { PyExc_SystemError }, "hist: a Rust panic was caught (this is a bug)");
            ptr::null_mut()
        }
    }
}
// ANCHOR_END: entry

// ANCHOR: args
/// The arguments `(data, threads=1, *, progress=None)`, from a METH_FASTCALL | METH_KEYWORDS
/// call: the progress callback is NULL when left out or None.
///
/// # Safety
/// The GIL is held; `args`, `nargs` and `kwnames` are what CPython passed.
unsafe fn data_and_threads(
    name: &str,
    args: *const *mut PyObject,
    nargs: Py_ssize_t,
    kwnames: *mut PyObject,
) -> Result<(*mut PyObject, usize, *mut PyObject), Raised> {
    let positional = usize::try_from(nargs).unwrap_or(0);
    let keywords = if kwnames.is_null() {
        0
    } else {
        // SAFETY: kwnames is a tuple of str (CPython's promise for METH_KEYWORDS).
        usize::try_from(unsafe { PyTuple_Size(kwnames) }).unwrap_or(0)
    };
    let all: &[*mut PyObject] = if positional + keywords == 0 {
        // `args` may then be NULL (PyObject_CallNoArgs passes NULL), which no slice may hold.
        &[]
    } else {
        // SAFETY: CPython passes the positional arguments, then one value per keyword.
        unsafe { std::slice::from_raw_parts(args, positional + keywords) }
    };
    let type_error = |what: String| raise(unsafe { PyExc_TypeError }, &what);
    if positional == 0 || positional > 2 {
        return Err(type_error(format!(
            "{name}() takes 1 or 2 positional arguments (data, threads) but {positional} were given"
        )));
    }
    let mut threads = all.get(1).copied().filter(|_| positional == 2);
    let mut progress = None;
    for (k, &value) in all[positional..].iter().enumerate() {
        // SAFETY: a valid index into the keyword names' tuple.
        let key = unsafe { PyTuple_GetItem(kwnames, k as Py_ssize_t) };
        // SAFETY: key is a str; the literals are ASCII.
        let which = if unsafe { PyUnicode_CompareWithASCIIString(key, c"threads".as_ptr()) } == 0 {
            &mut threads
        } else if unsafe { PyUnicode_CompareWithASCIIString(key, c"progress".as_ptr()) } == 0 {
            &mut progress
        } else {
            // SAFETY: key is a str; its UTF-8, if it has one, lives as long as the str.
            let utf8 = unsafe { PyUnicode_AsUTF8AndSize(key, ptr::null_mut()) };
            let key = if utf8.is_null() {
                unsafe { PyErr_Clear() }; // a lone surrogate has no UTF-8
                "?".into()
            } else {
                unsafe { CStr::from_ptr(utf8) }.to_string_lossy()
            };
            return Err(type_error(format!("{name}() got an unexpected keyword argument '{key}'")));
        };
        if which.is_some() {
            return Err(type_error(format!("{name}() got an argument twice")));
        }
        *which = Some(value);
    }
    // SAFETY: Py_None is a static object.
    let progress = progress.filter(|&p| p != unsafe { Py_None() }).unwrap_or(ptr::null_mut());
    // SAFETY: progress is NULL or a valid object.
    if !progress.is_null() && unsafe { PyCallable_Check(progress) } == 0 {
        return Err(type_error(format!("{name}() argument 'progress' must be callable or None")));
    }
    let threads = match threads {
        None => 1,
        Some(value) => {
            // SAFETY: value is a valid object; -1 with an exception set means it failed.
            let n = unsafe { PyLong_AsLong(value) };
            if n == -1 && unsafe { !PyErr_Occurred().is_null() } {
                return Err(Raised); // TypeError for a float or a str, OverflowError if huge
            }
            if !(1..=MAX_THREADS).contains(&n) {
                return Err(raise(
                    unsafe { PyExc_ValueError },
                    &format!("threads must be from 1 to {MAX_THREADS}, not {n}"),
                ));
            }
            n as usize
        }
    };
    Ok((all[0], threads, progress))
}
// ANCHOR_END: args

// ANCHOR: spread
/// `work` on `bytes`: on the calling thread if they are few, else on pieces of them in `threads`
/// threads of their own (see workers::run), reporting progress to `progress` (NULL: nobody)
/// from the calling thread, and the total once at the end.
///
/// # Safety
/// The GIL is held; `progress` is NULL or a callable object.
unsafe fn spread<'a, R: Send>(
    bytes: Bytes<'a>,
    threads: usize,
    progress: *mut PyObject,
    work: impl Fn(Bytes<'a>, &AtomicBool) -> Option<R> + Sync,
) -> Result<Vec<R>, Raised> {
    let total = bytes.len();
    let reported = std::cell::Cell::new(0);
    let report = |done: usize| {
        reported.set(done);
        // SAFETY: the GIL is held whenever `report` runs (workers::run's promise).
        unsafe { progress.is_null() || call_progress(progress, done, total) }
    };
    if bytes.len() < ON_THE_CALLING_THREAD {
        // Nothing sets this flag: the work runs to its end.
        let done = work(bytes, &AtomicBool::new(false)).ok_or_else(|| {
            raise(unsafe { PyExc_SystemError }, "hist: the work stopped unasked (this is a bug)")
        })?;
        return if report(total) { Ok(vec![done]) } else { Err(Raised) };
    }
    // Pieces of about PIECE bytes, at least one per thread, taken in turn by the threads.
    let pieces = bytes.split(threads.max(bytes.len() / PIECE));
    // SAFETY: the caller's promise.
    let parts = unsafe { workers::run(pieces, threads, work, &report) }.map_err(stopped)?;
    // The end, unless the last visit has reported it already.
    if reported.get() == total || report(total) { Ok(parts) } else { Err(Raised) }
}

// ANCHOR: call-progress
/// `progress(done, total)`, its result dropped; false if it raised (the exception is set).
///
/// # Safety
/// The GIL is held and `progress` is a valid object.
unsafe fn call_progress(progress: *mut PyObject, done: usize, total: usize) -> bool {
    // SAFETY: the caller's promises; every new reference is released.
    unsafe {
        let args = Py_BuildValue(c"(nn)".as_ptr(), done as Py_ssize_t, total as Py_ssize_t);
        if args.is_null() {
            return false;
        }
        let result = PyObject_Call(progress, args, ptr::null_mut());
        Py_DecRef(args);
        if result.is_null() {
            return false;
        }
        Py_DecRef(result);
        true
    }
}
// ANCHOR_END: call-progress
// ANCHOR_END: spread

/// Sets the exception that says why the workers stopped.
fn stopped(why: Stopped) -> Raised {
    match why {
        Stopped::Raised => Raised, // KeyboardInterrupt (or whatever the handler raised) is set
        Stopped::Spawn(e) => {
            raise(unsafe { PyExc_RuntimeError }, &format!("could not start a thread: {e}"))
        }
        Stopped::Panicked => {
            raise(unsafe { PyExc_SystemError }, "hist: a worker thread panicked (this is a bug)")
        }
    }
}

// ANCHOR: histogram
/// `hist.histogram(data, threads=1)`.
unsafe extern "C" fn histogram(
    _module: *mut PyObject,
    args: *const *mut PyObject,
    nargs: Py_ssize_t,
    kwnames: *mut PyObject,
) -> *mut PyObject {
    entry(|| {
        // SAFETY: CPython calls this with the GIL held and its own arguments.
        let (data, threads, progress) =
            unsafe { data_and_threads("histogram", args, nargs, kwnames)? };
        // SAFETY: the GIL is held; data is a valid object.
        let export = unsafe { Export::new(data) }.ok_or(Raised)?;
        let bytes = unsafe { export.bytes("histogram") }.ok_or(Raised)?;
        // SAFETY: the GIL is held; `spread` has it again when it returns, and `export` is
        // dropped after that, with the GIL held, as PyBuffer_Release needs.
        let count = |piece: Bytes<'_>, stop: &AtomicBool| piece.count(stop);
        let parts = unsafe { spread(bytes, threads, progress, count)? };
        let mut counts: Counts = [0; 256];
        for part in parts {
            for (total, n) in counts.iter_mut().zip(part) {
                *total += n;
            }
        }
        unsafe { list_of(&counts) }
    })
}
// ANCHOR_END: histogram

/// A new list of the 256 counts.
///
/// # Safety
/// The GIL is held.
unsafe fn list_of(counts: &Counts) -> Result<*mut PyObject, Raised> {
    // SAFETY: the GIL is held; each item is set once, before anyone else sees the list.
    unsafe {
        let list = PyList_New(256);
        if list.is_null() {
            return Err(Raised);
        }
        for (i, &n) in counts.iter().enumerate() {
            let item = PyLong_FromUnsignedLongLong(n);
            if item.is_null() {
                Py_DecRef(list);
                return Err(Raised);
            }
            PyList_SetItem(list, i as Py_ssize_t, item); // steals the reference
        }
        Ok(list)
    }
}

// ANCHOR: module
const fn function(
    name: &'static CStr,
    f: PyCFunctionFastWithKeywords,
    doc: &'static CStr,
) -> PyMethodDef {
    PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: PyMethodDefPointer { PyCFunctionFastWithKeywords: f },
        ml_flags: METH_FASTCALL | METH_KEYWORDS,
        ml_doc: doc.as_ptr(),
    }
}

static mut METHODS: [PyMethodDef; 2] = [
    function(
        c"histogram",
        histogram,
        c"histogram(data, /, threads=1, *, progress=None)\n--\n\nHow many bytes of each value \
          0 to 255 `data` holds; calls progress(done, total) as the count goes.",
    ),
    PyMethodDef::zeroed(),
];

static mut SLOTS: [PyModuleDef_Slot; 1] = [PyModuleDef_Slot { slot: 0, value: ptr::null_mut() }];

static mut MODULE: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"hist_progress".as_ptr(),
    m_doc: c"Chapter 11's histogram of bytes, with a progress callback.".as_ptr(),
    m_size: 0,
    m_methods: &raw mut METHODS as _,
    m_slots: &raw mut SLOTS as _,
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

/// The module's entry point. It refuses CPython 3.10, whose stable ABI has no buffer protocol.
///
/// # Safety
/// Only CPython calls it, holding the GIL, while it imports the module.
#[allow(non_snake_case, reason = "must be named PyInit_<module>")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn PyInit_hist_progress() -> *mut PyObject {
    if minor_version() < 11 {
        raise(
            // SAFETY: CPython holds the GIL while it imports.
            unsafe { PyExc_ImportError },
            "hist_progress needs CPython 3.11 or newer: its stable ABI has the buffer protocol",
        );
        return ptr::null_mut();
    }
    // SAFETY: the definition is static and CPython holds the GIL.
    unsafe { PyModuleDef_Init(&raw mut MODULE) }
}

/// The running CPython's minor version, from `Py_GetVersion()` ("3.12.1 (main, ...").
fn minor_version() -> c_int {
    // SAFETY: Py_GetVersion returns a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr(Py_GetVersion()) }.to_bytes();
    let minor = text.split(|&b| b == b'.').nth(1).unwrap_or_default();
    minor.iter().take_while(|b| b.is_ascii_digit()).fold(0, |n, b| n * 10 + c_int::from(b - b'0'))
}
// ANCHOR_END: module
// ANCHOR_END: all
