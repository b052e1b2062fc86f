//! For this crate's own tests and doctests (feature `embed`): start an interpreter in the test
//! program, load a module from its init function, and run Python code against it.

use std::ffi::CString;
use std::ptr;
use std::sync::Once;

use pyo3_ffi as ffi;

use crate::args::FromPy;
use crate::err::PyErr;
use crate::gil::Gil;

static START: Once = Once::new();

/// Runs `f` with the GIL held, starting the interpreter on first use.
pub fn with_gil<R>(f: impl for<'py> FnOnce(Gil<'py>) -> R) -> R {
    START.call_once(|| {
        // SAFETY: once per process; then release the GIL, which every caller takes below.
        unsafe {
            ffi::Py_InitializeEx(0);
            ffi::PyEval_SaveThread();
        }
    });
    // SAFETY: the interpreter is running; Ensure/Release pair up around `f`, also when a failed
    // assertion in `f` panics (else the other tests would wait for the GIL forever).
    unsafe {
        let state = ffi::PyGILState_Ensure();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(Gil::assume())));
        ffi::PyGILState_Release(state);
        result.unwrap_or_else(|payload| std::panic::resume_unwind(payload))
    }
}

fn builtin(name: &str) -> *mut ffi::PyObject {
    let name = CString::new(name).unwrap();
    // SAFETY: the GIL is held by our callers; references are owned and leaked (tests only).
    unsafe {
        let builtins = ffi::PyImport_ImportModule(c"builtins".as_ptr());
        ffi::PyObject_GetAttrString(builtins, name.as_ptr())
    }
}

fn call1(f: *mut ffi::PyObject, args: &[*mut ffi::PyObject]) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held; PyTuple_SetItem steals the reference we take for it.
    unsafe {
        let tuple = ffi::PyTuple_New(args.len() as _);
        for (i, &a) in args.iter().enumerate() {
            ffi::Py_IncRef(a);
            ffi::PyTuple_SetItem(tuple, i as _, a);
        }
        ffi::PyObject_CallObject(f, tuple)
    }
}

fn text(code: &str) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held.
    unsafe { ffi::PyUnicode_FromStringAndSize(code.as_ptr().cast(), code.len() as _) }
}

/// The value of a Python expression (a new reference, never released: tests only).
pub fn eval(code: &str) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held.
    let obj = call1(builtin("eval"), &[text(code), unsafe { ffi::PyDict_New() }]);
    assert!(!obj.is_null(), "{code} raised {}", fetch());
    obj
}

/// `T` from `obj`, as a function's argument would be converted.
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "tests only, on objects from eval")]
pub fn extract<T: FromPy<'static>>(obj: *mut ffi::PyObject) -> Result<T, PyErr> {
    // SAFETY: the GIL is held; eval's objects are never released.
    unsafe { T::from_py(obj) }
}

/// `repr(obj)`.
#[allow(clippy::not_unsafe_ptr_arg_deref, reason = "tests only, on objects from eval")]
pub fn repr(obj: *mut ffi::PyObject) -> String {
    // SAFETY: the GIL is held and obj is valid.
    unsafe { crate::err::utf8(ffi::PyObject_Repr(obj)).unwrap().to_owned() }
}

/// "Type: message" of the error, once raised.
pub fn raised(err: PyErr) -> String {
    // SAFETY: the GIL is held; a built-in exception needs no module.
    unsafe { err.restore(ptr::null_mut()) };
    fetch()
}

/// "Type: message" of the exception that is set, which is cleared.
pub fn fetch() -> String {
    let (mut ty, mut value, mut tb) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: the GIL is held.
    unsafe {
        ffi::PyErr_Fetch(&mut ty, &mut value, &mut tb);
        if ty.is_null() {
            return "no exception".into();
        }
        ffi::PyErr_NormalizeException(&mut ty, &mut value, &mut tb);
        let name = ffi::PyObject_GetAttrString(ty, c"__name__".as_ptr());
        let message = crate::err::utf8(ffi::PyObject_Str(value)).unwrap_or("?");
        format!("{}: {message}", crate::err::utf8(name).unwrap_or("?"))
    }
}

/// Imports the module that `init` (a `PyInit_` function) defines, as `import` would, then runs
/// `code`, and panics with the traceback if it raises.
pub fn check(init: extern "C" fn() -> *mut ffi::PyObject, code: &str) {
    with_gil(|_| {
        // SAFETY: the GIL is held; `init` returns a PyModuleDef (multi-phase initialisation).
        unsafe {
            let def = init().cast::<ffi::PyModuleDef>();
            let name = std::ffi::CStr::from_ptr((*def).m_name).to_str().unwrap();
            let spec = eval(&format!(
                "__import__('importlib.machinery').machinery.ModuleSpec({name:?}, None)"
            ));
            let module = ffi::PyModule_FromDefAndSpec(def, spec);
            assert!(!module.is_null(), "creating {name} raised {}", fetch());
            assert!(ffi::PyModule_ExecDef(module, def) == 0, "executing {name} raised {}", fetch());
            let modules = ffi::PySys_GetObject(c"modules".as_ptr());
            ffi::PyObject_SetItem(modules, text(name), module);
            let globals = ffi::PyDict_New();
            if call1(builtin("exec"), &[text(code), globals]).is_null() {
                ffi::PyErr_Print();
                panic!("the Python code raised (traceback above)");
            }
        }
    })
}

/// Runs `code`, statements, in a namespace of its own, and panics with the traceback if it
/// raises (for a test that prepares objects in Rust first, with a module `check` imported).
pub fn run(code: &str) {
    with_gil(|_| {
        // SAFETY: the GIL is held.
        unsafe {
            if call1(builtin("exec"), &[text(code), ffi::PyDict_New()]).is_null() {
                ffi::PyErr_Print();
                panic!("the Python code raised (traceback above)");
            }
        }
    })
}
