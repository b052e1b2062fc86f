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
import mmap
import random
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from load_extension import module_at  # noqa: E402

BIG = 3 << 19  # 1.5 MiB, above hist's 1 MiB: counted by worker threads


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


class Py_buffer(ctypes.Structure):
    """CPython's Py_buffer (Include/pybuffer.h), for the exporter below."""
    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p), ("len", ctypes.c_ssize_t),
                ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                ("format", ctypes.c_void_p), ("shape", ctypes.c_void_p),
                ("strides", ctypes.c_void_p), ("suboffsets", ctypes.c_void_p),
                ("internal", ctypes.c_void_p)]


class PyType_Slot(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_int), ("pfunc", ctypes.c_void_p)]


class PyType_Spec(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("basicsize", ctypes.c_int), ("itemsize", ctypes.c_int),
                ("flags", ctypes.c_uint), ("slots", ctypes.POINTER(PyType_Slot))]


GETBUFFER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(Py_buffer),
                             ctypes.c_int)
_VIEWS = {}  # id of a LyingExporter -> what its getbuffer hands out, kept alive with it
_KEEP = []  # the type's name, slots and callback: CPython keeps pointers to them


def _getbuffer(exporter, view, flags):
    """bf_getbuffer of LyingExporter: fills in the view it was made with, whatever `flags` say."""
    memory, offset, shape, strides, suboffsets, fmt = _VIEWS[exporter]
    v = view.contents
    v.buf, v.len, v.itemsize = ctypes.addressof(memory) + offset, 1, 1
    for n in shape:
        v.len *= n
    v.readonly, v.ndim = 1, len(shape)
    v.format, v.shape = ctypes.addressof(fmt), ctypes.addressof(shape)
    v.strides = ctypes.addressof(strides) if strides is not None else None
    v.suboffsets = ctypes.addressof(suboffsets) if suboffsets is not None else None
    v.internal = None
    ctypes.pythonapi.Py_IncRef(ctypes.c_void_p(exporter))
    v.obj = exporter
    return 0


def lying_exporter_type():
    """A type whose buffer (bf_getbuffer, written here in the C API's terms with ctypes) ignores
    the flags it is asked with: as a careless exporter in C may, it hands out strides or
    suboffsets to a caller that asked for one contiguous block."""
    name = ctypes.create_string_buffer(b"hist_contract.LyingExporter")
    callback = GETBUFFER(_getbuffer)
    bf_getbuffer = 1  # the slot's number, Include/typeslots.h
    slots = (PyType_Slot * 2)(PyType_Slot(bf_getbuffer, ctypes.cast(callback, ctypes.c_void_p)),
                              PyType_Slot(0, None))
    spec = PyType_Spec(ctypes.cast(name, ctypes.c_char_p), object.__basicsize__, 0, 0, slots)
    _KEEP.extend([name, callback, slots, spec])
    ctypes.pythonapi.PyType_FromSpec.argtypes = [ctypes.POINTER(PyType_Spec)]
    ctypes.pythonapi.PyType_FromSpec.restype = ctypes.py_object
    return ctypes.pythonapi.PyType_FromSpec(ctypes.byref(spec))


def lying_exporter(kind, memory, shape, strides=None, suboffsets=None, offset=0):
    """An exporter of `memory` (a ctypes array of bytes) with this shape, strides and suboffsets,
    its first item `offset` bytes in."""
    obj = kind()
    array = lambda values: None if values is None else (ctypes.c_ssize_t * len(values))(*values)
    _VIEWS[id(obj)] = (memory, offset, array(shape), array(strides), array(suboffsets),
                       ctypes.create_string_buffer(b"B"))
    return obj


def workers_running() -> bool:
    """Whether a thread of hist's (named hist-0, hist-1, ...) is running."""
    for task in Path("/proc/self/task").iterdir():
        try:
            if (task / "comm").read_text().startswith("hist-"):
                return True
        except OSError:
            pass  # it ended meanwhile
    return False


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
        raises(ImportError, lambda: module_at(path, "hist"), "needs CPython 3.11")
        print("ok: refused CPython", sys.version.split()[0])
        return
    hist = module_at(path, "hist")
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

    # An exporter that ignores the flags: strides or suboffsets that nobody asked for are
    # refused, strides that describe one block all the same are not.
    Lying = lying_exporter_type()
    memory = (ctypes.c_ubyte * 512).from_buffer_copy(bytes(range(256)) * 2)
    for shape, strides, suboffsets, offset in [
            ([256], [2], None, 0),  # every second byte
            ([2, 256], [1, 2], None, 0),  # a transposed block
            ([512], [-1], None, 511),  # backwards from the last byte: buf + len is past the end
            ([512], None, [0], 0)]:  # indirect: pointers to follow
        liar = lying_exporter(Lying, memory, shape, strides, suboffsets, offset)
        call = lambda: hist.histogram(liar)  # noqa: E731
        before = sys.getrefcount(liar)
        raises(BufferError, call, "one contiguous block")
        assert sys.getrefcount(liar) == before, "the refused view was not released"
        checks += 1
    verbose = lying_exporter(Lying, memory, [2, 256], [256, 1])  # C order, strides given
    assert hist.histogram(verbose) == [2] * 256
    assert hist.parity(lying_exporter(Lying, memory, [512], [1])) == 0
    checks += 2

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

    # Python code during the call: from 3.12 a garbage collection that is due runs in
    # PyErr_CheckSignals, which the calling thread runs every 10 ms, and with it finalisers (up
    # to 3.11 it ran at the allocation that made it due). One here calls hist again, nested.
    during = []

    class Finalised:
        def __del__(self):
            during.append((workers_running(), hist.histogram(small, threads=2)))

    zeros = mmap.mmap(-1, 256 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                      prot=mmap.PROT_READ)
    thresholds = gc.get_threshold()
    gc.disable()
    cycle = Finalised()
    cycle.itself = cycle
    del cycle  # garbage that only a collection finds
    gc.set_threshold(1)
    gc.enable()
    try:
        # The set is an allocation the collector counts, made after its last chance to run and
        # before the call (a call to a function would give it one when it returns).
        total = sum(hist.histogram(zeros, *{2}))
    finally:
        gc.set_threshold(*thresholds)
        zeros.close()
    assert total == 256 << 20
    ran_during_the_call = sys.version_info >= (3, 12)
    assert during == [(ran_during_the_call, [3] * 256)], during
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
