"""borrow.py's meddling item against the Ring built without its borrow checks (naive/): the
clear runs while == is reading the items, and == reads on from the buffer the clear freed."""
import sys

sys.path.insert(0, "naive")
import ring  # noqa: E402 - naive/ring.abi3.so


class Meddler:
    def __init__(self, target):
        self.target = target

    def __eq__(self, other):
        self.target.clear()
        return True


a, b = ring.Ring(2), ring.Ring(2)
a.push(Meddler(a))
a.push(1)
b.push(1)
b.push(1)
print("a == b:", a == b, flush=True)
print(len(a), "items in a,", len(b), "in b")
