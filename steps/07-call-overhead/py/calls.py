# ANCHOR: all
"""The paths from Python to `sum(2, 40)` that chapter 7 measures, and the loop that calls them.
(Two control rows call a one-argument function instead, `twice(21)`: see ARGS.)

overhead.py measures with these; it also runs this file, as a small and quickly started child
process, under valgrind and strace:

    python3 calls.py callgrind DIR N1 N2 NAME[@A,B]...  loops of sum(2, 40) (or of sum(A, B))
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


def load_module(folder, name, function="sum"):
    """The `function` of the extension module `name`, loaded from `folder/name.abi3.so`."""
    path = os.path.join(folder, f"{name}.abi3.so")
    if not os.path.exists(path):
        raise Missing(f"{name}.abi3.so not built")
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return getattr(module, function)


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
    # Chapter 8's helper crate: helper_sum.abi3.so, a `sum` written with it
    # (steps/08-helper/helper-sum). Chapter 7 comes before it, and stages no helper_sum: its table
    # says "not built yet". Chapter 8 stages it, beside rust_fastcall, and measures the two.
    try:
        return load_module(folder, "helper_sum")
    except Missing:
        raise Missing("not built yet") from None


def go_version(folder):
    """The Go that built go_sum.abi3.so ("go1.27.3"), from `go version` at build time."""
    with open(os.path.join(folder, "go-toolchain.txt")) as f:
        return f.read().split()[2]


# (name, what it is, loader, built on every machine the book builds on)
PATHS = [
    ("py-def", "a Python def", lambda d: py_sum, True),
    ("operator.add", "a C builtin doing the same job", lambda d: operator.add, True),
    ("ctypes", "chapter 1's Sum through ctypes", load_ctypes, True),
    ("cffi", "chapter 1's Sum through cffi (ABI mode)", load_cffi, True),
    ("c-varargs", "C, METH_VARARGS + PyArg_ParseTuple (chapter 2)",
     lambda d: load_module(d, "foo"), True),
    ("c-varargs-manual", "C, METH_VARARGS, the tuple unpacked by hand",
     lambda d: load_module(d, "c_varargs_manual"), True),
    ("c-fastcall", "C, METH_FASTCALL", lambda d: load_module(d, "c_fastcall"), True),
    ("rust-varargs", "Rust, METH_VARARGS + PyArg_ParseTuple",
     lambda d: load_module(d, "rust_varargs"), True),
    ("rust-fastcall", "Rust, METH_FASTCALL, converted by hand",
     lambda d: load_module(d, "rust_fastcall"), True),
    ("helper", "Rust, with chapter 8's helper crate", load_helper, True),
    ("pyo3", "PyO3 #[pyfunction]", lambda d: load_module(d, "pyo3_sum"), True),
    ("go", "Go through cgo, METH_VARARGS", lambda d: load_module(d, "go_sum"), True),
    # A control pair with one argument: the same function, twice(21), under the two calling
    # conventions that suit a single argument.
    ("c-fastcall-1", "C, METH_FASTCALL, one argument: twice(21)",
     lambda d: load_module(d, "c_one_arg", "twice_fastcall"), True),
    ("c-o", "C, METH_O, one argument: twice(21)",
     lambda d: load_module(d, "c_one_arg", "twice_o"), True),
]
# The arguments each path is called with (each returns 42 for them); (2, 40) unless listed.
ARGS = {"c-fastcall-1": (21,), "c-o": (21,)}


def args_of(name):
    return ARGS.get(name, (2, 40))


def load(folder, names=None):
    """[(name, what, function or None, why it is missing)], each function checked to return 42
    for its arguments (args_of)."""
    out = []
    for name, what, loader, _ in PATHS:
        if names is not None and name not in names:
            continue
        try:
            fn, missing = loader(folder), None
        except Missing as e:
            fn, missing = None, str(e)
        if fn is not None:
            result = fn(*args_of(name))
            if result != 42 or type(result) is not int:
                sys.exit(f"{name}: {call_text(fn, args_of(name))} returned {result!r}, not 42: "
                         "not measuring it")
            if name == "go":
                what = f"{what} ({go_version(folder)})"
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
    source = source.replace("f(2, 40)", f"f({', '.join(map(str, args))})")
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
    """"NAME" calls the path with its arguments (args_of: sum(2, 40) for most); "NAME@A,B" with
    A and B."""
    name, _, args = spec.partition("@")
    return name, tuple(int(x) for x in args.split(",")) if args else args_of(name)


def call_text(fn, args):
    """How a call reads in Python: "sum(2, 40)", "twice_o(21)"."""
    return f"{getattr(fn, '__name__', 'sum')}({', '.join(map(str, args))})"


def loop_child(folder, name, n):
    ((_, _, fn, missing),) = load(folder, [name])
    if fn is None:
        sys.exit(f"{name}: {missing}")
    loop = make_loop(CALL, args_of(name))
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
# ANCHOR_END: all
