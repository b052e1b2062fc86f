"""The child process of the reference-leak check (tests/test_refleaks.py), for a debug CPython.

A debug build (configured --with-pydebug) counts every reference the interpreter holds in
sys.gettotalrefcount(). This does what CPython's own `regrtest -R` does for a test: run the same
work in rounds, a few to warm up and then a few measured, and call it a leak when every measured
round leaves the total higher than it found it. Here the work of one round is, for one function of
one module and one kind of call, CALLS calls: with its valid arguments (tests/children/ch06_registry.py),
and with each kind of failing call that the reliability suite finds (tests/children/ch06_probe.py
error_paths): a reference forgotten on an error path leaks as surely as one on the main path.

    python3-dbg refleak_probe.py MODULE [--only NAME] [--valid LITERAL]

prints one line `REPORT <json>`: for each function and each kind of call, the growth of
gettotalrefcount() and of getallocatedblocks() in each measured round.
"""

from __future__ import annotations

import argparse
import ast
import gc
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ch06_probe import error_paths, fresh, functions, report, settler  # noqa: E402
from ch06_registry import HOSTILE_INT_LIMIT, SETTLE, VALID_ARGS, lookup  # noqa: E402
from load_extension import load  # noqa: E402

WARMUPS = 3  # regrtest -R 3:3's defaults
ROUNDS = 3
CALLS = 200  # calls of each kind per round: a leak of one reference a call shows as +200


def rounds(work, settle) -> tuple[list[int], list[int]]:
    """The growth of the total refcount and of allocated blocks over each measured round."""
    refs, blocks = [], []
    for k in range(WARMUPS + ROUNDS):
        settle()
        gc.collect()
        before = (sys.gettotalrefcount(), sys.getallocatedblocks())
        work()
        settle()
        gc.collect()
        after = (sys.gettotalrefcount(), sys.getallocatedblocks())
        if k >= WARMUPS:
            refs.append(after[0] - before[0])
            blocks.append(after[1] - before[1])
    return refs, blocks


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module")
    parser.add_argument("--only")
    parser.add_argument("--valid", help="a dict literal that replaces the registry's arguments")
    args = parser.parse_args(argv)
    if not hasattr(sys, "gettotalrefcount"):
        sys.exit("refleak_probe.py needs a debug build of CPython (sys.gettotalrefcount)")
    module = load(args.module)
    valid_args = ast.literal_eval(args.valid) if args.valid else VALID_ARGS
    settle = settler(getattr(module, SETTLE.get(module.__name__, ""), None))
    results = {}
    for name, fn in functions(module, args.only).items():
        valid = lookup(module.__name__, name, valid_args)
        if valid is None:
            results[name] = {"error": "no valid arguments registered"}
            continue
        calls = [(fresh(valid), {})]
        calls += [(fresh(a), kw) for a, kw, _ in error_paths(fn, valid, HOSTILE_INT_LIMIT.get(name))]
        # Each kind of call is measured on its own, as regrtest measures each test: mixed in one
        # loop, the kinds keep re-specialising the loop's bytecode, and what that caches shows as
        # a few references more in some rounds (seen under 3.15.2), never one per call.
        kinds = []
        for a, kw in calls:
            def work(fn=fn, a=a, kw=kw):
                for _ in range(CALLS):
                    try:
                        fn(*a, **kw)
                    except Exception:  # noqa: BLE001, S110 - the error paths are the point
                        pass

            refs, blocks = rounds(work, settle)
            kinds.append({"call": repr((name, a, kw))[:160], "refs": refs, "blocks": blocks})
        results[name] = {"kinds": kinds}
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
