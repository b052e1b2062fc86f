// ANCHOR: all
//! A thin helper for writing Python extension modules in Rust on [`pyo3_ffi`]: the library that the
//! original post announced as "go-pymodule" and never published, done in Rust.
//!
//! It does three things, and only those:
//!
//! - **Module and method export.** The [`module!`] macro writes the method table, the module
//!   definition (multi-phase initialisation, [PEP 489]) and the exported `PyInit_<name>` function.
//!   Each module keeps its state, and the exception types it declares, in its own module object,
//!   never in a process-wide static, so it can be imported into several interpreters at once.
//! - **Arguments by signature.** A function's Rust parameters say how to convert its arguments
//!   ([`FromPy`]), and its return type how to convert the result ([`IntoPy`]). Functions use
//!   `METH_FASTCALL | METH_KEYWORDS`: no argument tuple, no format string, keywords work.
//! - **The GIL.** A [`Gil`] token proves that the thread holds it; [`Gil::allow_threads`]
//!   releases it around Rust work that cannot touch Python objects, and [`Module::detach`] lets
//!   other threads take it back, with the module's state in reach.
//!
//! Everything else is plain [`pyo3_ffi`], re-exported as [`ffi`].
//!
//! ```
//! pymodule::module! {
//!     /// A module with one function.
//!     mod foo {
//!         /// Add two numbers.
//!         fn sum(a: i64, b: i64, /) -> Result<i64, pymodule::PyErr> {
//!             a.checked_add(b).ok_or_else(|| {
//!                 pymodule::PyErr::new::<pymodule::exc::OverflowError>("too big")
//!             })
//!         }
//!     }
//! }
//! # fn main() {
//! #     pymodule::embed::check(__pymodule_init, "import foo; assert foo.sum(2, 40) == 42");
//! # }
//! ```
//!
//! [PEP 489]: https://peps.python.org/pep-0489/

#![deny(missing_docs)]

pub use pyo3_ffi as ffi;

mod args;
mod boundary;
mod call;
mod class;
mod doc;
#[cfg(feature = "embed")]
#[doc(hidden)]
pub mod embed;
mod err;
mod gil;
mod here;
mod module;
mod module_macro;
mod ret;
mod state;

pub use args::{FromPy, Param, Signature};
pub use call::{Args, Callable};
pub use class::instance::Obj;
pub use class::obj::Py;
pub use class::{Ref, RefMut, Stop, Traverse, Visit};
pub use err::{Exception, PyErr, exc};
pub use gil::{Attach, Gil, Module};
pub use ret::IntoPy;

/// What the [`module!`] macro expands to refers to these; they are not meant for other code.
#[doc(hidden)]
pub mod __private {
    pub use crate::args::{extract, extract_here, parse, parse_tuple};
    pub use crate::boundary::trampoline;
    pub use crate::class::instance::next_item;
    pub use crate::class::{
        At, CanMutate, Class, ClassDef, END_OF_GETSET, Frozen, Gc, GetSets, Mode, Mutable, Token,
        alloc, borrow, borrow_mut, call, end_of_methods, gc, here_of, length, name_of, no_gc,
        richcompare,
    };
    pub use crate::doc::{doc_bytes, doc_len};
    pub use crate::err::Kind;
    pub use crate::here::Here;
    pub use crate::module::{ExceptionDef, Methods, ModuleDef, Slots, Spec};
    pub use core::ffi::CStr;
    pub use core::ptr::null_mut;

    /// A C string from a literal that must end with a NUL, checked at compile time.
    pub const fn cstr(bytes: &'static str) -> &'static CStr {
        match CStr::from_bytes_with_nul(bytes.as_bytes()) {
            Ok(s) => s,
            Err(_) => panic!("a name or a docstring holds a NUL character"),
        }
    }
}
// ANCHOR_END: all

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    use crate::embed::check;
    use crate::{Module, PyErr};

    #[derive(Default)]
    pub struct Calls(AtomicU64);

    crate::module! {
        /// For the tests.
        mod testmod {
            state: Calls;
            exceptions {
                /// A test error.
                Oops(ValueError),
            }
            /// Panic with `message`.
            fn boom(message: &str) -> u64 {
                panic!("{message}")
            }
            /// Raise Oops.
            fn oops(m: Module<'_, Calls>) -> Result<(), PyErr> {
                let n = m.state().0.fetch_add(1, Relaxed) + 1;
                Err(PyErr::new::<Oops>(format!("call {n}")))
            }
            /// Panic without the GIL.
            fn boom_without_gil(m: Module<'_, Calls>) -> u64 {
                m.gil().allow_threads(|| panic!("no GIL"))
            }
        }
    }

    #[test]
    fn looking_for_the_state_leaves_an_exception_alone() {
        crate::embed::with_gil(|_| {
            // SAFETY: the GIL is held; a module made from the definition and not executed has
            // no state yet, as after importlib.util.module_from_spec.
            unsafe {
                let def = __pymodule_init().cast::<crate::ffi::PyModuleDef>();
                let spec = crate::embed::eval(
                    "__import__('importlib.machinery').machinery.ModuleSpec('testmod', None)",
                );
                let module = crate::ffi::PyModule_FromDefAndSpec(def, spec);
                assert!(!module.is_null());
                crate::ffi::PyErr_SetString(crate::ffi::PyExc_ValueError, c"unrelated".as_ptr());
                assert!(crate::state::header(module).is_none());
                assert_eq!(crate::embed::fetch(), "ValueError: unrelated");
                crate::ffi::Py_DecRef(module);
            }
        })
    }

    /// A state type aligned to 16 bytes, as much as CPython's allocator gives.
    mod wide {
        use crate::Module;

        #[derive(Default)]
        #[repr(align(16))]
        pub struct Wide(#[allow(dead_code, reason = "only its alignment matters")] u8);

        crate::module! {
            mod widemod {
                state: Wide;
                /// The address of the state.
                fn address(m: Module<'_, Wide>) -> u64 {
                    (&raw const *m.state()) as u64
                }
            }
        }

        #[test]
        fn the_state_is_aligned() {
            crate::embed::check(
                __pymodule_init,
                "import widemod; assert widemod.address() % 16 == 0, hex(widemod.address())",
            );
        }
    }

    #[test]
    fn panics_errors_and_state() {
        check(
            __pymodule_init,
            r#"
import gc, sys, testmod
assert issubclass(testmod.PanicException, BaseException)
assert not issubclass(testmod.PanicException, Exception)
for f, args, text in [(testmod.boom, ("at the boundary",), "at the boundary"),
                      (testmod.boom_without_gil, (), "no GIL")]:
    try:
        f(*args)
        raise AssertionError("no exception")
    except testmod.PanicException as e:
        assert str(e) == text, e
for n in (1, 2):
    try:
        testmod.oops()
    except testmod.Oops as e:
        assert str(e) == f"call {n}" and isinstance(e, ValueError)
        assert type(e).__module__ == "testmod" and type(e).__doc__ == "A test error."
# the state holds the exception types, and tells the collector so (m_traverse)
assert testmod.Oops in gc.get_referents(testmod)
assert testmod.__doc__ == "For the tests."
"#,
        );
    }
}
