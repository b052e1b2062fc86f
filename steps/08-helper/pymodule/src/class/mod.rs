// ANCHOR: all
//! Classes: a Rust value inside the instances of a heap type, its borrow flag, and the type's
//! slots (which the [`class!`](crate::class!) macro fills in).

use std::cell::{Cell, UnsafeCell};
use std::ffi::{CStr, c_int, c_uint, c_void};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use pyo3_ffi as ffi;

use crate::boundary::guard_with;
use crate::err::{PyErr, exc, type_name};
use crate::gil::Gil;
use crate::here::Here;

mod class_macro;
pub(crate) mod instance;
pub(crate) mod obj;

use obj::{Py, THREAD};

// ANCHOR: layout
/// An instance as CPython allocates it (`basicsize` bytes, zeroed): the object header, the
/// weak-reference list (`__weaklistoffset__`), the value's state, the instance's interpreter
/// (NULL until a method first needs it), then the Rust value. A Python
/// subclass's instance is the same, with its `__dict__` after it on 3.10 and before the header
/// from 3.11 on. Only the fields after the header are ever borrowed, never the whole: CPython
/// writes the header (the reference count) while a method runs.
#[repr(C)]
pub struct Object<T> {
    ob_base: ffi::PyObject,
    weaklist: *mut ffi::PyObject,
    /// 0: no value (zeroed memory: `alloc` did not write one); 1: a value, free; n > 1: n - 1
    /// shared borrows; -1: borrowed mutably.
    state: Cell<isize>,
    interp: Cell<*mut ffi::PyInterpreterState>,
    value: UnsafeCell<T>,
}

/// Where a method of `obj` runs: the interpreter the instance belongs to, kept in it.
///
/// # Safety
/// `obj` is an instance of a type of `C` (or of a subclass), alive for `'a`, and the GIL is held.
#[doc(hidden)]
#[inline(always)]
pub unsafe fn here_of<'a, C: Class>(obj: *mut ffi::PyObject) -> Here<'a> {
    // SAFETY: the caller's promise. An instance is only ever used in its own interpreter
    // (objects are not shared between interpreters, and a `Py` refuses to hand its object to
    // another), so the cell holds NULL or the running interpreter.
    unsafe { Here::new(&(*obj.cast::<Object<C::Value>>()).interp) }
}

/// The state of an instance whose value was written and is not borrowed.
const FREE: isize = 1;

/// The two fields of an instance that Rust code reads, each borrowed on its own (a place
/// projection through the raw pointer makes no reference to the header).
///
/// # Safety
/// `obj` is an instance of a type whose instances are `Object<T>`, alive for `'a`, and the GIL
/// is held for `'a`; `value` is read only when `state` says it holds one.
#[inline(always)]
unsafe fn fields<'a, T>(obj: *mut ffi::PyObject) -> (&'a Cell<isize>, &'a UnsafeCell<T>) {
    let object = obj.cast::<Object<T>>();
    // SAFETY: the caller's promise; both fields lie inside the object's basicsize.
    unsafe { (&(*object).state, &(*object).value) }
}
// ANCHOR_END: layout

// ANCHOR: class
/// What [`class!`](crate::class!) knows about a class. `Self` is a marker type named like the
/// class; `Value` is the Rust value each instance holds.
///
/// # Safety
/// Only `class!` implements it: CPython calls what the tables and slots name, so they must be
/// tables that end with an empty row, of functions that take what CPython passes them and treat
/// instances as `Object<Value>`, with a method table that is this class's own.
pub unsafe trait Class: Sized + 'static {
    /// The Rust value inside each instance.
    type Value: 'static;
    /// [`Frozen`] (only `&self` methods) or [`Mutable`] (with a borrow flag, `&mut self` too).
    type Mode: Mode;
    /// `module.Name`: the type's `__module__` and `__name__`.
    const NAME: &'static CStr;
    /// The docstring.
    const DOC: &'static CStr;
    /// Whether instances take weak references.
    const WEAKREF: bool;
    /// Whether Python code may subclass it.
    const BASETYPE: bool;
    /// The collector's hooks, for a value that holds Python objects.
    const GC: Option<Gc>;
    /// `__new__`, `__repr__`, `__eq__` (as rich comparison) and `__len__`, where defined.
    const NEW: Option<ffi::newfunc> = None;
    /// See `NEW`.
    const REPR: Option<ffi::reprfunc> = None;
    /// See `NEW`.
    const RICHCOMPARE: Option<ffi::richcmpfunc> = None;
    /// See `NEW`.
    const LEN: Option<ffi::lenfunc> = None;
    /// `__iter__` and `__next__` (chapter 12), where defined.
    const ITER: Option<ffi::getiterfunc> = None;
    /// See `ITER`.
    const ITERNEXT: Option<ffi::iternextfunc> = None;
    /// The method table. Its address tells this class's types from every other type.
    fn methods() -> &'static [ffi::PyMethodDef];
    /// The properties.
    fn getset() -> &'static [ffi::PyGetSetDef];
}
// ANCHOR_END: class

// ANCHOR: mode
/// How a class's value may be borrowed.
pub trait Mode: 'static {
    /// Whether borrows go through the flag.
    const CHECKED: bool;
}
/// Only shared borrows (`&self`): no flag to check. Change what must change with `Cell`.
pub struct Frozen;
/// Shared and mutable borrows (`&self`, `&mut self`), checked against the instance's flag.
pub struct Mutable;
impl Mode for Frozen {
    const CHECKED: bool = false;
}
impl Mode for Mutable {
    const CHECKED: bool = true;
}
/// The modes that allow `&mut self`: only [`Mutable`].
pub trait CanMutate: Mode {}
impl CanMutate for Mutable {}
// ANCHOR_END: mode

// ANCHOR: traverse
/// A value that holds Python objects says how the cycle collector finds them, and how to drop
/// them to break a cycle. [`class!`](crate::class!) asks for it with the option `gc`.
pub trait Traverse {
    /// Visit every [`Py`] the value holds, once each, with [`Visit::visit`], passing on its
    /// `Err`. It runs inside the collector: it cannot reach Python (there is no [`Gil`] here),
    /// and a `Py` dropped meanwhile is leaked.
    fn traverse(&self, visit: &mut Visit<'_>) -> Result<(), Stop>;
    /// Drop the objects that could be part of a cycle (`tp_clear`).
    fn clear(&mut self);
}

/// The collector's visitor, for [`Traverse::traverse`].
pub struct Visit<'a> {
    visit: ffi::visitproc,
    arg: *mut c_void,
    interp: *mut ffi::PyInterpreterState,
    _traversal: PhantomData<&'a ()>,
}

/// The collector asked to stop visiting; pass it on.
pub struct Stop(c_int);

impl Visit<'_> {
    /// Tells the collector about one reference the value holds (unless its object belongs to
    /// another interpreter, which this collector must not touch).
    pub fn visit(&mut self, obj: &Py) -> Result<(), Stop> {
        if !obj.belongs_to(self.interp) {
            return Ok(());
        }
        // SAFETY: the collector is running with the GIL held and gave us `visit` and `arg`;
        // `obj` is alive (we hold a reference) and of the collector's interpreter.
        match unsafe { (self.visit)(obj.as_ptr(), self.arg) } {
            0 => Ok(()),
            status => Err(Stop(status)),
        }
    }
}
// ANCHOR_END: traverse

/// The collector's slots of a class.
#[derive(Clone, Copy)]
pub struct Gc {
    traverse: ffi::traverseproc,
    clear: ffi::inquiry,
}

/// The hooks of a `gc` class: its value must implement [`Traverse`] and be [`Mutable`] (clearing
/// takes `&mut`).
pub const fn gc<C: Class>() -> Option<Gc>
where
    C::Value: Traverse,
    C::Mode: CanMutate,
{
    Some(Gc { traverse: traverse::<C>, clear: clear::<C> })
}

/// No hooks: the value must be `Send`, which a value holding a [`Py`] (or anything else of
/// Python's) is not.
pub const fn no_gc<C: Class>() -> Option<Gc>
where
    C::Value: Send,
{
    None
}

// ANCHOR: borrow
/// A shared borrow of an instance's value, released when dropped.
pub struct Ref<'a, C: Class> {
    state: &'a Cell<isize>,
    value: &'a C::Value,
}
/// A mutable borrow of an instance's value, released when dropped.
pub struct RefMut<'a, C: Class> {
    state: &'a Cell<isize>,
    value: &'a mut C::Value,
}

impl<C: Class> Deref for Ref<'_, C> {
    type Target = C::Value;
    fn deref(&self) -> &C::Value {
        self.value
    }
}
impl<C: Class> Drop for Ref<'_, C> {
    fn drop(&mut self) {
        if C::Mode::CHECKED {
            self.state.set(self.state.get() - 1);
        }
    }
}
impl<C: Class> Deref for RefMut<'_, C> {
    type Target = C::Value;
    fn deref(&self) -> &C::Value {
        self.value
    }
}
impl<C: Class> DerefMut for RefMut<'_, C> {
    fn deref_mut(&mut self) -> &mut C::Value {
        self.value
    }
}
impl<C: Class> Drop for RefMut<'_, C> {
    fn drop(&mut self) {
        self.state.set(FREE);
    }
}

/// Borrows the value of `obj` for a `&self` method: RuntimeError if a `&mut self` method of the
/// same instance is running (a callback re-entered it), or if the instance has no value.
///
/// # Safety
/// The GIL is held, `obj` is an instance of a type of `C` (or of a subclass), and it stays
/// alive for `'a`.
#[inline(always)]
pub unsafe fn borrow<'a, C: Class>(obj: *mut ffi::PyObject) -> Result<Ref<'a, C>, PyErr> {
    // SAFETY: the caller's promise: `obj` starts with an Object<C::Value>.
    let (state, value) = unsafe { fields::<C::Value>(obj) };
    let n = state.get();
    if C::Mode::CHECKED {
        if n < FREE {
            return Err(cannot_borrow::<C>(n));
        }
        state.set(n + 1);
    } else if n != FREE {
        return Err(cannot_borrow::<C>(n));
    }
    // SAFETY: the state says that the value was written and that no mutable borrow exists,
    // and none can be made while this one lives.
    Ok(Ref { state, value: unsafe { &*value.get() } })
}

/// Borrows the value of `obj` for a `&mut self` method: RuntimeError if any other method of the
/// same instance is running, or if it has no value. Only a [`Mutable`] class has one.
///
/// # Safety
/// As for [`borrow`].
#[inline(always)]
pub unsafe fn borrow_mut<'a, C: Class>(obj: *mut ffi::PyObject) -> Result<RefMut<'a, C>, PyErr>
where
    C::Mode: CanMutate,
{
    // SAFETY: as for borrow.
    let (state, value) = unsafe { fields::<C::Value>(obj) };
    let n = state.get();
    if n != FREE {
        return Err(cannot_borrow::<C>(n));
    }
    state.set(-1);
    // SAFETY: the state says that the value was written and that this is the only borrow.
    Ok(RefMut { state, value: unsafe { &mut *value.get() } })
}
// ANCHOR_END: borrow

#[cold]
#[inline(never)]
fn cannot_borrow<C: Class>(state: isize) -> PyErr {
    let name = C::NAME.to_str().unwrap_or("?");
    let short = name.rsplit('.').next().unwrap_or(name);
    if state == 0 {
        let msg = format!("this {short} has no value: its __new__ did not make the instance");
        return PyErr::new::<exc::RuntimeError>(msg);
    }
    PyErr::new::<exc::RuntimeError>(format!("{short} is already borrowed"))
}

/// Where a slot was called: on an instance, or (for `__new__`) on a type.
#[derive(Clone, Copy)]
pub enum At {
    /// An instance of the class or of a subclass.
    Object(*mut ffi::PyObject),
    /// The class or a subclass.
    Type(*mut ffi::PyTypeObject),
}

// ANCHOR: call
/// Runs a slot's or a method's body for CPython in the crate's one boundary,
/// [`guard`](crate::boundary::guard). The module, for its exception types, is the one the class
/// was made for, found only when something is raised.
///
/// # Safety
/// CPython is calling a slot of a type of `C` with the GIL held; `at` is its instance or type.
#[inline(always)]
pub unsafe fn call<C: Class, R>(
    at: At,
    failed: R,
    body: impl for<'py> FnOnce(Gil<'py>) -> Result<R, PyErr>,
) -> R {
    let module = || {
        // SAFETY: the caller's promise; the module is NULL if it cannot be found, which the
        // raising functions take as "no module: only built-in exception types".
        unsafe {
            module_of::<C>(match at {
                At::Object(obj) => ffi::Py_TYPE(obj),
                At::Type(ty) => ty,
            })
        }
    };
    // SAFETY: CPython holds the GIL during the call. An instance's cell holds NULL or its own
    // interpreter, which is the one that runs its methods (see `here_of`).
    unsafe {
        let gil = match at {
            At::Object(obj) => Gil::assume_here(here_of::<C>(obj)),
            At::Type(_) => Gil::assume(),
        };
        guard_with(failed, gil, module, body)
    }
}
// ANCHOR_END: call

/// The module that made `ty`'s class `C` (`ty` may be a subclass), or NULL. It leaves the
/// exception that is set, if any, as it was.
///
/// # Safety
/// The GIL is held and `ty` is a valid type.
unsafe fn module_of<C: Class>(ty: *mut ffi::PyTypeObject) -> *mut ffi::PyObject {
    // SAFETY: the caller's promise. The exception that is set is kept aside while
    // PyType_GetModule may raise its own (a type whose module was cleared).
    unsafe {
        let base = defining_type::<C>(ty);
        if base.is_null() {
            return ptr::null_mut();
        }
        let (mut t, mut v, mut tb) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
        let module = ffi::PyType_GetModule(base);
        if module.is_null() {
            ffi::PyErr_Clear();
        }
        ffi::PyErr_Restore(t, v, tb);
        module
    }
}

// ANCHOR: is-instance
/// The type of `C` among `ty` and its bases (`ty` itself for the class, its base for a Python
/// subclass), or NULL. A type is one of `C`'s when its method table is `C`'s: a table is never
/// inherited, and no two classes share one.
///
/// # Safety
/// The GIL is held and `ty` is a valid type.
pub(crate) unsafe fn defining_type<C: Class>(
    mut ty: *mut ffi::PyTypeObject,
) -> *mut ffi::PyTypeObject {
    let mine = C::methods().as_ptr().cast_mut().cast::<c_void>();
    while !ty.is_null() {
        // SAFETY: the caller's promise; PyType_GetSlot takes any type from 3.10 on.
        unsafe {
            if ffi::PyType_GetSlot(ty, ffi::Py_tp_methods) == mine {
                return ty;
            }
            ty = ffi::PyType_GetSlot(ty, ffi::Py_tp_base).cast();
        }
    }
    ptr::null_mut()
}

/// Whether `obj` is an instance of a type of `C` or of a subclass of one: then it starts with an
/// `Object<C::Value>`.
///
/// # Safety
/// The GIL is held and `obj` is a valid object.
pub unsafe fn is_instance<C: Class>(obj: *mut ffi::PyObject) -> bool {
    // SAFETY: the caller's promise.
    unsafe { !defining_type::<C>(ffi::Py_TYPE(obj)).is_null() }
}
// ANCHOR_END: is-instance

// ANCHOR: alloc
/// The `__new__` of a class, after its own `__new__` made the value: a new instance of `ty`
/// holding it. Nothing runs between the allocation and the write, so no one (the collector
/// included) ever sees an instance without its value.
///
/// # Safety
/// The GIL is held and `ty` is a type of `C` or a subclass of one.
#[inline(always)]
pub unsafe fn alloc<C: Class>(
    ty: *mut ffi::PyTypeObject,
    value: C::Value,
) -> Result<*mut ffi::PyObject, PyErr> {
    // SAFETY: the caller's promise. PyType_GenericAlloc is the tp_alloc of the class and of
    // every Python subclass, and gives zeroed, aligned room for an Object<C::Value> (or NULL).
    unsafe {
        let obj = ffi::PyType_GenericAlloc(ty, 0);
        if obj.is_null() {
            if ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_NoMemory();
            }
            drop(value);
            return Err(PyErr::already_set());
        }
        let (state, cell) = fields::<C::Value>(obj);
        cell.get().write(value);
        state.set(FREE);
        Ok(obj)
    }
}
// ANCHOR_END: alloc

// ANCHOR: dealloc
/// `tp_dealloc`: untrack, clear the weak references, drop the value if it was written (exactly
/// once: the count is 0, so nothing else can reach the instance), free the memory, and release
/// the type, which each instance of a heap type holds a reference to.
unsafe extern "C" fn dealloc<C: Class>(obj: *mut ffi::PyObject) {
    // SAFETY: CPython calls this once, with the GIL held, for an instance of a type of C (or
    // of a subclass, through subtype_dealloc) whose count reached 0.
    unsafe {
        let ty = ffi::Py_TYPE(obj);
        if C::GC.is_some() {
            ffi::PyObject_GC_UnTrack(obj.cast());
        }
        if C::WEAKREF && !(*obj.cast::<Object<C::Value>>()).weaklist.is_null() {
            ffi::PyObject_ClearWeakRefs(obj);
        }
        let (state, value) = fields::<C::Value>(obj);
        if state.get() != 0 {
            let _ = panic::catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(value.get())));
        }
        if C::GC.is_some() {
            // A GC class's subclasses are GC types too, and all free with this.
            ffi::PyObject_GC_Del(obj.cast());
        } else {
            // A Python subclass of a class without GC may be a GC type (it adds a __dict__):
            // then its tp_free is PyObject_GC_Del, not the class's PyObject_Free.
            let free: Option<ffi::freefunc> =
                std::mem::transmute(ffi::PyType_GetSlot(ty, ffi::Py_tp_free));
            if let Some(free) = free {
                free(obj.cast());
            }
        }
        ffi::Py_DECREF(ty.cast());
    }
}
// ANCHOR_END: dealloc

// ANCHOR: gc
/// `tp_traverse`: the type (every instance of a heap type holds it), then what the value holds.
/// While a `&mut self` method runs, the value is that method's alone: it is skipped, and the
/// collector counts its objects as reachable (so keeps them) this time.
unsafe extern "C" fn traverse<C: Class>(
    obj: *mut ffi::PyObject,
    visit: ffi::visitproc,
    arg: *mut c_void,
) -> c_int
where
    C::Value: Traverse,
{
    // SAFETY: the collector calls this with the GIL held, for a live instance of a type of C.
    unsafe {
        let status = visit(ffi::Py_TYPE(obj).cast(), arg);
        if status != 0 {
            return status;
        }
        let (state, value) = fields::<C::Value>(obj);
        if state.get() < FREE {
            return 0; // no value, or a `&mut self` method holds it
        }
        let value = &*value.get();
        let interp = here_of::<C>(obj).get();
        let mut visit = Visit { visit, arg, interp, _traversal: PhantomData };
        THREAD.with(|thread| thread.traversing.set(true));
        let result = panic::catch_unwind(AssertUnwindSafe(|| value.traverse(&mut visit)));
        THREAD.with(|thread| thread.traversing.set(false));
        match result {
            Ok(Err(Stop(status))) => status,
            _ => 0,
        }
    }
}

/// `tp_clear`: drops what the value holds, unless a method is using it (then the cycle stays,
/// and the next collection tries again).
unsafe extern "C" fn clear<C: Class>(obj: *mut ffi::PyObject) -> c_int
where
    C::Value: Traverse,
    C::Mode: CanMutate,
{
    // SAFETY: as for traverse; the flag makes this the only borrow while it runs.
    unsafe {
        if let Ok(mut value) = borrow_mut::<C>(obj) {
            let _ = panic::catch_unwind(AssertUnwindSafe(|| value.clear()));
        }
    }
    0
}
// ANCHOR_END: gc

/// Rich comparison from `__eq__`: `==` and `!=` between two instances of `C`'s types (a
/// subclass's included), `NotImplemented` for anything else.
///
/// # Safety
/// The GIL is held; `obj` is an instance of a type of `C` and `other` a valid object.
#[inline(always)]
pub unsafe fn richcompare<C: Class>(
    obj: *mut ffi::PyObject,
    other: *mut ffi::PyObject,
    op: c_int,
    gil: Gil<'_>,
    eq: impl FnOnce(&C::Value, &C::Value, Gil<'_>) -> Result<bool, PyErr>,
) -> Result<*mut ffi::PyObject, PyErr> {
    // SAFETY: the caller's promises; `other` is one of ours when is_instance says so.
    unsafe {
        if (op != ffi::Py_EQ && op != ffi::Py_NE) || !is_instance::<C>(other) {
            let not = ffi::Py_NotImplemented();
            ffi::Py_INCREF(not);
            return Ok(not);
        }
        let (a, b) = (borrow::<C>(obj)?, borrow::<C>(other)?);
        let equal = eq(&a, &b, gil)?;
        crate::ret::IntoPy::into_py(equal == (op == ffi::Py_EQ), gil)
    }
}

/// A `__len__` for CPython: OverflowError past `Py_ssize_t`.
#[inline(always)]
pub fn length(n: usize) -> Result<ffi::Py_ssize_t, PyErr> {
    ffi::Py_ssize_t::try_from(n).map_err(|_| PyErr::new::<exc::OverflowError>("length too big"))
}

/// `type(obj).__name__`, for a `__repr__`.
///
/// # Safety
/// The GIL is held and `obj` is a valid object.
pub unsafe fn name_of(obj: *mut ffi::PyObject) -> String {
    // SAFETY: the caller's promise.
    unsafe { type_name(obj) }
}

/// One class of a module, for its exec slot.
pub struct ClassDef {
    /// Makes the type for a module object and adds it to the module: a new reference, or NULL
    /// with an exception set.
    pub create: unsafe fn(*mut ffi::PyObject) -> *mut ffi::PyObject,
}

impl ClassDef {
    /// The class `C`.
    pub const fn of<C: Class>() -> Self {
        ClassDef { create: create_type::<C> }
    }
}

/// The members table of a class with weak references: `__weaklistoffset__`, which is the same
/// for every class (the list follows the header).
struct Members([ffi::PyMemberDef; 2]);
// SAFETY: never written; CPython copies it.
unsafe impl Sync for Members {}
static WEAKLIST: Members = Members([
    ffi::PyMemberDef {
        name: c"__weaklistoffset__".as_ptr(),
        type_code: ffi::Py_T_PYSSIZET,
        offset: size_of::<ffi::PyObject>() as ffi::Py_ssize_t,
        flags: ffi::Py_READONLY,
        doc: ptr::null(),
    },
    ffi::PyMemberDef { name: ptr::null(), type_code: 0, offset: 0, flags: 0, doc: ptr::null() },
]);

// ANCHOR: create-type
/// Makes the type of `C` for `module` (`PyType_FromModuleAndSpec`), and adds it to the module
/// (`PyModule_AddType`): its instances are `Object<C::Value>`, its slots those that `C` defines.
///
/// # Safety
/// The GIL is held and `module` is a module object made by [`module!`](crate::module!) (the
/// type keeps a reference to it: `PyType_GetModule`).
unsafe fn create_type<C: Class>(module: *mut ffi::PyObject) -> *mut ffi::PyObject {
    const {
        assert!(
            align_of::<Object<C::Value>>() <= crate::state::MALLOC_ALIGN,
            "the value needs more alignment than CPython gives an object (16 bytes on 64-bit)"
        );
        assert!(size_of::<Object<C::Value>>() <= c_int::MAX as usize, "the value is too big");
    };
    let mut slots = vec![
        slot(ffi::Py_tp_dealloc, dealloc::<C> as *mut c_void),
        slot(ffi::Py_tp_doc, C::DOC.as_ptr().cast_mut().cast()),
        slot(ffi::Py_tp_methods, C::methods().as_ptr().cast_mut().cast()),
        slot(ffi::Py_tp_getset, C::getset().as_ptr().cast_mut().cast()),
    ];
    // Immutable: `Name.__new__ = ...` and other assignments to the type raise TypeError. Without
    // `__new__`, `Name()` raises TypeError too, instead of inheriting `object.__new__`.
    let mut flags = ffi::Py_TPFLAGS_DEFAULT | ffi::Py_TPFLAGS_IMMUTABLETYPE;
    if C::NEW.is_none() {
        flags |= ffi::Py_TPFLAGS_DISALLOW_INSTANTIATION;
    }
    if C::WEAKREF {
        slots.push(slot(ffi::Py_tp_members, WEAKLIST.0.as_ptr().cast_mut().cast()));
    }
    if C::BASETYPE {
        flags |= ffi::Py_TPFLAGS_BASETYPE;
    }
    if let Some(gc) = C::GC {
        flags |= ffi::Py_TPFLAGS_HAVE_GC;
        slots.push(slot(ffi::Py_tp_traverse, gc.traverse as *mut c_void));
        slots.push(slot(ffi::Py_tp_clear, gc.clear as *mut c_void));
    }
    if let Some(f) = C::NEW {
        slots.push(slot(ffi::Py_tp_new, f as *mut c_void));
    }
    if let Some(f) = C::REPR {
        slots.push(slot(ffi::Py_tp_repr, f as *mut c_void));
    }
    if let Some(f) = C::RICHCOMPARE {
        slots.push(slot(ffi::Py_tp_richcompare, f as *mut c_void));
    }
    if let Some(f) = C::LEN {
        slots.push(slot(ffi::Py_sq_length, f as *mut c_void));
    }
    // An iterator is its own iterable: without an `__iter__`, a `__next__` brings CPython's.
    match (C::ITER, C::ITERNEXT) {
        (Some(f), _) => slots.push(slot(ffi::Py_tp_iter, f as *mut c_void)),
        (None, Some(_)) => slots.push(slot(ffi::Py_tp_iter, ffi::PyObject_SelfIter as *mut c_void)),
        (None, None) => {}
    }
    if let Some(f) = C::ITERNEXT {
        slots.push(slot(ffi::Py_tp_iternext, f as *mut c_void));
    }
    slots.push(slot(0, ptr::null_mut()));
    let mut spec = ffi::PyType_Spec {
        name: C::NAME.as_ptr(),
        basicsize: size_of::<Object<C::Value>>() as c_int,
        itemsize: 0,
        flags: flags as c_uint,
        slots: slots.as_mut_ptr(),
    };
    // SAFETY: the caller's promise; the spec and its slots are read during the call (the
    // name, the tables and the docstring it keeps are static). AddType takes its own reference.
    unsafe {
        let ty = ffi::PyType_FromModuleAndSpec(module, &mut spec, ptr::null_mut());
        if !ty.is_null() && ffi::PyModule_AddType(module, ty.cast()) < 0 {
            ffi::Py_DECREF(ty);
            return ptr::null_mut();
        }
        ty
    }
}
// ANCHOR_END: create-type

fn slot(slot: c_int, pfunc: *mut c_void) -> ffi::PyType_Slot {
    ffi::PyType_Slot { slot, pfunc }
}

/// A property table; CPython only reads it.
pub struct GetSets(pub &'static [ffi::PyGetSetDef]);
// SAFETY: never written after compilation; CPython reads it.
unsafe impl Sync for GetSets {}

/// A class's own static, whose address ends its method table: no two classes' tables are the
/// same, even where the rest of them is.
pub struct Token(#[allow(dead_code, reason = "only its address matters")] UnsafeCell<u8>);
// SAFETY: never read or written; only its address is used.
unsafe impl Sync for Token {}
impl Token {
    /// A token, for a `static`.
    pub const fn new() -> Self {
        Token(UnsafeCell::new(0))
    }
}
impl Default for Token {
    fn default() -> Self {
        Self::new()
    }
}

/// The end of a class's method table, which names its token.
pub const fn end_of_methods(token: &'static Token) -> ffi::PyMethodDef {
    ffi::PyMethodDef { ml_doc: ptr::from_ref(token).cast(), ..ffi::PyMethodDef::zeroed() }
}

/// The end of a property table.
pub const END_OF_GETSET: ffi::PyGetSetDef = ffi::PyGetSetDef {
    name: ptr::null(),
    get: None,
    set: None,
    doc: ptr::null(),
    closure: ptr::null_mut(),
};
// ANCHOR_END: all

#[cfg(test)]
mod tests {
    mod unwritten {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use pyo3_ffi as ffi;

        use crate::embed::{check, eval, run, with_gil};
        use crate::{Gil, Py, PyErr, Stop, Traverse, Visit};

        static DROPS: AtomicUsize = AtomicUsize::new(0);

        /// A value that a zeroed instance would get wrong: a null `Box`, and a count of drops.
        pub struct Tracked {
            boxed: Box<u64>,
            items: Vec<Py>,
        }

        impl Drop for Tracked {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::Relaxed);
            }
        }

        impl Traverse for Tracked {
            fn traverse(&self, visit: &mut Visit<'_>) -> Result<(), Stop> {
                self.items.iter().try_for_each(|item| visit.visit(item))
            }
            fn clear(&mut self) {
                self.items.clear();
            }
        }

        crate::class! {
            class unwritten.Tracker for Tracked [mutable, gc] {
                fn __new__(n: u64) -> Result<Tracked, PyErr> {
                    Ok(Tracked { boxed: Box::new(n), items: Vec::new() })
                }
                fn get(&self) -> u64 {
                    *self.boxed
                }
                fn keep(&mut self, item: Py) {
                    self.items.push(item);
                }
                #[getter]
                fn n(&self) -> u64 {
                    *self.boxed
                }
                fn __len__(&self) -> usize {
                    self.items.len()
                }
                fn __repr__(&self, _gil: Gil<'_>, name: &str) -> Result<String, PyErr> {
                    Ok(format!("{name}({})", *self.boxed))
                }
                fn __eq__(&self, other: &Self, _gil: Gil<'_>) -> Result<bool, PyErr> {
                    Ok(*self.boxed == *other.boxed)
                }
            }
        }

        /// A class without `__new__`.
        pub struct Nothing;

        crate::class! {
            class unwritten.Bare for Nothing [subclass] {}
        }

        /// A class that no module lists.
        pub struct Stray;

        crate::class! {
            class unwritten.Loose for Stray [] {}
        }

        crate::module! {
            mod unwritten {
                classes { Tracker, Bare }
            }
        }

        /// `Obj::new` makes an instance from the type that the module of `beside`'s class made;
        /// a class that module does not list is a `RuntimeError`, and nothing is allocated.
        #[test]
        fn a_class_the_module_does_not_list_cannot_be_made() {
            check(__pymodule_init, "import unwritten\nunwritten.kept = unwritten.Tracker(7)");
            with_gil(|gil| {
                let kept = eval("__import__('unwritten').kept");
                let beside = crate::embed::extract::<crate::Obj<Tracker>>(kept).expect("a Tracker");
                match crate::Obj::<Loose>::new(gil, &beside, Stray) {
                    Ok(_) => panic!("made a Loose, which the module does not list"),
                    Err(err) => assert_eq!(
                        crate::embed::raised(err),
                        "RuntimeError: the module has no class unwritten.Loose"
                    ),
                }
                let again = crate::Obj::<Tracker>::new(
                    gil,
                    &beside,
                    Tracked { boxed: Box::new(8), items: Vec::new() },
                );
                assert!(again.is_ok(), "a class the module lists is made");
            });
        }

        /// An instance whose value was never written (which Python code cannot make: this one
        /// comes from `PyType_GenericAlloc` directly) raises in every method and slot, is skipped
        /// by the collector, and drops nothing when freed.
        #[test]
        fn an_instance_without_its_value_raises_and_drops_nothing() {
            check(__pymodule_init, "import unwritten");
            with_gil(|_| {
                // SAFETY: the GIL is held; GenericAlloc gives zeroed memory of the type's size,
                // which the module attribute then owns.
                unsafe {
                    let ty = eval("__import__('unwritten').Tracker");
                    let obj = ffi::PyType_GenericAlloc(ty.cast(), 0);
                    assert!(!obj.is_null());
                    let module = eval("__import__('unwritten')");
                    assert_eq!(ffi::PyObject_SetAttrString(module, c"empty".as_ptr(), obj), 0);
                    ffi::Py_DECREF(obj);
                }
            });
            let before = DROPS.load(Ordering::Relaxed);
            run(r#"
import gc, unwritten
empty, full = unwritten.empty, unwritten.Tracker(5)
message = "this Tracker has no value: its __new__ did not make the instance"
for call in (empty.get, lambda: empty.keep(1), lambda: empty.n, lambda: len(empty),
             lambda: repr(empty), lambda: empty == full, lambda: full == empty):
    try:
        call()
        raise AssertionError(f"{call} did not raise")
    except RuntimeError as e:
        assert str(e) == message, str(e)
gc.collect()              # tp_traverse skips the missing value
full.keep(full)           # a cycle, which tp_clear breaks
del empty, full, unwritten.empty
gc.collect()
"#);
            // The full instance's value was dropped, the empty one's was not.
            assert_eq!(DROPS.load(Ordering::Relaxed), before + 1);
        }

        #[test]
        fn a_class_without_new_cannot_be_instantiated() {
            check(
                __pymodule_init,
                r#"
import unwritten
B = unwritten.Bare
class Sub(B):
    def __new__(cls):
        return object.__new__(cls)
for make in (B, lambda: object.__new__(B), Sub, lambda: B.__new__(B)):
    try:
        make()
        raise AssertionError(f"{make} made an instance")
    except (TypeError, AttributeError):
        pass
"#,
            );
        }
    }

    mod twos {
        use crate::embed::check;
        use crate::{Gil, Py, PyErr, Stop, Traverse, Visit};

        /// What a `__new__` with two parameters keeps.
        pub struct Kept {
            b: Py,
        }

        impl Traverse for Kept {
            fn traverse(&self, visit: &mut Visit<'_>) -> Result<(), Stop> {
                visit.visit(&self.b)
            }
            fn clear(&mut self) {}
        }

        crate::class! {
            class twos.Two for Kept [mutable, gc] {
                fn __new__(a: i64, b: Py) -> Result<Kept, PyErr> {
                    let _ = a;
                    Ok(Kept { b })
                }
                fn b(&self, gil: Gil<'_>) -> Result<Py, PyErr> {
                    self.b.clone_ref(gil)
                }
            }
        }

        crate::module! {
            mod twos {
                classes { Two }
            }
        }

        /// The keyword arguments of a `__new__` come in a dict that Python code can change while
        /// the first argument is converted: the second must stay alive.
        #[test]
        fn keyword_arguments_stay_alive_while_converted() {
            check(
                __pymodule_init,
                r#"
import gc, weakref, twos
class Victim:
    pass
class Index:
    def __index__(self):
        # Drop every dict's reference to the Victim, the one tp_new received included.
        victim = w()
        for d in gc.get_referrers(victim):
            if type(d) is dict and d.get("b") is victim:
                del d["b"]
        return 1
kwargs = {"a": Index(), "b": Victim()}
w = weakref.ref(kwargs["b"])
t = twos.Two(**kwargs)
assert "b" not in kwargs
assert w() is not None, "the Victim was freed while __new__ still used it"
assert t.b() is w()
"#,
            );
        }
    }
}
