// ANCHOR: all
//! The module definition: multi-phase initialisation, the slots each CPython version accepts, and
//! the exec slot and garbage-collector hooks of the module's state (whose layout is in `state`).

use std::cell::UnsafeCell;
use std::ffi::{CStr, c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3_ffi as ffi;

use crate::state::{Header, MALLOC_ALIGN, StateBlock, header};

/// What [`module!`](crate::module!) knows about a module, for the functions below.
pub trait Spec: 'static {
    /// The module's own state (`()` if it has none). `Sync`, because every thread that calls
    /// the module shares it (`&State`), with no GIL to take turns on a free-threaded build.
    type State: Default + Send + Sync + 'static;
    /// Its exception types: `PanicException` first, then those it declares.
    const EXCEPTIONS: &'static [ExceptionDef];
    /// Its classes (chapter 10), made after the state is written.
    const CLASSES: &'static [crate::class::ClassDef] = &[];
}

/// An exception type that a module creates when it is executed.
pub struct ExceptionDef {
    /// The module attribute it becomes.
    pub attr: &'static CStr,
    /// `module.Name`: its `__module__` and the name tracebacks show.
    pub qualname: &'static CStr,
    /// Its docstring.
    pub doc: &'static CStr,
    /// Its base class, a built-in exception.
    pub base: crate::err::Kind,
}

/// A method table; CPython only reads it, so sharing it between threads is fine.
pub struct Methods(pub &'static [ffi::PyMethodDef]);
// SAFETY: never written after compilation; CPython reads it.
unsafe impl Sync for Methods {}

// ANCHOR: slots
/// The slot tables for CPython 3.10–3.11, 3.12, and 3.13 on, ending with a zero slot each.
pub struct Slots(pub [[ffi::PyModuleDef_Slot; 4]; 3]);
// SAFETY: as for Methods.
unsafe impl Sync for Slots {}

const END: ffi::PyModuleDef_Slot = ffi::PyModuleDef_Slot { slot: 0, value: ptr::null_mut() };

impl Slots {
    /// `Py_mod_exec` for every version; `Py_mod_multiple_interpreters` (3.12) saying that the
    /// module supports an interpreter with its own GIL; `Py_mod_gil` (3.13) saying that it needs
    /// the GIL. CPython before 3.12 refuses a slot number it does not know ("module uses unknown
    /// slot ID"), so each version gets only the slots it knows. pyo3-ffi offers the slot numbers
    /// under `abi3-py310`, but the values only for 3.12 and 3.13 builds, so they are written here.
    pub const fn new<M: Spec>() -> Self {
        let exec =
            ffi::PyModuleDef_Slot { slot: ffi::Py_mod_exec, value: exec::<M> as *mut c_void };
        // Py_MOD_PER_INTERPRETER_GIL_SUPPORTED: nothing of the module's is shared between
        // interpreters; all it keeps is in the module's state.
        let multi = ffi::PyModuleDef_Slot {
            slot: ffi::Py_mod_multiple_interpreters,
            value: 2 as *mut c_void,
        };
        // Py_MOD_GIL_USED. The module's state would be sound without it (it is `Sync`, and exec
        // publishes it with a release store), but a class's instances are not yet: their borrow
        // flag and interpreter cache are `Cell`s, and their values need only be `Send`.
        let gil = ffi::PyModuleDef_Slot { slot: ffi::Py_mod_gil, value: ptr::null_mut() };
        Slots([[exec, END, END, END], [exec, multi, END, END], [exec, multi, gil, END]])
    }
}
// ANCHOR_END: slots

/// A module's definition: one `PyModuleDef` per slot table, of which `PyInit_` hands CPython the
/// one for the running version. CPython writes into the one it gets (its object header and
/// index), hence the `UnsafeCell`s.
pub struct ModuleDef([UnsafeCell<ffi::PyModuleDef>; 3]);
// SAFETY: only CPython writes the definitions, in PyModuleDef_Init under the importing
// interpreter's GIL. Two interpreters with GILs of their own (3.12 on) may both write the same
// header and index at once: the benign race that every C extension's static PyModuleDef has.
unsafe impl Sync for ModuleDef {}

impl ModuleDef {
    /// The definitions of module `name`, one per slot table.
    pub const fn new<M: Spec>(
        name: &'static CStr,
        doc: &'static CStr,
        methods: &'static Methods,
        slots: &'static Slots,
    ) -> Self {
        ModuleDef([
            UnsafeCell::new(definition::<M>(name, doc, methods, &slots.0[0])),
            UnsafeCell::new(definition::<M>(name, doc, methods, &slots.0[1])),
            UnsafeCell::new(definition::<M>(name, doc, methods, &slots.0[2])),
        ])
    }

    // ANCHOR: init
    /// What `PyInit_<name>` returns: the definition for the running CPython, which CPython then
    /// uses to create the module and run its exec slot.
    pub fn init(&'static self) -> *mut ffi::PyObject {
        let (major, minor) = running_version();
        let i = match (major, minor) {
            (3, ..=11) => 0,
            (3, 12) => 1,
            _ => 2,
        };
        // SAFETY: PyInit_ is called by CPython with the GIL held; the definition is static.
        unsafe { ffi::PyModuleDef_Init(self.0[i].get()) }
    }
    // ANCHOR_END: init
}

const fn definition<M: Spec>(
    name: &'static CStr,
    doc: &'static CStr,
    methods: &'static Methods,
    slots: &'static [ffi::PyModuleDef_Slot; 4],
) -> ffi::PyModuleDef {
    const {
        assert!(
            align_of::<StateBlock<M::State>>() <= MALLOC_ALIGN,
            "the module's state needs more alignment than CPython gives it (16 bytes on 64-bit)"
        )
    };
    ffi::PyModuleDef {
        m_base: ffi::PyModuleDef_HEAD_INIT,
        m_name: name.as_ptr(),
        m_doc: doc.as_ptr(),
        m_size: size_of::<StateBlock<M::State>>() as ffi::Py_ssize_t,
        m_methods: methods.0.as_ptr().cast_mut(),
        m_slots: slots.as_ptr().cast_mut(),
        m_traverse: Some(traverse),
        m_clear: Some(clear),
        m_free: Some(free::<M>),
    }
}

// ANCHOR: version
/// The running CPython's (major, minor), read from `Py_GetVersion()` ("3.12.1 (main, ...").
/// (`Py_Version`, a number, is in the stable ABI only from 3.11 on.)
fn running_version() -> (u32, u32) {
    // SAFETY: Py_GetVersion returns a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr(ffi::Py_GetVersion()) }.to_bytes();
    let mut parts = text.split(|&b| b == b'.' || b == b' ').map(|digits| {
        digits
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .fold(0u32, |n, b| n.saturating_mul(10).saturating_add(u32::from(b - b'0')))
    });
    (parts.next().unwrap_or(3), parts.next().unwrap_or(0))
}
// ANCHOR_END: version

/// The `Py_mod_exec` slot: creates the module's exception types, adds them to it, and writes its
/// state. On any failure it releases what it made and returns -1 with an exception set.
unsafe extern "C" fn exec<M: Spec>(module: *mut ffi::PyObject) -> c_int {
    let run = || {
        let mut types: Vec<*mut ffi::PyObject> =
            Vec::with_capacity(M::EXCEPTIONS.len() + M::CLASSES.len());
        for def in M::EXCEPTIONS {
            let base = match def.base {
                crate::err::Kind::Builtin(get) => get(),
                crate::err::Kind::Module(i) => types[i],
            };
            // SAFETY: the GIL is held (CPython runs exec slots with it); the names and the
            // docstring are NUL-terminated.
            let ty = unsafe {
                ffi::PyErr_NewExceptionWithDoc(
                    def.qualname.as_ptr(),
                    def.doc.as_ptr(),
                    base,
                    ptr::null_mut(),
                )
            };
            // AddObjectRef takes its own reference, so `types` keeps ours.
            if ty.is_null()
                // SAFETY: `module` is the module being executed, and `ty` a new type.
                || unsafe { ffi::PyModule_AddObjectRef(module, def.attr.as_ptr(), ty) } < 0
            {
                for t in types.into_iter().chain((!ty.is_null()).then_some(ty)) {
                    // SAFETY: references we own.
                    unsafe { ffi::Py_DecRef(t) };
                }
                return -1;
            }
            types.push(ty);
        }
        // The classes, each added to the module and kept after the exception types. They are
        // made before the state is published, so `types` is complete when a thread sees it.
        for class in M::CLASSES {
            // SAFETY: the GIL is held; `module` is the module being executed.
            let ty = unsafe { (class.create)(module) };
            if ty.is_null() {
                for t in types {
                    // SAFETY: references we own.
                    unsafe { ffi::Py_DecRef(t) };
                }
                return -1;
            }
            types.push(ty);
        }
        // ANCHOR: publish
        let user = M::State::default();
        // SAFETY: CPython allocated m_size = size_of::<StateBlock<State>>() bytes for the state,
        // zeroed (so `ready` is false) and aligned for it (asserted in `definition`), before
        // running this slot. Every field but `ready` is written first; then the release store
        // publishes them to any thread whose `header()` sees `ready` set. `ready` itself is never
        // written non-atomically: another thread may be loading it.
        unsafe {
            let state = ffi::PyModule_GetState(module).cast::<StateBlock<M::State>>();
            (&raw mut (*state).header.types).write(types);
            (&raw mut (*state).header.exiting).write(AtomicBool::new(false));
            (&raw mut (*state).user).write(user);
            (*state).header.ready.store(true, Ordering::Release);
            watch_exit(module)
        }
        // ANCHOR_END: publish
    };
    match panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(status) => status,
        Err(payload) => {
            // SAFETY: the GIL is held; the state is not ready, so this raises SystemError.
            unsafe { crate::boundary::raise_panic(module, payload) };
            -1
        }
    }
}

// ANCHOR: exiting
/// Registers an exit function (`atexit.register`) that marks the module's state as exiting
/// when its interpreter runs its exit functions: in `Py_FinalizeEx`, or when a subinterpreter is
/// destroyed, before threads are refused its GIL. The function holds a weak reference to the
/// module, so the module lives no longer than it did. 0, or -1 with an exception set.
///
/// # Safety
/// The GIL is held and `module` is a module of ours whose state is written.
unsafe fn watch_exit(module: *mut ffi::PyObject) -> c_int {
    struct Def(UnsafeCell<ffi::PyMethodDef>);
    // SAFETY: never written; CPython only reads it.
    unsafe impl Sync for Def {}
    static EXITING: Def = Def(UnsafeCell::new(ffi::PyMethodDef {
        ml_name: c"exiting".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunction: exiting },
        ml_flags: ffi::METH_NOARGS,
        ml_doc: ptr::null(),
    }));
    // SAFETY: the caller's promise; every new reference is released before returning.
    unsafe {
        let weak = ffi::PyWeakref_NewRef(module, ptr::null_mut());
        if weak.is_null() {
            return -1;
        }
        let callback = ffi::PyCFunction_NewEx(EXITING.0.get(), weak, ptr::null_mut());
        ffi::Py_DecRef(weak);
        if callback.is_null() {
            return -1;
        }
        let atexit = ffi::PyImport_ImportModule(c"atexit".as_ptr());
        let register = if atexit.is_null() {
            ptr::null_mut()
        } else {
            ffi::PyObject_GetAttrString(atexit, c"register".as_ptr())
        };
        let args = if register.is_null() { ptr::null_mut() } else { ffi::PyTuple_New(1) };
        let done = if args.is_null() {
            ptr::null_mut()
        } else {
            ffi::Py_IncRef(callback);
            ffi::PyTuple_SetItem(args, 0, callback);
            ffi::PyObject_Call(register, args, ptr::null_mut())
        };
        for obj in [done, args, register, atexit, callback] {
            if !obj.is_null() {
                ffi::Py_DecRef(obj);
            }
        }
        if done.is_null() { -1 } else { 0 }
    }
}

/// The exit function: `weak` is the weak reference to the module.
unsafe extern "C" fn exiting(
    weak: *mut ffi::PyObject,
    _: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls it with the GIL held; calling a weak reference gives its object (a
    // new reference) or None, and the object is a module of ours.
    unsafe {
        let module = ffi::PyObject_CallObject(weak, ptr::null_mut());
        if module.is_null() {
            return ptr::null_mut();
        }
        if module != ffi::Py_None()
            && let Some(header) = header(module)
        {
            header.exiting.store(true, Ordering::Relaxed);
        }
        ffi::Py_DecRef(module);
        let none = ffi::Py_None();
        ffi::Py_IncRef(none);
        none
    }
}
// ANCHOR_END: exiting

// ANCHOR: traverse
/// `m_traverse`: tells the garbage collector about the references the state holds.
unsafe extern "C" fn traverse(
    module: *mut ffi::PyObject,
    visit: ffi::visitproc,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: CPython calls this for our module, with the GIL held.
    if let Some(header) = unsafe { header(module) } {
        for &ty in header.types.iter().filter(|t| !t.is_null()) {
            // SAFETY: `ty` is a live object we hold a reference to.
            let status = unsafe { visit(ty, arg) };
            if status != 0 {
                return status;
            }
        }
    }
    0
}
// ANCHOR_END: traverse

/// `m_clear`: drops the state's references (to break a cycle through the module).
unsafe extern "C" fn clear(module: *mut ffi::PyObject) -> c_int {
    // SAFETY: CPython calls this for our module, attached, and only when no other thread can
    // reach the module (the collector clears unreachable objects; m_free, at deallocation), so
    // nothing reads `types` while it is written.
    unsafe {
        let state = ffi::PyModule_GetState(module).cast::<Header>();
        if !state.is_null() && (*state).ready.load(Ordering::Acquire) {
            for ty in (*state).types.iter_mut() {
                let old = std::mem::replace(ty, ptr::null_mut());
                if !old.is_null() {
                    ffi::Py_DecRef(old);
                }
            }
        }
    }
    0
}

/// `m_free`: the module is being deallocated; drop its state.
unsafe extern "C" fn free<M: Spec>(module: *mut c_void) {
    let module = module.cast::<ffi::PyObject>();
    // SAFETY: as for clear; the state is a StateBlock<State> when ready, and is dropped once.
    unsafe {
        clear(module);
        let state = ffi::PyModule_GetState(module).cast::<StateBlock<M::State>>();
        if !state.is_null() && (*state).header.ready.load(Ordering::Acquire) {
            (*state).header.ready.store(false, Ordering::Relaxed);
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                ptr::drop_in_place(&raw mut (*state).header.types);
                ptr::drop_in_place(&raw mut (*state).user);
            }));
        }
    }
}
// ANCHOR_END: all
