"""What chapter 11's `hist` promises, checked in a child interpreter (tests/test_ch11_hist.py runs
it under every CPython found, debug builds included). Standard library only: no numpy here.

    python3 hist_contract.py MODULE [leaks]

MODULE is hist.abi3.so, or a .py file that wraps it (the tests' faults). Exits 0 when every
promise holds, and prints `ok <n> checks`; otherwise an AssertionError names the broken one.
Under CPython 3.10 the promise is a clean ImportError that names 3.11. With `leaks` (a debug
build only), it runs only the reference-leak part, for that part's own test."""

import array
import collections
import ctypes
import gc
import importlib.util
import mmap
import random
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from load_extension import load  # noqa: E402

BIG = 3 << 19  # 1.5 MiB, above hist's 1 MiB: counted by worker threads


def module_at(path):
    if path.endswith(".py"):
        spec = importlib.util.spec_from_file_location(Path(path).stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load(path, "hist")


def reference(data) -> list[int]:
    counter = collections.Counter(bytes(data))  # C code of the standard library, not hist's
    return [counter[value] for value in range(256)]


def xor(counts: list[int]) -> int:
    """The XOR of all the bytes, from their counts: of the values that occur an odd number of
    times."""
    x = 0
    for value, n in enumerate(counts):
        if n % 2:
            x ^= value
    return x


def raises(kind, call, needle=""):
    try:
        call()
    except kind as e:
        assert needle in str(e), f"{kind.__name__} without {needle!r}: {e}"
        return
    except BaseException as e:
        raise AssertionError(f"expected {kind.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {kind.__name__}, nothing was raised")


def calls_with_no_arguments(function):
    """Calls `function` the ways C code calls with no arguments, where CPython passes NULL for
    the array of arguments (PyObject_CallNoArgs, as defaultdict does for a missing key), each
    with the exception it raised (None if it returned)."""
    api = ctypes.pythonapi
    calls = [lambda: collections.defaultdict(function)[0]]
    api.PyObject_CallNoArgs.argtypes = [ctypes.py_object]
    api.PyObject_CallNoArgs.restype = ctypes.py_object
    calls.append(lambda: api.PyObject_CallNoArgs(function))
    api.PyObject_VectorcallDict.argtypes = [ctypes.py_object, ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.py_object]
    api.PyObject_VectorcallDict.restype = ctypes.py_object
    calls.append(lambda: api.PyObject_VectorcallDict(function, None, 0, {}))
    if hasattr(api, "PyObject_Vectorcall"):  # a function of the stable ABI from 3.12
        api.PyObject_Vectorcall.argtypes = [ctypes.py_object, ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.py_object]
        api.PyObject_Vectorcall.restype = ctypes.py_object
        calls.append(lambda: api.PyObject_Vectorcall(function, None, 0, ()))  # no names, a tuple
    return calls


def refcount_growth(work, warmups=3, rounds=3) -> list[int]:
    """How much sys.gettotalrefcount() grew over each measured round of `work` (debug builds)."""
    growth = []
    for k in range(warmups + rounds):
        gc.collect()
        before = sys.gettotalrefcount()
        work()
        gc.collect()
        after = sys.gettotalrefcount()
        if k >= warmups:
            growth.append(after - before)
    return growth


def leaks(hist, data) -> None:
    """Under a debug build: regrtest -R's rule over the threads' path, which tests/test_refleaks.py
    (small buffers, counted on the calling thread) does not take."""
    def threaded_calls():
        for _ in range(20):
            hist.histogram(data, threads=2)
            hist.parity(data, threads=2)
            raises(BufferError, lambda: hist.histogram(memoryview(data)[::2], threads=2))
    growth = refcount_growth(threaded_calls)
    assert not all(g > 0 for g in growth), f"references grew in every round: {growth}"


def main(path: str, only: str | None = None) -> None:
    if sys.version_info < (3, 11):
        raises(ImportError, lambda: module_at(path), "needs CPython 3.11")
        print("ok: refused CPython", sys.version.split()[0])
        return
    hist = module_at(path)
    checks = 0
    rng = random.Random(20)
    data = rng.randbytes(BIG + 1234)
    if only == "leaks":  # the leak check's own test: only the part under test
        leaks(hist, data)
        print("ok 1 check")
        return

    # The right answer, for every length, alignment and number of threads.
    for length in [0, 1, 7, 8, 9, 100, 4095, (1 << 20) - 1, 1 << 20, BIG + 5]:
        for start in [0, 1, 3, 7]:
            piece = memoryview(data)[start:start + length]
            expected = reference(piece)
            parity = xor(expected)
            for threads in [1, 2, 3, 8]:
                got = hist.histogram(piece, threads=threads)
                assert got == expected, f"histogram of {length} bytes at +{start}, {threads} threads"
                assert hist.parity(piece, threads) == parity, f"parity of {length} at +{start}"
                checks += 2
    counts = hist.histogram(data)
    assert type(counts) is list and len(counts) == 256 and all(type(n) is int for n in counts)

    # Every kind of object with a contiguous buffer of bytes.
    small = bytes(range(256)) * 3
    mapped = mmap.mmap(-1, len(small))
    mapped.write(small)
    chars = (ctypes.c_char * len(small)).from_buffer_copy(small)  # format '<c'
    ubytes = (ctypes.c_ubyte * len(small)).from_buffer_copy(small)  # format '<B'
    for obj in [small, bytearray(small), memoryview(small), array.array("B", small), mapped,
                chars, ubytes, memoryview(bytearray(small)).cast("B", (3, 256))]:
        assert hist.histogram(obj) == [3] * 256, type(obj)
        checks += 1
    try:
        mapped.close()  # refused while an export of it is held
    except BufferError as e:
        raise AssertionError(f"an export outlived its call: {e}") from e

    # What it refuses, each with a Python exception (and the refusals leave the objects usable).
    doubles = array.array("d", [1.5, 2.5])
    raises(TypeError, lambda: hist.histogram(doubles), "format 'd'")
    doubles.append(3.5)  # the failed call released its export: an array refuses to grow otherwise
    raises(TypeError, lambda: hist.histogram(array.array("b", b"ab")), "format 'b'")
    raises(TypeError, lambda: hist.histogram(array.array("H", [1])), "format 'H'")
    raises(BufferError, lambda: hist.histogram(memoryview(small)[::2]))
    raises(TypeError, lambda: hist.histogram("text"))
    raises(TypeError, lambda: hist.histogram(12345))
    raises(TypeError, lambda: hist.histogram(None))
    raises(TypeError, lambda: hist.histogram())
    raises(TypeError, lambda: hist.histogram(small, 1, 2))
    raises(TypeError, lambda: hist.histogram(small, thread=2), "'thread'")
    raises(TypeError, lambda: hist.histogram(small, 2, threads=2), "threads")
    raises(TypeError, lambda: hist.histogram(small, **{"\udc80": 1}))
    raises(TypeError, lambda: hist.histogram(data=small))
    for function in (hist.histogram, hist.parity):
        for call in calls_with_no_arguments(function):
            raises(TypeError, call, "positional")
            checks += 1
    for bad in [0, -1, 65, 2**63]:
        raises((ValueError, OverflowError), lambda: hist.histogram(data, threads=bad))
    raises(OverflowError, lambda: hist.histogram(data, threads=2**64))
    raises(TypeError, lambda: hist.histogram(data, threads=1.5))
    raises(TypeError, lambda: hist.histogram(data, threads="2"))
    assert hist.histogram(data, threads=True) == counts  # bool is an int: 1 thread
    assert hist.histogram(data, threads=64) == counts
    checks += 21

    # The export lasts exactly as long as the call: a bytearray refuses to resize during one and
    # resizes after it, whatever the call's outcome.
    buf = bytearray(rng.randbytes(BIG))
    assert hist.histogram(buf, threads=2) == reference(buf)
    buf.append(1)
    buf.pop()
    refused = threading.Event()

    def resize_until_refused():
        while not refused.is_set():
            try:
                buf.append(1)
                buf.pop()
            except BufferError:
                refused.set()

    resizer = threading.Thread(target=resize_until_refused)
    resizer.start()
    for _ in range(2000):
        if refused.is_set():
            break
        assert sum(hist.histogram(buf, threads=2)) == len(buf)
    refused.set()
    resizer.join()
    buf.append(1)
    checks += 1

    # Writes by another thread while the workers count: no crash, every byte counted once.
    target = bytearray(BIG)
    stop = threading.Event()

    def scribble():
        while not stop.is_set():
            for i in range(0, len(target), 4099):
                target[i] = (target[i] + 1) & 0xFF

    writer = threading.Thread(target=scribble)
    writer.start()
    for _ in range(20):
        assert sum(hist.histogram(target, threads=2)) == len(target)
    stop.set()
    writer.join()
    checks += 1

    # Several Python threads calling at once, on the same bytes.
    results = []
    callers = [threading.Thread(target=lambda: results.append(hist.histogram(data, threads=2)))
               for _ in range(4)]
    for c in callers:
        c.start()
    for c in callers:
        c.join()
    assert results == [counts] * 4
    checks += 1

    # No reference kept to the data, nor to anything else.
    gc.collect()
    before = sys.getrefcount(data)
    for _ in range(100):
        hist.histogram(data)
        hist.parity(small)
        raises(TypeError, lambda: hist.histogram(doubles))
    gc.collect()
    assert sys.getrefcount(data) == before, "histogram keeps a reference to its argument"
    checks += 1
    if hasattr(sys, "gettotalrefcount"):
        leaks(hist, data)
        checks += 1
    print(f"ok {checks} checks")


if __name__ == "__main__":
    main(sys.argv[1], *sys.argv[2:3])
