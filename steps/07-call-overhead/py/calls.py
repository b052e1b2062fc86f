"""The paths from Python to `sum(2, 40)` that chapter 7 measures, and the loop that calls them.

overhead.py measures with these; it also runs this file, as a small and quickly started child
process, under valgrind and strace:

    python3 calls.py callgrind DIR N1 N2 NAME[@A,B]...  loops of sum(2, 40) (or sum(A, B))
    python3 calls.py loop DIR NAME N                    one path, called N times (strace)
"""

import importlib.machinery
import importlib.util
import itertools
import operator
import os
import sys


class Missing(Exception):
    """A path that cannot be measured on this machine; the message says why."""


# ANCHOR: paths
def py_sum(a, b):
    return a + b


def load_module(folder, name):
    """The `sum` of the extension module `name`, loaded from `folder/name.abi3.so`."""
    path = os.path.join(folder, f"{name}.abi3.so")
    if not os.path.exists(path):
        raise Missing(f"{name}.abi3.so not built")
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module.sum


def load_ctypes(folder):
    import ctypes

    lib = ctypes.CDLL(os.path.join(folder, "libsum.so"))
    lib.Sum.argtypes = (ctypes.c_int64, ctypes.c_int64)
    lib.Sum.restype = ctypes.c_int64
    return lib.Sum


def load_cffi(folder):
    try:
        import cffi
    except ImportError:
        raise Missing("cffi not installed") from None
    ffi = cffi.FFI()
    ffi.cdef("int64_t Sum(int64_t a, int64_t b);")
    return ffi.dlopen(os.path.join(folder, "libsum.so")).Sum
# ANCHOR_END: paths


def load_helper(folder):
    # A later chapter's helper crate fills this row in: stage its module as helper_sum.abi3.so
    # (a `sum` written with the helper) in steps/07-call-overhead/commands.toml, and add
    # "helper_sum" to MODULES in tests/test_ch07_modules.py, whose contract it must pass.
    try:
        return load_module(folder, "helper_sum")
    except Missing:
        raise Missing("not built yet") from None


def load_go(folder):
    try:
        return load_module(folder, "go_sum")
    except Missing:
        toolchain = os.path.join(folder, "go-toolchain.txt")
        if os.path.exists(toolchain) and open(toolchain).read().startswith("no Go"):
            raise Missing("no Go toolchain") from None
        raise


# (name, what it is, loader, built on every machine the book builds on)
PATHS = [
    ("py-def", "a Python def", lambda d: py_sum, True),
    ("operator.add", "a C builtin doing the same job", lambda d: operator.add, True),
    ("ctypes", "chapter 1's Sum through ctypes", load_ctypes, True),
    ("cffi", "chapter 1's Sum through cffi (ABI mode)", load_cffi, False),
    ("c-varargs", "C, METH_VARARGS + PyArg_ParseTuple (chapter 2)",
     lambda d: load_module(d, "foo"), True),
    ("c-fastcall", "C, METH_FASTCALL", lambda d: load_module(d, "c_fastcall"), True),
    ("rust-varargs", "Rust, METH_VARARGS + PyArg_ParseTuple",
     lambda d: load_module(d, "rust_varargs"), True),
    ("rust-fastcall", "Rust, METH_FASTCALL, converted by hand",
     lambda d: load_module(d, "rust_fastcall"), True),
    ("helper", "Rust, with the helper crate", load_helper, False),
    ("pyo3", "PyO3 #[pyfunction]", lambda d: load_module(d, "pyo3_sum"), True),
    ("go", "Go through cgo, METH_VARARGS", load_go, False),
]


def load(folder, names=None):
    """[(name, what, sum or None, why it is missing)], each sum checked to return 42 for (2, 40)."""
    out = []
    for name, what, loader, _ in PATHS:
        if names is not None and name not in names:
            continue
        try:
            fn, missing = loader(folder), None
        except Missing as e:
            fn, missing = None, str(e)
        if fn is not None:
            result = fn(2, 40)
            if result != 42 or type(result) is not int:
                sys.exit(f"{name}: sum(2, 40) returned {result!r}, not 42: not measuring it")
        out.append((name, what, fn, missing))
    return out


# ANCHOR: loop
# One loop function per path, compiled afresh for each, so that each call site is specialised by
# the interpreter for its own callee only. `f` and the loop are local names: no dictionary lookups.
CALL = """
def loop(n, f, repeat=repeat):
    for _ in repeat(None, n):
        f(2, 40)
"""
EMPTY = CALL.replace("f(2, 40)", "pass")  # the baseline: the loop alone


def make_loop(source, args=(2, 40)):
    source = source.replace("f(2, 40)", "f({}, {})".format(*args))
    namespace = {"repeat": itertools.repeat}
    exec(compile(source, "<loop>", "exec"), namespace)
    return namespace["loop"]
# ANCHOR_END: loop


# ANCHOR: marks
# Run under callgrind --dump-before=getppid: callgrind writes out its counters, and zeroes them,
# each time the C function getppid is entered. So dump 3k+2 holds target k's loop of N1 calls, and
# dump 3k+3 its loop of N2 calls (target 0 is the empty loop).
def callgrind_child(folder, n1, n2, specs):
    fns = {name: fn for name, _, fn, _ in load(folder, [parse(s)[0] for s in specs]) if fn}
    targets = [("<empty>", make_loop(EMPTY), None)]
    targets += [(s, make_loop(CALL, parse(s)[1]), fns[parse(s)[0]])
                for s in specs if parse(s)[0] in fns]
    for _, loop, fn in targets:
        loop(2000, fn)  # warm up: the interpreter specialises the call (dumped with start-up)
        os.getppid()
        loop(n1, fn)
        os.getppid()
        loop(n2, fn)
        os.getppid()
    print(" ".join(spec for spec, _, _ in targets))
# ANCHOR_END: marks


def parse(spec):
    """"NAME" calls sum(2, 40); "NAME@A,B" calls sum(A, B)."""
    name, _, args = spec.partition("@")
    return name, tuple(int(x) for x in args.split(",")) if args else (2, 40)


def loop_child(folder, name, n):
    ((_, _, fn, missing),) = load(folder, [name])
    if fn is None:
        sys.exit(f"{name}: {missing}")
    loop = make_loop(CALL)
    loop(100, fn)  # enough for the interpreter to specialise the call
    loop(n, fn)


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["callgrind", folder, n1, n2, *specs]:
            callgrind_child(folder, int(n1), int(n2), specs)
        case ["loop", folder, name, n]:
            loop_child(folder, name, int(n))
        case _:
            sys.exit(__doc__)
