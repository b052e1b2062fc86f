# ANCHOR: all
"""The same calls on PyO3's module, pyo3_callbacks, and a Rust thread that calls back."""
import gc
import threading

from pyo3_callbacks import Ring, apply, from_thread

print(apply(lambda: "no arguments"), apply(str.upper, "one"))
r = Ring(3)
for n in range(5):
    r.push(n * 1000)
it = iter(r)
del r
gc.collect()
print("the iterator keeps its ring:", list(it))
r = Ring(3)
r.push("a")
it = iter(r)
r.push("b")
for attempt in ("next(it)", "r.each(r.push)"):
    try:
        exec(attempt)
    except RuntimeError as e:
        print(f"{attempt}: {e}")

# A Rust thread calls `remember` three times, each call inside its own Python::attach.
local = threading.local()


def remember(n):
    seen = getattr(local, "n", None)
    local.n = n
    me = threading.current_thread()
    return seen, me.name, me is threading.main_thread()


print("the third call found:", from_thread(remember, 3))
# ANCHOR_END: all
