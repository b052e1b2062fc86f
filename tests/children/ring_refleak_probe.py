"""The child process of chapter 10's reference-leak check (tests/test_ch10_ring.py), for a debug
CPython: regrtest -R's rule, as tests/children/refleak_probe.py applies it to module functions, applied to
a Ring's creation and drop and to each of its methods, with good input and with bad.

    python3-dbg ring_refleak_probe.py MODULE

MODULE is an extension (.so) or, for the check's own test, a .py file that wraps one. Prints one
line `REPORT <json>`: for each operation, the growth of gettotalrefcount() and of
getallocatedblocks() in each measured round.
"""

import gc
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from load_extension import module_at  # noqa: E402

WARMUPS, ROUNDS, CALLS = 3, 3, 200


def operations(m):
    Ring = m.Ring
    full = Ring(4)
    for n in range(4):
        full.push(n)
    other = Ring(4)
    for n in range(4):
        other.push(n)

    def fails(fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
        except (TypeError, ValueError, OverflowError, RuntimeError, AttributeError):
            return
        raise AssertionError(f"{fn} did not fail")

    def cycle():
        r = Ring(2)
        r.push(r)

    def reentrant():
        class Meddler:
            def __eq__(self, o):
                a.clear()
                return True
        a, b = Ring(1), Ring(1)
        a.push(Meddler())
        b.push(1)
        fails(lambda: a == b)
        a.clear()

    def chain():
        r = Ring(1)
        for _ in range(120):  # deeper than the hand-written Ring's trashcan lets drops nest (50)
            s = Ring(1)
            s.push(r)
            r = s

    return {
        "create+drop": lambda: Ring(8),
        "create capacity=": lambda: Ring(capacity=8),
        "create+fill+drop": lambda: [r := Ring(2), r.push("x"), r.push("y"), r.push("z")],
        "push (full)": lambda: full.push(object()),
        "items": full.items,
        "clear": lambda: (other.clear(), [other.push(n) for n in range(4)]),
        "capacity": lambda: full.capacity,
        "len": lambda: len(full),
        "repr": lambda: repr(full),
        "==": lambda: full == other,
        "!= other type": lambda: full != [1],
        "weakref": lambda: __import__("weakref").ref(full),
        "cycle, collected": cycle,
        "chain of rings, freed": chain,
        "bad capacity": lambda: fails(Ring, 0),
        "bad capacity type": lambda: fails(Ring, 1.5),
        "push()": lambda: fails(full.push),
        "hash": lambda: fails(hash, full),
        "set capacity": lambda: fails(setattr, full, "capacity", 3),
        "re-entrant ==": reentrant,
    }


def main():
    if not hasattr(sys, "gettotalrefcount"):
        sys.exit("ring_refleak_probe.py needs a debug build of CPython (sys.gettotalrefcount)")
    m = module_at(sys.argv[1])
    results = {}
    for name, op in operations(m).items():
        refs, blocks = [], []
        for k in range(WARMUPS + ROUNDS):
            gc.collect()
            before = sys.gettotalrefcount(), sys.getallocatedblocks()
            for _ in range(CALLS):
                op()
            gc.collect()
            after = sys.gettotalrefcount(), sys.getallocatedblocks()
            if k >= WARMUPS:
                refs.append(after[0] - before[0])
                blocks.append(after[1] - before[1])
        results[name] = {"refs": refs, "blocks": blocks}
    print("REPORT " + json.dumps(results))


if __name__ == "__main__":
    main()
