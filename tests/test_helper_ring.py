"""Chapter 10's Ring through the helper (steps/10-classes/helper-ring, module helper_ring), under
every CPython >= 3.10 on the machine, the debug builds included: ring.md's contract (until the
shared tests/children/ring_contract.py checks it), and the helper's runtime rules for classes: a borrow
that a callback re-enters raises RuntimeError, a method or slot on the wrong type of self raises
TypeError, the class does not exist before the module is executed, the collector skips a value
that a `&mut self` method holds, and every Rust value is dropped exactly once. Each run is a
child process, so a crash is reported instead of taking pytest down."""

import subprocess
from pathlib import Path

import pytest

from support import ABI3_VERSIONS, STAGE, describe_exit, interpreter, missing, crashreport

STAGED = STAGE / "10"
HERE = Path(__file__).parent


def run(version: str, code: str) -> str:
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    if not (STAGED / "helper_ring.abi3.so").exists():
        pytest.fail(f"{STAGED} is not staged: run `just build` first")
    proc = crashreport.run([python, "-X", "dev", "-c", code], cwd=STAGED,
                           timeout=120)
    assert proc.returncode == 0, f"under CPython {version}: {describe_exit(proc)}"
    return proc.stdout


PRELUDE = """
import gc, sys, weakref
sys.path.insert(0, '.')
import helper_ring
from helper_ring import Ring, live

def raises(exc, f, *args, match=None, **kwargs):
    try:
        f(*args, **kwargs)
    except exc as e:
        assert match is None or str(e) == match, (str(e), match)
        return e
    raise AssertionError(f"{f} did not raise {exc.__name__}")
"""


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_contract(version):
    run(version, PRELUDE + """
r = Ring(3)
assert (len(r), r.capacity, r.items(), repr(r)) == (0, 3, [], "Ring(3, [])")
assert [r.push(n) for n in range(5)] == [None, None, None, 0, 1]
assert (r.items(), len(r), repr(r)) == ([2, 3, 4], 3, "Ring(3, [2, 3, 4])")
items = r.items(); items.append(9); assert r.items() == [2, 3, 4]   # a new list each time
assert Ring(capacity=2).capacity == 2
raises(ValueError, Ring, 0); raises(ValueError, Ring, -5)
for bad in ("3", 3.0, None, [3]):
    raises(TypeError, Ring, bad)
raises(TypeError, Ring); raises(TypeError, Ring, 1, 2); raises(TypeError, Ring, cap=1)
raises(TypeError, r.push); raises(TypeError, r.push, 1, 2); raises(TypeError, r.push, item=1)
raises(AttributeError, setattr, r, "capacity", 4)
r.clear(); assert (len(r), r.items(), r.capacity) == (0, [], 3)
# equality: same capacity and equal items; NotImplemented otherwise; unhashable
a, b = Ring(2), Ring(2)
a.push(1); b.push(1.0)
assert a == b and not (a != b) and a != Ring(3) and Ring(2) != a
assert a.__eq__(5) is NotImplemented and (a == 5) is False and a != "x"
for op in ("__lt__", "__le__", "__gt__", "__ge__"):
    assert getattr(a, op)(b) is NotImplemented
raises(TypeError, lambda: a < b)
assert Ring.__hash__ is None
raises(TypeError, hash, a)
# weak references
w = weakref.ref(a); fired = []
w2 = weakref.ref(b, fired.append)
assert w() is a
del a, b
assert w() is None and len(fired) == 1
# subclassing
class Recent(Ring):
    def newest(self):
        return self.items()[-1]
s = Recent(2); s.push("x"); s.push("y"); s.extra = 1
assert (repr(s), s.newest(), s.__dict__) == ("Recent(2, ['x', 'y'])", "y", {"extra": 1})
t = Ring(2); t.push("x"); t.push("y")
assert s == t and t == s and isinstance(s, Ring)
assert weakref.ref(s)() is s
del s, t, r, items, w, w2, fired
gc.collect()
assert live() == 0, live()
""")


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_cycles_and_drops(version):
    run(version, PRELUDE + """
gc.collect(); assert live() == 0
r = Ring(2); r.push(r)
assert r in gc.get_referents(r) and Ring in gc.get_referents(r)
w = weakref.ref(r)
del r
assert live() == 1 and w() is not None
gc.collect()
assert live() == 0 and w() is None
# a cycle through a subclass instance, its __dict__ and two rings
class Recent(Ring): pass
a, b = Recent(1), Ring(1)
a.push(b); b.push(a); a.me = a
del a, b
gc.collect()
assert live() == 0, live()
# many made and dropped: each value dropped once
rings = [Ring(n) for n in range(1, 200)]
assert live() == 199
for n, x in enumerate(rings):
    x.push(n)
del rings, x
assert live() == 0
if hasattr(sys, "gettotalrefcount"):
    def churn():
        for n in range(200):
            x = Ring(4); x.push(n); repr(x); x.push(x); x.items(); x == Ring(4); x.clear()
    churn(); gc.collect()
    before = sys.gettotalrefcount()
    churn(); gc.collect()
    assert sys.gettotalrefcount() - before < 50, sys.gettotalrefcount() - before
""")


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_reentrant_borrow_raises(version):
    out = run(version, PRELUDE + """
MSG = "Ring is already borrowed"
class PushesOnEq:
    def __init__(self, ring): self.ring = ring
    def __eq__(self, other):
        self.ring.push("meddled")      # a &mut while __eq__ holds &self
        return True
a, b = Ring(2), Ring(2)
a.push(PushesOnEq(a)); b.push(1)
raises(RuntimeError, lambda: a == b, match=MSG)
assert len(a) == 1
class PushesOnRepr:
    def __init__(self, ring): self.ring = ring
    def __repr__(self):
        self.ring.clear()
        return "x"
c = Ring(2); c.push(PushesOnRepr(c))
raises(RuntimeError, repr, c, match=MSG)
# reads while &self is held are fine (shared borrows)
class ReadsOnRepr:
    def __init__(self, ring): self.ring = ring
    def __repr__(self): return f"<{len(self.ring)} {self.ring.capacity} {len(self.ring.items())}>"
d = Ring(2); d.push(ReadsOnRepr(d))
assert repr(d) == "Ring(2, [<1 2 1>])", repr(d)
# __del__ during clear(), which holds &mut: the callback gets RuntimeError (unraisable)
seen = []
sys.unraisablehook = lambda u: seen.append((type(u.exc_value), str(u.exc_value)))
class ReadsOnDel:
    def __init__(self, ring): self.ring = ring
    def __del__(self): self.ring.items()
e = Ring(2); e.push(ReadsOnDel(e))
e.clear()
assert seen == [(RuntimeError, MSG)], seen
assert e.items() == []
# the collector runs while clear() holds &mut: it skips the value, and collects it later
class CollectsOnDel:
    def __del__(self): gc.collect()
f = Ring(2); f.push(f); f.push(CollectsOnDel())
g = Ring(3); g.push(g); g.push(CollectsOnDel()); g.push(1)
f.clear(); del f
g.clear(); del g
gc.collect()
assert live() == 5, live()   # f and g freed; a, b, c, d and e are still here
del a, b, c, d, e
gc.collect()
assert live() == 0, live()
# When the collector starts. Up to 3.11 an allocation that passes the threshold collects at once,
# inside the method that allocates (items() makes a list): a callback of the collector finds the
# ring borrowed. From 3.12 the allocation only schedules a collection, which runs between two
# bytecodes, after the method returned.
h = Ring(2); h.push(1)
found = set()
def during_collection(phase, info):
    if phase == "start":
        try:
            h.push(2)
            found.add("free")
        except RuntimeError:
            found.add("borrowed")
gc.callbacks.append(during_collection)
thresholds = gc.get_threshold()
gc.set_threshold(1)
kept = [h.items() for _ in range(2000)]   # kept, so each list is a new allocation
gc.set_threshold(*thresholds)
gc.callbacks.remove(during_collection)
assert found == ({"free", "borrowed"} if sys.version_info < (3, 12) else {"free"}), found
print("ok")
""")
    assert out == "ok\n"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_wrong_self_raises(version):
    run(version, PRELUDE + """
r = Ring(2)
raises(TypeError, Ring.push, 42, 1)
raises(TypeError, Ring.items, "not a ring")
raises(TypeError, Ring.capacity.__get__, 42)
raises(TypeError, Ring.__repr__, 42)
raises(TypeError, Ring.__len__, [])
raises(TypeError, Ring.__eq__, 1, r)
assert Ring.__eq__(r, 1) is NotImplemented
raises(TypeError, Ring.__new__, int, 3)
raises(TypeError, object.__new__, Ring)
class NotARing:
    __repr__ = Ring.__repr__
    __len__ = Ring.__len__
raises(TypeError, repr, NotARing()); raises(TypeError, len, NotARing())
""")


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_no_class_before_exec_and_one_per_module(version):
    run(version, PRELUDE + """
import importlib.util
spec = importlib.util.find_spec("helper_ring")
m = importlib.util.module_from_spec(spec)
assert not hasattr(m, "Ring")        # the exec slot makes it
assert m.live() == 0
spec.loader.exec_module(m)
assert m.Ring is not Ring and m.Ring.__module__ == "helper_ring"
x, y = m.Ring(1), Ring(1)
x.push(1); y.push(1)
assert type(x) is not type(y) and x == y  # the same Rust class, the same layout
raises(TypeError, Ring.push, x, 2)  # but each type checks its own instances
del x, y, m
gc.collect()
assert live() == 0
""")


@pytest.mark.parametrize("version", ["3.12", "3.13", "3.14", "3.15"])
def test_subinterpreters_with_their_own_gil(version):
    """Each isolated interpreter (its own GIL) gets its own module object, so its own Ring type;
    cycles are collected there, and every value is dropped by the time it is destroyed."""
    out = run(version, PRELUDE + """
import os
if sys.version_info >= (3, 13):
    import _interpreters as interpreters
    new = lambda: interpreters.create("isolated")
    def run(interp, code):
        failure = interpreters.run_string(interp, code)
        assert failure is None, failure
else:
    import _xxsubinterpreters as interpreters
    new = lambda: interpreters.create(isolated=True)
    run = interpreters.run_string
CODE = f'''
import gc, sys
sys.path.insert(0, {os.getcwd()!r})
import helper_ring
r = helper_ring.Ring(2)
r.push("x"); assert repr(r) == "Ring(2, ['x'])" and type(r).__module__ == "helper_ring"
r.push(r); assert len(r) == 2
class Recent(helper_ring.Ring): pass
k = Recent(1); k.push(k)
del r, k
gc.collect()
'''
keep = Ring(1)
one, two = new(), new()
run(one, CODE); run(two, CODE)
for interp in (one, two):
    interpreters.destroy(interp)
assert live() == 1, live()
print("ok")
""")
    assert out == "ok\n"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_a_chain_of_a_million_rings_is_freed(version):
    """Freeing a ring releases its items, and an item may be the last reference to another
    ring: a chain of rings, each pushed into the next, is a chain of nested deallocations. The
    helper's trashcan (in `Py`'s drop) lets releases past a depth of 50 wait, and the release at
    that depth runs them in a loop, so a million links free at a fixed depth of the C stack
    (without it, 100,000 overflowed the stack on 3.10 to 3.13). The second chain goes through
    a Python subclass (subtype_dealloc) and a list, whose deallocation has CPython's own
    trashcan, between the helper's."""
    out = run(version, PRELUDE + """
r = Ring(1)
for _ in range(1_000_000):
    s = Ring(1); s.push(r); r = s
del r, s
assert live() == 0, live()
class Sub(Ring): pass
r = Sub(1)
for _ in range(300_000):
    s = Sub(1); s.push([r]); r = s
del r, s
gc.collect()
assert live() == 0, live()
print("ok")
""")
    assert out == "ok\n"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_every_instance_has_its_value(version):
    """The type is immutable (Py_TPFLAGS_IMMUTABLETYPE): `Ring.__new__` cannot be replaced by one
    that returns `object.__new__(cls)`, an instance whose Rust value was never written (zeroed
    bytes: a VecDeque with a null pointer, a count dropped that was never made). Every other way
    Python has to make an instance without calling the class's `__new__` is refused too, so each
    value is made once and dropped once."""
    out = run(version, PRELUDE + """
import copy, pickle
patched = lambda cls, *args: object.__new__(cls)
raises(TypeError, setattr, Ring, "__new__", patched)
raises(TypeError, setattr, Ring, "push", lambda self, item: None)
raises(TypeError, delattr, Ring, "items")
raises(TypeError, object.__new__, Ring)
class Sub(Ring):
    def __new__(cls, *args):
        return object.__new__(cls)
raises(TypeError, Sub, 3)
class Super(Ring):
    def __new__(cls, *args):
        return super(Ring, cls).__new__(cls)
raises(TypeError, Super, 3)
class Later(Ring):
    pass
Later.__new__ = patched      # a subclass is mutable, and its __new__ still refused
raises(TypeError, Later, 3)
r = Ring(3); r.push(1)
class Other(Ring):
    pass
o = Other(2)
raises(TypeError, setattr, o, "__class__", Ring)         # Ring is immutable
raises(TypeError, setattr, o, "__class__", type("Plain", (), {}))
raises(TypeError, copy.copy, r)
raises(TypeError, pickle.dumps, r)
assert (r.items(), o.capacity, live()) == ([1], 2, 2)
del r, o
gc.collect()
assert live() == 0, live()
print("ok")
""")
    assert out == "ok\n"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_allocation_failures_raise_memory_error(version):
    """A capacity whose items could never fit in memory is refused, and a push that cannot grow
    the ring's storage raises MemoryError, as list.append does, instead of aborting the process
    in Rust's allocator. The push runs under an address-space limit 64 MiB above what the
    process uses, and items(), which copies the pointers first, under one 1 MiB above."""
    out = run(version, PRELUDE + """
import resource
for capacity in (2**59, 2**62, 2**63 - 1):
    raises(MemoryError, Ring, capacity, match="capacity too large")
r = Ring(2**40)
used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, (used + (64 << 20), hard))
try:
    while True:
        r.push(None)
except MemoryError as e:
    assert str(e) == "no memory for another item", str(e)
n = len(r)
assert n > 1000, n
# items() copies n pointers: with 1 MiB left, that raises too
used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (used + (1 << 20), hard))
raises(MemoryError, r.items)
resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
assert len(r.items()) == n
del r
assert live() == 0
print("ok")
""")
    assert out == "ok\n"


@pytest.mark.parametrize("version", ["3.12", "3.13", "3.14", "3.15", "3.14-dbg", "3.15-dbg"])
def test_a_chain_freed_in_another_interpreter_inside_a_chain(version):
    """The trashcan is per thread, and a thread can switch interpreters in the middle of freeing
    a chain: an item's __del__ runs another interpreter's code on the same thread
    (_interpreters.run_string), which frees a chain of its own. That interpreter's releases must
    not wait in this one's list (they would be released under this interpreter's GIL): they get
    a count and a list of their own. Interpreters with their own GIL exist from 3.12 on."""
    out = run(version, PRELUDE + """
import os
if sys.version_info >= (3, 13):
    import _interpreters as interpreters
    sub = interpreters.create("isolated")
    def run_there(code):
        assert interpreters.run_string(sub, code) is None
else:
    import _xxsubinterpreters as interpreters
    sub = interpreters.create(isolated=True)
    run_there = lambda code: interpreters.run_string(sub, code)
run_there(f"import sys; sys.path.insert(0, {os.getcwd()!r}); import helper_ring")
CHAIN = '''
r = helper_ring.Ring(1)
for _ in range(200_000):
    s = helper_ring.Ring(1); s.push(r); r = s
del r, s
assert helper_ring.live() == 0, helper_ring.live()
'''
freed_there = []
class Switches:
    def __del__(self):
        run_there(CHAIN)
        freed_there.append(True)
r = Ring(1); r.push(Switches())
for _ in range(1000):            # deep enough that the Switches is released from the list
    s = Ring(1); s.push(r); r = s
del r, s
assert freed_there == [True] and live() == 0, (freed_there, live())
interpreters.destroy(sub)
print("ok")
""")
    assert out == "ok\n"
