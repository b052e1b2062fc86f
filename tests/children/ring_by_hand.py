"""What the hand-written Ring of chapter 10 (steps/10-classes/src/lib.rs) promises beyond
tests/children/ring_contract.py: deep nesting freed without a crash (its trashcan), on several threads and
across interpreters; a type Python code cannot patch; an instance that no `__new__` initialised;
a hostile metaclass; memory that runs out; a subclass's own `__init__`; a ring in its own repr.

Run as `python ring_by_hand.py PATH/TO/ring.abi3.so CHECK` with any CPython >= 3.10 (standard
library only), CHECK one of the names in CHECKS below. Exit status 0 means the check passed; a
failed check exits 1 with a message; a crash shows up as death by a signal.
"""

import gc
import sys
import threading
import time

from load_extension import load

LINKS = 1_000_000  # the chain the trashcan must free; 100,000 crash a ring without one


def chain(Ring, links, wrap=lambda r: r):
    """`links` rings, each holding (through `wrap`) the one made before it; returns the last."""
    r = Ring(1)
    for _ in range(links):
        s = Ring(1)
        s.push(wrap(r))
        r = s
    return r


def expect(exc_type, fn, *args, **kwargs):
    try:
        result = fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError(f"{fn!r}{args!r}{kwargs or ''} returned {result!r}, "
                         f"expected {exc_type.__name__}")


def check_chain(m):
    gc.collect()
    base = m.live()
    r = chain(m.Ring, LINKS)
    assert m.live() == base + LINKS + 1
    del r  # freed link by link: without a trashcan, one C stack frame set per link
    assert m.live() == base, m.live() - base


def check_shapes(m):
    """Rings nested through other objects: each shape's deallocators take turns."""
    Ring = m.Ring

    class Recent(Ring):
        pass

    class Holder:
        def __init__(self, item):
            self.item = item

    def in_subclass(r):
        s = Recent(1)
        s.push(r)
        return s

    def in_attribute(r):
        s = Recent(1)
        s.held = r  # through the subclass's __dict__
        return s

    shapes = {
        "a ring in a list": lambda r: [r],
        "a ring in a tuple": lambda r: (r,),
        "a ring in a dict": lambda r: {"r": r},
        "a ring in an instance of a Python class": Holder,
        "a ring in a subclass's ring": in_subclass,
        "a ring in a subclass's attribute": in_attribute,
    }
    gc.collect()
    base = m.live()
    for name, wrap in shapes.items():
        r = chain(Ring, LINKS // 5, wrap)
        del r
        gc.collect()  # the subclass shapes are freed by reference counting too; this only checks
        assert m.live() == base, f"{name}: {m.live() - base} rings left"


def check_threads(m):
    """Two threads free chains at once; an item's __del__ lets the other thread run in the middle
    of a chain (time.sleep releases the GIL), so each thread's trashcan must stay its own."""
    Ring = m.Ring
    gc.collect()
    base = m.live()
    sys.setswitchinterval(1e-5)

    class Yields:
        def __del__(self):
            time.sleep(0)

    def wrap_some(r, count=[0]):
        count[0] += 1
        if count[0] % 1000 == 0:
            s = Ring(2)
            s.push(Yields())
            s.push(r)
            return s
        return r

    chains = [chain(Ring, LINKS // 4, wrap_some) for _ in range(2)]
    errors = []

    def free(i):
        try:
            chains[i] = None
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=free, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert m.live() == base, m.live() - base


INTERPRETER = """
import sys
sys.path.insert(0, {folder!r})
from load_extension import load
from ring_by_hand import chain
m = load({path!r})
before = m.live()  # the other interpreter waits on this thread: its rings stay as they are
r = chain(m.Ring, {links})
del r
assert m.live() == before, m.live() - before
"""


def check_interpreters(m):
    """A chain whose items run another interpreter's code on this thread while it is freed: that
    interpreter frees a chain of its own there. Each interpreter's values stay with it: none is
    dropped under another interpreter's thread state. 3.12 and later run the other interpreter
    with a GIL of its own."""
    if sys.version_info >= (3, 13):
        import _interpreters as interpreters
        interp = interpreters.create("isolated")
    else:
        import _xxsubinterpreters as interpreters
        interp = (interpreters.create(isolated=True) if sys.version_info >= (3, 12)
                  else interpreters.create())
    Ring = m.Ring
    gc.collect()
    base = m.live()
    code = INTERPRETER.format(folder=sys.path[0], path=m.__file__, links=LINKS // 5)
    failures = []

    class RunsThere:
        def __del__(self):
            failures.append(interpreters.run_string(interp, code))

    def wrap(r, count=[0]):
        count[0] += 1
        if count[0] in (LINKS // 4, LINKS // 4 + 37):  # two depths in the trashcan
            s = Ring(2)
            s.push(RunsThere())
            s.push(r)
            return s
        return r

    r = chain(Ring, LINKS // 2, wrap)
    del r
    interpreters.destroy(interp)
    assert failures == [None, None], failures
    assert m.live() == base, m.live() - base


def check_immutable(m):
    """No Python code can patch the type: not __new__ (which could make an instance that
    Ring.__new__ never initialised), not a method. A subclass stays mutable."""
    Ring = m.Ring
    expect(TypeError, setattr, Ring, "__new__", lambda cls, *a: object.__new__(cls))
    expect(TypeError, setattr, Ring, "push", lambda self, item: None)
    expect(TypeError, delattr, Ring, "clear")
    assert Ring(2).push(1) is None

    class Recent(Ring):
        pass

    Recent.note = "a subclass takes attributes"
    Recent.__new__ = lambda cls, *a: object.__new__(cls)  # object.__new__ refuses it
    expect(TypeError, Recent, 3)


def check_never_written(m):
    """An instance made by tp_alloc alone, as C code can (here through ctypes): every method
    raises, and freeing it drops no value, since none was written."""
    import ctypes
    Ring = m.Ring
    alloc = ctypes.pythonapi.PyType_GenericAlloc
    alloc.restype, alloc.argtypes = ctypes.py_object, [ctypes.py_object, ctypes.c_ssize_t]
    gc.collect()
    base = m.live()
    blank = alloc(Ring, 0)
    assert type(blank) is Ring
    for attempt in (lambda: blank.push(1), blank.items, blank.clear, lambda: blank.capacity,
                    lambda: len(blank), lambda: repr(blank), lambda: blank == Ring(1),
                    lambda: Ring(1) == blank):
        expect(ValueError, attempt)
    assert gc.get_referents(blank) == [Ring]
    blank.__class__  # noqa: B018 - still an object CPython can use
    gc.collect()
    del blank
    gc.collect()
    assert m.live() == base, f"live() moved by {m.live() - base}: a value that was never written "\
                             "was dropped"


def check_metaclass(m):
    """A metaclass can make a subclass's __name__ anything; repr must not trust it."""
    class Meta(type):
        __name__ = property(lambda cls: 12345)

    class Odd(m.Ring, metaclass=Meta):
        pass

    e = expect(TypeError, repr, Odd(3))
    assert "__name__" in str(e), e

    class Failing(type):
        @property
        def __name__(cls):
            raise ZeroDivisionError("no name")

    class Nameless(m.Ring, metaclass=Failing):
        pass

    expect(ZeroDivisionError, repr, Nameless(3))


def check_capacity(m):
    """A capacity no memory could hold is refused; the largest possible one is accepted."""
    Ring = m.Ring
    most = (2**63 - 1) // 8  # a VecDeque of 8-byte items holds at most isize::MAX bytes
    for bad in (most + 1, 2**62, 2**63 - 1):
        expect(MemoryError, Ring, bad)
        expect(MemoryError, Ring, capacity=bad)
    big = Ring(most)  # no memory is taken up front
    big.push(1)
    assert len(big) == 1 and big.capacity == most


def check_out_of_memory(m):
    """Pushing until the address space runs out: MemoryError, as list.append raises, and the
    ring stays whole. (Run alone: it limits this process's address space.)"""
    import resource
    Ring = m.Ring
    r = Ring(2**40)
    with open("/proc/self/statm") as f:
        size = int(f.read().split()[0]) * resource.getpagesize()
    limit = size + 64 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    pushed = 0
    try:
        while pushed < 2**26:  # 512 MiB of items: more than the limit leaves
            r.push(None)
            pushed += 1
    except MemoryError:
        pass
    else:
        raise AssertionError(f"{pushed} items pushed under a limit of {limit} bytes")
    assert len(r) == pushed and pushed > 0, (len(r), pushed)
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)
    assert r.push(0) is None and len(r) == pushed + 1
    del r


def check_subclass_init(m):
    """A subclass's own __init__ with more parameters than Ring(capacity): Ring.__new__ takes the
    capacity (first, or capacity=) and leaves the rest to that __init__."""
    Ring = m.Ring

    class Labeled(Ring):
        def __init__(self, capacity, label):
            super().__init__()
            self.label = label

    a = Labeled(3, "a")
    b = Labeled(capacity=2, label="b")
    c = Labeled(label="c", capacity=4)
    assert (a.capacity, a.label, b.capacity, b.label, c.capacity) == (3, "a", 2, "b", 4)
    a.push(1)
    assert repr(a) == "Labeled(3, [1])", repr(a)
    expect(TypeError, Labeled, "3", "x")
    expect(ValueError, Labeled, 0, "x")
    expect(TypeError, Labeled, label="x")  # no capacity
    expect(TypeError, Labeled, 3)  # __init__'s own error: label is missing

    class Recent(Ring):  # no __init__ of its own: Ring's rules
        pass

    expect(TypeError, Recent, 3, "x")
    expect(TypeError, Ring, 3, "x")


def check_recursive_repr(m):
    """A ring that holds itself, as deque does: the inner one is [...]."""
    Ring = m.Ring
    r = Ring(2)
    r.push(r)
    assert repr(r) == "Ring(2, [[...]])", repr(r)
    s = Ring(3)
    s.push([s, r])
    assert repr(s) == "Ring(3, [[[...], Ring(2, [[...]])]])", repr(s)
    r.clear()
    s.clear()


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}

if __name__ == "__main__":
    module = load(sys.argv[1])
    CHECKS[sys.argv[2]](module)
    print(f"ok: {sys.argv[2]} under CPython {sys.version.split()[0]}")
