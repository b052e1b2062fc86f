# ANCHOR: all
"""A Python subclass of Ring: its repr, its __dict__, and where its fields are."""
import sys

ring = __import__(sys.argv[1] if len(sys.argv) > 1 else "ring")


class Recent(ring.Ring):
    def newest(self):
        return self.items()[-1]


r = Recent(2)
r.push("a")
r.push("b")
r.seen = True  # a subclass instance has a __dict__
plain = ring.Ring(2)
plain.push("a")
plain.push("b")
print(repr(r), r.newest(), r.__dict__, r == plain, plain == r)
for cls in (ring.Ring, Recent):
    print(f"{cls.__name__}: basicsize {cls.__basicsize__}, weaklistoffset "
          f"{cls.__weakrefoffset__}, dictoffset {cls.__dictoffset__}")


class Labeled(ring.Ring):
    def __init__(self, capacity, label):  # more parameters than Ring(capacity)
        super().__init__()
        self.label = label


try:
    labeled = Labeled(3, "recent")
    print(repr(labeled), labeled.label)
except TypeError as e:
    print("TypeError:", e)
# ANCHOR_END: all
