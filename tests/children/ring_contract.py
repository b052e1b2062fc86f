"""The behaviour every `Ring` of chapter 10 must have, whichever way it was written (by hand on
pyo3-ffi, with the helper crate, with PyO3): the class that book/ch10-classes.md describes, checked.

Run as `python ring_contract.py PATH/TO/MODULE.abi3.so` with any CPython >= 3.10 (standard
library only). Exit status 0 means every check passed; a failed check exits 1 with a message; a
crash shows up as death by a signal. `--hostile` runs the hostile-input part alone.
"""

import gc
import sys
import weakref

from load_extension import load


def expect(exc_type, fn, *args, **kwargs):
    """fn(*args, **kwargs) must raise exc_type; returns the exception."""
    try:
        result = fn(*args, **kwargs)
    except exc_type as e:
        return e
    except BaseException as e:  # noqa: BLE001 - any other exception is a failure worth naming
        raise AssertionError(f"{fn.__name__}{args!r}{kwargs or ''} raised {type(e).__name__}: "
                             f"{e}, expected {exc_type.__name__}") from e
    raise AssertionError(f"{fn.__name__}{args!r}{kwargs or ''} returned {result!r}, "
                         f"expected {exc_type.__name__}")


def full(Ring, capacity, items):
    r = Ring(capacity)
    for item in items:
        r.push(item)
    return r


def check_behaviour(m):
    Ring = m.Ring
    r = Ring(3)
    assert [r.push(n) for n in range(5)] == [None, None, None, 0, 1]
    assert r.items() == [2, 3, 4] and type(r.items()) is list and r.items() is not r.items()
    assert len(r) == 3 and r.capacity == 3 and type(r.capacity) is int
    assert repr(r) == "Ring(3, [2, 3, 4])", repr(r)
    assert repr(Ring(1)) == "Ring(1, [])"
    r.clear()
    assert len(r) == 0 and r.items() == [] and r.capacity == 3
    assert Ring(capacity=2).capacity == 2
    assert Ring(True).capacity == 1  # an int, as everywhere in Python
    # equality: same capacity and equal items; != derived; NotImplemented for the rest
    a, b = full(Ring, 3, [1, 2]), full(Ring, 3, [1.0, 2])
    assert a == b and not (a != b) and b == a
    assert a != full(Ring, 4, [1, 2]) and a != full(Ring, 3, [1, 3]) and a != full(Ring, 3, [1])
    assert a != [1, 2] and not (a == [1, 2]) and a != None  # noqa: E711
    assert a.__eq__([1, 2]) is NotImplemented
    for op in ("__lt__", "__le__", "__gt__", "__ge__"):
        assert getattr(a, op)(b) is NotImplemented, op
    expect(TypeError, lambda: a < b)
    # unhashable, like list
    assert Ring.__hash__ is None
    expect(TypeError, hash, a)
    # read-only property
    expect(AttributeError, setattr, r, "capacity", 5)
    expect(AttributeError, delattr, r, "capacity")
    # weak references
    w = weakref.ref(a)
    assert w() is a
    del a
    gc.collect()
    assert w() is None
    # subclass: its name in repr, a __dict__, equal to a Ring with the same items
    class Recent(Ring):
        def newest(self):
            return self.items()[-1]
    s = Recent(2)
    s.push("x")
    s.push("y")
    s.tag = 1
    assert repr(s) == "Recent(2, ['x', 'y'])" and s.newest() == "y" and s.__dict__ == {"tag": 1}
    assert s == full(Ring, 2, ["x", "y"]) and full(Ring, 2, ["x", "y"]) == s
    assert isinstance(s, Ring) and weakref.ref(s)() is s


def check_gc(m):
    Ring = m.Ring
    gc.collect()
    base = m.live()
    r = Ring(2)
    assert m.live() == base + 1
    # tp_traverse visits every item and the type
    item = object()
    r.push(item)
    referents = gc.get_referents(r)
    assert item in referents and type(r) in referents, referents
    # a cycle through the ring, freed by the collector and only by it
    r.push(r)
    w = weakref.ref(r)
    del r
    enabled = gc.isenabled()
    gc.disable()
    try:
        assert w() is not None and m.live() == base + 1, "a cycle was freed without the GC"
        gc.collect()
        assert w() is None and m.live() == base, "gc.collect() did not free the cycle"
    finally:
        if enabled:
            gc.enable()
    # a cycle through a subclass's __dict__
    class Recent(Ring):
        pass
    s = Recent(1)
    s.me = s
    w = weakref.ref(s)
    del s
    gc.collect()
    assert w() is None and m.live() == base


def check_drop_counter(m):
    Ring = m.Ring
    gc.collect()
    base = m.live()
    rings = [Ring(4) for _ in range(10)]
    assert m.live() == base + 10
    for n, r in enumerate(rings):
        for k in range(n):
            r.push(k)
    del rings, r
    gc.collect()
    assert m.live() == base, f"{m.live() - base} Ring values left (or dropped twice)"
    # failed constructions make no value
    for bad in (0, -1, 1.5, "3"):
        try:
            Ring(bad)
        except (TypeError, ValueError):
            pass
    assert m.live() == base


class Meddler:
    """An item whose __eq__ pushes to, or clears, the ring being compared."""

    def __init__(self, target, how):
        self.target, self.how = target, how

    def __eq__(self, other):
        if self.how == "clear":
            self.target.clear()
        else:
            self.target.push(self)
        return True

    __hash__ = None


class Raises:
    def __eq__(self, other):
        raise ZeroDivisionError("from __eq__")

    __hash__ = None


class BadRepr:
    def __repr__(self):
        raise ZeroDivisionError("from __repr__")


class Resurrects:
    """Its __del__ pushes to a ring, while that ring evicts or clears it."""

    def __init__(self, ring):
        self.ring = ring

    def __del__(self):
        try:
            self.ring.push(len(self.ring.items()))
        except RuntimeError:
            pass


def check_hostile(m):
    Ring = m.Ring
    gc.collect()
    base = m.live()
    # the constructor
    for bad in (0, -1, -(2**62)):
        expect(ValueError, Ring, bad)
    expect((ValueError, OverflowError), Ring, -(2**70))
    for bad in (1.5, "3", None, b"3", [], object()):
        expect(TypeError, Ring, bad)
    expect(OverflowError, Ring, 2**70)
    expect(TypeError, Ring)
    expect(TypeError, Ring, 1, 2)
    expect(TypeError, Ring, size=2)
    expect(TypeError, Ring, 1, capacity=2)
    try:  # more items than memory could ever hold: refused, or accepted with no allocation
        big = Ring(2**62)
    except MemoryError:
        pass
    else:
        big.push(1)
        assert len(big) == 1
        del big
    # the methods' arguments
    r = Ring(2)
    expect(TypeError, r.push)
    expect(TypeError, r.push, 1, 2)
    expect(TypeError, r.items, 1)
    expect(TypeError, r.clear, 1)
    # methods called on the wrong object
    expect(TypeError, Ring.push, object(), 1)
    expect(TypeError, Ring.items, None)
    # re-entrance: an __eq__ that mutates a ring under comparison must never reach its items
    # while they change: a borrow flag refuses (RuntimeError), a design that compares a copy
    # may let it through; either way the ring stays whole.
    for how in ("clear", "push"):
        for side in ("left", "right"):
            a, b = Ring(2), Ring(2)
            target = a if side == "left" else b
            (a if side == "left" else b).push(Meddler(target, how))
            (b if side == "left" else a).push(1)
            try:
                result = a == b
            except RuntimeError as e:
                assert "already" in str(e).lower() and "borrowed" in str(e).lower(), e
            else:
                assert type(result) is bool
            assert len(target) <= 2 and len(target.items()) == len(target)
            del a, b, target
    # an exception from an item's __eq__ propagates
    expect(ZeroDivisionError, lambda: full(Ring, 1, [Raises()]) == full(Ring, 1, [1]))
    expect(ZeroDivisionError, repr, full(Ring, 1, [BadRepr()]))
    # a __del__ that re-enters while its ring evicts it, or clears it
    r = Ring(1)
    r.push(Resurrects(r))
    r.push(0)  # evicts the Resurrects: it is returned, then dropped here, outside push
    assert len(r) == 1
    r.push(Resurrects(r))
    r.clear()  # its __del__ runs after clear's borrow ended: the push succeeds
    assert len(r) in (0, 1)
    r.push(Resurrects(r))
    del r  # a cycle (r holds it, it holds r): the collector runs its __del__, then clears
    gc.collect()
    # many rings pushed into each other, freed by the collector
    rings = [Ring(3) for _ in range(50)]
    for i, x in enumerate(rings):
        x.push(rings[(i + 1) % 50])
        x.push(rings[(i * 7) % 50])
    del rings, x
    gc.collect()
    assert m.live() == base, f"{m.live() - base} Ring values left after the hostile part"


if __name__ == "__main__":
    module = load(sys.argv[1])
    if "--hostile" in sys.argv[2:]:
        check_hostile(module)
    else:
        check_behaviour(module)
        check_gc(module)
        check_drop_counter(module)
        check_hostile(module)
    print(f"ok: {sys.argv[1]} under CPython {sys.version.split()[0]}")
