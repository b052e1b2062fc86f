//! The `module!` macro: a module's functions, exceptions and state, in one declaration.

/// Declares a Python extension module: its functions, its exception types and its state, and
/// writes the method table, the module definition and the exported `PyInit_<name>`.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
/// use pymodule::{Module, PyErr};
///
/// #[derive(Default)]
/// pub struct Counter {
///     total: AtomicU64,
/// }
///
/// pymodule::module! {
///     /// Counts things.
///     mod counter {
///         state: Counter;
///         exceptions {
///             /// Raised when a count would overflow.
///             TooMany(OverflowError),
///         }
///         /// Add `n` (1 if left out) to the total, and return the new total.
///         fn add(m: Module<'_, Counter>, n: Option<u64>) -> Result<u64, PyErr> {
///             let add = |total: u64| total.checked_add(n.unwrap_or(1));
///             match m.state().total.fetch_update(Relaxed, Relaxed, add) {
///                 Ok(old) => Ok(add(old).unwrap_or(u64::MAX)),
///                 Err(_) => Err(PyErr::new::<TooMany>("the total would overflow")),
///             }
///         }
///     }
/// }
/// # fn main() { pymodule::embed::check(__pymodule_init, r#"
/// import counter, inspect
/// assert (counter.add(), counter.add(41), counter.add(n=8)) == (1, 42, 50)
/// assert str(inspect.signature(counter.add)) == "(n=None)"
/// assert counter.add.__doc__ == "Add `n` (1 if left out) to the total, and return the new total."
/// try:
///     counter.add(2**64 - 1)
/// except counter.TooMany as e:
///     assert str(e) == "the total would overflow" and isinstance(e, OverflowError)
/// "#); }
/// ```
///
/// The parts, in this order:
///
/// - `///` lines: the module's docstring. Then `mod NAME`: `import NAME` calls `PyInit_NAME`.
/// - `state: TYPE;` (optional): the module's state, made with `Default` when the module is
///   executed, and dropped with the module. It must be `Send` and `Sync` (below), and hold no
///   Python objects.
/// - `exceptions { ... }` (optional): exception types, each `Name(Base)` with `Base` one of
///   [`exc`](crate::exc). Each becomes a Rust type for [`PyErr::new`](crate::PyErr::new) and a
///   class in the module, made anew for each module object. Every module also gets
///   `PanicException` (a `BaseException`), which a panic in a function raises.
/// - `classes { ... }` (optional): classes declared with [`class!`](crate::class!), each made
///   anew (a type object of its own) for each module object, after its state, and added to it.
/// - Functions, written as Rust functions whose parameter types implement
///   [`FromPy`](crate::FromPy) and whose return type implements [`IntoPy`](crate::IntoPy). A
///   first parameter of type `Module<'_, STATE>` receives the module. A `/` after the last
///   parameter makes them all positional-only, as in Python.
///
/// A `&str` or `&[u8]` parameter borrows from the argument object, which the caller keeps alive
/// for the call and no longer, so the borrow cannot outlive the call. A function that asks for
/// more, to keep the text after it returns, does not compile:
///
/// ```compile_fail,E0716
/// use std::sync::Mutex;
///
/// static KEPT: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
///
/// pymodule::module! {
///     mod keeper {
///         fn keep(text: &'static str) {
///             KEPT.lock().unwrap().push(text); // read after `text`'s object is freed
///         }
///     }
/// }
/// # fn main() {}
/// ```
///
/// Every thread that calls the module shares its state (`&TYPE`), and without a GIL (a
/// free-threaded CPython) they do so at the same time, so the state must be `Sync`: atomics, or
/// a `Mutex`, for what changes. A state with a `Cell` in it, which only the GIL made sound, does
/// not compile:
///
/// ```compile_fail,E0277
/// use std::cell::Cell;
///
/// #[derive(Default)]
/// pub struct Counter(Cell<u64>); // error: `Cell<u64>` cannot be shared between threads safely
///
/// pymodule::module! {
///     mod counter {
///         state: Counter;
///     }
/// }
/// # fn main() {}
/// ```
///
/// CPython allocates the state with `PyMem_Malloc`, which aligns to 16 bytes on a 64-bit
/// machine (8 on a 32-bit one), so a state type that needs more is refused at compile time
/// (box the part that needs it):
///
/// ```compile_fail,E0080
/// #[derive(Default)]
/// #[repr(align(128))]
/// pub struct Lines(u64);
///
/// pymodule::module! {
///     mod aligned {
///         state: Lines;
///     }
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! module {
    (
        $(#[doc = $mdoc:literal])*
        mod $name:ident {
            $(state: $state:ty;)?
            $(exceptions {
                $( $(#[doc = $edoc:literal])* $exc:ident($base:ident) ),* $(,)?
            })?
            $(classes { $($class:ident),* $(,)? })?
            $(
                $(#[doc = $fdoc:literal])*
                fn $f:ident ( $($params:tt)* ) $(-> $ret:ty)? $body:block
            )*
        }
    ) => {
        $($(
            $(#[doc = $edoc])*
            pub struct $exc;
            impl $crate::Exception for $exc {
                const KIND: $crate::__private::Kind =
                    $crate::__private::Kind::Module(__Exceptions::$exc as usize);
            }
        )*)?

        /// Index of each exception type in the module's state.
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        enum __Exceptions { PanicException, $($($exc,)*)? }

        #[doc(hidden)]
        struct __Spec;
        impl $crate::__private::Spec for __Spec {
            type State = $crate::__state!($($state)?);
            const EXCEPTIONS: &'static [$crate::__private::ExceptionDef] = &[
                $crate::__private::ExceptionDef {
                    attr: c"PanicException",
                    qualname: $crate::__private::cstr(
                        concat!(stringify!($name), ".PanicException\0")),
                    doc: c"A Rust panic, caught before it reached Python.",
                    base: <$crate::exc::BaseException as $crate::Exception>::KIND,
                },
                $($($crate::__private::ExceptionDef {
                    attr: $crate::__private::cstr(concat!(stringify!($exc), "\0")),
                    qualname: $crate::__private::cstr(
                        concat!(stringify!($name), ".", stringify!($exc), "\0")),
                    doc: $crate::__doc!(None; $($edoc)*),
                    base: <$crate::exc::$base as $crate::Exception>::KIND,
                },)*)?
            ];
            $(const CLASSES: &'static [$crate::__private::ClassDef] =
                &[$($crate::__private::ClassDef::of::<$class>()),*];)?
        }

        $(
            $crate::__function! {
                @parse $f [[$($fdoc)*] [$($ret)?] $body] [] [] ; $($params)*
            }
        )*

        static __PYMODULE_METHODS: $crate::__private::Methods =
            $crate::__private::Methods(&[$($f::METHOD,)* $crate::ffi::PyMethodDef::zeroed()]);
        static __PYMODULE_SLOTS: $crate::__private::Slots =
            $crate::__private::Slots::new::<__Spec>();
        static __PYMODULE_DEF: $crate::__private::ModuleDef =
            $crate::__private::ModuleDef::new::<__Spec>(
                $crate::__private::cstr(concat!(stringify!($name), "\0")),
                $crate::__doc!(None; $($mdoc)*),
                &__PYMODULE_METHODS,
                &__PYMODULE_SLOTS,
            );

        /// The module's entry point, exported as `PyInit_<name>`: it hands CPython the module's
        /// definition.
        #[doc(hidden)]
        #[unsafe(export_name = concat!("PyInit_", stringify!($name)))]
        pub extern "C" fn __pymodule_init() -> *mut $crate::ffi::PyObject {
            __PYMODULE_DEF.init()
        }
    };
}

/// The state type, `()` when the module declares none.
#[doc(hidden)]
#[macro_export]
macro_rules! __state {
    () => {
        ()
    };
    ($state:ty) => {
        $state
    };
}

/// A docstring as a `&'static CStr`, from `///` lines (and a signature, for a function).
#[doc(hidden)]
#[macro_export]
macro_rules! __doc {
    ($sig:expr; $($line:literal)*) => {{
        const LINES: &[&str] = &[$($line),*];
        static BYTES: [u8; $crate::__private::doc_len($sig, LINES)] =
            $crate::__private::doc_bytes($sig, LINES);
        match $crate::__private::CStr::from_bytes_with_nul(&BYTES) {
            Ok(doc) => doc,
            Err(_) => panic!("NUL in a docstring"),
        }
    }};
}

/// One function: reads its parameters, then writes the function as the user wrote it and a
/// module named like it holding its signature, its `extern "C"` wrapper and its method-table row.
#[doc(hidden)]
#[macro_export]
macro_rules! __function {
    // The module, as the first parameter.
    (@parse $f:ident $head:tt [] [] ;
        $m:ident : Module<$lt:lifetime, $st:ty> $(, $($rest:tt)*)?) => {
        $crate::__function! { @parse $f $head [$m: Module<$lt, $st>] [] ; $($($rest)*)? }
    };
    // `/` after the last parameter: all of them are positional-only.
    (@parse $f:ident $head:tt $m:tt $params:tt ; / $(,)?) => {
        $crate::__function! { @emit $f $head $m $params true }
    };
    (@parse $f:ident $head:tt $m:tt [$($p:tt)*] ; $a:ident : $t:ty $(, $($rest:tt)*)?) => {
        $crate::__function! { @parse $f $head $m [$($p)* ($a: $t)] ; $($($rest)*)? }
    };
    (@parse $f:ident $head:tt $m:tt $params:tt ; ) => {
        $crate::__function! { @emit $f $head $m $params false }
    };
    (@emit $f:ident [[$($doc:literal)*] [$($ret:ty)?] $body:block]
        [$($m:ident : $mty:ty)?] [$(($a:ident : $t:ty))*] $positional_only:literal) => {
        $(#[doc = $doc])*
        fn $f($($m: $mty,)? $($a: $t),*) $(-> $ret)? $body

        #[doc(hidden)]
        mod $f {
            #[allow(unused_imports)]
            use super::*;

            const SIG: $crate::Signature =
                $crate::__signature!(stringify!($f), $positional_only; $(($a: $t))*);

            /// CPython calls this (`METH_FASTCALL | METH_KEYWORDS`), with the GIL held.
            unsafe extern "C" fn wrapper(
                module: *mut $crate::ffi::PyObject,
                args: *const *mut $crate::ffi::PyObject,
                nargs: $crate::ffi::Py_ssize_t,
                kwnames: *mut $crate::ffi::PyObject,
            ) -> *mut $crate::ffi::PyObject {
                // SAFETY: CPython calls us as the method table says, so the arguments are what
                // `parse` expects, and `module` is our module, alive during the call.
                unsafe {
                    $crate::__private::trampoline(module, |gil| {
                        let [$($a),*] = $crate::__private::parse(&SIG, args, nargs, kwnames)?;
                        $(let $a: $t = $crate::__private::extract(&$a, &SIG, stringify!($a))?;)*
                        $(let $m = $crate::Module::<
                            <super::__Spec as $crate::__private::Spec>::State
                        >::from_call(module, gil, &SIG)?;)?
                        $crate::IntoPy::into_py(super::$f($($m,)? $($a),*), gil)
                    })
                }
            }

            $crate::__method_row!($f, $positional_only, $crate::__doc!(Some(&SIG); $($doc)*));
        }
    };
}

/// A function's or a method's signature: its name, and each parameter's name and whether it
/// may be left out.
#[doc(hidden)]
#[macro_export]
macro_rules! __signature {
    ($name:expr, $positional_only:literal; $(($a:ident : $t:ty))*) => {
        $crate::Signature {
            name: $name,
            params: &[$($crate::Param {
                name: stringify!($a),
                optional: <$t as $crate::FromPy>::OPTIONAL,
            }),*],
            positional_only: $positional_only,
        }
    };
}

/// A function's or a method's row of the method table, `METHOD`, and its `positional` entry
/// point beside the `wrapper` that the caller wrote.
#[doc(hidden)]
#[macro_export]
macro_rules! __method_row {
    ($f:ident, $positional_only:literal, $doc:expr) => {
        /// For a function or a method whose parameters are all positional-only:
        /// `METH_FASTCALL`, the same call without keyword names, which CPython dispatches a
        /// little faster (and for which it refuses keyword arguments itself).
        unsafe extern "C" fn positional(
            slf: *mut $crate::ffi::PyObject,
            args: *mut *mut $crate::ffi::PyObject,
            nargs: $crate::ffi::Py_ssize_t,
        ) -> *mut $crate::ffi::PyObject {
            // SAFETY: as for `wrapper`, with no keyword names.
            unsafe { wrapper(slf, args.cast_const(), nargs, $crate::__private::null_mut()) }
        }

        pub(super) const METHOD: $crate::ffi::PyMethodDef = $crate::ffi::PyMethodDef {
            ml_name: $crate::__private::cstr(concat!(stringify!($f), "\0")).as_ptr(),
            ml_meth: if $positional_only {
                $crate::ffi::PyMethodDefPointer { PyCFunctionFast: positional }
            } else {
                $crate::ffi::PyMethodDefPointer { PyCFunctionFastWithKeywords: wrapper }
            },
            ml_flags: if $positional_only {
                $crate::ffi::METH_FASTCALL
            } else {
                $crate::ffi::METH_FASTCALL | $crate::ffi::METH_KEYWORDS
            },
            ml_doc: $doc.as_ptr(),
        };
    };
}
