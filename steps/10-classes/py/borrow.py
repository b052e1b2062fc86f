# ANCHOR: all
"""An item whose __eq__ clears the ring being compared: python3 borrow.py [MODULE]."""
import sys

ring = __import__(sys.argv[1] if len(sys.argv) > 1 else "ring")


class Meddler:
    def __init__(self, target):
        self.target = target

    def __eq__(self, other):
        self.target.clear()  # runs while Ring.__eq__ is reading target's items
        return True


a, b = ring.Ring(2), ring.Ring(2)
a.push(Meddler(a))
b.push(1)
try:
    print(a == b)
except RuntimeError as e:
    print("RuntimeError:", e)
print(len(a), "item left, and live:", ring.live())
# ANCHOR_END: all
