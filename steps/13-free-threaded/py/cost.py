# ANCHOR: all
"""What the atomic borrow state costs: instructions per operation, counted by callgrind (as in
chapters 7, 8 and 10), for chapter 10's Ring and chapter 13's safe_ring. (Chapter 10's cost.py,
with other cases.)

    python3 cost.py            the table and the ratios
    python3 cost.py --facts    whether the goals hold (yes/no)

Run in a folder holding ring.abi3.so and safe_ring.abi3.so.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# ANCHOR: cases
# (column, module): each module has a class Ring.
IMPLEMENTATIONS = [
    ("ring", "ring"),
    ("safe-ring", "safe_ring"),
]
# (row, statement): `r` is a full Ring(8) of the module's, `Ring` its class.
OPERATIONS = [
    ("method call", "r.push(1)"),
    ("property read", "r.capacity"),
    ("create+drop", "Ring(8)"),
]
RATIOS = [  # (label, numerator, denominator, rows)
    ("safe-ring/ring", "safe-ring", "ring", ["method call", "property read", "create+drop"]),
]
GOALS = [  # (label, numerator, denominator, row, at most)
    ("safe-ring/ring", "safe-ring", "ring", "method call", 1.10),
    ("safe-ring/ring", "safe-ring", "ring", "create+drop", 1.10),
]
# (row, other row, columns): in which columns the first costs fewer instructions than the other.
COMPARISONS = []
# ANCHOR_END: cases
N1, N2 = 200, 1200
LOOP = """
def loop(n, r, Ring, repeat=__import__("itertools").repeat):
    for _ in repeat(None, n):
        STATEMENT
"""


def child(folder):
    """Under callgrind: for each case (an empty loop first), a warm-up, then loops of N1 and N2
    operations, each followed by getppid(), where callgrind dumps its counters."""
    sys.path.insert(0, folder)
    cases = [(None, None, "pass")]
    for _, module in IMPLEMENTATIONS:
        ring_class = __import__(module).Ring
        r = ring_class(8)
        for n in range(8):
            r.push(n)
        cases += [(r, ring_class, statement) for _, statement in OPERATIONS]
    for r, ring_class, statement in cases:
        namespace = {}
        exec(LOOP.replace("STATEMENT", statement), namespace)
        loop = namespace["loop"]
        loop(2000, r, ring_class)
        os.getppid()
        loop(N1, r, ring_class)
        os.getppid()
        loop(N2, r, ring_class)
        os.getppid()


def counts(folder):
    """Instructions per operation of each (implementation, operation), minus the empty loop's."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg")
        cmd = ["valgrind", "--tool=callgrind", "--dump-before=getppid",
               f"--callgrind-out-file={out}", sys.executable, __file__, "--child", folder]
        env = dict(os.environ, PYTHONHASHSEED="0")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            sys.exit(f"callgrind failed:\n{proc.stderr[-3000:]}")

        def total(k):
            with open(f"{out}.{k}") as f:
                return int(re.search(r"^summary:\s*(\d+)", f.read(), re.M).group(1))
        cases = len(IMPLEMENTATIONS) * len(OPERATIONS) + 1
        per = [(total(3 * k + 3) - total(3 * k + 2)) / (N2 - N1) for k in range(cases)]
    keys = [(i, o) for i, _ in IMPLEMENTATIONS for o, _ in OPERATIONS]
    return {key: per[k + 1] - per[0] for k, key in enumerate(keys)}


def main():
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2])
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not installed, and this measure needs it: install it "
                 "(Debian/Ubuntu: apt-get install valgrind), or run scripts/setup.sh as root")
    found = counts(os.getcwd())
    if sys.argv[1:] == ["--facts"]:
        for label, num, den, row, most in GOALS:
            ok = found[num, row] <= most * found[den, row]
            print(f"{label} <= {most} for a {row}: {'yes' if ok else 'no'}")
        for row, other, columns in COMPARISONS:
            cheaper = [f"{c} {'yes' if found[c, row] < found[c, other] else 'no'}" for c in columns]
            print(f"a {row} costs less than a {other}: {', '.join(cheaper)}")
        return
    print(f"{'':<24}" + "".join(f"{name:>13}" for name, _ in IMPLEMENTATIONS))
    for row, statement in OPERATIONS:
        cells = "".join(f"{found[name, row]:13.0f}" for name, _ in IMPLEMENTATIONS)
        print(f"{row + ' ' + statement:<24}{cells}")
    for label, num, den, rows in RATIOS:
        for row in rows:
            print(f"ratio {label}: {found[num, row] / found[den, row]:.2f} {row}")


if __name__ == "__main__":
    main()
# ANCHOR_END: all
