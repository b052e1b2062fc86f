# ANCHOR: all
"""The helper's Ring, from Python: the class of chapter 10, made by pymodule::class!."""
import gc
import weakref

from helper_ring import Ring, live

r = Ring(3)
print([r.push(n) for n in range(5)], r, len(r), r.capacity)
print(r.items(), r == Ring(3), r != Ring(3))
for attempt in ("hash(r)", "r.capacity = 4", "Ring(0)", "Ring('3')", "Ring.push(42, 1)"):
    try:
        exec(attempt)
    except (TypeError, ValueError, AttributeError) as e:
        print(f"{attempt}: {type(e).__name__}: {e}")


class Recent(Ring):
    pass


s = Recent(capacity=2)
s.push("a")
s.note = "a subclass has a __dict__"
print(s, s.__dict__, weakref.ref(s)() is s)
print("live:", live())
cycle = Ring(1)
cycle.push(cycle)
del r, s, cycle
print("live before collecting:", live(), "after:", (gc.collect(), live())[1])
# ANCHOR_END: all
