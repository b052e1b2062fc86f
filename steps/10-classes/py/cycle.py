# ANCHOR: all
"""A reference cycle through a Ring, freed by the cycle GC; ring.live() counts Ring values."""
import gc
import sys

ring = __import__(sys.argv[1] if len(sys.argv) > 1 else "ring")

gc.disable()  # no collection but the one we ask for
r = ring.Ring(2)
r.push(r)  # r holds a reference to itself
print(repr(r), "live:", ring.live())  # inside its own repr, r is [...]
del r  # unreachable now, but its count is 1: only the GC can free it
print("after del:", ring.live())
print("collected:", gc.collect() >= 1)
print("after gc.collect():", ring.live())
# ANCHOR_END: all
