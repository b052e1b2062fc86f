// ANCHOR: all
//! The `class!` macro: a Python class whose instances hold a Rust value.

/// Declares a Python class whose instances each hold a Rust value, with its methods,
/// properties and slots, for a module's `classes { ... }` list in [`module!`](crate::module!),
/// which makes the type (one per module object) when the module is executed.
///
/// ```
/// use pymodule::{Gil, PyErr};
///
/// pub struct Numbers { left: i64, right: i64 }
///
/// pymodule::class! {
///     /// Two numbers.
///     class pairs.Pair for Numbers [mutable] {
///         fn __new__(left: i64, right: i64) -> Result<Numbers, PyErr> {
///             Ok(Numbers { left, right })
///         }
///         /// Swap them.
///         fn swap(&mut self) {
///             std::mem::swap(&mut self.left, &mut self.right);
///         }
///         #[getter]
///         fn left(&self) -> i64 {
///             self.left
///         }
///         fn __repr__(&self, gil: Gil<'_>, name: &str) -> Result<String, PyErr> {
///             Ok(format!("{name}({}, {})", self.left, self.right))
///         }
///     }
/// }
///
/// pymodule::module! {
///     mod pairs {
///         classes { Pair }
///     }
/// }
/// # fn main() { pymodule::embed::check(__pymodule_init, r#"
/// import pairs
/// p = pairs.Pair(1, right=2)
/// p.swap()
/// assert (p.left, repr(p)) == (2, "Pair(2, 1)"), repr(p)
/// "#); }
/// ```
///
/// The parts, in this order:
///
/// - `///` lines: the docstring. Then `class MODULE.NAME for VALUE [OPTIONS]`: `NAME` becomes a
///   marker type for `classes { NAME }`, `MODULE` the type's `__module__`, and `VALUE` (a type
///   of your crate) what each instance holds. The options, in any order: `mutable` gives each
///   instance a borrow flag, which `&mut self` methods need; `gc` makes the class a collector's
///   type, for a value that holds Python objects ([`Py`](crate::Py)), and needs `mutable` and
///   `VALUE: Traverse`; `weakref` lets instances take weak references; `subclass` lets Python
///   code subclass it.
/// - `fn __new__(PARAMS) -> Result<VALUE, PyErr>`: `NAME(...)`. Without it, Python cannot make
///   instances.
/// - Methods: `fn name(&self, ...)` or `fn name(&mut self, ...)`, whose parameters are those of a
///   [`module!`](crate::module!) function, after an optional `gil: Gil<'_>`; `/` after the last
///   makes them positional-only (`METH_FASTCALL`).
/// - `#[getter] fn name(&self) -> T`: a read-only property.
/// - `fn __repr__(&self, gil: Gil<'_>, name: &str) -> Result<String, PyErr>`, with `name` the
///   instance's type's `__name__` (a subclass's own); `fn __eq__(&self, other: &Self, gil:
///   Gil<'_>) -> Result<bool, PyErr>` (`==` and `!=` with another instance; other comparisons and
///   other types get `NotImplemented`; the class becomes unhashable); `fn __len__(&self) ->
///   usize`.
/// - Chapter 12: `fn __iter__(this: Obj<NAME>, gil: Gil<'_>) -> Result<T, PyErr>`, which gets
///   the instance itself as an [`Obj`](crate::Obj), and `fn __next__(&mut self, gil: Gil<'_>)
///   -> Result<Option<T>, PyErr>`, where `Ok(None)` ends the iteration (it needs `mutable`;
///   without `__iter__`, the class's `__iter__` returns the instance, as an iterator's must).
///
/// A method borrows the value through the instance's flag, so a callback that calls back into
/// the same instance while a `&mut self` method runs gets `RuntimeError("NAME is already
/// borrowed")`, never a second `&mut`. A class without `mutable` has no flag, and its methods
/// cannot take `&mut self`:
///
/// ```compile_fail,E0277
/// pub struct Tally(u64);
///
/// pymodule::class! {
///     class counts.Count for Tally [] {
///         fn bump(&mut self) { self.0 += 1; }
///     }
/// }
/// # fn main() {}
/// ```
///
/// `__next__` takes `&mut self`, so an iterator without the flag does not compile either:
///
/// ```compile_fail,E0277
/// use pymodule::{Gil, PyErr};
///
/// pub struct Countdown(u64);
///
/// pymodule::class! {
///     class counts.Down for Countdown [] {
///         fn __next__(&mut self, _gil: Gil<'_>) -> Result<Option<u64>, PyErr> {
///             if self.0 == 0 {
///                 return Ok(None);
///             }
///             self.0 -= 1;
///             Ok(Some(self.0))
///         }
///     }
/// }
/// # fn main() {}
/// ```
///
/// A value that holds Python objects must declare `gc`, and say how to find them
/// ([`Traverse`](crate::Traverse)), or the collector could never free a cycle through it:
///
/// ```compile_fail,E0277
/// pub struct Kept(Vec<pymodule::Py>);
///
/// pymodule::class! {
///     class keeps.Keep for Kept [mutable] {}
/// }
/// # fn main() {}
/// ```
///
/// `gc` needs a `Traverse` implementation:
///
/// ```compile_fail,E0277
/// pub struct Kept(Vec<pymodule::Py>);
///
/// pymodule::class! {
///     class keeps.Keep for Kept [mutable, gc] {}
/// }
/// # fn main() {}
/// ```
///
/// and the flag (`tp_clear` takes `&mut`):
///
/// ```compile_fail,E0277
/// pub struct Kept(Vec<pymodule::Py>);
/// impl pymodule::Traverse for Kept {
///     fn traverse(&self, v: &mut pymodule::Visit<'_>) -> Result<(), pymodule::Stop> {
///         self.0.iter().try_for_each(|item| v.visit(item))
///     }
///     fn clear(&mut self) { self.0.clear() }
/// }
///
/// pymodule::class! {
///     class keeps.Keep for Kept [gc] {}
/// }
/// # fn main() {}
/// ```
///
/// A borrow lasts for the call and no longer: a method that wants its value for longer than
/// the call (here, to keep it in a static) does not compile:
///
/// ```compile_fail,E0716
/// use std::sync::Mutex;
///
/// pub struct Label(String);
/// static KEPT: Mutex<Vec<&'static Label>> = Mutex::new(Vec::new());
///
/// pymodule::class! {
///     class names.Name for Label [] {
///         fn keep(&'static self) {
///             KEPT.lock().unwrap().push(self); // read after the instance is freed
///         }
///     }
/// }
/// # fn main() {}
/// ```
///
/// Only the macro implements the helper's `Class` trait: its tables go to CPython as they are, so
/// an implementation by hand (here, a method table without its empty last row) needs `unsafe`:
///
/// ```compile_fail,E0200
/// use pymodule::{__private::*, ffi};
///
/// pub struct Bare;
/// impl Class for Bare {
///     type Value = u8;
///     type Mode = Frozen;
///     const NAME: &'static CStr = c"bare.Bare";
///     const DOC: &'static CStr = c"";
///     const WEAKREF: bool = false;
///     const BASETYPE: bool = false;
///     const GC: Option<Gc> = None;
///     fn methods() -> &'static [ffi::PyMethodDef] { &[] }
///     fn getset() -> &'static [ffi::PyGetSetDef] { &[] }
/// }
/// # fn main() {}
/// ```
///
/// An instance gets its value from `__new__`, once, and drops it once. The type is immutable,
/// so Python code cannot replace `__new__` with one that skips it (`object.__new__(cls)`), and
/// CPython refuses its other ways to make an instance without the class's `__new__`. An
/// instance without a value (only `unsafe` code can make one) raises `RuntimeError` in every
/// method, and drops nothing. Here the value is a `Box`, in a crate that forbids `unsafe`:
///
/// ```
/// #![forbid(unsafe_code)]
/// pub struct Number(Box<u64>);
///
/// pymodule::class! {
///     class boxes.Boxed for Number [subclass] {
///         fn __new__(n: u64) -> Result<Number, pymodule::PyErr> {
///             Ok(Number(Box::new(n)))
///         }
///         fn get(&self) -> u64 {
///             *self.0
///         }
///     }
/// }
/// pymodule::module! {
///     mod boxes {
///         classes { Boxed }
///     }
/// }
/// # fn main() { pymodule::embed::check(__pymodule_init, r#"
/// import boxes
/// try:
///     boxes.Boxed.__new__ = lambda cls, *args: object.__new__(cls)
/// except TypeError as e:
///     assert "immutable type" in str(e), e
/// class Sub(boxes.Boxed):
///     def __new__(cls, *args):
///         return object.__new__(cls)
/// try:
///     Sub(7)
/// except TypeError as e:
///     assert "is not safe" in str(e), e
/// assert boxes.Boxed(7).get() == 7  # a zeroed instance would read through a null Box
/// "#); }
/// ```
///
/// And a value that needs more alignment than CPython gives an object is refused:
///
/// ```compile_fail,E0080
/// #[repr(align(64))]
/// pub struct Wide([u8; 64]);
///
/// pymodule::class! {
///     class lines.Line for Wide [] {}
/// }
/// pymodule::module! {
///     mod lines {
///         classes { Line }
///     }
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! class {
    (
        $(#[doc = $doc:literal])*
        class $module:ident . $name:ident for $value:ty [$($opt:ident),* $(,)?] {
            $($body:tt)*
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $name;

        $crate::__class_option!(@check $($opt)*);

        const _: () = {
            $crate::__class_items! {
                @munch [$name [$value] [$($doc)*] $module [$($opt)*]] [] [] [] ; $($body)*
            }
        };
    };
}

/// The options of a class, each asked for by name.
#[doc(hidden)]
#[macro_export]
macro_rules! __class_option {
    (@check) => {};
    (@check mutable $($rest:ident)*) => { $crate::__class_option!(@check $($rest)*); };
    (@check gc $($rest:ident)*) => { $crate::__class_option!(@check $($rest)*); };
    (@check weakref $($rest:ident)*) => { $crate::__class_option!(@check $($rest)*); };
    (@check subclass $($rest:ident)*) => { $crate::__class_option!(@check $($rest)*); };
    (@check $other:ident $($rest:ident)*) => {
        compile_error!(concat!("unknown class option `", stringify!($other),
            "` (expected mutable, gc, weakref or subclass)"));
    };
    (@mode mutable $($rest:ident)*) => { $crate::__private::Mutable };
    (@mode $other:ident $($rest:ident)*) => { $crate::__class_option!(@mode $($rest)*) };
    (@mode) => { $crate::__private::Frozen };
    (@weakref weakref $($rest:ident)*) => { true };
    (@weakref $other:ident $($rest:ident)*) => { $crate::__class_option!(@weakref $($rest)*) };
    (@weakref) => { false };
    (@subclass subclass $($rest:ident)*) => { true };
    (@subclass $other:ident $($rest:ident)*) => { $crate::__class_option!(@subclass $($rest)*) };
    (@subclass) => { false };
    (@gc $c:ident; gc $($rest:ident)*) => { $crate::__private::gc::<$c>() };
    (@gc $c:ident; $other:ident $($rest:ident)*) => { $crate::__class_option!(@gc $c; $($rest)*) };
    (@gc $c:ident;) => { $crate::__private::no_gc::<$c>() };
}

/// The items of a class, one at a time: each writes the user's function into `impl VALUE` and
/// its wrapper into a module named like it, and adds itself to the lists of methods (`[..]`),
/// properties and slots; the last rule writes the tables and `impl Class`.
#[doc(hidden)]
#[macro_export]
macro_rules! __class_items {
    // A property.
    (@munch $h:tt [$($m:ident)*] [$($g:ident)*] $s:tt ;
        $(#[doc = $d:literal])* #[getter] fn $f:ident (&$slf:ident) -> $ret:ty $body:block
        $($rest:tt)*) => {
        $crate::__class_getter! { $h [$($d)*] $f $slf $ret $body }
        $crate::__class_items! { @munch $h [$($m)*] [$($g)* $f] $s ; $($rest)* }
    };
    // `__new__`.
    (@munch $h:tt $m:tt $g:tt [$($s:tt)*] ;
        $(#[doc = $d:literal])* fn __new__ ($($params:tt)*) -> $ret:ty $body:block
        $($rest:tt)*) => {
        $crate::__class_method! { @args $h __new__ [[$($d)*] [$ret] $body] [] [] [] ;
            $($params)* }
        $crate::__class_items! { @munch $h $m $g [$($s)* (NEW __new__)] ; $($rest)* }
    };
    // `__repr__`.
    (@munch $h:tt $m:tt $g:tt [$($s:tt)*] ;
        $(#[doc = $d:literal])*
        fn __repr__ (&$slf:ident, $gil:ident : Gil<$gl:lifetime>, $n:ident : &str) -> $ret:ty
        $body:block $($rest:tt)*) => {
        $crate::__class_slot! { @repr $h $slf $gil $gl $n $ret $body }
        $crate::__class_items! { @munch $h $m $g [$($s)* (REPR __repr__)] ; $($rest)* }
    };
    // `__eq__`.
    (@munch $h:tt $m:tt $g:tt [$($s:tt)*] ;
        $(#[doc = $d:literal])*
        fn __eq__ (&$slf:ident, $o:ident : &Self, $gil:ident : Gil<$gl:lifetime>) -> $ret:ty
        $body:block $($rest:tt)*) => {
        $crate::__class_slot! { @eq $h $slf $o $gil $gl $ret $body }
        $crate::__class_items! { @munch $h $m $g [$($s)* (RICHCOMPARE __eq__)] ; $($rest)* }
    };
    // `__len__`.
    (@munch $h:tt $m:tt $g:tt [$($s:tt)*] ;
        $(#[doc = $d:literal])* fn __len__ (&$slf:ident) -> usize $body:block
        $($rest:tt)*) => {
        $crate::__class_slot! { @len $h $slf $body }
        $crate::__class_items! { @munch $h $m $g [$($s)* (LEN __len__)] ; $($rest)* }
    };
    // `__iter__` (chapter 12): the instance itself, as an `Obj`.
    (@munch $h:tt $m:tt $g:tt [$($s:tt)*] ;
        $(#[doc = $d:literal])*
        fn __iter__ ($this:ident : $tt:ty, $gil:ident : Gil<$gl:lifetime>) -> $ret:ty
        $body:block $($rest:tt)*) => {
        $crate::__class_slot! { @iter $h $this [$tt] $gil $gl $ret $body }
        $crate::__class_items! { @munch $h $m $g [$($s)* (ITER __iter__)] ; $($rest)* }
    };
    // `__next__` (chapter 12).
    (@munch $h:tt $m:tt $g:tt [$($s:tt)*] ;
        $(#[doc = $d:literal])*
        fn __next__ (&mut $slf:ident, $gil:ident : Gil<$gl:lifetime>) -> $ret:ty
        $body:block $($rest:tt)*) => {
        $crate::__class_slot! { @next $h $slf $gil $gl $ret $body }
        $crate::__class_items! { @munch $h $m $g [$($s)* (ITERNEXT __next__)] ; $($rest)* }
    };
    // A method.
    (@munch $h:tt [$($m:ident)*] $g:tt $s:tt ;
        $(#[doc = $d:literal])* fn $f:ident ($($params:tt)*) $(-> $ret:ty)? $body:block
        $($rest:tt)*) => {
        $crate::__class_method! { @receiver $h $f [[$($d)*] [$($ret)?] $body] ; $($params)* }
        $crate::__class_items! { @munch $h [$($m)* $f] $g $s ; $($rest)* }
    };
    // The end: the tables and `impl Class`.
    (@munch [$c:ident [$value:ty] [$($doc:literal)*] $module:ident [$($opt:ident)*]]
        [$($m:ident)*] [$($g:ident)*] [$(($slot:ident $sf:ident))*] ;) => {
        static __PYMODULE_CLASS_TOKEN: $crate::__private::Token = $crate::__private::Token::new();
        static __PYMODULE_CLASS_METHODS: $crate::__private::Methods = $crate::__private::Methods(&[
            $($m::METHOD,)* $crate::__private::end_of_methods(&__PYMODULE_CLASS_TOKEN)
        ]);
        static __PYMODULE_CLASS_GETSET: $crate::__private::GetSets = $crate::__private::GetSets(&[
            $($g::GETSET,)* $crate::__private::END_OF_GETSET
        ]);
        // SAFETY: the tables and slots are the wrappers above, each written for its slot.
        unsafe impl $crate::__private::Class for $c {
            type Value = $value;
            type Mode = $crate::__class_option!(@mode $($opt)*);
            const NAME: &'static $crate::__private::CStr = $crate::__private::cstr(
                concat!(stringify!($module), ".", stringify!($c), "\0"));
            const DOC: &'static $crate::__private::CStr = $crate::__doc!(None; $($doc)*);
            const WEAKREF: bool = $crate::__class_option!(@weakref $($opt)*);
            const BASETYPE: bool = $crate::__class_option!(@subclass $($opt)*);
            const GC: Option<$crate::__private::Gc> = $crate::__class_option!(@gc $c; $($opt)*);
            $(const $slot: $crate::__class_slot!(@type $slot) = Some($sf::SLOT);)*
            fn methods() -> &'static [$crate::ffi::PyMethodDef] {
                __PYMODULE_CLASS_METHODS.0
            }
            fn getset() -> &'static [$crate::ffi::PyGetSetDef] {
                __PYMODULE_CLASS_GETSET.0
            }
        }
    };
}

/// A method or `__new__`: its receiver, an optional `Gil`, its parameters, then the code.
#[doc(hidden)]
#[macro_export]
macro_rules! __class_method {
    (@receiver $h:tt $f:ident $head:tt ; &mut $slf:ident $(, $($rest:tt)*)?) => {
        $crate::__class_method! { @gil $h $f $head [[&mut] $slf [mut]] ; $($($rest)*)? }
    };
    (@receiver $h:tt $f:ident $head:tt ; & $lt:lifetime $slf:ident $(, $($rest:tt)*)?) => {
        $crate::__class_method! { @gil $h $f $head [[& $lt] $slf []] ; $($($rest)*)? }
    };
    (@receiver $h:tt $f:ident $head:tt ; & $slf:ident $(, $($rest:tt)*)?) => {
        $crate::__class_method! { @gil $h $f $head [[&] $slf []] ; $($($rest)*)? }
    };
    (@gil $h:tt $f:ident $head:tt $recv:tt ;
        $gil:ident : Gil<$gl:lifetime> $(, $($rest:tt)*)?) => {
        $crate::__class_method! { @args $h $f $head $recv [$gil $gl] [] ; $($($rest)*)? }
    };
    (@gil $h:tt $f:ident $head:tt $recv:tt ; $($rest:tt)*) => {
        $crate::__class_method! { @args $h $f $head $recv [] [] ; $($rest)* }
    };
    (@args $h:tt $f:ident $head:tt $recv:tt $gil:tt $params:tt ; / $(,)?) => {
        $crate::__class_method! { @emit $h $f $head $recv $gil $params true }
    };
    (@args $h:tt $f:ident $head:tt $recv:tt $gil:tt [$($p:tt)*] ;
        $a:ident : $t:ty $(, $($rest:tt)*)?) => {
        $crate::__class_method! { @args $h $f $head $recv $gil [$($p)* ($a: $t)] ;
            $($($rest)*)? }
    };
    (@args $h:tt $f:ident $head:tt $recv:tt $gil:tt $params:tt ; ) => {
        $crate::__class_method! { @emit $h $f $head $recv $gil $params false }
    };
    // `__new__`: no receiver; the value it returns goes into a new instance.
    (@emit [$c:ident [$value:ty] $doc:tt $module:ident $opts:tt] __new__
        [[$($d:literal)*] [$ret:ty] $body:block] [] [] [$(($a:ident : $t:ty))*] $po:literal) => {
        impl $value {
            $(#[doc = $d])*
            fn __new__($($a: $t),*) -> $ret $body
        }

        #[doc(hidden)]
        mod __new__ {
            #[allow(unused_imports)]
            use super::*;

            const SIG: $crate::Signature =
                $crate::__signature!(stringify!($c), $po; $(($a: $t))*);

            /// `tp_new`: CPython calls it with the type (the class or a subclass), a tuple and
            /// a dict.
            unsafe extern "C" fn new(
                ty: *mut $crate::ffi::PyTypeObject,
                args: *mut $crate::ffi::PyObject,
                kwargs: *mut $crate::ffi::PyObject,
            ) -> *mut $crate::ffi::PyObject {
                // SAFETY: CPython calls tp_new as its type says, with the GIL held, for a type
                // of this class or a subclass of one.
                unsafe {
                    $crate::__private::call::<$c, _>(
                        $crate::__private::At::Type(ty),
                        $crate::__private::null_mut(),
                        |_| {
                            // `_kept` holds the keyword arguments until the call ends.
                            let ([$($a),*], _kept) =
                                $crate::__private::parse_tuple(&SIG, args, kwargs)?;
                            $(let $a: $t = $crate::__private::extract(&$a, &SIG, stringify!($a))?;)*
                            let value = <$value>::__new__($($a),*)?;
                            $crate::__private::alloc::<$c>(ty, value)
                        },
                    )
                }
            }

            pub(super) const SLOT: $crate::ffi::newfunc = new;
        }
    };
    // A method: borrow the value (shared or mutable, as the receiver says), then call.
    (@emit [$c:ident [$value:ty] $doc:tt $module:ident $opts:tt] $f:ident
        [[$($d:literal)*] [$($ret:ty)?] $body:block]
        [[$($recv:tt)*] $slf:ident [$($mut:tt)?]] [$($gil:ident $gl:lifetime)?]
        [$(($a:ident : $t:ty))*] $po:literal) => {
        impl $value {
            $(#[doc = $d])*
            fn $f($($recv)* $slf, $($gil: Gil<$gl>,)? $($a: $t),*) $(-> $ret)? $body
        }

        #[doc(hidden)]
        mod $f {
            #[allow(unused_imports)]
            use super::*;

            const SIG: $crate::Signature =
                $crate::__signature!(stringify!($f), $po; $(($a: $t))*);

            /// CPython calls this (`METH_FASTCALL | METH_KEYWORDS`) with the GIL held, after
            /// checking that `obj` is an instance of the method's class (or of a subclass).
            unsafe extern "C" fn wrapper(
                obj: *mut $crate::ffi::PyObject,
                args: *const *mut $crate::ffi::PyObject,
                nargs: $crate::ffi::Py_ssize_t,
                kwnames: *mut $crate::ffi::PyObject,
            ) -> *mut $crate::ffi::PyObject {
                // SAFETY: as the comment above says; `obj` is alive during the call.
                unsafe {
                    $crate::__private::call::<$c, _>(
                        $crate::__private::At::Object(obj),
                        $crate::__private::null_mut(),
                        |gil| {
                            let here = $crate::__private::here_of::<$c>(obj);
                            let [$($a),*] = $crate::__private::parse(&SIG, args, nargs, kwnames)?;
                            $(let $a: $t =
                                $crate::__private::extract_here(&$a, &SIG, stringify!($a), here)?;)*
                            #[allow(unused_mut)]
                            let mut this = $crate::__class_borrow!($c, obj, $($mut)?);
                            // (`gil`, passed on under the parameter's own name)
                            $(let $gil = gil;)?
                            let result = <$value>::$f(&$($mut)? *this, $($gil,)? $($a),*);
                            $crate::IntoPy::into_py_here(result, gil, here)
                        },
                    )
                }
            }

            $crate::__method_row!($f, $po, $crate::__doc!(None; $($d)*));
        }
    };
}

/// Borrows an instance's value: shared, or mutable (which only a `mutable` class allows).
#[doc(hidden)]
#[macro_export]
macro_rules! __class_borrow {
    ($c:ident, $obj:ident, mut) => {
        $crate::__private::borrow_mut::<$c>($obj)?
    };
    ($c:ident, $obj:ident, ) => {
        $crate::__private::borrow::<$c>($obj)?
    };
}

/// A read-only property.
#[doc(hidden)]
#[macro_export]
macro_rules! __class_getter {
    ([$c:ident [$value:ty] $doc:tt $module:ident $opts:tt] [$($d:literal)*] $f:ident $slf:ident
        $ret:ty $body:block) => {
        impl $value {
            $(#[doc = $d])*
            fn $f(&$slf) -> $ret $body
        }

        #[doc(hidden)]
        mod $f {
            #[allow(unused_imports)]
            use super::*;

            /// CPython calls this with the GIL held, for an instance of the class (or of a
            /// subclass): the property's descriptor checks it.
            unsafe extern "C" fn get(
                obj: *mut $crate::ffi::PyObject,
                _closure: *mut ::core::ffi::c_void,
            ) -> *mut $crate::ffi::PyObject {
                // SAFETY: as the comment above says.
                unsafe {
                    $crate::__private::call::<$c, _>(
                        $crate::__private::At::Object(obj),
                        $crate::__private::null_mut(),
                        |gil| {
                            let here = $crate::__private::here_of::<$c>(obj);
                            let this = $crate::__private::borrow::<$c>(obj)?;
                            $crate::IntoPy::into_py_here(<$value>::$f(&*this), gil, here)
                        },
                    )
                }
            }

            const DOC: &$crate::__private::CStr = $crate::__doc!(None; $($d)*);

            pub(super) const GETSET: $crate::ffi::PyGetSetDef = $crate::ffi::PyGetSetDef {
                name: $crate::__private::cstr(concat!(stringify!($f), "\0")).as_ptr(),
                get: Some(get),
                set: None,
                doc: DOC.as_ptr(),
                closure: $crate::__private::null_mut(),
            };
        }
    };
}

/// `__repr__`, `__eq__` and `__len__`, each as its type slot.
#[doc(hidden)]
#[macro_export]
macro_rules! __class_slot {
    (@type NEW) => { Option<$crate::ffi::newfunc> };
    (@type REPR) => { Option<$crate::ffi::reprfunc> };
    (@type RICHCOMPARE) => { Option<$crate::ffi::richcmpfunc> };
    (@type LEN) => { Option<$crate::ffi::lenfunc> };
    (@type ITER) => { Option<$crate::ffi::getiterfunc> };
    (@type ITERNEXT) => { Option<$crate::ffi::iternextfunc> };
    (@repr [$c:ident [$value:ty] $doc:tt $module:ident $opts:tt] $slf:ident $gil:ident
        $gl:lifetime $n:ident $ret:ty $body:block) => {
        impl $value {
            fn __repr__(&$slf, $gil: Gil<$gl>, $n: &str) -> $ret $body
        }

        #[doc(hidden)]
        mod __repr__ {
            #[allow(unused_imports)]
            use super::*;

            /// `tp_repr`: CPython calls it with the GIL held, for an instance of the class or
            /// of a subclass (a slot is only inherited, or copied, by subclasses).
            unsafe extern "C" fn repr(
                obj: *mut $crate::ffi::PyObject,
            ) -> *mut $crate::ffi::PyObject {
                // SAFETY: as the comment above says.
                unsafe {
                    $crate::__private::call::<$c, _>(
                        $crate::__private::At::Object(obj),
                        $crate::__private::null_mut(),
                        |gil| {
                            let this = $crate::__private::borrow::<$c>(obj)?;
                            let name = $crate::__private::name_of(obj);
                            $crate::IntoPy::into_py(<$value>::__repr__(&*this, gil, &name), gil)
                        },
                    )
                }
            }

            pub(super) const SLOT: $crate::ffi::reprfunc = repr;
        }
    };
    (@eq [$c:ident [$value:ty] $doc:tt $module:ident $opts:tt] $slf:ident $o:ident
        $gil:ident $gl:lifetime $ret:ty $body:block) => {
        impl $value {
            fn __eq__(&$slf, $o: &Self, $gil: Gil<$gl>) -> $ret $body
        }

        #[doc(hidden)]
        mod __eq__ {
            #[allow(unused_imports)]
            use super::*;

            /// `tp_richcompare`: as for `tp_repr`; `other` is any object.
            unsafe extern "C" fn richcompare(
                obj: *mut $crate::ffi::PyObject,
                other: *mut $crate::ffi::PyObject,
                op: ::core::ffi::c_int,
            ) -> *mut $crate::ffi::PyObject {
                // SAFETY: as the comment above says.
                unsafe {
                    $crate::__private::call::<$c, _>(
                        $crate::__private::At::Object(obj),
                        $crate::__private::null_mut(),
                        |gil| {
                            $crate::__private::richcompare::<$c>(obj, other, op, gil, |a, b, gil| {
                                <$value>::__eq__(a, b, gil)
                            })
                        },
                    )
                }
            }

            pub(super) const SLOT: $crate::ffi::richcmpfunc = richcompare;
        }
    };
    (@len [$c:ident [$value:ty] $doc:tt $module:ident $opts:tt] $slf:ident $body:block) => {
        impl $value {
            fn __len__(&$slf) -> usize $body
        }

        #[doc(hidden)]
        mod __len__ {
            #[allow(unused_imports)]
            use super::*;

            /// `sq_length`: as for `tp_repr`; -1 with an exception set on error.
            unsafe extern "C" fn len(obj: *mut $crate::ffi::PyObject) -> $crate::ffi::Py_ssize_t {
                // SAFETY: as the comment above says.
                unsafe {
                    $crate::__private::call::<$c, _>($crate::__private::At::Object(obj), -1, |_| {
                        let this = $crate::__private::borrow::<$c>(obj)?;
                        $crate::__private::length(<$value>::__len__(&*this))
                    })
                }
            }

            pub(super) const SLOT: $crate::ffi::lenfunc = len;
        }
    };
    (@iter [$c:ident [$value:ty] $doc:tt $module:ident $opts:tt] $this:ident [$tt:ty]
        $gil:ident $gl:lifetime $ret:ty $body:block) => {
        impl $value {
            fn __iter__($this: $tt, $gil: Gil<$gl>) -> $ret $body
        }

        #[doc(hidden)]
        mod __iter__ {
            #[allow(unused_imports)]
            use super::*;

            /// `tp_iter`: as for `tp_repr`; the instance is passed on as a new reference.
            unsafe extern "C" fn iter(
                obj: *mut $crate::ffi::PyObject,
            ) -> *mut $crate::ffi::PyObject {
                // SAFETY: as the comment above says.
                unsafe {
                    $crate::__private::call::<$c, _>(
                        $crate::__private::At::Object(obj),
                        $crate::__private::null_mut(),
                        |gil| {
                            let here = $crate::__private::here_of::<$c>(obj);
                            let this = $crate::Obj::<$c>::from_slot(obj, here)?;
                            $crate::IntoPy::into_py_here(<$value>::__iter__(this, gil), gil, here)
                        },
                    )
                }
            }

            pub(super) const SLOT: $crate::ffi::getiterfunc = iter;
        }
    };
    (@next [$c:ident [$value:ty] $doc:tt $module:ident $opts:tt] $slf:ident $gil:ident
        $gl:lifetime $ret:ty $body:block) => {
        impl $value {
            fn __next__(&mut $slf, $gil: Gil<$gl>) -> $ret $body
        }

        #[doc(hidden)]
        mod __next__ {
            #[allow(unused_imports)]
            use super::*;

            /// `tp_iternext`: as for `tp_repr`; NULL without an exception set says that the
            /// iterator is exhausted (`Ok(None)`), with one that it raised.
            unsafe extern "C" fn next(
                obj: *mut $crate::ffi::PyObject,
            ) -> *mut $crate::ffi::PyObject {
                // SAFETY: as the comment above says.
                unsafe {
                    $crate::__private::call::<$c, _>(
                        $crate::__private::At::Object(obj),
                        $crate::__private::null_mut(),
                        |gil| {
                            let here = $crate::__private::here_of::<$c>(obj);
                            let mut this = $crate::__private::borrow_mut::<$c>(obj)?;
                            let item = <$value>::__next__(&mut *this, gil);
                            drop(this);
                            $crate::__private::next_item(item, gil, here)
                        },
                    )
                }
            }

            pub(super) const SLOT: $crate::ffi::iternextfunc = next;
        }
    };
}
// ANCHOR_END: all
