// ANCHOR: all
//! Classes: a Rust value inside the instances of a heap type, its borrow flag, and the type's
//! slots (which the [`class!`](crate::class!) macro fills in).

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::ffi::{CStr, c_int, c_uint, c_void};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use pyo3_ffi as ffi;

use crate::err::{PyErr, exc, type_name};
use crate::gil::{Gil, raise_panic};
use crate::obj::{Py, TRAVERSING};

// ANCHOR: layout
/// An instance as CPython allocates it (`basicsize` bytes, zeroed): the object header, the
/// weak-reference list (`__weaklistoffset__`), the borrow flag, then the Rust value. A Python
/// subclass's instance is the same with its `__dict__` after it.
#[repr(C)]
pub struct Object<T> {
    ob_base: ffi::PyObject,
    weaklist: *mut ffi::PyObject,
    /// 0: free; n > 0: n shared borrows; -1: borrowed mutably.
    borrow: Cell<isize>,
    value: UnsafeCell<T>,
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
    _traversal: PhantomData<&'a ()>,
}

/// The collector asked to stop visiting; pass it on.
pub struct Stop(c_int);

impl Visit<'_> {
    /// Tells the collector about one reference the value holds.
    pub fn visit(&mut self, obj: &Py) -> Result<(), Stop> {
        // SAFETY: the collector is running with the GIL held and gave us `visit` and `arg`;
        // `obj` is alive (we hold a reference).
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
pub struct Ref<'a, C: Class>(&'a Object<C::Value>);
/// A mutable borrow of an instance's value, released when dropped.
pub struct RefMut<'a, C: Class>(&'a Object<C::Value>);

impl<C: Class> Deref for Ref<'_, C> {
    type Target = C::Value;
    fn deref(&self) -> &C::Value {
        // SAFETY: the flag says that no mutable borrow exists while this one does.
        unsafe { &*self.0.value.get() }
    }
}
impl<C: Class> Drop for Ref<'_, C> {
    fn drop(&mut self) {
        if C::Mode::CHECKED {
            self.0.borrow.set(self.0.borrow.get() - 1);
        }
    }
}
impl<C: Class> Deref for RefMut<'_, C> {
    type Target = C::Value;
    fn deref(&self) -> &C::Value {
        // SAFETY: the flag says that this is the only borrow.
        unsafe { &*self.0.value.get() }
    }
}
impl<C: Class> DerefMut for RefMut<'_, C> {
    fn deref_mut(&mut self) -> &mut C::Value {
        // SAFETY: as for deref.
        unsafe { &mut *self.0.value.get() }
    }
}
impl<C: Class> Drop for RefMut<'_, C> {
    fn drop(&mut self) {
        self.0.borrow.set(0);
    }
}

/// Borrows the value of `obj` for a `&self` method: RuntimeError if a `&mut self` method of the
/// same instance is running (a callback re-entered it).
///
/// # Safety
/// The GIL is held, `obj` is an instance of a type of `C` (or of a subclass) made by
/// [`alloc`], and it stays alive for `'a`.
#[inline(always)]
pub unsafe fn borrow<'a, C: Class>(obj: *mut ffi::PyObject) -> Result<Ref<'a, C>, PyErr> {
    // SAFETY: the caller's promise: `obj` starts with an Object<C::Value>.
    let object = unsafe { &*obj.cast::<Object<C::Value>>() };
    if C::Mode::CHECKED {
        let n = object.borrow.get();
        if n < 0 {
            return Err(already_borrowed::<C>());
        }
        object.borrow.set(n + 1);
    }
    Ok(Ref(object))
}

/// Borrows the value of `obj` for a `&mut self` method: RuntimeError if any other method of the
/// same instance is running. Only a [`Mutable`] class has one.
///
/// # Safety
/// As for [`borrow`].
#[inline(always)]
pub unsafe fn borrow_mut<'a, C: Class>(obj: *mut ffi::PyObject) -> Result<RefMut<'a, C>, PyErr>
where
    C::Mode: CanMutate,
{
    // SAFETY: as for borrow.
    let object = unsafe { &*obj.cast::<Object<C::Value>>() };
    if object.borrow.get() != 0 {
        return Err(already_borrowed::<C>());
    }
    object.borrow.set(-1);
    Ok(RefMut(object))
}
// ANCHOR_END: borrow

#[cold]
#[inline(never)]
fn already_borrowed<C: Class>() -> PyErr {
    let name = C::NAME.to_str().unwrap_or("?");
    let short = name.rsplit('.').next().unwrap_or(name);
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
/// Runs a slot's or a method's body for CPython, as [`trampoline`](crate::__private::trampoline)
/// does for a module's function: an error is raised and `failed` returned, a panic becomes the
/// module's `PanicException`. The module, for its exception types, is the one the class was
/// made for, found only when something is raised.
///
/// # Safety
/// CPython is calling a slot of a type of `C` with the GIL held; `at` is its instance or type.
#[inline(always)]
pub unsafe fn call<C: Class, R>(
    at: At,
    failed: R,
    body: impl for<'py> FnOnce(Gil<'py>) -> Result<R, PyErr>,
) -> R {
    // SAFETY: CPython holds the GIL for us during the call.
    let gil = unsafe { Gil::assume() };
    match panic::catch_unwind(AssertUnwindSafe(|| body(gil))) {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => {
            // SAFETY: the caller's promise.
            unsafe { raise::<C>(at, Ok(err)) };
            failed
        }
        Err(payload) => {
            // SAFETY: the caller's promise.
            unsafe { raise::<C>(at, Err(payload)) };
            failed
        }
    }
}
// ANCHOR_END: call

/// Raises an error or a panic of a slot of `C`, with the module of `C`'s type.
///
/// # Safety
/// As for [`call`].
#[cold]
#[inline(never)]
unsafe fn raise<C: Class>(at: At, what: Result<PyErr, Box<dyn Any + Send>>) {
    // SAFETY: the caller's promise; the module is NULL if it cannot be found, which the
    // raising functions take as "no module: only built-in exception types".
    unsafe {
        let ty = match at {
            At::Object(obj) => ffi::Py_TYPE(obj),
            At::Type(ty) => ty,
        };
        let module = module_of::<C>(ty);
        match what {
            Ok(err) => err.restore(module),
            Err(payload) => raise_panic(module, payload),
        }
    }
}

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
unsafe fn defining_type<C: Class>(mut ty: *mut ffi::PyTypeObject) -> *mut ffi::PyTypeObject {
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
    // SAFETY: the caller's promise. The class's type inherits PyType_GenericAlloc as its
    // tp_alloc, and so does every subclass Python makes (a class statement cannot set one), so
    // it is called directly: it returns zeroed memory of the type's basicsize, at least an
    // Object<C::Value>, aligned for it (asserted in `create_type`), tracked by the collector
    // for a GC type, or NULL with an exception set.
    unsafe {
        let obj = ffi::PyType_GenericAlloc(ty, 0);
        if obj.is_null() {
            if ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_NoMemory();
            }
            drop(value);
            return Err(PyErr::already_set());
        }
        (*obj.cast::<Object<C::Value>>()).value.get().write(value);
        Ok(obj)
    }
}
// ANCHOR_END: alloc

// ANCHOR: dealloc
/// `tp_dealloc`: untrack, clear the weak references, drop the value (exactly once: the count
/// is 0, so nothing else can reach the instance), free the memory, and release the type, which
/// each instance of a heap type holds a reference to.
unsafe extern "C" fn dealloc<C: Class>(obj: *mut ffi::PyObject) {
    // SAFETY: CPython calls this once, with the GIL held, for an instance of a type of C (or
    // of a subclass, through subtype_dealloc) whose count reached 0.
    unsafe {
        let ty = ffi::Py_TYPE(obj);
        if C::GC.is_some() {
            ffi::PyObject_GC_UnTrack(obj.cast());
        }
        let object = obj.cast::<Object<C::Value>>();
        if C::WEAKREF && !(*object).weaklist.is_null() {
            ffi::PyObject_ClearWeakRefs(obj);
        }
        let value = (*object).value.get();
        let _ = panic::catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(value)));
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
        let object = &*obj.cast::<Object<C::Value>>();
        if object.borrow.get() < 0 {
            return 0;
        }
        let value = &*object.value.get();
        let mut visit = Visit { visit, arg, _traversal: PhantomData };
        TRAVERSING.set(true);
        let result = panic::catch_unwind(AssertUnwindSafe(|| value.traverse(&mut visit)));
        TRAVERSING.set(false);
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
        crate::IntoPy::into_py(equal == (op == ffi::Py_EQ), gil)
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
            align_of::<Object<C::Value>>() <= crate::def::STATE_ALIGN,
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
    let mut flags = ffi::Py_TPFLAGS_DEFAULT;
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
