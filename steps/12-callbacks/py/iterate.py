# ANCHOR: all
"""Iterators both ways: python3 iterate.py"""
import gc

import callbacks

# ANCHOR: consume
print(callbacks.total([1, 2, 3]), callbacks.total(n * n for n in range(4)))

def broken():
    yield 1
    raise LookupError("the generator gave up")

for iterable in [broken(), 42, ["one"]]:
    try:
        callbacks.total(iterable)
    except Exception as e:
        print(f"{type(e).__name__}: {e}")
# ANCHOR_END: consume

# ANCHOR: ring
r = callbacks.Ring(3)
for n in range(5):
    r.push(n)
print(list(r), sum(r), callbacks.total(r))

it = iter(r)
print(type(it).__name__, next(it), iter(it) is it)
del r  # the iterator keeps the ring alive
print(list(it), list(it))

r = callbacks.Ring(3)
r.push("a")
try:
    for item in r:
        r.push("b")  # the push itself works; the iterator's next step raises
except RuntimeError as e:
    print(f"RuntimeError: {e}; the ring: {list(r)}")
try:
    type(iter(r))()
except TypeError as e:
    print(f"TypeError: {e}")
# ANCHOR_END: ring

# ANCHOR: cycle
r = callbacks.Ring(2)
r.push(iter(r))  # the ring holds its own iterator, which holds the ring
del r
print("live before collecting:", callbacks.live())
gc.collect()
print("live after collecting:", callbacks.live())
# ANCHOR_END: cycle
# ANCHOR_END: all
