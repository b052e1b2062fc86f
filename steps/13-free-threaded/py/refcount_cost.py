# ANCHOR: all
"""What one call of refcount.same(x) costs, in instructions (callgrind), for each build of the
module given: chapter 13's abi3 and abi3t builds, loaded by one CPython 3.15.

    python3.15 refcount_cost.py refcount.abi3.so refcount.abi3t.so

prints a line per build, then `ratio abi3t/abi3:` (the second build's count over the first's).
"""

import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

N1, N2 = 200, 1200
LOOP = """
def loop(n, same, x, repeat=__import__("itertools").repeat):
    for _ in repeat(None, n):
        same(x)
"""


def load(path):
    loader = importlib.machinery.ExtensionFileLoader("refcount", path)
    spec = importlib.util.spec_from_file_location("refcount", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def child(paths):
    """Under callgrind: an empty loop, then each build's; a dump (getppid) after each part."""
    namespace = {}
    exec(LOOP, namespace)
    loop, x = namespace["loop"], object()
    for same in [lambda x: None] + [load(p).same for p in paths]:
        loop(2000, same, x)
        os.getppid()
        loop(N1, same, x)
        os.getppid()
        loop(N2, same, x)
        os.getppid()


def main():
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2:])
    paths = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg")
        cmd = ["valgrind", "--tool=callgrind", "--dump-before=getppid",
               f"--callgrind-out-file={out}", sys.executable, __file__, "--child", *paths]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env=dict(os.environ, PYTHONHASHSEED="0"))
        if proc.returncode != 0:
            sys.exit(f"callgrind failed:\n{proc.stderr[-3000:]}")

        def total(k):
            with open(f"{out}.{k}") as f:
                return int(re.search(r"^summary:\s*(\d+)", f.read(), re.M).group(1))
        per = [(total(3 * k + 3) - total(3 * k + 2)) / (N2 - N1) for k in range(len(paths) + 1)]
    # A Python lambda is no C function: the empty loop is only a floor here, not subtracted.
    counts = per[1:]
    for path, n in zip(paths, counts):
        print(f"{os.path.basename(path):<22}{load(path).abi():>7}{n:8.0f} instructions per call")
    print(f"ratio abi3t/abi3: {counts[1] / counts[0]:.2f} one call of same(x)")


if __name__ == "__main__":
    main()
# ANCHOR_END: all
