"""The child process of the reliability suite (tests/test_ch06_reliability.py).

Anything that could crash the interpreter runs here, never in pytest's own process. Each run
loads one extension module by its path and does one job, then prints one line
`REPORT <json>` for the parent:

  list    MODULE                 the module's functions
  hostile MODULE LOG CALLS SEED  call every function at least CALLS times with hostile input
                                 (property-based: hypothesis draws the values); before each call,
                                 append it to LOG, so that after a crash the log names it
  replay  MODULE LOGFILE         make the calls of LOGFILE again, in order, in this process
  leak    MODULE CALLS ECALLS    call every function CALLS times with its valid arguments, and
                                 ECALLS times with each of several kinds of failing arguments,
                                 and report how much the process grew and how the arguments'
                                 refcounts changed; with --gc-runtime (a module that embeds a
                                 garbage-collected runtime, Go's), warm up with as many calls as
                                 are measured, so that its heap has grown to its goal first

Valid arguments come from tests/children/ch06_registry.py; `--valid LITERAL` (a Python dict literal)
replaces them, and `--only NAME` restricts a run to one function (the suite's own tests use both
on the deliberately broken module).

Exit status 0: the job ran (and, for `hostile`, every failure was an ordinary exception);
1: `hostile` saw a forbidden exception; death by a signal: a crash.
"""

from __future__ import annotations

import argparse
import ast
import gc
import itertools
import json
import math
import os
import re
import sys
import time
import types
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from load_extension import load  # noqa: E402
from ch06_registry import (  # noqa: E402
    HOSTILE_INT_LIMIT, LEAK_CALLS, MODELS, SETTLE, UNTRACKED_ARGS_OK, VALID_ARGS, lookup,
)

if hasattr(sys, "set_int_max_str_digits"):
    # The log holds repr() of every argument, and hostile integers may be long.
    sys.set_int_max_str_digits(0)


def functions(module: types.ModuleType, only: str | None = None) -> dict:
    """The module's functions: every public attribute that is a built-in function."""
    return {name: obj for name, obj in sorted(vars(module).items())
            if not name.startswith("_") and isinstance(obj, types.BuiltinFunctionType)
            and (only is None or name == only)}


def report(data) -> None:
    print("REPORT " + json.dumps(data), flush=True)


# ---------------------------------------------------------------------------------------------
# Hostile values. Each has a repr() that evaluates back to an equal value in NAMESPACE, so that a
# logged call can be replayed.


class Opaque:
    """An object no function knows."""

    def __repr__(self):
        return "Opaque()"


class BadIndex:
    """An object whose __index__ (what integer arguments are converted with) raises."""

    def __index__(self):
        raise RuntimeError("__index__ raised on purpose")

    def __repr__(self):
        return "BadIndex()"


class HugeIndex:
    """An object whose __index__ returns an integer that no C integer type holds."""

    def __index__(self):
        return 2**100

    def __repr__(self):
        return "HugeIndex()"


class BadStr:
    """An object whose str() raises."""

    def __str__(self):
        raise RuntimeError("__str__ raised on purpose")

    def __repr__(self):
        return "BadStr()"


class StrSub(str):
    def __repr__(self):
        return f"StrSub({str.__repr__(self)})"


class IntSub(int):
    def __repr__(self):
        return f"IntSub({int.__repr__(self)})"


class TupleSub(tuple):
    def __repr__(self):
        return f"TupleSub({tuple.__repr__(self)})"


NAMESPACE = {"Opaque": Opaque, "BadIndex": BadIndex, "HugeIndex": HugeIndex, "BadStr": BadStr,
             "StrSub": StrSub, "IntSub": IntSub, "TupleSub": TupleSub, "nan": math.nan,
             "inf": math.inf, "bytearray": bytearray, "Ellipsis": Ellipsis, "len": len,
             "int": int}

# Integers at and around the limits of C's integer types, and far beyond them.
EDGE_INTS = sorted({0, 1, -1, 2, -2, 2**4000, -2**4000} | {
    sign * (bound + d) for bound in [2**7, 2**8, 2**15, 2**16, 2**31, 2**32, 2**53, 2**62, 2**63,
                                     2**64, 2**100]
    for sign in (1, -1) for d in (-1, 0, 1)})
EDGE_STRS = ["", "\0", "=", " = ", "a=", "=1", "a=1", "a = 1", "a=1\0", "a\0=1", "a=\0",
             "\udc80", "a=\udc80", "\udc80=1", "é=ü", "x=1_000", "x=0x10", "x=+7", "x=-0",
             "x= 12 ", "x==1", "x=1=2", "x=" + "9" * 5000, "\N{SNOWMAN}" * 50, "ß" * 10,
             "\U0010ffff", "\ud800\udc00", "name=value", "long name = 1e3", "name=\udc80",
             "name=0x1F", "name = twelve"]


def hostile_values(int_limit: int | None):
    """A hypothesis strategy for one hostile argument: wrong types, edge and huge integers,
    NaN and infinities, empty, NUL-holding and unencodable strings, bytes, containers of all
    of these, and objects whose conversions raise."""
    from hypothesis import strategies as st

    if int_limit is None:
        ints = st.one_of(st.integers(), st.sampled_from(EDGE_INTS),
                         st.integers(min_value=-2**130, max_value=2**130))
    else:
        ints = st.one_of(st.integers(min_value=-int_limit, max_value=int_limit),
                         st.sampled_from([i for i in EDGE_INTS if abs(i) <= int_limit]))
    any_char = st.characters(codec=None, exclude_categories=())  # lone surrogates included
    strs = st.one_of(st.text(max_size=20), st.text(alphabet=any_char, max_size=12),
                     st.sampled_from(EDGE_STRS),
                     st.builds(lambda a, b: f"{a}={b}", st.text(max_size=6),
                               st.one_of(st.text(max_size=6), ints.map(str))))
    floats = st.one_of(st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, -0.0,
                                                     1e308, 5e-324]))
    finite = st.floats(allow_nan=False, allow_infinity=False)
    scalars = st.one_of(
        ints, strs, floats, st.none(), st.booleans(), st.binary(max_size=12),
        st.binary(max_size=12).map(bytearray), ints.map(IntSub), strs.map(StrSub),
        st.sampled_from([Opaque(), BadIndex(), HugeIndex(), BadStr(), Ellipsis, len, int]),
        st.builds(complex, finite, finite),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.tuples(inner, inner), st.lists(inner, max_size=3).map(tuple),
                                st.lists(inner, max_size=3),
                                st.tuples(inner, inner).map(TupleSub),
                                st.dictionaries(st.text(max_size=3), inner, max_size=2)),
        max_leaves=4,
    )


KWARG_NAMES = ["a", "b", "text", "pair", "x", "items", "self", "args", "", "é"]


def compose(rnd, values: list, valid: tuple | None) -> tuple[tuple, dict]:
    """One call's (args, kwargs), made of the hostile `values`: random arguments of any number,
    or, when the function's valid arguments are known, near-misses built from them (one or all
    replaced, one too few, one too many). A replaced argument is, more often than not, replaced
    by a value of its own type, since that is where the subtle bugs are (an int that
    overflows, a str with a lone surrogate). Sometimes with keyword arguments."""
    pick = rnd.choice
    by_type: dict[type, list] = {}
    for v in values:
        by_type.setdefault(type(v), []).append(v)

    def near(v):
        same = by_type.get(type(v))
        return pick(same) if same and rnd.random() < 0.6 else pick(values)

    shape = rnd.random()
    if not valid or shape < 0.25:
        args = tuple(pick(values) for _ in range(rnd.randrange(5)))
    elif shape < 0.65:
        replaced = list(valid)
        i = rnd.randrange(len(replaced))
        replaced[i] = near(replaced[i])
        args = tuple(replaced)
    elif shape < 0.8:
        args = tuple(near(v) for v in valid)
    elif shape < 0.9:
        args = valid[:-1] if rnd.random() < 0.5 else valid + (pick(values),)
    else:
        args = valid
    kwargs = {} if rnd.random() < 0.85 else {pick(KWARG_NAMES): pick(values)
                                             for _ in range(rnd.randrange(1, 3))}
    return args, kwargs


OTHER_TYPES = [None, True, 1.5, math.nan, -math.inf, b"", b"\xff", "", 0, (), [], {}, Opaque(),
               BadIndex(), HugeIndex(), BadStr()]


def edge_calls(valid: tuple | None, int_limit: int | None) -> list[tuple[tuple, dict]]:
    """The classic edges, every one of them, before hypothesis's random search: each position of
    the valid arguments set to each edge of its type (for integers, every combination over all
    the integer positions: that is how MIN / -1 and MAX + 1 are found) and to each other type."""
    if not valid:
        return [((v,), {}) for v in OTHER_TYPES]
    ints = [i for i in EDGE_INTS if int_limit is None or abs(i) <= int_limit]

    def edges(v):
        if isinstance(v, int) and not isinstance(v, bool):
            return ints
        if isinstance(v, str):
            return EDGE_STRS
        if isinstance(v, tuple):
            return [(), (v,), v + v, tuple(reversed(v)), v[:1] * 2, (None,) * len(v)]
        return []

    calls = []
    int_positions = [i for i, v in enumerate(valid) if isinstance(v, int)
                     and not isinstance(v, bool)]
    if len(int_positions) >= 2:
        for combo in itertools.product(ints, repeat=len(int_positions)):
            args = list(valid)
            for i, v in zip(int_positions, combo):
                args[i] = v
            calls.append((tuple(args), {}))
    for i, v in enumerate(valid):
        for e in edges(v) + OTHER_TYPES:
            calls.append((valid[:i] + (e,) + valid[i + 1:], {}))
    calls += [((), {}), (valid[:-1], {}), (valid + valid, {}), ((), {"x": valid[0]})]
    return calls


def acceptable(error: BaseException) -> bool:
    """A hostile call may fail, but only with an ordinary exception. SystemError means that the
    function broke the C API's protocol (NULL without an exception set, or a result with one),
    and PanicException that a Rust panic reached the boundary: both are bugs."""
    return (isinstance(error, Exception) and not isinstance(error, SystemError)
            and type(error).__name__ != "PanicException")


def disagrees(model, args: tuple, kwargs: dict, result) -> str | None:
    """Why `result` is wrong according to the function's model, or None if it is right."""
    try:
        expected = model(*args, **kwargs)
    except Exception as e:  # noqa: BLE001
        return f"returned {result!r}, but its model raises {type(e).__name__}: {e}"
    if type(result) is not type(expected) or result != expected:
        return f"returned {result!r}, but its model returns {expected!r}"
    return None


def hostile(module, valid_args: dict, log_path: str, min_calls: int, seed: int,
            only: str | None) -> int:
    """Hypothesis draws the hostile values, 20 per example, and a seeded random generator with
    which each example then makes 200 calls that combine those values. Hypothesis is good at
    edges (0, -1, 2**63, NaN, "", lone surrogates) but costs about a millisecond per value;
    combining keeps it to a few seconds for tens of thousands of calls."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    per_example = 200
    results = {}
    for name, fn in functions(module, only).items():
        valid = lookup(module.__name__, name, valid_args)
        model = lookup(module.__name__, name, MODELS)
        pool = st.lists(hostile_values(HOSTILE_INT_LIMIT.get(name)), min_size=20, max_size=20)
        count = 0
        failures: list[str] = []

        def call(args, kwargs):
            nonlocal count
            line = repr((name, args, kwargs))
            # Written before the call, unbuffered: the log survives the process's death.
            os.write(log, line.encode("utf-8", "backslashreplace") + b"\n")
            count += 1
            try:
                result = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - judging every exception is the point
                if not acceptable(e) and len(failures) < 5:
                    failures.append(f"{line}\n    raised {type(e).__module__}."
                                    f"{type(e).__name__}: {e}")
                return
            if model is not None and len(failures) < 5:
                wrong = disagrees(model, args, kwargs, result)
                if wrong:
                    failures.append(f"{line}\n    {wrong}")

        # The valid arguments join the pool of values, so that a call may mix them up, except
        # integers beyond the function's limit: foo.every's valid interval, 300, as its count
        # made threads that called back for 90 s each, and join() waited past the timeout.
        limit = HOSTILE_INT_LIMIT.get(name)
        mixed = [v for v in valid or () if limit is None or not isinstance(v, int)
                 or abs(v) <= limit]

        def run(values, rnd):
            values = values + mixed
            for _ in range(per_example):
                call(*compose(rnd, values, valid))

        for args, kwargs in edge_calls(valid, HOSTILE_INT_LIMIT.get(name)):
            call(args, kwargs)
        edges = count

        # Examples that hypothesis discards make no calls: go round until there were enough.
        for round_ in range(100):
            if count - edges >= min_calls:
                break
            examples = -(-(min_calls - (count - edges)) // per_example)
            test = settings(max_examples=examples, database=None, deadline=None,
                            phases=[Phase.generate], suppress_health_check=list(HealthCheck))(
                given(pool, st.randoms(use_true_random=True))(run))
            hypothesis_seed(seed + zlib.crc32(name.encode()) + round_)(test)()
        results[name] = {"calls": count, "edge_calls": edges, "failures": failures}
    os.close(log)
    report(results)
    return 1 if any(r["failures"] for r in results.values()) else 0


def replay(module, log_file: str) -> int:
    """Makes the logged calls again, in order; a line that does not evaluate is counted."""
    unreadable = 0
    for line in Path(log_file).read_text(encoding="utf-8").splitlines():
        try:
            name, args, kwargs = eval(line, dict(NAMESPACE))  # noqa: S307 - our own log
        except Exception:  # noqa: BLE001
            unreadable += 1
            continue
        try:
            getattr(module, name)(*args, **kwargs)
        except BaseException:  # noqa: BLE001, S110 - only a crash matters here
            pass
    report({"unreadable": unreadable})
    return 0


# ---------------------------------------------------------------------------------------------
# Leaks


def fresh(value):
    """A copy of `value` that nothing else refers to, so that its refcount says what we did."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(str(value))
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    if isinstance(value, bytes):
        return bytes(bytearray(value))
    if isinstance(value, tuple):
        return tuple(fresh(v) for v in value)
    return value


def watched(args: tuple) -> list:
    """The arguments and, inside tuples, their items: whatever a function might leak."""
    out = []
    for a in args:
        out.append(a)
        if isinstance(a, tuple):
            out.extend(watched(a))
    return out


def rss() -> int:
    """The process's resident memory in bytes (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def trackable(obj) -> bool:
    """Whether obj's refcount is ours to watch: not immortal, and not one of the small objects
    the interpreter shares everywhere (None, small ints, empty and one-character strings)."""
    if sys.getrefcount(obj) > 2**29 or obj is None or isinstance(obj, bool):
        return False
    if type(obj) is int and -5 <= obj <= 256:
        return False
    return not (type(obj) in (str, bytes, tuple) and len(obj) <= 1)


def threads() -> int:
    """How many threads the process has now (Linux: one entry each in /proc/self/task)."""
    return len(os.listdir("/proc/self/task"))


def settler(join=None):
    """What runs before each memory reading: wait for the module's threads (if it starts any),
    then have malloc hand freed memory back to the system, so that RSS shows what is in use."""
    import ctypes
    malloc_trim = ctypes.CDLL(None).malloc_trim
    baseline = threads()  # before any call: no thread of the module's yet

    def settle():
        if join is not None:
            join()
            # join() returns once the threads' work is done; what they free as they exit (their
            # stacks, to glibc's cache) is freed once they are gone from /proc/self/task, which
            # takes microseconds. Waiting stops after a second: a thread that stays that long is
            # the module's fault, and the reading that follows shows what it holds.
            deadline = time.monotonic() + 1
            while threads() > baseline and time.monotonic() < deadline:
                time.sleep(0.0005)
        malloc_trim(0)
    return settle


# A module whose calls leave threads running (SETTLE) has them joined every PACE calls, in the
# warm-up and in the measured calls alike. Unpaced, how many are alive at once depends on how
# soon the machine runs them: a run at load average 100 had 442-834 of `tick`'s threads alive at
# once and grew 312-500 KiB, where paced it had 124-144 and grew 40-48 KiB (CPython 3.14). Each
# thread alive at once leaves memory behind that is not a leak (its stack, kept by glibc's cache
# of thread stacks, and malloc arenas made for threads that contend), so the reading measured
# the machine's load. An unpaced run under heavier load grew 1.6 MiB, past the limit.
PACE = 64


def measure(fn, args: tuple, kwargs: dict, n_calls: int, settle=lambda: None,
            warm_up: int | None = None, pace=None) -> dict:
    """Calls fn(*args, **kwargs) n_calls times, after a warm-up (of `warm_up` calls; by default
    up to 20 000); returns how much the process grew and how the refcounts of the arguments (and
    of tuple items) changed. `settle` runs before each reading: it waits for work that calls leave
    running (threads) to finish. `pace`, if given, runs after every PACE calls (the module's join:
    see PACE)."""
    things = [t for t in watched(args + tuple(kwargs.values())) if trackable(t)]

    def loop(n):
        for i in range(n):
            try:
                fn(*args, **kwargs)
            except Exception:  # noqa: BLE001, S110 - the error paths are measured too
                pass
            if pace is not None and i % PACE == PACE - 1:
                pace()

    # warm up: caches, free lists, the allocator's arenas (and a garbage collector's heap)
    loop(min(n_calls, 20_000) if warm_up is None else warm_up)
    settle()
    gc.collect()
    before_counts = [sys.getrefcount(t) for t in things]
    before = rss()
    loop(n_calls)
    settle()
    gc.collect()
    grown = rss() - before
    after_counts = [sys.getrefcount(t) for t in things]
    return {"rss_growth": grown, "calls": n_calls,
            "refcount_deltas": {repr(things[i])[:80]: after_counts[i] - before_counts[i]
                                for i in range(len(things))}}


def error_paths(fn, valid: tuple, int_limit: int | None, limit: int = 12) -> list:
    """Failing calls that take different paths through fn. The edge calls that fail are grouped
    by (exception type, message with its quoted parts, numbers and type names blanked out);
    from each group come the first call and the one with the longest arguments, since a leak
    of a short or cached object (a one-character string) may not show."""
    groups: dict[tuple, list] = {}
    for args, kwargs in edge_calls(valid, int_limit):
        try:
            fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - the hostile-input test reports the others
            if not acceptable(e):
                continue
            key = (type(e).__name__,
                   re.sub(r"'[^']*'|\"[^\"]*\"|\d+|(?<=not )\w+", "_", str(e)))
            size = len(repr((args, kwargs)))
            call = (args, kwargs, f"{type(e).__name__}: {e}"[:120], size)
            group = groups.setdefault(key, [call, call])
            if group[1][3] < size <= 200:
                group[1] = call
    found = []
    for first, longest in groups.values():
        found += [first[:3]] if first is longest else [first[:3], longest[:3]]
    return found[:limit]


def leak(module, valid_args: dict, n_calls: int, n_error_calls: int, only: str | None,
         gc_runtime: bool = False) -> int:
    """Valid calls n_calls times; then each kind of failing call n_error_calls times, because a
    reference forgotten on an error path leaks just as surely as one on the main path.

    With `gc_runtime`, each measurement comes after as many calls again. A garbage-collected
    runtime (Go's) lets garbage pile up to a heap goal before it first collects, then keeps its
    heap at about that size: its growth over the first calls is the heap settling, and a leak
    shows as growth that goes on. Go's first goal is 4 MB, more than the limit."""
    results = {}
    for name, fn in functions(module, only).items():
        valid = lookup(module.__name__, name, valid_args)
        if valid is None:
            results[name] = {"error": "no valid arguments registered"}
            continue
        args = fresh(valid)
        untrackable = [repr(t) for t in watched(args) if not trackable(t)]
        if untrackable and name not in UNTRACKED_ARGS_OK:
            results[name] = {"error": f"the arguments {', '.join(untrackable)} are shared or "
                                      "immortal objects whose refcount cannot show a leak: "
                                      "register values that are not cached (e.g. ints > 1024, "
                                      "strings of two characters or more)"}
            continue
        join = getattr(module, SETTLE.get(module.__name__, ""), None)
        settle = settler(join)
        n = min(n_calls, LEAK_CALLS.get(name, n_calls))
        r = measure(fn, args, {}, n, settle, n if gc_runtime else None, join)
        r["error_paths"] = []
        if n_error_calls:
            for e_args, e_kwargs, exc in error_paths(fn, valid, HOSTILE_INT_LIMIT.get(name)):
                n = min(n_error_calls, LEAK_CALLS.get(name, n_error_calls))
                e = measure(fn, fresh(e_args), e_kwargs, n, settle, n if gc_runtime else None,
                            join)
                e.update(call=repr((name, e_args, e_kwargs))[:200], exception=exc)
                r["error_paths"].append(e)
        results[name] = r
    report(results)
    return 0


# ---------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("job", choices=["list", "hostile", "replay", "leak"])
    parser.add_argument("module")
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--valid", help="a dict literal that replaces the registry's VALID_ARGS")
    parser.add_argument("--only", help="run the job for this function only")
    parser.add_argument("--gc-runtime", action="store_true",
                        help="leak: the module embeds a garbage-collected runtime (see leak())")
    a = parser.parse_args(argv)
    valid_args = ast.literal_eval(a.valid) if a.valid else VALID_ARGS
    module = load(a.module)
    match a.job, a.rest:
        case "list", []:
            report(sorted(functions(module)))
            return 0
        case "hostile", [log_path, n, seed]:
            return hostile(module, valid_args, log_path, int(n), int(seed), a.only)
        case "replay", [log_file]:
            return replay(module, log_file)
        case "leak", [n, n_errors]:
            return leak(module, valid_args, int(n), int(n_errors), a.only, a.gc_runtime)
    parser.error(f"wrong arguments for {a.job}: {a.rest}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
