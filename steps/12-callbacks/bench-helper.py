"""Chapter 12's benchmark, the helper's half, run by `just bench` (after a build, from the
repository's root) on the staged release builds in target/book-work/stage/12. Every way is timed
in the same run, in paired rounds (each round times every way once, back to back; a ratio is the
median over the rounds of each round's ratio, as chapter 11's bench.py does), so that a change in
the machine's speed falls on both sides of a ratio alike. It prints the lines
`ratio helper-iter/raw-iter:`, `ratio helper-iter/list-iter:`, `ratio pyo3-iter/list-iter:` and
`ratio progress/no-progress:` from the timings, then the iterators again in instructions per item,
counted by callgrind in one run as py/cost.py counts them: `ratio helper-iter/raw-iter
(instructions):` and `ratio pyo3-iter/raw-iter (instructions):`."""

import importlib
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "target" / "book-work" / "stage" / "12"
ROUNDS = 15
ITEMS = 100_000

# Instructions per item: the same loop over each module's Ring, under callgrind, which dumps its
# counters at each getppid(); a row is the difference between 1200 and 200 items, per item.
COUNTED = [("raw-iter", "callbacks"), ("helper-iter", "helper_callbacks"),
           ("pyo3-iter", "pyo3_callbacks"), ("list-iter", None)]
N1, N2 = 200, 1200

def drain_here(iterable):
    for _ in iterable:
        pass


if sys.argv[1:2] == ["--child"]:
    sys.path.insert(0, str(STAGE))
    for _, name in COUNTED:
        runs = []
        for n in (2000, N1, N2):
            if name is None:
                r = list(range(n))
            else:
                r = importlib.import_module(name).Ring(n)
                for i in range(n):
                    r.push(i)
            runs.append(r)
        for r in runs:
            drain_here(r)
            os.getppid()
    sys.exit(0)

if not (STAGE / "helper_callbacks.abi3.so").exists():
    sys.exit(f"{STAGE} is not staged: run `just build` first")
os.chdir(STAGE)
sys.path.insert(0, str(STAGE))

import hist_progress  # noqa: E402
import helper_callbacks  # noqa: E402


def ring_of(module):
    """A full Ring of ITEMS ints from `module`, or None if it has no Ring with __iter__."""
    ring_type = getattr(module, "Ring", None)
    if ring_type is None or not hasattr(ring_type, "__iter__"):
        return None
    ring = ring_type(ITEMS)
    for n in range(ITEMS):
        ring.push(n)
    return ring


def other_rings():
    """Every other staged module of this chapter with an iterable Ring: the raw half's (its
    PyInit_ name is whatever the .so is called), and PyO3's (pyo3_*)."""
    found = {}
    for so in sorted(STAGE.glob("*.abi3.so")):
        name = so.name.removesuffix(".abi3.so")
        if name in ("helper_callbacks", "hist_progress"):
            continue
        try:
            ring = ring_of(importlib.import_module(name))
        except ImportError:
            continue
        if ring is not None:
            found[name] = ring
    return found


def drain(iterable):
    for _ in iterable:
        pass


def paired(ways, rounds=ROUNDS):
    """{name: [seconds per round]} for a dict of name -> function of no arguments."""
    seconds = {name: [] for name in ways}
    for _ in range(rounds):
        for name, f in ways.items():
            start = time.perf_counter()
            f()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def ratio(seconds, a, b):
    return statistics.median(x / y for x, y in zip(seconds[a], seconds[b]))


def line(label, value, goal=None):
    verdict = "" if goal is None else f" (goal <= {goal}: {'yes' if value <= goal else 'no'})"
    return f"ratio {label}: {value:.3f}{verdict}"


# Iterators: one pass over ITEMS ints, per item.
items = list(range(ITEMS))
rings = {"helper": ring_of(helper_callbacks), **other_rings()}
ways = {f"{name}-iter": (lambda r=r: drain(r)) for name, r in rings.items()}
ways["list-iter"] = lambda: drain(items)
seconds = paired(ways)
for name, runs in seconds.items():
    print(f"{name:<24} {min(runs) / ITEMS * 1e9:6.1f} ns an item (best of {ROUNDS})")
raw = [n for n in rings if n != "helper" and not n.startswith("pyo3")]
if raw:
    print(line(f"helper-iter/raw-iter", ratio(seconds, "helper-iter", f"{raw[0]}-iter"), 1.05)
          + f" (raw: {raw[0]})")
else:
    print("ratio helper-iter/raw-iter: n/a (no raw Ring with __iter__ is staged in "
          f"{STAGE.relative_to(ROOT)}: the raw half of the chapter brings it)")
print(line("helper-iter/list-iter", ratio(seconds, "helper-iter", "list-iter"), 1.2))
pyo3 = [n for n in rings if n.startswith("pyo3")]
if pyo3:
    print(line("pyo3-iter/list-iter", ratio(seconds, f"{pyo3[0]}-iter", "list-iter"))
          + f" ({pyo3[0]})")
else:
    print("ratio pyo3-iter/list-iter: n/a (no PyO3 Ring is staged)")

# Progress: chapter 11's one-thread histogram of 100 MB, with and without a callback.
data = random.Random(11).randbytes(100 * 1000 * 1000)
calls = []


def progress(done, total):
    calls.append(done)


seconds = paired({
    "no-progress": lambda: hist_progress.histogram(data),
    "progress": lambda: hist_progress.histogram(data, progress=progress),
})
per_call = len(calls) / ROUNDS
print(f"progress: {per_call:.1f} calls a count, a count {min(seconds['no-progress']):.4f} s")
print(line("progress/no-progress", ratio(seconds, "progress", "no-progress"), 1.02)
      + f" (the median of {ROUNDS} rounds)")

# The iterators in instructions (callgrind), one run.
if shutil.which("valgrind") is None:
    sys.exit("error: valgrind is not installed (apt-get install valgrind)")
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "cg")
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--dump-before=getppid",
                           f"--callgrind-out-file={out}", sys.executable, __file__, "--child"],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="0"))
    if proc.returncode != 0:
        sys.exit(f"callgrind failed:\n{proc.stderr[-3000:]}")

    def total(k):
        with open(f"{out}.{k}") as f:
            return int(re.search(r"^summary:\s*(\d+)", f.read(), re.M).group(1))
    counts = {row: (total(3 * k + 3) - total(3 * k + 2)) / (N2 - N1)
              for k, (row, _) in enumerate(COUNTED)}
print()
print("instructions per item (callgrind)")
for row, n in counts.items():
    print(f"{row:<24}{n:8.0f}")
helper = counts["helper-iter"] / counts["raw-iter"]
print(f"ratio helper-iter/raw-iter (instructions): {helper:.2f} "
      f"(goal <= 1.05: {'yes' if helper <= 1.05 else 'no'})")
print(f"ratio pyo3-iter/raw-iter (instructions): {counts['pyo3-iter'] / counts['raw-iter']:.2f}")
