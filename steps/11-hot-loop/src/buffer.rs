// ANCHOR: all
//! The buffer protocol: borrowing the memory of any object that exports one (`bytes`,
//! `bytearray`, `memoryview`, `array.array`, `mmap`, a numpy array), without a copy.

use std::ffi::{CStr, CString, c_char, c_int, c_void};

use counting::Bytes;
use pyo3_ffi::*;

// ANCHOR: ffi
/// CPython's `Py_buffer`, part of the stable ABI from 3.11 (`Include/pybuffer.h`).
#[repr(C)]
struct Py_buffer {
    buf: *mut c_void,
    obj: *mut PyObject,
    len: Py_ssize_t,
    itemsize: Py_ssize_t,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut Py_ssize_t,
    strides: *mut Py_ssize_t,
    suboffsets: *mut Py_ssize_t,
    internal: *mut c_void,
}

// pyo3-ffi declares these only when it builds for a stable ABI of 3.11 or newer; the book's
// workspace builds for 3.10's, so this crate declares them itself, and `PyInit_hist` refuses
// to load on a CPython older than 3.11.
unsafe extern "C" {
    fn PyObject_GetBuffer(obj: *mut PyObject, view: *mut Py_buffer, flags: c_int) -> c_int;
    fn PyBuffer_Release(view: *mut Py_buffer);
    fn PyBuffer_IsContiguous(view: *const Py_buffer, order: c_char) -> c_int;
}

/// `PyBUF_FORMAT` (4) asks what the items are, so that a buffer of doubles is not counted as
/// bytes by mistake. `PyBUF_ND` (8) asks for the shape, which a format needs: a request
/// without it asks to see the memory as unsigned bytes, and a format would contradict that
/// (a memoryview refuses `PyBUF_FORMAT` alone; `bytes` and `array` accept it). Asking for no
/// strides asks for one C-contiguous block: an exporter that cannot give one refuses (a
/// memoryview with `BufferError`, numpy with `ValueError`).
const FLAGS: c_int = 0x0004 | 0x0008;

/// The message for an exporter that ignored FLAGS (see `Export::new`).
const NOT_ONE_BLOCK: &CStr = c"the exporter ignored the request for one contiguous block";
// ANCHOR_END: ffi

// ANCHOR: export
/// An export of an object's memory, released when dropped. While it lives, the object may not
/// free or move that memory: a `bytearray` refuses to resize (`BufferError`).
pub struct Export {
    // Boxed: an exporter may keep pointers into the view, which must then stay where it is.
    view: Box<Py_buffer>,
}

impl Export {
    /// Exports `obj`'s memory as one contiguous block. On failure the exporter's exception is
    /// set (`TypeError` for an object with no buffer; for one that is not contiguous, a
    /// memoryview's `BufferError` or numpy's `ValueError`), or a `BufferError` if the exporter
    /// handed out a view that is not one block all the same.
    ///
    /// # Safety
    /// The GIL is held, and `obj` is a valid object.
    pub unsafe fn new(obj: *mut PyObject) -> Option<Export> {
        // SAFETY: a zeroed Py_buffer is what PyObject_GetBuffer expects to fill in.
        let mut view: Box<Py_buffer> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: the caller's promise; `view` is ours to fill.
        if unsafe { PyObject_GetBuffer(obj, &mut *view, FLAGS) } != 0 {
            return None;
        }
        let export = Export { view }; // from here on, released when dropped
        // Nothing in CPython checks that an exporter honoured FLAGS; one written in C (or
        // with ctypes) may hand out strides or suboffsets all the same. Reading `len` bytes
        // from `buf` is right only for one C-contiguous block.
        // SAFETY: the view was filled in by a successful PyObject_GetBuffer.
        if unsafe { PyBuffer_IsContiguous(&*export.view, b'C' as c_char) } == 0 {
            // SAFETY: the GIL is held (the caller's promise).
            unsafe { PyErr_SetString(PyExc_BufferError, NOT_ONE_BLOCK.as_ptr()) };
            return None;
        }
        Some(export)
    }

    /// The exported bytes, if the items are single bytes; else a `TypeError` is set.
    ///
    /// # Safety
    /// The GIL is held.
    pub unsafe fn bytes(&self, function: &str) -> Option<Bytes<'_>> {
        let format = self.view.format;
        // A NULL format means "unsigned bytes" (`B`).
        let items = if format.is_null() {
            "B".to_string()
        } else {
            // SAFETY: an exporter's format is a NUL-terminated string that lives with the view.
            unsafe { CStr::from_ptr(format) }.to_string_lossy().into_owned()
        };
        // `@`, `=`, `<`, `>` and `!` name a byte order, which one byte does not have.
        if !matches!(items.trim_start_matches(['@', '=', '<', '>', '!']), "B" | "c") {
            let message = format!(
                "{function}() counts bytes, not items of format '{items}' ({} bytes each): \
                 pass memoryview(data).cast('B')",
                self.view.itemsize
            );
            let message = CString::new(message).unwrap_or_default();
            // SAFETY: the GIL is held (the caller's promise).
            unsafe { PyErr_SetString(PyExc_TypeError, message.as_ptr()) };
            return None;
        }
        let len = usize::try_from(self.view.len).unwrap_or(0);
        // SAFETY: the export keeps the memory alive and in place until it is released, which
        // borrowing `self` for the lifetime of the `Bytes` postpones. Python code may still
        // write it meanwhile (a `bytearray`): `Bytes` is read with atomics for that reason.
        Some(unsafe { Bytes::from_raw(self.view.buf.cast::<u8>(), len) })
    }
}

impl Drop for Export {
    fn drop(&mut self) {
        // SAFETY: the view was filled by a successful PyObject_GetBuffer and is released once.
        // Every Export is made and dropped by a function that Python called, with the GIL
        // held; an Export is not Send (it holds raw pointers), so no other thread can drop it.
        unsafe { PyBuffer_Release(&mut *self.view) }
    }
}
// ANCHOR_END: export
// ANCHOR_END: all
