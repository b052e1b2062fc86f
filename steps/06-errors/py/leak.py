# ANCHOR: all
import sys
import tracemalloc

import broken
import errors

calls = 100_000
name = "Ada Lovelace"
for f in [errors.shout, broken.text_length]:
    before = sys.getrefcount(name)
    for _ in range(calls):
        f(name)
    print(f"{f.__module__}.{f.__name__}(name): refcount grew by {sys.getrefcount(name) - before}")

number = 1234567890123456789
tracemalloc.start()
for f in [errors.shout, broken.text_length]:
    arg = str(number) if f is errors.shout else number
    start = tracemalloc.get_traced_memory()[0]
    for _ in range(calls):
        f(arg)
    grown = tracemalloc.get_traced_memory()[0] - start
    print(f"{f.__module__}.{f.__name__}: memory grew by {grown / calls:.0f} bytes per call")
# ANCHOR_END: all
