"""A chain of a million rings, each pushed into the next, then freed: python3 chain.py [MODULE]
(ring by default; `naive` for naive/ring.abi3.so, the same code without its trashcan)."""
import sys

name = sys.argv[1] if len(sys.argv) > 1 else "ring"
if name == "naive":
    sys.path.insert(0, "naive")
    name = "ring"
ring = __import__(name)

r = ring.Ring(1)
for _ in range(1_000_000):
    s = ring.Ring(1)
    s.push(r)  # s holds r, which holds the ring made before it, and so on
    r = s
print("made:", ring.live(), flush=True)
del r, s  # the last reference to the newest ring: the whole chain goes, link by link
print("freed:", ring.live())
