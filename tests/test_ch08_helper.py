"""Chapter 8's modules, written with the helper crate (steps/08-helper), under every CPython >= 3.10
on the machine: the keyword-taking sum_kw and the hand-written raw_kw keep chapter 7's contract;
tally keeps its state per module object, raises its own exception, and takes the GIL back from
threads; and in subinterpreters with their own GIL (3.12 on), each keeps its own state while
single-phase modules are refused. (The foo module is covered by tests/test_foo_contract.py, the
hostile-input and leak suites by tests/test_ch06_reliability.py, which find them by themselves.)
Each run is a child process, so a crash is reported instead of taking pytest down."""

import subprocess
from pathlib import Path

import pytest

from support import ABI3_VERSIONS, CHILDREN, STAGE, describe_exit, interpreter, missing

STAGED = STAGE / "08"


def run(version: str, code: str, cwd: Path = STAGED, timeout: float = 120) -> str:
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    if not (STAGED / "tally.abi3.so").exists():
        pytest.fail(f"{STAGED} is not staged: run `just build` first")
    proc = subprocess.run([python, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"under CPython {version}: {describe_exit(proc)}"
    return proc.stdout


@pytest.mark.parametrize("version", ABI3_VERSIONS)
@pytest.mark.parametrize("module, function, keywords", [
    ("helper_sum", "sum", "reject"), ("helper_sum", "sum_kw", "accept"), ("raw_kw", "sum", "accept")])
def test_sum_contract(module, function, keywords, version):
    run(version, f"""
import sys; sys.path.insert(0, {str(CHILDREN)!r})
from ch07_contract import check
from load_extension import load
check(getattr(load({str(STAGED / (module + '.abi3.so'))!r}), {function!r}), {keywords!r})
""")


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_tally(version):
    run(version, """
import gc, inspect, sys
sys.path.insert(0, '.')
import tally
assert (tally.add(), tally.add(41), tally.add(n=8), tally.add(None), tally.count()) == (1, 42, 50, 51, 51)
try:
    tally.add(2**64 - 1)
    raise AssertionError("no exception")
except tally.TallyOverflow as e:
    assert str(e) == "the count would overflow" and isinstance(e, OverflowError)
assert tally.count() == 51
assert tally.add_from_threads(16) == 67 and tally.add_from_threads(0) == 67
try:
    tally.add_from_threads(65)
    raise AssertionError("no exception")
except ValueError:
    pass
assert tally.count_primes(100) == 25
assert tally.describe(1, 2, 3, False, "", b"") == 'i=1 u=2 x=3.0 flag=false text="" data=[] extra=None'
assert str(inspect.signature(tally.add)) == "(n=None)"
for args, kwargs, exc, text in [
        ((), {"m": 1}, TypeError, "add() got an unexpected keyword argument 'm'"),
        ((1,), {"n": 1}, TypeError, "add() got multiple values for argument 'n'"),
        ((1, 2), {}, TypeError, "add() takes from 0 to 1 positional arguments but 2 were given"),
        ((-1,), {}, OverflowError, "add() argument 'n': can't convert negative int to unsigned"),
        (("1",), {}, TypeError, "add() argument 'n': 'str' object cannot be interpreted as an integer"),
        ((2**64,), {}, OverflowError, "add() argument 'n': ")]:
    try:
        tally.add(*args, **kwargs)
        raise AssertionError(f"add{args}{kwargs} returned")
    except exc as e:
        assert str(e).startswith(text), (args, kwargs, str(e))
# the module's state holds its exception types and tells the collector (m_traverse)
assert tally.TallyOverflow in gc.get_referents(tally)
""")


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_subinterpreters(version):
    out = run(version, "import runpy; runpy.run_path('subinterpreters.py')")
    if version.removesuffix("-dbg") in ("3.10", "3.11"):
        assert out.endswith("no interpreter has its own GIL before 3.12\n"), out
        return
    lines = out.splitlines()
    assert "main interpreter: tally.count() = 1" in lines, out
    assert "interpreter one: tally.count() = 14" in lines, out  # 10, then 4 threads' 1 each
    assert "interpreter two: tally.count() = 100" in lines, out
    assert "  the helper's foo: foo.sum(2, 40) = 42" in lines, out
    refused = "ImportError: module foo does not support loading in subinterpreters"
    assert f"  chapter 3's foo: {refused}" in lines, out
    assert f"  PyO3's foo: {refused}" in lines, out
    assert lines[-1] == "main interpreter: tally.count() = 1", out


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_each_version_gets_only_the_slots_it_knows(version):
    """The module definition that PyInit_ returns carries the slots this CPython accepts."""
    out = run(version, """
import ctypes, sys
sys.path.insert(0, '.')
import tally
api = ctypes.pythonapi
api.PyModule_GetDef.restype = ctypes.c_void_p
api.PyModule_GetDef.argtypes = [ctypes.py_object]
definition = api.PyModule_GetDef(tally)
slots = ctypes.cast(definition + 40 + 8 * 4, ctypes.POINTER(ctypes.c_void_p))[0]
found = []
while True:
    number = ctypes.cast(slots, ctypes.POINTER(ctypes.c_int))[0]
    value = ctypes.cast(slots + 8, ctypes.POINTER(ctypes.c_void_p))[0]
    if number == 0:
        break
    found.append((number, value))
    slots += 16
print(found[1:])
""")
    expected = {"3.10": [], "3.11": [], "3.12": [(3, 2)]}.get(version.removesuffix("-dbg"),
                                                               [(3, 2), (4, None)])
    assert out.strip() == str(expected), out


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_a_function_called_before_exec_raises(version):
    """module_from_spec makes the module object and its functions; the state exists only once
    exec_module has run (PyModule_ExecDef allocates it). A call in between is an exception, not a
    read through a NULL state (which crashed with SIGSEGV before the helper checked)."""
    run(version, """
import importlib.util, sys
sys.path.insert(0, '.')
spec = importlib.util.find_spec('tally')
m = importlib.util.module_from_spec(spec)
for call in (m.count, lambda: m.add(5), lambda: m.add_from_threads(2)):
    try:
        call()
        raise AssertionError("no exception")
    except RuntimeError as e:
        assert "before the module was executed" in str(e), str(e)
# a function without the module parameter needs no state
assert m.describe(1, 2, 3, False, "", b"").startswith("i=1 ")
spec.loader.exec_module(m)
assert (m.count(), m.add(5), m.count()) == (0, 5, 5)
""")


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_calls_racing_exec_see_no_state_or_all_of_it(version):
    """The runtime side of the state's rule without a GIL: exec writes the state, then publishes
    it (a release store of `ready`), and every call looks at `ready` first (an acquire load). So a
    call racing exec_module from another thread either raises the not-executed RuntimeError or
    sees the whole state, its count 0 and its exception type there; never a half-written one.
    Under a GIL build the threads take turns, so this holds the rule, it does not stress the
    orderings (loom and TSan do that for chapter 13's borrow state; this one is two lines)."""
    out = run(version, """
import importlib.util, sys, threading
sys.path.insert(0, '.')
sys.setswitchinterval(1e-6)  # switch threads as often as CPython will
spec = importlib.util.find_spec('tally')
seen, errors = {"refused": 0, "state": 0}, []
def caller(m, started):
    # Each thread calls until it sees the state: at least once before exec (it is started
    # first), then as often as the scheduler lets it while exec runs.
    while True:
        try:
            assert (m.count(), m.add(0)) == (0, 0)
            seen["state"] += 1
            return
        except RuntimeError as e:
            if "before the module was executed" not in str(e):
                errors.append(repr(e))
                return
            seen["refused"] += 1
        except BaseException as e:
            errors.append(repr(e))
            return
        finally:
            started.set()
for _ in range(50):
    m = importlib.util.module_from_spec(spec)
    started = [threading.Event() for _ in range(4)]
    threads = [threading.Thread(target=caller, args=(m, s)) for s in started]
    for t in threads:
        t.start()
    for s in started:
        s.wait()
    spec.loader.exec_module(m)
    for t in threads:
        t.join()
print(errors or "no errors")
print(seen["refused"] >= 200, seen["state"])
""")
    assert out.split() == ["no", "errors", "True", "200"], out


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_a_conversion_error_keeps_its_type(version):
    """The wrapper names the parameter in a conversion's error. It may rebuild the exception with
    a longer message only for a type that is made from one message: a UnicodeEncodeError needs
    five arguments (re-raising it from a message gave TypeError), and an exception raised by a
    caller's __index__ is the caller's, so both are left as they are, with a note on 3.11+."""
    run(version, """
import sys
sys.path.insert(0, '.')
import tally
class Key:
    def __index__(self):
        raise KeyError("from __index__")
for args, exc in [((1, 2, 3, False, "\\udc80", b""), UnicodeEncodeError),
                  ((Key(), 2, 3, False, "", b""), KeyError)]:
    try:
        tally.describe(*args)
        raise AssertionError("no exception")
    except exc as e:
        assert type(e) is exc, repr(e)
        if exc is KeyError:
            assert e.args == ("from __index__",), e.args
        else:
            assert (e.encoding, e.start, e.end, e.reason) == ("utf-8", 0, 1, "surrogates not allowed")
        param = "text" if exc is UnicodeEncodeError else "i"
        note = [f"describe() argument '{param}'"]
        assert getattr(e, "__notes__", None) == (note if sys.version_info >= (3, 11) else None), e
# a TypeError or OverflowError is made from its message: that gets the parameter's name in front
for args, exc, text in [((1.5, 2, 3, False, "", b""), TypeError,
                         "describe() argument 'i': 'float' object cannot be interpreted as an integer"),
                        ((1, -1, 3, False, "", b""), OverflowError,
                         "describe() argument 'u': can't convert negative int to unsigned")]:
    try:
        tally.describe(*args)
        raise AssertionError("no exception")
    except exc as e:
        assert type(e) is exc and str(e) == text and not hasattr(e, "__notes__"), repr(e)
""")



@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_count_primes_is_bounded(version):
    """count_primes runs without the GIL, where Ctrl-C cannot stop it: an n above 1,000,000 (well
    under a second of work) is refused, as in chapter 4, instead of running for ever."""
    run(version, """
import sys
sys.path.insert(0, '.')
import tally
for n in (1_000_001, 2**63 - 1, 2**64 - 1):
    try:
        tally.count_primes(n)
        raise AssertionError(f"count_primes({n}) returned")
    except ValueError as e:
        assert str(e) == "n must be at most 1000000", str(e)
assert tally.count_primes(1_000_000) == 78498
""")


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_threads_are_refused_once_the_interpreter_exits(version):
    """tally.add_from_threads (the helper's Module::detach) called from a __del__ while the
    interpreter shuts down: the threads it starts could never take the GIL back (CPython 3.10 to
    3.13 park them for good), and the call would wait for them for ever, a process that never
    exits. detach raises RuntimeError instead, once the interpreter has run its exit functions;
    the same in a subinterpreter being destroyed (3.12 on, where each has its own GIL). A hang
    is this test's timeout."""
    out = run(version, '''
import os, sys
sys.path.insert(0, '.')
import tally
CALL = """
import tally
class AtExit:
    def __del__(self):
        try:
            tally.add_from_threads(2)
            print(WHERE, "no exception", flush=True)
        except RuntimeError as e:
            print(WHERE, "RuntimeError:", e, flush=True)
kept = AtExit()
"""
assert tally.add_from_threads(2) == 2
if sys.version_info >= (3, 12):
    if sys.version_info >= (3, 13):
        import _interpreters as interpreters
        new = lambda: interpreters.create("isolated")
    else:
        import _xxsubinterpreters as interpreters
        new = lambda: interpreters.create(isolated=True)
    sub = new()
    setup = f"import sys; sys.path.insert(0, {os.getcwd()!r}); WHERE = 'subinterpreter:'"
    assert interpreters.run_string(sub, setup + CALL) is None
    interpreters.destroy(sub)
WHERE = "main:"
exec(CALL)
''', timeout=60)
    refused = ("RuntimeError: cannot start threads that take the GIL: the interpreter is "
               "shutting down")
    sub = [f"subinterpreter: {refused}"] if version.removesuffix("-dbg") >= "3.12" else []
    assert out.splitlines() == sub + [f"main: {refused}"], out
