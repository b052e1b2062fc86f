# ANCHOR: all
"""Callbacks that call back into the Ring whose method is running."""
import sys

from helper_ring import Ring


class Meddler:
    """An item whose __eq__ pushes onto the ring being compared (a &mut while &self is held)."""

    def __init__(self, ring):
        self.ring = ring

    def __eq__(self, other):
        self.ring.push("meddled")
        return True


class Haunt:
    """An item whose __del__ reads the ring that is dropping it (during clear(), a &mut)."""

    def __init__(self, ring):
        self.ring = ring

    def __del__(self):
        print("  __del__ sees", self.ring.items())


a, b = Ring(2), Ring(2)
a.push(Meddler(a))
b.push(1)
try:
    a == b
except RuntimeError as e:
    print("a == b: RuntimeError:", e)
print("a is unchanged:", len(a))

sys.unraisablehook = lambda u: print("  unraisable:", type(u.exc_value).__name__, u.exc_value)
c = Ring(2)
c.push(Haunt(c))
print("c.clear():")
c.clear()
print("c is empty:", c.items())
# ANCHOR_END: all
