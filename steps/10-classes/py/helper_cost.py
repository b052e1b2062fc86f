# ANCHOR: all
"""What the helper's Ring costs: instructions per operation, counted by callgrind (as chapter 8's
zero_cost.py does), for helper_ring and, where it is beside it, the hand-written ring.

    python3 helper_cost.py            the counts, and the ratios when ring.abi3.so is here
    python3 helper_cost.py --facts    whether the helper stays within 5% of ring (yes/no)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# ANCHOR: cases
# (what, setup, statement): the setup makes `r`, a full Ring of the module `m`.
OPERATIONS = [
    ("r.push(1)", "r = m.Ring(8)\nfor _ in range(8): r.push(1)", "r.push(1)"),
    ("r.capacity", "r = m.Ring(8)", "r.capacity"),
    ("Ring(8)", "Ring = m.Ring", "Ring(8)"),
]
# ANCHOR_END: cases
MODULES = [("helper", "helper_ring"), ("raw", "ring")]
N1, N2 = 200, 1200
LOOP = """
def loop(n, m, repeat=__import__("itertools").repeat):
    SETUP
    for _ in repeat(None, n):
        STATEMENT
"""


def present():
    return [(name, module) for name, module in MODULES if os.path.exists(f"{module}.abi3.so")]


def child(folder):
    """Under callgrind: an empty loop, then for each module and operation a warm-up and loops of
    N1 and N2, each followed by getppid(), where callgrind dumps its counters."""
    sys.path.insert(0, folder)
    cases = [(None, "pass", "pass")]
    for _, module in present():
        m = __import__(module)
        cases += [(m, setup, statement) for _, setup, statement in OPERATIONS]
    for m, setup, statement in cases:
        namespace = {}
        body = LOOP.replace("SETUP", setup.replace("\n", "\n    ")).replace("STATEMENT", statement)
        exec(body, namespace)
        loop = namespace["loop"]
        loop(2000, m)
        os.getppid()
        loop(N1, m)
        os.getppid()
        loop(N2, m)
        os.getppid()


def counts(folder):
    """Instructions per operation of each (module, operation), minus the empty loop's."""
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
        keys = [(name, what) for name, _ in present() for what, _, _ in OPERATIONS]
        per = [(total(3 * k + 3) - total(3 * k + 2)) / (N2 - N1) for k in range(len(keys) + 1)]
    return {key: per[k + 1] - per[0] for k, key in enumerate(keys)}


def main():
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2])
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not installed, and this measure needs it: install it "
                 "(Debian/Ubuntu: apt-get install valgrind), or run scripts/setup.sh as root")
    found = counts(os.getcwd())
    names = [name for name, _ in present()]
    if sys.argv[1:] == ["--facts"]:
        for what, _, _ in OPERATIONS:
            ok = found["helper", what] <= 1.05 * found["raw", what]
            print(f"helper/raw {what} <= 1.05: {'yes' if ok else 'no'}")
        return
    for name in names:
        for what, _, _ in OPERATIONS:
            print(f"{name:<7} {what:<11} {found[name, what]:6.0f} instructions")
    if "raw" in names:
        for what, _, _ in OPERATIONS:
            print(f"ratio helper/raw {what}: {found['helper', what] / found['raw', what]:.2f}")


if __name__ == "__main__":
    main()
# ANCHOR_END: all
