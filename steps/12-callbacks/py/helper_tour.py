# ANCHOR: all
"""Chapter 12's callbacks and iterator through the helper, from Python."""
import gc
import traceback

from helper_callbacks import Ring, apply, apply3

print(apply(lambda: "no arguments"), apply(str.upper, "one"), apply3(slice, 1, 9, 2))


def fails(x):
    raise KeyError(x)


try:
    apply(fails, "key")
except KeyError as e:
    # The same exception object, with the callback's frame in its traceback.
    print(repr(e), [frame.name for frame in traceback.extract_tb(e.__traceback__)])
for attempt in ("apply(42)", "apply(print, 1, 2)"):
    try:
        exec(attempt)
    except TypeError as e:
        print(f"{attempt}: {e}")

r = Ring(3)
for n in range(5):
    r.push(n * 1000)
print(list(r), [x for x in r], r.each(print))
it = iter(r)
del r
gc.collect()
print("the iterator keeps its ring:", list(it), list(it))
r = Ring(3)
r.push("a")
it = iter(r)
r.push("b")
try:
    next(it)
except RuntimeError as e:
    print(f"next(it): {e}")
try:
    r.each(r.push)
except RuntimeError as e:
    print(f"r.each(r.push): {e}")
# ANCHOR_END: all
