"""The reliability suite's kinds of hostile input (tests/test_ch06_reliability.py), one per child.

`python ch06_kinds.py KIND LOG MODULE...` loads each extension module in turn, does one kind of
hostile thing to every function and every type it exports, and prints one line `REPORT <json>`
per module: the module ("module"), how many steps it took with each target ("targets") and
every outcome that breaks the rules ("failures"). Before each step it appends a line naming the
module and the step to LOG, unbuffered, so that after a crash or a hang the last line names
what was being done. (`list` instead of a kind reports each module's functions and types.)
Standard library only: it runs under every CPython the suite uses, 3.10 and later, debug
builds too.

The rule for every kind: a Python exception (not SystemError, not PanicException) or a clean
exit, never a crash, an abort or a hang; and the counts a module keeps of its values (registered
in tests/children/ch06_registry.py as COUNTERS, e.g. `live()`) are back where they were once the kind's
objects are freed. The kinds:

  patched_new        a type's __new__ replaced by one that never constructs the value
                     (`T.__new__ = lambda cls, *a: object.__new__(cls)`, on the type and on a
                     subclass); whatever instance comes out has every method called on it
  hostile_metaclass  a subclass whose metaclass makes __name__ (or __module__) a property
                     that returns an int or raises, used everywhere a name is printed
                     (repr, messages); instances of such classes as every function's arguments
  mutated_kwargs     keyword arguments whose conversion (__index__, __float__) deletes or replaces
                     the other keyword arguments in the dict the callee reads, which then holds
                     the only reference to them (run under PYTHONMALLOC=debug, so that a freed
                     object read afterwards is poisoned memory, not silently still there)
  deep_nesting       every container type chained DEPTH deep (each pushed into the next), freed
                     by refcount and, made into a cycle, by the collector; chained through lists
                     too; lists and tuples nested DEPTH deep as every function's arguments
  at_exit_del        every function and type called from a __del__ that runs while the
                     interpreter finalises (a global of __main__); the process must exit, with 0
  at_exit_daemon     every function and type called in a loop by daemon threads while the
                     interpreter finalises; the process must exit, with 0
  out_of_memory      an address-space limit (RLIMIT_AS) a little above what the process uses,
                     then every function and type called with its valid arguments and with huge
                     integers in their place, and every container filled until it cannot grow:
                     MemoryError (or another exception), never an abort
  null_args          every function and type called from C with no arguments at all (args NULL,
                     as PyObject_CallNoArgs passes them): collections.defaultdict's factory and
                     iter(callable, sentinel)
"""

from __future__ import annotations

import argparse
import ast
import collections
import gc
import inspect
import os
import re
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from load_extension import load  # noqa: E402
from ch06_probe import acceptable, fresh, functions, report  # noqa: E402
from ch06_registry import (  # noqa: E402
    CONTAINERS, COUNTERS, HOSTILE_INT_LIMIT, TYPE_ARGS, VALID_ARGS, lookup,
)

KINDS = ["patched_new", "hostile_metaclass", "mutated_kwargs", "deep_nesting", "at_exit_del",
         "at_exit_daemon", "out_of_memory", "null_args"]
DEPTH = 1_000_000  # links of a chain, levels of a nested argument
HEADROOM = 64 << 20  # bytes of address space the out-of-memory kind leaves the process
HUGE_INTS = [2**31 - 1, 2**32, 2**62, 2**63 - 1]


class Log:
    """Each step, written before it is taken and unbuffered: the log survives the process."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)

    def __call__(self, line: str) -> None:
        os.write(self.fd, line.encode("utf-8", "backslashreplace") + b"\n")


class Kind:
    """One kind's run over one module: its targets, what it did to each, what went wrong."""

    def __init__(self, module, label: str, log: Log):
        self.module, self.label = module, label
        self.log = lambda line: log(f"{label} {line}")
        self.name = module.__name__
        self.functions = functions(module)
        self.types = {n: t for n, t in sorted(vars(module).items())
                      if not n.startswith("_") and isinstance(t, type)
                      and t.__module__ == module.__name__}
        self.counters = {n: self.functions[n] for n in COUNTERS if n in self.functions}
        self.done: dict[str, int] = {}  # steps taken, by target
        self.failures: list[str] = []
        self.depth = DEPTH
        self.given: dict[str, tuple] = {}  # valid arguments from --valid, before the registry's

    def valid(self, name: str) -> tuple | None:
        if name in self.given:
            return self.given[name]
        table = TYPE_ARGS if name in self.types else VALID_ARGS
        return lookup(self.name, name, table)

    def callables(self):
        """(name, callable, valid arguments) of every function and type that has them."""
        for name, obj in [*self.functions.items(), *self.types.items()]:
            valid = self.valid(name)
            if valid is None:
                self.failures.append(f"{name}: no valid arguments registered in "
                                     "tests/children/ch06_registry.py (VALID_ARGS, or TYPE_ARGS for a type)")
                continue
            yield name, obj, valid

    def step(self, target: str, what: str, fn, *args, **kwargs):
        """Logs the step, runs fn, judges how it ended; returns (result, exception)."""
        self.log(f"{target}: {what}")
        self.done[target] = self.done.get(target, 0) + 1
        try:
            return fn(*args, **kwargs), None
        except BaseException as e:  # noqa: BLE001 - judging every exception is the point
            if not acceptable(e):
                self.failures.append(f"{target}: {what} raised {type(e).__module__}."
                                     f"{type(e).__name__}: {e}")
            # Its traceback holds this frame, and so the arguments: the counters would count
            # them as alive for as long as the caller keeps the exception.
            e.__traceback__ = None
            return None, e

    def mark(self, target: str, what: str) -> None:
        """Logs a step that the caller takes itself (a `del`, which frees what it names)."""
        self.log(f"{target}: {what}")
        self.done[target] = self.done.get(target, 0) + 1

    def read_counters(self) -> dict:
        return {n: f() for n, f in self.counters.items()}

    def check_counters(self, before: dict, after_what: str) -> None:
        gc.collect()
        after = self.read_counters()
        for n, value in before.items():
            if after[n] != value:
                self.failures.append(f"{self.name}.{n}() is {after[n]!r} after {after_what}, "
                                     f"{value!r} before")

    def report(self, **extra) -> int:
        report({"module": self.label, "targets": self.done, "failures": self.failures, **extra})
        return 1 if self.failures else 0


def exercise(k: Kind, target: str, obj) -> None:
    """Every way of using an instance the suite knows without knowing the type: its protocols,
    then each public attribute read and, if callable, called with a few arguments."""
    k.step(target, "repr()", repr, obj)
    k.step(target, "str()", str, obj)
    k.step(target, "len()", len, obj)
    k.step(target, "bool()", bool, obj)
    k.step(target, "==", lambda: obj == obj)
    k.step(target, "hash()", hash, obj)
    for attr in sorted(a for a in dir(type(obj)) if not a.startswith("_")):
        value, error = k.step(target, f".{attr}", getattr, obj, attr)
        if error is None and callable(value):
            for label, args in [("()", ()), ("(None)", (None,)), ("(12345)", (12345,)),
                                ("(the instance itself)", (obj,)), ("(1, 2)", (1, 2))]:
                k.step(target, f".{attr}{label}", value, *args)
    k.step(target, "repr() after the calls", repr, obj)


# ---------------------------------------------------------------------------------------------
# patched_new


def patched_new(k: Kind) -> int:
    before = k.read_counters()

    def never_constructs(cls, *args, **kwargs):
        return object.__new__(cls)

    for name, t in k.types.items():
        args = k.valid(name) or ()
        # A subclass first, while the type itself is still intact.
        sub, _ = k.step(name, "class Sub(T)", lambda: type("Sub", (t,), {}))
        if sub is not None:
            _, refused = k.step(name, "Sub.__new__ = never_constructs", setattr, sub,
                                "__new__", never_constructs)
            if refused is None:
                obj, _ = k.step(name, f"Sub{args!r}", sub, *args)
                if obj is not None:
                    exercise(k, name + " (Sub)", obj)
                del obj
        del sub
        _, refused = k.step(name, "T.__new__ = never_constructs", setattr, t, "__new__",
                            never_constructs)
        if refused is None:
            obj, _ = k.step(name, f"T{args!r}", t, *args)
            if obj is not None:
                exercise(k, name, obj)
            del obj
        k.step(name, "object.__new__(T)", object.__new__, t)
    k.check_counters(before, "the instances made by a patched __new__ were freed")
    return k.report()


# ---------------------------------------------------------------------------------------------
# hostile_metaclass


def _raises(cls):
    raise RuntimeError("a hostile metaclass's attribute raised on purpose")


# A metaclass per attribute and per behaviour: a property returning an int, one that raises.
# (__qualname__ cannot be made a property: type() insists that a class body's is a str.)
METACLASSES = {f"{attr} -> {how}": type(f"Meta_{attr.strip('_')}_{how}", (type,),
                                          {attr: property(fn)})
               for attr in ("__name__", "__module__")
               for how, fn in (("int", lambda cls: 12345), ("raises", _raises))}


def hostile_instances() -> list[tuple[str, object]]:
    """(label, value): instances of classes with each hostile metaclass, of a plain object, an
    int, a str and a bytes (which pass the type checks and get converted), and such a class."""
    out = []
    for how, meta in METACLASSES.items():
        for base, value in ((object, None), (int, 2), (str, "héllo"), (bytes, b"bytes")):
            cls = meta("Hostile", (base,), {})
            out.append((f"a {base.__name__} <{how}>", cls() if value is None else cls(value)))
        out.append((f"the class <{how}>", cls))
    return out


def hostile_metaclass(k: Kind) -> int:
    before = k.read_counters()
    for name, t in k.types.items():
        args = k.valid(name) or ()
        plain, _ = k.step(name, f"T{args!r}", t, *args)
        for how, meta in METACLASSES.items():
            sub, _ = k.step(name, f"class Sub(T, metaclass=<{how}>)",
                            lambda: meta("Sub", (t,), {}))
            if sub is None:
                continue
            k.step(name, f"repr(Sub) <{how}>", repr, sub)
            obj, _ = k.step(name, f"Sub{args!r} <{how}>", sub, *args)
            if obj is not None:
                exercise(k, f"{name} (Sub, {how})", obj)
                if plain is not None:  # a plain instance's methods, given the hostile one
                    for attr in sorted(a for a in dir(t) if not a.startswith("_")):
                        k.step(name, f"T().{attr}(Sub()) <{how}>",
                               lambda attr=attr: getattr(plain, attr)(obj))
                    k.step(name, f"T() == Sub() <{how}>", lambda: plain == obj)
            del obj, sub
        del plain
    hostile = hostile_instances()
    for name, fn, valid in k.callables():
        if name in k.types and not valid:
            continue
        for h_repr, h in hostile:
            for i in range(len(valid)):
                k.step(name, f"argument {i} = {h_repr}", fn, *valid[:i], h, *valid[i + 1:])
            k.step(name, f"one argument {h_repr}", fn, h)
    k.check_counters(before, "the hostile metaclass's instances were freed")
    return k.report()


# ---------------------------------------------------------------------------------------------
# mutated_kwargs


def parameter_names(fn, valid: tuple) -> list[str] | None:
    """The names of fn's first len(valid) parameters, if it takes them by keyword: from its
    signature, or else from the message of a call with no arguments ("missing required argument
    'capacity'"); None if it has no names or refuses them as keywords."""
    try:
        params = list(inspect.signature(fn).parameters.values())
        names = [p.name for p in params[:len(valid)]
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    except (TypeError, ValueError):
        try:
            fn()
            return None
        except Exception as e:  # noqa: BLE001
            names = re.findall(r"'(\w+)'", str(e))
    if len(names) != len(valid) or not names:
        return None
    try:
        fn(**dict(zip(names, fresh(valid))))
    except TypeError as e:
        if "keyword" in str(e):
            return None
    except Exception:  # noqa: BLE001, S110 - the names were accepted; the value may not be
        pass
    return names


class Mutator:
    """An argument whose conversion (__index__, __float__) finds the dict of keyword arguments
    it is in and, there, deletes the others, or replaces them, or deletes itself. The dict held
    the only reference to what it loses."""

    def __init__(self, value, names: list[str], how: str):
        self.value, self.names, self.how = value, names, how

    def _mutate(self):
        for d in gc.get_referrers(self):
            if type(d) is dict and any(d.get(n) is self for n in self.names):
                for n in list(d):
                    if d[n] is self:
                        if self.how == "itself":
                            del d[n]
                    elif self.how == "delete":
                        del d[n]
                    elif self.how == "replace":
                        d[n] = object()

    def __index__(self):
        self._mutate()
        return int(self.value)

    def __float__(self):
        self._mutate()
        return float(self.value)


def mutated_kwargs(k: Kind) -> int:
    before = k.read_counters()
    tried, no_keywords = 0, []
    for name, fn, valid in k.callables():
        if not valid:
            continue
        names = parameter_names(fn, valid)
        if names is None:
            no_keywords.append(name)
            continue
        for i, v in enumerate(valid):
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                continue  # only numbers run Python code while they are converted
            for how in ("delete", "replace", "itself"):
                def arguments(i=i, v=v, how=how) -> dict:
                    kwargs = {n: fresh(x) for n, x in zip(names, valid)}
                    kwargs[names[i]] = Mutator(v, names, how)
                    return kwargs

                def call(arguments=arguments):
                    # The dict that arguments() returns is gone once its items are copied into
                    # the one the call makes: that one is the only owner of every value but the
                    # Mutator (which its own frame holds while it runs).
                    return fn(**arguments())
                tried += 1
                k.step(name, f"{names[i]}=Mutator(how={how!r})", call)
    k.check_counters(before, "the calls with mutated keyword arguments")
    return k.report(calls=tried, no_keywords=no_keywords)


# ---------------------------------------------------------------------------------------------
# deep_nesting


class no_collections:
    """Building a million containers with the collector on costs four times as much: each of
    its full collections visits every one made so far."""

    def __enter__(self):
        gc.disable()

    def __exit__(self, *exc):
        gc.enable()


def nested(kind: str, depth: int):
    x = None
    with no_collections():
        for _ in range(depth):
            x = [x] if kind == "list" else (x,)
    return x


def chain(t, args: tuple, store: str, depth: int, through_list: bool = False):
    """(top, bottom) of `depth` instances of t, each stored in the next (through a list)."""
    with no_collections():
        bottom = r = t(*args)
        for _ in range(depth):
            s = t(*args)
            getattr(s, store)([r] if through_list else r)
            r = s
    return r, bottom


def deep_nesting(k: Kind) -> int:
    before, depth = k.read_counters(), k.depth
    short = min(depth, 100_000)
    for name, t in k.types.items():
        store = lookup(k.name, name, CONTAINERS)
        if store is None:
            continue
        args = k.valid(name) or ()
        k.mark(name, f"build a chain of {depth:,}")
        top, bottom = chain(t, args, store, depth)
        k.step(name, f"repr() of a chain of {depth:,}", repr, top)
        k.mark(name, f"build a chain of {short:,}")
        other, bottom_of_other = chain(t, args, store, short)
        k.step(name, f"== between a chain of {depth:,} and one of {short:,}",
               lambda: top == other)
        k.mark(name, f"free a chain of {short:,} by refcount")
        del other, bottom_of_other
        k.mark(name, f"free a chain of {depth:,} by refcount")
        del top, bottom
        k.check_counters(before, f"a chain of {depth:,} {name}s was freed")
        k.mark(name, f"build a cycle of {depth:,}")
        top, bottom = chain(t, args, store, depth)
        getattr(bottom, store)(top)
        del top, bottom
        k.step(name, f"collect a cycle of {depth:,} (gc.collect())", gc.collect)
        k.check_counters(before, f"a cycle of {depth:,} {name}s was collected")
        k.mark(name, f"build a chain of {depth:,} through lists")
        top, bottom = chain(t, args, store, depth, through_list=True)
        k.mark(name, f"free a chain of {depth:,} through lists")
        del top, bottom
        k.check_counters(before, f"a chain of {depth:,} {name}s through lists was freed")
        r = t(*args)
        getattr(r, store)(nested("list", depth))
        k.mark(name, f"free a {name} holding a list nested {depth:,} deep")
        del r
    for kind in ("list", "tuple"):  # one at a time: a million levels take 60 to 90 MB
        value = nested(kind, depth)
        for name, fn, valid in k.callables():
            for i in range(len(valid)):
                k.step(name, f"argument {i} = a {kind} nested {depth:,} deep", fn,
                       *valid[:i], value, *valid[i + 1:])
            if not valid:
                k.step(name, f"one argument: a {kind} nested {depth:,} deep", fn, value)
        del value
    k.check_counters(before, "deep nesting")
    return k.report(peak_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


# ---------------------------------------------------------------------------------------------
# at_exit_del, at_exit_daemon


def exit_call(k: Kind, name: str, fn, valid: tuple):
    """What the at-exit kinds call: the function with its valid arguments; for a type, an
    instance made with them, filled by its container method if it has one."""
    store = lookup(k.name, name, CONTAINERS) if name in k.types else None

    def call():
        result = fn(*valid)
        if store is not None:
            getattr(result, store)(object())
        return result
    return call


class CallsAtExit:
    """Kept in a global of __main__: its __del__ runs while the interpreter finalises."""

    def __init__(self, log: Log, target: str, call):
        self.log, self.target, self.call = log, target, call

    def __del__(self):
        self.log(f"{self.target}: called from __del__ during finalisation")
        try:
            self.call()
            self.log(f"{self.target}: returned")
        except BaseException as e:  # noqa: BLE001 - any exception is a clean outcome here
            self.log(f"{self.target}: raised {type(e).__name__}")


def at_exit_del(k: Kind) -> int:
    main = sys.modules["__main__"]
    for name, fn, valid in k.callables():
        k.done[name] = 1
        setattr(main, f"_at_exit_{name}", CallsAtExit(k.log, name, exit_call(k, name, fn, valid)))
    return k.report()


GO = threading.Event()  # the daemon threads of every module start calling together
DAEMONS: list[tuple[str, threading.Event]] = []  # (module and target, returned from a call)
CALLING = [threading.Lock(), 0, threading.Event()]  # how many have started, and "all have"


def at_exit_daemon(k: Kind) -> int:
    """Starts a daemon thread per function and type, which waits for GO and then calls it in a
    loop; once every module has its threads, `release_daemons` lets them go and the main thread
    returns. The verdict is the exit, whatever each thread is doing then."""
    for name, fn, valid in k.callables():
        call, returned = exit_call(k, name, fn, valid), threading.Event()

        def loop(call=call, returned=returned):
            GO.wait()
            with CALLING[0]:
                CALLING[1] += 1
                if CALLING[1] == len(DAEMONS):
                    CALLING[2].set()
            while True:
                try:
                    call()
                except BaseException:  # noqa: BLE001, S110 - the exit is the verdict
                    pass
                returned.set()
        k.done[name] = 1
        threading.Thread(target=loop, daemon=True).start()
        DAEMONS.append((f"{k.label} {name}", returned))
    return k.report()


def release_daemons(log: Log) -> int:
    """Lets every daemon thread call, waits until each has started its first call, and a moment
    for them to return from it (a thread may well not: chapter 4's join() waits for every
    thread that the others keep starting), which the log records. The main thread waits on one
    thing at a time: with dozens of threads taking turns at the GIL, each of its waits would
    cost it a turn (seconds in all)."""
    sys.setswitchinterval(0.0005)  # the main thread's turns come ten times sooner
    GO.set()
    if DAEMONS and not CALLING[2].wait(60):
        log(f"only {CALLING[1]} of {len(DAEMONS)} daemon threads started calling in 60 s")
        return 1
    time.sleep(0.5)
    still = [name for name, returned in DAEMONS if not returned.is_set()]
    log(f"every daemon thread is calling (still in its first call: {', '.join(still) or 'none'});"
        " the main thread returns")
    return 0


# ---------------------------------------------------------------------------------------------
# out_of_memory


def address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def out_of_memory(k: Kind) -> int:
    before = k.read_counters()
    # One call of each first, without the limit: a runtime that a module embeds (Go's) starts
    # on a thread of its own when the module is loaded and reserves its address space then, and
    # what happens to it at start-up under a limit is not what this kind is about.
    for name, fn, valid in k.callables():
        k.step(name, f"valid arguments {valid!r:.60}, before the limit", fn, *valid)
    gc.collect()
    limit, unlimited = address_space() + HEADROOM, resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit, unlimited[1]))
    k.log(f"address space limited to {limit >> 20} MiB")
    for name, fn, valid in k.callables():
        k.step(name, f"valid arguments {valid!r:.60}", fn, *valid)
        if HOSTILE_INT_LIMIT.get(name) is not None:
            continue  # its running time grows with its integers
        for i, v in enumerate(valid):
            if isinstance(v, int) and not isinstance(v, bool):
                for huge in HUGE_INTS:
                    k.step(name, f"argument {i} = {huge}", fn, *valid[:i], huge, *valid[i + 1:])
    filled = {}
    for name, t in k.types.items():
        store = lookup(k.name, name, CONTAINERS)
        if store is None:
            continue
        valid = k.valid(name) or ()
        positions = [i for i, v in enumerate(valid) if isinstance(v, int)
                     and not isinstance(v, bool)]
        for size in [*HUGE_INTS, valid[positions[0]] if positions else None]:
            if size is None:
                break
            args = valid[:positions[0]] + (size,) + valid[positions[0] + 1:] if positions \
                else valid
            obj, _ = k.step(name, f"T{args!r}", t, *args)
            if obj is None:
                continue
            item, pushes = object(), 2 * HEADROOM // 8
            k.log(f"{name}: {store}() into T{args!r} up to {pushes:,} times")
            k.done[name] += 1
            put = getattr(obj, store)
            n, error = 0, None
            try:
                for n in range(pushes):  # noqa: B007 - n is read after the loop
                    put(item)
            except BaseException as e:  # noqa: BLE001
                error, e.__traceback__ = e, None
                if not acceptable(e):
                    k.failures.append(f"{name}: {store}() raised {type(e).__name__}: {e}")
            filled[f"{name}{args!r}"] = (f"{type(error).__name__} after {n:,} calls of {store}()"
                                         if error else f"{pushes:,} calls of {store}() returned")
            del obj, put
            break  # the largest size it accepts is the one that matters
    resource.setrlimit(resource.RLIMIT_AS, unlimited)
    k.check_counters(before, "the calls under an address-space limit")
    return k.report(filled=filled)


# ---------------------------------------------------------------------------------------------
# null_args


def null_args(k: Kind) -> int:
    before = k.read_counters()
    for name, obj in [*k.functions.items(), *k.types.items()]:
        k.step(name, "collections.defaultdict(f)[0]",
               lambda: collections.defaultdict(obj)[0])
        k.step(name, "next(iter(f, sentinel))", lambda: next(iter(obj, object())))
    k.check_counters(before, "the calls with no arguments")
    return k.report()


# ---------------------------------------------------------------------------------------------


def label(path: str) -> str:
    """A staged module by its chapter and file name, as the suite names it: 10/ring.abi3.so."""
    return f"{Path(path).parent.name}/{Path(path).name}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=KINDS + ["list"])
    parser.add_argument("log")
    parser.add_argument("modules", nargs="+")
    parser.add_argument("--only", help="this function or type only")
    parser.add_argument("--depth", type=int, help=f"deep_nesting: instead of {DEPTH:,}")
    parser.add_argument("--valid", help="a dict literal of valid arguments, by function or type "
                                         "name, consulted before the registry")
    a = parser.parse_args(argv)
    log, status = Log(a.log), 0
    for path in a.modules:
        log(f"{label(path)} loading")
        try:
            module = load(path)
        except Exception as e:  # noqa: BLE001 - a module that refuses this CPython says so
            report({"module": label(path), "targets": {},
                    "failures": [f"cannot be imported: {type(e).__name__}: {e}"]})
            status = 1
            continue
        k = Kind(module, label(path), log)
        if a.kind == "list":
            report({"module": k.label, "functions": sorted(k.functions), "types": sorted(k.types)})
            continue
        if a.only:
            k.functions = {n: f for n, f in k.functions.items() if n == a.only}
            k.types = {n: t for n, t in k.types.items() if n == a.only}
        k.depth = a.depth or DEPTH
        k.given = ast.literal_eval(a.valid) if a.valid else {}
        status |= globals()[a.kind](k)
        log(f"{label(path)} done")
    if a.kind == "at_exit_daemon":
        status |= release_daemons(log)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
