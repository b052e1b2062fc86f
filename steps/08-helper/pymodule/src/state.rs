// ANCHOR: all
//! The module's state block as the rest of the crate sees it: its layout, whether the exec slot
//! has written it yet, and how far CPython's allocator aligns it. It uses nothing else of the
//! crate, which reads from here up.

use std::sync::atomic::{AtomicBool, Ordering};

use pyo3_ffi as ffi;

// ANCHOR: state
/// The module's state as CPython allocates it (`m_size` bytes, zeroed, before `Py_mod_exec`).
/// `ready` is false until exec has written the rest, so the collector's hooks, which may run
/// before exec, can tell. No lock guards the block, and none is needed without a GIL either:
/// exec writes `types` and `user` *before* it sets `ready` (a release store), and every reader
/// loads `ready` first (an acquire load), so a thread that sees it set sees them written. After
/// that, `types` is read-only until `m_clear` or `m_free`, which CPython calls only when no other
/// thread can reach the module; `user` is shared (`&S`, so `S: Sync`); `exiting` is atomic.
#[repr(C)]
pub(crate) struct StateBlock<S> {
    pub(crate) header: Header,
    pub(crate) user: S,
}

#[repr(C)]
pub(crate) struct Header {
    pub(crate) ready: AtomicBool,
    /// Strong references to the module's exception types (index 0: PanicException), then to
    /// its classes' types.
    pub(crate) types: Vec<*mut ffi::PyObject>,
    /// Set when the interpreter runs its exit functions (`atexit`): after them, a thread that
    /// tries to take its GIL may never get it.
    /// It guards no other data, so `Relaxed` suffices for it.
    pub(crate) exiting: AtomicBool,
}
// ANCHOR_END: state

/// The alignment of what `PyMem_Malloc` returns, which holds the module's state and every
/// instance of a class: 16 bytes on a 64-bit machine, 8 on a 32-bit one (pymalloc's
/// `ALIGNMENT`; mimalloc and the system malloc give at least as much).
pub(crate) const MALLOC_ALIGN: usize = 2 * size_of::<usize>();

/// The header of a module's state, if exec has initialised it. The state is NULL until
/// `PyModule_ExecDef` allocates it, which a module made by `importlib.util.module_from_spec`
/// and not yet given to `exec_module` shows: its functions can already be called.
///
/// # Safety
/// The thread is attached (holds the GIL, on a GIL build) and `module` is a module object made
/// by [`module!`](crate::module!).
pub(crate) unsafe fn header<'a>(module: *mut ffi::PyObject) -> Option<&'a Header> {
    // SAFETY: the caller's promise: the state is NULL, zeroed (ready == false) or a StateBlock
    // whose other fields exec wrote before its release store of `ready`, which the acquire load
    // here pairs with. For a module object, PyModule_GetState returns NULL without setting an
    // exception.
    unsafe {
        let state = ffi::PyModule_GetState(module).cast::<Header>();
        if state.is_null() {
            return None;
        }
        if (*state).ready.load(Ordering::Acquire) { Some(&*state) } else { None }
    }
}
// ANCHOR_END: all
