"""The child process of chapter 12's reference-leak check (tests/test_ch12_callbacks.py), for a
debug CPython: regrtest -R's rule, as tests/children/ring_refleak_probe.py applies it, to every
function of `callbacks`, its Ring and the Ring's iterator, with good input and along every error
path (the hostile callbacks of tests/children/callbacks_contract.py).

    python3-dbg callbacks_refleak_probe.py MODULE

MODULE is callbacks.abi3.so or, for the check's own test, a .py file that wraps it. Prints one
line `REPORT <json>`: for each operation, the growth of gettotalrefcount() and of
getallocatedblocks() in each measured round.
"""

import gc
import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from callbacks_contract import module_at  # noqa: E402

WARMUPS, ROUNDS, CALLS = 3, 3, 200


def fails(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type:
        return
    raise AssertionError(f"{fn} did not raise {exc_type.__name__}")


def operations(m):
    Ring = m.Ring
    r = Ring(4)
    for n in range(1000, 1004):
        r.push(n)

    def raising(i):
        raise ValueError("no")

    def interrupted(i):
        raise KeyboardInterrupt

    def signalled(i):
        signal.raise_signal(signal.SIGINT)
        return 0

    def broken():
        yield 2000
        raise LookupError("gave up")

    def changed():
        s = Ring(2)
        s.push(3000)
        it = iter(s)
        next(it)
        s.push(4000)
        fails(RuntimeError, next, it)

    def cycle():
        s = Ring(2)
        s.push(iter(s))

    return {
        "call_n": lambda: m.call_n(lambda i: i + 5000, 3),
        "call_n bound method": lambda: m.call_n([7000, 8000].__getitem__, 2),
        "call_n raising": lambda: fails(ValueError, m.call_n, raising, 3),
        "call_n KeyboardInterrupt": lambda: fails(KeyboardInterrupt, m.call_n, interrupted, 3),
        "call_n SIGINT": lambda: fails(KeyboardInterrupt, m.call_n, signalled, 3),
        "call_n not an int": lambda: fails(TypeError, m.call_n, lambda i: "x", 2),
        "call_n overflow": lambda: fails(OverflowError, m.call_n, lambda i: 2**62, 3),
        "call_n not callable": lambda: fails(TypeError, m.call_n, 5000, 1),
        "call_n re-entrant": lambda: m.call_n(lambda i: m.call_n(abs, i), 3),
        "total list": lambda: m.total([5000, 6000]),
        "total generator raising": lambda: fails(LookupError, m.total, broken()),
        "total not iterable": lambda: fails(TypeError, m.total, 5000),
        "total items not ints": lambda: fails(TypeError, m.total, ["one", "two"]),
        "total ring": lambda: m.total(r),
        "ring iter": lambda: list(r),
        "ring iter changed": changed,
        "ring iter cycle": cycle,
        "ring push": lambda: r.push(object()),
        "ring clear": lambda: (r.clear(), [r.push(n) for n in range(1000, 1004)]),
        "from_thread": lambda: m.from_thread(lambda i: i + 5000, 2, False),
        "from_thread keep": lambda: m.from_thread(lambda i: i + 5000, 2, True),
        "from_thread raising": lambda: fails(ValueError, m.from_thread, raising, 2, False),
        "from_thread raising keep": lambda: fails(ValueError, m.from_thread, raising, 2, True),
        "start_worker": lambda: (m.start_worker(lambda: 5000, 2), m.stop_workers()),
    }


def main():
    if not hasattr(sys, "gettotalrefcount"):
        sys.exit("callbacks_refleak_probe.py needs a debug build of CPython")
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
