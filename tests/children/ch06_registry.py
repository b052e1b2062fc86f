"""What the reliability suite (tests/test_ch06_reliability.py) needs to know about each function.

The suite finds every extension module the book stages (target/book-work/stage/*/*.so that
export PyInit_<name>) and every function in each, by introspection. It then needs, for each
function, one set of valid arguments: the leak test calls the function a million times with them,
and the hostile-input test starts from them to build near-misses. A function that is found but
has no entry here fails the suite, so that no new function escapes it.

Keys are a function's name (`"sum"`: every module's `sum`) or `"module.function"` when two modules
have functions of the same name that take different arguments; the qualified key wins.

Use argument values that are not cached by the interpreter (ints above 1024: CPython 3.15 caches
-5 to 1024, earlier versions -5 to 256; strings that are not single characters), so that a leaked
reference to them shows in their refcount.
"""

import operator
from typing import Callable

# ANCHOR: registry
VALID_ARGS: dict[str, tuple] = {
    # foo (chapters 2, 3, 4 and 5)
    "sum": (2000, 40000),
    # errors (chapter 6)
    "divide": (7_000_000, 3000),
    "parse_setting": ("workers = 8",),
    "swap": (("left", 12345),),
    "encode": ("héllo wörld",),
    "shout": ("straße",),
    # foo (chapter 4). The thread-starting calls start threads that end at once (no ticks, no
    # callbacks), so that a million of them stay cheap.
    "tick": (0, 300),
    "every": (300, 0, int),
    "join": (),
    "stop": (),
    "threads": (),
    "gil": (),
    "count_primes": (1100,),
    "count_primes_nogil": (1100,),
    "last_call": (),
    "sleep": (0,),
}

# Staged extension modules the suite leaves alone, by file name, each with its reason.
EXCLUDED_MODULES: dict[str, str] = {
    "broken.abi3.so": "chapter 6's demonstration of bugs: add() aborts the process, "
                      "text_length() leaks and first() frees objects still in use, on purpose",
    "pyo3_hist.abi3.so": "chapter 11's PyO3 and rust-numpy comparison takes numpy arrays, which "
                         "the debug builds cannot make (no numpy there); tests/test_ch11_hist.py "
                         "tests it (answers and refusals), and its loop is hist's",
}
# ANCHOR_END: registry
# What chapters 10 and 12's PyO3 comparisons show of PyO3 0.30.1, as their pages say: the kinds of
# hostile input (tests/children/ch06_kinds.py) that break them are not held to them where they do,
# and test_pyo3_breaks_as_its_pages_say checks that they still do. When a PyO3 release mends one,
# that test fails: the entry goes, and the page's sentence with it. kind: [(module, the first
# CPython where it holds, why)].
KNOWN_IN_PYO3: dict[str, list[tuple[str, tuple[int, int] | None, str]]] = {
    "patched_new": [
        ("pyo3_ring.abi3.so", None,
         "its type is mutable (#[pyclass(immutable_type)] needs PyType_Freeze, in the stable ABI "
         "from 3.14 only), so a patched __new__ makes instances whose value PyO3 never wrote, and "
         "dropping them counts live() below zero"),
        ("pyo3_callbacks.abi3.so", None,
         "chapter 12's RingIter is as mutable, and has no #[new]: a patched __new__ makes an "
         "iterator whose Py<Ring> PyO3 never wrote (a null pointer), and using it crashes the "
         "process"),
    ],
    "deep_nesting": [
        ("pyo3_ring.abi3.so", (3, 14),
         "PyO3 has no trashcan: freeing a chain of 100,000 rings overflows the stack before 3.14, "
         "whose Py_Dealloc has CPython's trashcan in it"),
        ("pyo3_callbacks.abi3.so", (3, 14),
         "chapter 12's Ring, as chapter 10's: no trashcan before 3.14"),
    ],
}
# Staged, but not importable by design: chapter 9's deliberate stable-ABI violation declares
# PyUnstable_Module_SetGIL, which no GIL-enabled CPython exports, so its import fails on every
# interpreter here (tests/test_abi3_audit.py checks exactly that). Nothing in it can be called.
UNIMPORTABLE_MODULES: dict[str, str] = {
    "violation.abi3.so": "chapter 9's deliberate stable-ABI violation, which no GIL build can load",
}
# Chapter 7's one-argument controls (c_one_arg: twice(x) = 2x, with METH_O and METH_FASTCALL).
VALID_ARGS.update({"twice_o": (21000,), "twice_fastcall": (21000,)})
# Chapter 8: the helper's modules (foo's sum is above). tally keeps a count per module object;
# add_from_threads starts that many OS threads, which take the GIL back, and joins them.
VALID_ARGS.update({
    "sum_kw": (2000, 40000),
    "tally.add": (3000,),
    "tally.count": (),
    "add_from_threads": (2,),
    "describe": (-12345, 12345, 0.5, True, "héllo wörld", b"bytes here", 4000),
})
# Chapter 9: hooks.entry_point() names the entry point CPython called (no arguments).
VALID_ARGS.update({"entry_point": ()})
# Chapter 10: every Ring module's live() counts the Ring values (no arguments). The class itself
# is tested by tests/test_ch10_ring.py (tests/children/ring_contract.py's hostile part over its methods)
# and, for the helper's, tests/test_helper_ring.py.
VALID_ARGS.update({"live": ()})
# Chapter 11: hist's histogram and parity take a buffer of bytes (a small one is counted on the
# calling thread, so a million calls stay cheap; the threads' path is tested by
# tests/test_ch11_hist.py).
VALID_ARGS.update({"histogram": (b"bytes to count, 123456",), "parity": (b"bytes to fold, 123456",)})
# Chapter 12: callbacks. call_n(f, n) calls f n times (a count, so a small int); total sums an
# iterable's ints; from_thread and start_worker start a Rust thread (with a count of 0 it calls
# nothing back: a million calls stay cheap); stop_workers joins start_worker's threads.
VALID_ARGS.update({
    "call_n": (abs, 3),
    "total": ([20000, 30000],),
    "callbacks.from_thread": (abs, 0, False),
    "start_worker": (abs, 0),
    "stop_workers": (),
    "apis": (),
})
# Chapter 12 (the helper's half): helper_callbacks calls what it is given, with its arguments; a
# built-in callable keeps a million calls cheap. Its Ring and RingIter are tested by
# tests/test_ch12_helper.py (callbacks that raise, re-enter, mutate the ring, interrupt). Two
# modules have a from_thread with different arguments: the keys name their module.
VALID_ARGS.update({
    "helper_callbacks.apply": (str, 12345),
    "helper_callbacks.apply3": (slice, "start here", "stop here", 5000),
    # The same with PyO3; from_thread(f, times) calls f from a Rust thread `times` times.
    "pyo3_callbacks.apply": (str, 12345),
    "pyo3_callbacks.from_thread": (str, 0),
})

# Optional models: for a function listed here, whenever it returns (rather than raises) during
# the hostile-input test, its result must equal, in value and type, what the model returns for the
# same arguments. That catches the silent bugs, such as a sum that wraps around on overflow.
MODELS: dict[str, Callable] = {
    "sum": lambda a, b: operator.index(a) + operator.index(b),
    "divide": lambda a, b: _divide_toward_zero(operator.index(a), operator.index(b)),
    "swap": lambda pair: (pair[1], pair[0]),
    "encode": lambda text: str.encode(text, "utf-8"),
    "twice_o": lambda x: 2 * operator.index(x),
    "twice_fastcall": lambda x: 2 * operator.index(x),
    "sum_kw": lambda a, b: operator.index(a) + operator.index(b),
    "histogram": lambda data, threads=1: _histogram(data),
    "parity": lambda data, threads=1: _parity(data),
}


def _histogram(data) -> list[int]:
    counts = [0] * 256
    for byte in bytes(memoryview(data)):
        counts[byte] += 1
    return counts


def _parity(data) -> int:
    x = 0
    for byte in bytes(memoryview(data)):
        x ^= byte
    return x


def _divide_toward_zero(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


# A function whose running time grows with an integer argument (a loop count, a number of
# seconds) may cap the integers the hostile-input test passes it, here, with a reason.
HOSTILE_INT_LIMIT: dict[str, int] = {
    "tick": 5,  # count and interval: at most 5 ticks, 5 ms apart
    "every": 5,  # interval and count
    "count_primes": 10_000,  # the work grows with n
    "count_primes_nogil": 10_000,
    "sleep": 2,  # milliseconds
    "add_from_threads": 5,  # threads started per call
    "call_n": 1000,  # calls made
    "from_thread": 5,  # calls made from the thread
    "start_worker": 5,  # calls made from the thread
}

# Functions whose valid calls are too slow for the leak test's million calls, with the number they
# get instead. The 1 MiB limit stays, so the bound per call is looser: about 10 bytes at 100,000
# calls, under the 32 that one leaked int a call would take; 52 at 20,000, where only a larger
# object a call shows in memory (the refcount checks still see a leaked reference to an argument).
LEAK_CALLS: dict[str, int] = {
    "tick": 50_000,  # each call starts an OS thread (about 20 µs)
    "every": 20_000,  # each call starts an OS thread that takes the GIL (about 100 µs)
    "gil": 20_000,  # each call starts an OS thread and hands the GIL to it (about 50 µs)
    "add_from_threads": 20_000,  # each call starts two OS threads that take the GIL
    "from_thread": 20_000,  # each call starts an OS thread and waits for it, the GIL released
    "start_worker": 20_000,  # each call starts an OS thread, which attaches once to let f go
    # Each call counts the primes below 1100 (about 22 µs): a million calls of each took 44 s of
    # the module's 300 s leak budget, and a loaded machine (load average 170-290) ran out of it.
    "count_primes": 100_000,
    "count_primes_nogil": 100_000,
}

# Modules whose functions leave threads running after they return, with the function that waits
# for those threads: the leak test calls it before each reading, so that the threads' own
# references and stacks are not counted as (or do not hide) a leak.
SETTLE: dict[str, str] = {
    "foo": "join",
    "callbacks": "stop_workers",  # chapter 12: start_worker's threads  # chapter 4's foo; the other chapters' foo modules have no join and start no threads
}

# Functions whose valid arguments must include a small int (cached by the interpreter, so its
# refcount cannot show a leak), with the reason. Their other arguments are still watched, and the
# memory limit still applies.
UNTRACKED_ARGS_OK: dict[str, str] = {
    "tick": "a count of 0 ticks is what keeps a million calls cheap",
    "every": "a count of 0 callbacks is what keeps a million calls cheap",
    "sleep": "its one argument is milliseconds to sleep, so 0 is the only cheap valid value",
    "add_from_threads": "its one argument is a number of threads to start: a large one is slow",
    "describe": "its `flag` must be a bool, and True is a single shared object",
    "call_n": "its second argument is how many calls to make: a large one is slow",
    "from_thread": "a count of 0 calls (and callbacks' flag False) keeps a million calls cheap",
    "start_worker": "a count of 0 calls is what keeps a million calls cheap",
    "apply": "a built-in type as the callable keeps a million calls cheap; from 3.12 it is "
             "immortal, so only the suite's run under 3.11 watches its refcount",
    "apply3": "as apply: the callable is the built-in slice, immortal from 3.12",
}

WHERE = "tests/children/ch06_registry.py (VALID_ARGS)"


def lookup(module: str, function: str, table: dict[str, tuple] = VALID_ARGS) -> tuple | None:
    """The valid arguments of `module.function`, or None if none are registered."""
    return table.get(f"{module}.{function}", table.get(function))

# The types a module exports, with valid arguments for their constructor (the reliability suite's
# kinds of hostile input, tests/children/ch06_kinds.py, make instances with them). A type missing here
# fails the suite, as a function missing from VALID_ARGS does. The exception types take a message.
TYPE_ARGS: dict[str, tuple] = {
    "PanicException": ("a message",),
    "ParseError": ("a message",),
    "TallyOverflow": ("a message",),
    "Ring": (3,),  # chapter 10's three Rings and chapter 12's helper_callbacks.Ring: the capacity
    # Chapter 12: a Ring's iterator has no __new__ (only iter(ring) makes one): every call from
    # Python is a TypeError, which the kinds accept.
    "RingIter": (),
}

# Container types, with the method that stores one object in an instance: the deep-nesting kind
# chains instances through it, and the out-of-memory kind fills one until it cannot grow.
CONTAINERS: dict[str, str] = {"Ring": "push"}

# Functions that count a module's values (made and not yet freed), with no arguments: after each
# kind of hostile input has freed what it made, they must be back where they were.
COUNTERS: tuple[str, ...] = ("live",)
