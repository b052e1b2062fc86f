// ANCHOR: all
//! Instances as values (chapter 12): `Obj<C>`, a strong reference to an instance of a class of
//! [`class!`](crate::class!), whose value can be borrowed through the instance's flag, and
//! which can make an instance of another class of the same module (an iterator of its ring).

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr;

use pyo3_ffi as ffi;

use super::{CanMutate, Class, Ref, RefMut, alloc, borrow, borrow_mut, defining_type, is_instance};
use crate::Py;
use crate::args::FromPy;
use crate::err::{PyErr, exc, type_name};
use crate::gil::Gil;
use crate::here::Here;
use crate::ret::IntoPy;
use crate::state::header;

// ANCHOR: obj
/// A strong reference to an instance of the class `C`: a [`Py`] that knows the type of its
/// value. A parameter of this type takes instances of `C` (or of a subclass) and raises
/// `TypeError` for anything else; `__iter__` gets its own instance as one.
///
/// ```
/// #![forbid(unsafe_code)]
/// use pymodule::{Gil, Obj, PyErr, Stop, Traverse, Visit};
///
/// pub struct Numbers(Vec<i64>);
/// pub struct Cursor { numbers: Obj<Row>, next: usize }
///
/// impl Traverse for Cursor {
///     fn traverse(&self, visit: &mut Visit<'_>) -> Result<(), Stop> {
///         visit.visit(self.numbers.as_py())
///     }
///     fn clear(&mut self) {}
/// }
///
/// pymodule::class! {
///     class rows.Row for Numbers [] {
///         fn __new__(n: i64) -> Result<Numbers, PyErr> {
///             Ok(Numbers((0..n).collect()))
///         }
///         fn __iter__(this: Obj<Row>, gil: Gil<'_>) -> Result<Obj<RowIter>, PyErr> {
///             let numbers = this.clone_ref(gil)?;
///             Obj::new(gil, &this, Cursor { numbers, next: 0 })
///         }
///     }
/// }
/// pymodule::class! {
///     class rows.RowIter for Cursor [mutable, gc] {
///         fn __next__(&mut self, gil: Gil<'_>) -> Result<Option<i64>, PyErr> {
///             let item = self.numbers.borrow(gil)?.0.get(self.next).copied();
///             self.next += 1;
///             Ok(item)
///         }
///     }
/// }
/// pymodule::module! {
///     mod rows {
///         classes { Row, RowIter }
///     }
/// }
/// # fn main() { pymodule::embed::check(__pymodule_init, r#"
/// import gc, rows
/// it = iter(rows.Row(3))
/// gc.collect()  # the row lives on in its iterator
/// assert list(it) == [0, 1, 2], list(it)
/// "#); }
/// ```
///
/// A value that holds one keeps the instance alive, which is how an iterator keeps its ring: the
/// class's value must be `'static`, so it cannot hold a borrow of the ring's value instead.
///
/// ```compile_fail,E0597
/// use pymodule::{Gil, Obj, PyErr};
///
/// pub struct Items(Vec<u64>);
/// pub struct Cursor { items: &'static [u64], next: usize }
///
/// pymodule::class! {
///     class rings.Ring for Items [] {
///         fn __iter__(this: Obj<Ring>, gil: Gil<'_>) -> Result<Obj<RingIter>, PyErr> {
///             let items = this.borrow(gil)?;
///             // error: `items` does not live long enough
///             Obj::new(gil, &this, Cursor { items: &items.0, next: 0 })
///         }
///     }
/// }
/// pymodule::class! {
///     class rings.RingIter for Cursor [] {}
/// }
/// # fn main() {}
/// ```
///
/// It is not `Send`: a thread without the GIL cannot take one.
///
/// ```compile_fail,E0277
/// pub struct Items(Vec<u64>);
/// pymodule::class! {
///     class rings.Ring for Items [] {}
/// }
///
/// fn elsewhere(gil: pymodule::Gil<'_>, ring: pymodule::Obj<Ring>) {
///     gil.allow_threads(move || drop(ring)); // error: `NonNull<PyObject>` cannot be sent
/// }
/// # fn main() {}
/// ```
///
/// A borrow of the value lasts as long as the `Obj` it came from, and no longer:
///
/// ```compile_fail,E0505
/// pub struct Items(Vec<u64>);
/// pymodule::class! {
///     class rings.Ring for Items [] {}
/// }
///
/// fn first(gil: pymodule::Gil<'_>, ring: pymodule::Obj<Ring>) -> Option<u64> {
///     let items = ring.borrow(gil).ok()?;
///     drop(ring); // error: cannot move out of `ring` because it is borrowed
///     items.0.first().copied()
/// }
/// # fn main() {}
/// ```
pub struct Obj<C: Class> {
    py: Py,
    class: PhantomData<C>,
}
// ANCHOR_END: obj

impl<C: Class> Obj<C> {
    /// Borrows the value, shared: `RuntimeError` if a `&mut self` method of the instance is
    /// running (a callback re-entered it), as for a method.
    pub fn borrow(&self, gil: Gil<'_>) -> Result<Ref<'_, C>, PyErr> {
        self.here(gil)?;
        // SAFETY: the GIL is held; the object is an instance of a type of C (checked when the
        // Obj was made) and lives as long as `self`, which the borrow cannot outlive.
        unsafe { borrow::<C>(self.py.as_ptr()) }
    }

    /// Borrows the value, mutable: `RuntimeError` if any method of the instance is running.
    pub fn borrow_mut(&self, gil: Gil<'_>) -> Result<RefMut<'_, C>, PyErr>
    where
        C::Mode: CanMutate,
    {
        self.here(gil)?;
        // SAFETY: as for `borrow`.
        unsafe { borrow_mut::<C>(self.py.as_ptr()) }
    }

    /// Another reference to the same instance.
    pub fn clone_ref(&self, gil: Gil<'_>) -> Result<Obj<C>, PyErr> {
        Ok(Obj { py: self.py.clone_ref(gil)?, class: PhantomData })
    }

    /// The reference, untyped: for [`Visit::visit`](crate::Visit::visit), or to return.
    pub fn as_py(&self) -> &Py {
        &self.py
    }

    /// A new instance of the class `C` holding `value`, made from the type of `C` that the
    /// module of `beside`'s class made: `RuntimeError` if that module has no class `C`.
    // ANCHOR: new
    pub fn new<N: Class>(gil: Gil<'_>, beside: &Obj<N>, value: C::Value) -> Result<Obj<C>, PyErr> {
        beside.here(gil)?;
        // SAFETY: the GIL is held; `beside` is a live instance of a type of N, whose defining
        // type keeps its module alive; `alloc` gets a type of C from that module's own list.
        unsafe {
            let base = defining_type::<N>(ffi::Py_TYPE(beside.py.as_ptr()));
            let module = ffi::PyType_GetModule(base);
            if module.is_null() {
                return Err(PyErr::fetch());
            }
            let ty = header(module).and_then(|h| {
                h.types.iter().copied().find(|&t| {
                    !t.is_null() && defining_type::<C>(t.cast()) == t.cast::<ffi::PyTypeObject>()
                })
            });
            let Some(ty) = ty else {
                return Err(not_in_module::<C>());
            };
            let obj = alloc::<C>(ty.cast(), value)?;
            Ok(Obj { py: Py::from_owned(obj)?, class: PhantomData })
        }
    }
    // ANCHOR_END: new

    /// Ok if the instance is of the interpreter the thread runs.
    fn here(&self, gil: Gil<'_>) -> Result<(), PyErr> {
        self.py.here(gil)
    }

    /// An `Obj` for an instance that CPython passed to a slot of `C`.
    ///
    /// # Safety
    /// The GIL is held and `obj` is an instance of a type of `C` (or of a subclass).
    #[doc(hidden)]
    pub unsafe fn from_slot(obj: *mut ffi::PyObject, here: Here<'_>) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises.
        let py = unsafe { Py::from_py_here(obj, here)? };
        Ok(Obj { py, class: PhantomData })
    }
}

/// What a `__next__` returned, for `tp_iternext`: the item, or NULL without an exception for
/// the end.
#[doc(hidden)]
#[inline(always)]
pub fn next_item<T: IntoPy>(
    item: Result<Option<T>, PyErr>,
    gil: Gil<'_>,
    here: Here<'_>,
) -> Result<*mut ffi::PyObject, PyErr> {
    match item? {
        Some(item) => item.into_py_here(gil, here),
        None => Ok(ptr::null_mut()),
    }
}

#[cold]
#[inline(never)]
fn not_in_module<C: Class>() -> PyErr {
    let name = C::NAME.to_str().unwrap_or("?");
    PyErr::new::<exc::RuntimeError>(format!("the module has no class {name}"))
}

impl<C: Class> FromPy<'_> for Obj<C> {
    unsafe fn from_py(obj: *mut ffi::PyObject) -> Result<Self, PyErr> {
        let cell = Cell::new(ptr::null_mut());
        // SAFETY: the caller's promises; the cell starts empty.
        unsafe { Self::from_py_here(obj, Here::new(&cell)) }
    }

    unsafe fn from_py_here(obj: *mut ffi::PyObject, here: Here<'_>) -> Result<Self, PyErr> {
        // SAFETY: the caller's promises: the GIL is held and `obj` is a valid object.
        unsafe {
            if !is_instance::<C>(obj) {
                let name = C::NAME.to_str().unwrap_or("?");
                let short = name.rsplit('.').next().unwrap_or(name);
                let msg = format!("must be {short}, not {}", type_name(obj));
                return Err(PyErr::new::<exc::TypeError>(msg));
            }
            Self::from_slot(obj, here)
        }
    }
}

// SAFETY: the reference the instance's `Py` owned, handed over.
unsafe impl<C: Class> IntoPy for Obj<C> {
    fn into_py(self, gil: Gil<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        self.py.into_py(gil)
    }

    fn into_py_here(self, gil: Gil<'_>, here: Here<'_>) -> Result<*mut ffi::PyObject, PyErr> {
        self.py.into_py_here(gil, here)
    }
}
// ANCHOR_END: all
