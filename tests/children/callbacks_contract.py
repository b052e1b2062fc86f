"""What chapter 12's module `callbacks` promises (book/ch12-callbacks.md), checked, hostile
callbacks included: each raises a Python exception (the callback's own, the same object), never
a crash.

    python callbacks_contract.py MODULE [CHECK...]

MODULE is callbacks.abi3.so, or (for the tests that break it on purpose) a .py file that wraps
it. CHECKs are names from CHECKS (all by default). Exit status 0: every check passed; a failed
check exits 1 with an AssertionError; a crash shows as death by a signal. Standard library only:
it runs under every CPython >= 3.10 and the debug builds.
"""

import gc
import importlib.util
import signal
import sys
import threading
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from load_extension import load  # noqa: E402


def module_at(path):
    if path.endswith(".py"):
        spec = importlib.util.spec_from_file_location(Path(path).stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load(path)


def raises(exc_type, fn, *args):
    """fn(*args) must raise exc_type; returns the exception."""
    try:
        result = fn(*args)
    except exc_type as e:
        return e
    except BaseException as e:  # noqa: BLE001 - any other is a failure worth naming
        raise AssertionError(f"{fn} raised {type(e).__name__}: {e}, expected "
                             f"{exc_type.__name__}") from e
    raise AssertionError(f"{fn}{args!r} returned {result!r}, expected {exc_type.__name__}")


def frames(e):
    return [f.name for f in traceback.extract_tb(e.__traceback__)]


def check_calls(m):
    assert m.call_n(lambda i: i * i, 4) == 14
    assert m.call_n(lambda i: 1, 0) == 0
    # the callback's exception is the caller's, the same object, with the callback's frame
    raised = []

    def picky(i):
        if i == 2:
            raised.append(ValueError("no 2"))
            raise raised[-1]
        return i
    e = raises(ValueError, m.call_n, picky, 5)
    assert e is raised[0], "call_n raised another exception object than the callback's"
    assert "picky" in frames(e), f"the callback's frame is missing: {frames(e)}"
    # KeyboardInterrupt, raised and from a real SIGINT, stops the loop at once
    calls = []

    def interrupted(i):
        calls.append(i)
        raise KeyboardInterrupt
    raises(KeyboardInterrupt, m.call_n, interrupted, 10)
    assert calls == [0], f"call_n went on after KeyboardInterrupt: {calls}"
    calls.clear()

    def signalled(i):
        calls.append(i)
        if i == 2:
            signal.raise_signal(signal.SIGINT)
        return 0
    raises(KeyboardInterrupt, m.call_n, signalled, 1000)
    assert len(calls) < 10, f"call_n made {len(calls)} calls after SIGINT"
    # re-entrant, keeps its argument, results that are not ints, arguments that are wrong
    assert m.call_n(lambda i: m.call_n(abs, i), 4) == 4
    kept = []
    assert m.call_n(lambda i: kept.append(i) or 1, 3) == 3 and kept == [0, 1, 2]
    raises(TypeError, m.call_n, lambda i: "x", 1)
    raises(TypeError, m.call_n, lambda i: None, 1)
    raises(OverflowError, m.call_n, lambda i: 2**64, 1)
    raises(OverflowError, m.call_n, lambda i: 2**62, 3)  # the sum overflows 64 bits
    raises(TypeError, m.call_n, 42, 1)
    raises(ValueError, m.call_n, abs, -1)
    raises(TypeError, m.call_n, abs)
    # a bound method: the vectorcall's spare slot in front of the arguments
    assert m.call_n([5, 6, 7].__getitem__, 3) == 18
    # a callback that calls back with the wrong number of arguments
    raises(TypeError, m.call_n, lambda: 0, 1)


def check_iterate(m):
    assert m.total([1, 2, 3]) == 6 and m.total(x for x in range(5)) == 10 and m.total(()) == 0
    assert m.apis()[1] == ("PyIter_NextItem" if sys.version_info >= (3, 14) else "PyIter_Next")
    assert m.apis()[0] == ("PyObject_Vectorcall" if sys.version_info >= (3, 12)
                           else "PyObject_CallFunctionObjArgs")
    raised = LookupError("gave up")

    def broken():
        yield 1
        raise raised
    assert raises(LookupError, m.total, broken()) is raised
    raises(TypeError, m.total, 42)
    raises(TypeError, m.total, ["one"])

    class StopsWithValue:
        def __iter__(self):
            return self

        def __next__(self):
            raise StopIteration(7)
    assert m.total(StopsWithValue()) == 0

    class NotAnIterator:
        def __iter__(self):
            return 42
    raises(TypeError, m.total, NotAnIterator())
    # the Ring's iterator
    Ring = m.Ring
    r = Ring(3)
    for n in range(5):
        r.push(n)
    assert list(r) == [2, 3, 4] and m.total(r) == 9 and len(r) == 3
    it = iter(r)
    assert iter(it) is it and next(it) == 2
    before = m.live()
    del r
    assert m.live() == before, "the iterator let its ring go"
    assert list(it) == [3, 4] and list(it) == []
    gc.collect()
    assert m.live() == before - 1, "the exhausted iterator kept its ring"
    # changed during iteration: push, clear, push from an item's __index__ during total()
    r = Ring(4)
    r.push(1)
    r.push(2)
    for change in (lambda: r.push(3), r.clear):
        it = iter(r)
        next(it)
        change()
        raises(RuntimeError, next, it)
        r.push(1)
        r.push(2)
    # a full ring that wrapped keeps its items in two runs of its buffer: a change seen where
    # the iterator moves from the first run to the second, and none on a walk across it
    r = Ring(3)
    for n in range(5):
        r.push(n)
    it = iter(r)
    assert [next(it), next(it)] == [2, 3]
    r.push(5)
    raises(RuntimeError, next, it)
    assert [list(r), list(Ring(1))] == [[3, 4, 5], []]

    class Meddler:
        def __index__(self):
            r.push(5)
            return 1
    r = Ring(4)
    r.push(Meddler())
    r.push(2)
    raises(RuntimeError, m.total, r)
    raises(TypeError, type(iter(r)))
    # a ring that holds its own iterator, collected
    r = it = None
    gc.collect()
    before = m.live()
    r = Ring(2)
    r.push(iter(r))
    del r
    gc.collect()
    assert m.live() == before, "a cycle through the iterator was not collected"


def check_threads(m):
    local = threading.local()
    seen = []

    def remember(i):
        seen.append(getattr(local, "last", None))
        local.last = i
    waits = m.from_thread(remember, 4, False)
    assert len(waits) == 4 and all(type(w) is int and w >= 0 for w in waits), waits
    assert seen == [None] * 4, f"a thread state outlived its call: {seen}"
    seen.clear()
    m.from_thread(remember, 4, True)
    assert seen == [None, 0, 1, 2], f"keep=True did not keep the thread state: {seen}"
    assert getattr(local, "last", None) is None  # the caller's thread has its own
    raised = []

    def fails(i):
        if i == 1:
            raised.append(ValueError("call 1"))
            raise raised[-1]
    for keep in (False, True):
        raised.clear()
        e = raises(ValueError, m.from_thread, fails, 5, keep)
        assert e is raised[0] and "fails" in frames(e), frames(e)
    raises(KeyboardInterrupt, m.from_thread, lambda i: (_ for _ in ()).throw(KeyboardInterrupt),
           3, False)
    # re-entrant from the Rust thread: a call into the module, and another Rust thread
    out = []
    m.from_thread(lambda i: out.append(m.call_n(abs, 3)), 2, False)
    m.from_thread(lambda i: out.append(len(m.from_thread(abs, 2, False))), 2, True)
    assert out == [3, 3, 2, 2], out
    raises(TypeError, m.from_thread, 1, 1, False)
    raises(ValueError, m.from_thread, abs, -1, False)
    raises(ValueError, m.from_thread, abs, 10**7, False)
    # background workers: a raising callback is reported, not lost, and the worker goes on
    unraisable = []
    old, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        count = []

        def tick():
            count.append(1)
            if len(count) == 2:
                raise ValueError("tick 2")
        m.start_worker(tick, 5)
        assert m.stop_workers() == 1
    finally:
        sys.unraisablehook = old
    assert len(count) <= 5 and [type(u.exc_value) for u in unraisable] == (
        [ValueError] if len(count) >= 2 else []), (count, unraisable)
    m.start_worker(lambda: None, 1_000_000)
    assert m.stop_workers() == 1 and m.stop_workers() == 0
    # at most 64 workers at once: the 65th is refused until they are stopped
    release = threading.Event()
    try:
        for _ in range(64):
            m.start_worker(release.wait, 1)
        raises(RuntimeError, m.start_worker, release.wait, 1)
    finally:
        release.set()  # else the workers wait for ever, and so does the exit that joins them
    assert m.stop_workers() == 64
    m.start_worker(lambda: None, 1)
    assert m.stop_workers() <= 1


CHECKS = {"calls": check_calls, "iterate": check_iterate, "threads": check_threads}


def main():
    m = module_at(sys.argv[1])
    for name in sys.argv[2:] or CHECKS:
        CHECKS[name](m)
        print(f"{name}: ok", flush=True)


if __name__ == "__main__":
    main()
