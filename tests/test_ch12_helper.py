"""Chapter 12's helper half (steps/12-callbacks/helper-callbacks, module helper_callbacks, and the
helper's Callable, Py::call, Obj and __iter__/__next__), under every CPython >= 3.10 on the machine,
the debug builds included: calls with arguments, a callback's exception carried back as the same
object (KeyboardInterrupt too), re-entrant and argument-keeping callbacks, an iterator that keeps its
ring and refuses a changed one, a callback that mutates the ring it is called from, cycles through
an iterator, and no reference leaked by any of it (the debug builds' sys.gettotalrefcount, on the
good paths and on every error path). Each run is a child process, so a crash is reported instead
of taking pytest down."""

import pytest

from support import ABI3_VERSIONS, DEBUG_VERSIONS, STAGE, crashreport, describe_exit, interpreter, missing

STAGED = STAGE / "12"


def run(version: str, code: str) -> str:
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    if not (STAGED / "helper_callbacks.abi3.so").exists():
        pytest.fail(f"{STAGED} is not staged: run `just build` first")
    proc = crashreport.run([python, "-X", "dev", "-c", code], cwd=STAGED, timeout=300)
    assert proc.returncode == 0, f"under CPython {version}: {describe_exit(proc)}"
    return proc.stdout


PRELUDE = """
import gc, sys
sys.path.insert(0, '.')
import helper_callbacks as h
from helper_callbacks import Ring, RingIter, apply, apply3

def raises(exc, f, *args, match=None, **kwargs):
    try:
        f(*args, **kwargs)
    except exc as e:
        assert match is None or str(e) == match, (str(e), match)
        return e
    raise AssertionError(f"{f} did not raise {exc.__name__}")

def ring(*items):
    r = Ring(max(len(items), 1))
    for item in items:
        r.push(item)
    return r
"""


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_calls(version):
    run(version, PRELUDE + """
assert apply(lambda: 12345) == 12345
assert apply(lambda x: [x], "arg") == ["arg"]
assert apply3(lambda a, b, n: (a, b, n), "a", "b", 2**62) == ("a", "b", 2**62)
assert apply(f=len, a="four") == 4
raises(TypeError, apply, 42, match="apply() argument 'f': must be callable, not int")
raises(TypeError, apply3, print, 1, 2, "n")
raises(OverflowError, apply3, print, 1, 2, 2**64)
# A callback that raises: the same object comes back, with the callback's frame in its traceback.
kept = []
def fails(x):
    e = KeyError(x)
    kept.append(e)
    raise e
e = raises(KeyError, apply, fails, "key")
assert e is kept[0] and e.args == ("key",)
tb = e.__traceback__
while tb.tb_next:
    tb = tb.tb_next
assert tb.tb_frame.f_code.co_name == "fails"
# Its cause and context stay with it.
def chained():
    try:
        1 / 0
    except ZeroDivisionError as z:
        raise ValueError("from") from z
e = raises(ValueError, apply, chained)
assert isinstance(e.__cause__, ZeroDivisionError)
# BaseExceptions that are not Exceptions pass through too.
def interrupt():
    raise KeyboardInterrupt
raises(KeyboardInterrupt, apply, interrupt)
raises(SystemExit, apply, sys.exit, 3)
# Re-entrant: a callback that calls the module, which calls back.
assert apply(lambda x: apply(lambda y: y * 2, x), 21) == 42
assert apply(lambda x: raises(KeyError, apply, fails, x) is kept[-1], 7)
# A callback that keeps its argument: the argument outlives the call.
keep = []
arg = object()
before = sys.getrefcount(arg)
apply(keep.append, arg)
assert keep[0] is arg and sys.getrefcount(arg) == before + 1
keep.clear()
assert sys.getrefcount(arg) == before
# A callable object, a bound method, a class.
class C:
    def __call__(self, x):
        return ("called", x)
assert apply(C(), 1) == ("called", 1) and apply(int, "12") == 12
# Nothing is left set after an error is returned and caught.
assert sys.exc_info() == (None, None, None)
""")


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_iterator(version):
    run(version, PRELUDE + """
r = ring("a", "b", "c")
assert list(r) == ["a", "b", "c"] and list(iter(r)) == ["a", "b", "c"]
it = iter(r)
assert type(it) is RingIter and iter(it) is it
assert next(it) == "a"
# The iterator keeps its ring: the name goes, the items stay.
del r
gc.collect()
assert list(it) == ["b", "c"] and list(it) == []
raises(StopIteration, next, it)
# A change during iteration raises, as dict's; an iterator made after it is fine.
r = ring("a", "b")
it = iter(r)
r.push("c")
raises(RuntimeError, next, it, match="Ring changed during iteration")
assert list(iter(r)) == ["b", "c"]
# RingIter cannot be made from Python.
raises(TypeError, RingIter)
raises(TypeError, RingIter.__next__, r)
# Cycles through an iterator are collected: a ring that holds its own iterator.
import weakref
class Item:
    pass
item = Item()
alive = weakref.ref(item)
r = ring(item, None)
it = iter(r)
r.push(it)
del r, it, item
gc.collect()
assert alive() is None, "the cycle ring -> iterator -> ring was not collected"
# each(): a callback per item, under a shared borrow.
r = ring(1000, 2000, 3000)
seen = []
assert r.each(seen.append) == 3 and seen == [1000, 2000, 3000]
raises(RuntimeError, r.each, r.push, match="Ring is already borrowed")
assert list(r) == [1000, 2000, 3000]
# Iterating (a shared borrow) inside each is fine.
assert r.each(lambda x: list(r)) == 3
raises(KeyError, r.each, lambda x: {}[x])
raises(TypeError, r.each, 5, match="each() argument 'f': must be callable, not int")
""")


# The debug builds count every reference: each function and each error path, run many times, must
# leave the total where it found it (a few references of warm-up caches aside: three warm-up
# rounds, then three measured rounds that must not all grow, regrtest's rule).
LEAKS = PRELUDE + """
def fails(x):
    raise KeyError(x)
def interrupt():
    raise KeyboardInterrupt
def body_ok():
    apply(lambda: None)
    apply(str, 12345)
    apply3(slice, "a", "b", 5000)
    r = ring("x", "y")
    list(r)
    it = iter(r)
    next(it)
    r.each(len)
def body_errors():
    r = ring("x", "y")
    for f, args, exc in [(apply, (fails, "k"), KeyError), (apply, (interrupt,), KeyboardInterrupt),
                         (apply, (42,), TypeError), (apply3, (print, 1, 2, 2**70), OverflowError),
                         (r.each, (r.push,), RuntimeError), (r.each, (fails,), KeyError),
                         (r.each, (None,), TypeError), (RingIter, (), TypeError)]:
        try:
            f(*args)
        except exc:
            pass
    it = iter(r)
    r.push("z")
    try:
        next(it)
    except RuntimeError:
        pass
def body_empty():  # what the harness itself leaves (its list of results: 2 references a round)
    pass
LEAKED = []
def body_leaky():  # the check's own check: a reference kept on every call
    apply(LEAKED.append, object())
def rounds(body):
    grew = []
    for n in range(6):
        gc.collect()
        before = sys.gettotalrefcount()
        for _ in range(200):
            body()
        gc.collect()
        grew.append(sys.gettotalrefcount() - before)
    return grew[3:]
for name in NAMES:
    grew = rounds(globals()[name])
    print(name, grew)
"""


@pytest.mark.parametrize("version", DEBUG_VERSIONS)
def test_no_reference_leaks(version):
    names = ["body_empty", "body_ok", "body_errors", "body_leaky"]
    out = run(f"{version}-dbg", LEAKS.replace("NAMES", repr(names)))
    grew = {line.split(" ", 1)[0]: eval(line.split(" ", 1)[1]) for line in out.splitlines()}
    base = max(grew["body_empty"])
    for name in ("body_ok", "body_errors"):
        assert not all(g > base for g in grew[name]), \
            f"{name} leaks under {version}-dbg: {grew[name]} (the harness alone: {grew['body_empty']})"
    # The check sees a leak of one reference per call (200 a round).
    assert all(g >= base + 200 for g in grew["body_leaky"]), grew["body_leaky"]


# Chapter 11's hist with progress=callable (steps/12-callbacks/hist-progress): the callback runs on
# the calling thread, its reports grow and end with the total, and a raising callback or Ctrl-C
# stops the workers and releases the buffer. "Stops the workers" is read from the process's CPU
# time: an interrupted count (stopped at the first visit, 10 ms in, on one or two threads) costs
# less than half of a whole one, measured in the same run; the broken variant costs all of one. The broken
# variant (broken/hist_progress.abi3.so) forgets to tell its workers, and must fail that check.
PROGRESS = """
import os, sys, threading, time, _thread
sys.path.insert(0, WHERE)
from hist_progress import histogram
data = bytearray(os.urandom(1 << 20)) * 400  # 400 MiB: about 0.1 s of CPU, 10 POLLs or more
calls = []
def progress(done, total):
    calls.append((done, total, threading.get_ident()))
t = time.process_time()
counts = histogram(data, progress=progress)
whole = time.process_time() - t
assert sum(counts) == len(data) and calls[-1][:2] == (len(data), len(data)), calls[-1]
assert {who for *_, who in calls} == {threading.get_ident()}, "called from another thread"
assert all(a[0] < b[0] for a, b in zip(calls, calls[1:])), calls
assert histogram(b"abc", progress=progress)[97] == 1 and calls[-1][:2] == (3, 3)
assert histogram(data, progress=None) == counts
for bad in (42, "print"):
    try:
        histogram(data, progress=bad)
        raise AssertionError("accepted")
    except TypeError as e:
        assert "'progress' must be callable" in str(e), e
class Enough(Exception):
    pass
def enough(done, total):
    calls.append(done)
    raise Enough
def interrupt(done, total):
    calls.append(done)
    _thread.interrupt_main()
for callback, exc in ((enough, Enough), (interrupt, KeyboardInterrupt)):
    for threads in (1, 2):
        calls = []
        t = time.process_time()
        try:
            histogram(data, threads, progress=callback)
            raise AssertionError("no exception")
        except exc:
            pass
        used = time.process_time() - t
        data.extend(b"x")  # BufferError if the export were not released
        data[-1:] = b""
        assert len(calls) == 1, (callback.__name__, threads, calls)
        assert used < whole / 2, (f"{callback.__name__}, threads={threads}: the workers went on "
                                  f"({used:.3f} s of CPU, a whole count {whole:.3f} s)")
print("ok")
"""


@pytest.mark.parametrize("version", [v for v in ABI3_VERSIONS if v != "3.10"])
def test_progress(version):
    assert run(version, PROGRESS.replace("WHERE", "'.'")).strip().endswith("ok")


def test_progress_check_catches_workers_that_go_on():
    python = interpreter("3.11")
    if python is None:
        pytest.skip(missing("3.11"))
    proc = crashreport.run([python, "-c", PROGRESS.replace("WHERE", "'broken'")], cwd=STAGED,
                           timeout=300)
    assert proc.returncode != 0 and "the workers went on" in proc.stderr, describe_exit(proc)
