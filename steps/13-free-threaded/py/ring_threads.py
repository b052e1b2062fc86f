# ANCHOR: all
"""Many threads on a few shared Rings, for chapter 13's safe_ring (or any Ring module): every call
must return or raise RuntimeError('Ring is already borrowed'), never crash, and the rings must
end consistent (at most `capacity` items, each one pushed, and no value leaked).

Run as `python3 ring_threads.py PATH/TO/MODULE.abi3.so [THREADS ROUNDS]` under any CPython >= 3.10
(standard library only). Under a GIL build the threads take turns; under a free-threaded build
(python3.14t, python3.15t) they run at once, and the refusals are counted. Exit status 0: green.
"""

import importlib.machinery
import importlib.util
import random
import sys
import sysconfig
import threading


def load_any(path):
    """The module in `path`: an extension module (foo.abi3.so is `foo`), or, for the tests'
    faulty rings, a .py file."""
    name = path.rsplit("/", 1)[-1].split(".")[0]
    loader = None
    if not path.endswith(".py"):
        loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    m = load_any(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    rings = [m.Ring(4) for _ in range(3)]
    start = threading.Barrier(threads)
    refused = [0] * threads
    failures = []

    def work(t):
        rng = random.Random(t)
        start.wait()
        for i in range(rounds):
            r, other = rng.choice(rings), rng.choice(rings)
            try:
                op = rng.randrange(6)
                if op == 0:
                    r.push((t, i))
                elif op == 1:
                    assert 0 <= len(r) <= 4
                elif op == 2:
                    items = r.items()
                    assert len(items) <= 4 and all(type(x) is tuple for x in items)
                elif op == 3:
                    r == other  # noqa: B015 - the comparison itself is the exercise
                elif op == 4:
                    repr(r)
                elif i % 50 == 0:
                    r.clear()
            except RuntimeError as e:
                if str(e) != "Ring is already borrowed":
                    failures.append(repr(e))
                refused[t] += 1
            except BaseException as e:  # noqa: BLE001 - any other exception fails the run
                failures.append(f"thread {t}: {e!r}")
                return

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not failures, failures[:5]
    for r in rings:
        assert len(r) <= 4 and len(r.items()) == len(r)
    before = m.live()
    del rings[:], r
    assert m.live() == before - 3, f"{before - m.live()} of 3 ring values dropped"
    free = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"{threads} threads x {rounds} calls on 3 shared rings: each returned or was refused")
    print(f"free-threaded build: {'yes' if free else 'no'}, GIL enabled: {'yes' if gil else 'no'}")
    if sum(refused):
        print(f"refused (another thread held the borrow): {sum(refused)}", file=sys.stderr)


if __name__ == "__main__":
    main()
# ANCHOR_END: all
