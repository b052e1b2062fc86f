# ANCHOR: all
"""A tour of Ring: python3 tour.py [MODULE] (ring by default, or pyo3_ring)."""
import sys
import weakref

Ring = __import__(sys.argv[1] if len(sys.argv) > 1 else "ring").Ring

r = Ring(3)
print([r.push(n) for n in range(5)])  # the fourth push evicts 0, the fifth 1
print(r.items(), len(r), r.capacity)
print(repr(r))
print(r == Ring(3), r == [2, 3, 4])
same = Ring(capacity=3)
for n in (2, 3, 4):
    same.push(n)
print(r == same, r != same)
print(weakref.ref(r)() is r, Ring.__hash__)
for attempt in ["hash(r)", "r < same", "r.capacity = 4", "r.push()", "Ring(0)", "Ring(2.5)",
                "Ring.push = Ring.push"]:
    try:
        exec(attempt)
    except (TypeError, ValueError, AttributeError) as e:
        print(f"{attempt}: {type(e).__name__}: {e}")
r.clear()
print(repr(r))
# ANCHOR_END: all
