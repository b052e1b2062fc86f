"""Chapter 13's benchmark, run by `just bench` (after a build, from the repository's root).

1. What a method call, a property read and an instance's creation cost, in instructions, for
   chapter 10's Ring and chapter 13's safe_ring: py/cost.py on the staged copies of the modules,
   target/book-work/stage/13 (release builds), the very files the book's page measures. It prints
   the lines `ratio safe-ring/ring:`.
2. What one call of refcount.same(x) costs built for abi3 and for abi3t (abi3t/ builds both, from
   one source), under CPython 3.15: REFCOUNT_COST below, which prints `ratio abi3t/abi3:`. Skipped,
   saying why, where there is no CPython 3.15 (scripts/pythons.sh installs Debian sid's)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STEP = Path(__file__).resolve().parent
STAGE = ROOT / "target" / "book-work" / "stage" / "13"
PYTHONS = Path(os.environ.get("BOOK_PYTHONS")
               or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
               / "python-modules-in-rust")

# The measure of part 2, run by CPython 3.15 (written out as refcount_cost.py beside the builds).
REFCOUNT_COST = r'''"""What one call of refcount.same(x) costs, in instructions (callgrind), for each build of the
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
'''

if not (STAGE / "cost.py").exists():
    sys.exit(f"{STAGE} is not staged: run `just build` first")
print("safe_ring against ring: instructions per operation (callgrind)\n")
status = subprocess.run([sys.executable, "cost.py"], cwd=STAGE).returncode

python315 = shutil.which("python3.15") or str(PYTHONS / "bin" / "python3.15")
if not Path(python315).exists():
    print("\nratio abi3t/abi3: skipped, no CPython 3.15 here (scripts/pythons.sh installs one)")
    sys.exit(status)
print("\nrefcount.same(x) built for abi3 and for abi3t, under CPython 3.15 (callgrind)\n")
folder = ROOT / "target" / "book-work" / "refcount"
folder.mkdir(parents=True, exist_ok=True)
# A copy of the crate outside the workspace (abi3t/Cargo.toml says why), with the workspace's lock
# for --offline.
crate = folder / "crate"
shutil.rmtree(crate, ignore_errors=True)
shutil.copytree(STEP / "abi3t", crate)
shutil.copy(ROOT / "steps" / "Cargo.lock", crate)
for abi in ["abi3", "abi3t"]:
    target = ROOT / "target" / f"refcount-{abi}"
    env = dict(os.environ, CARGO_TARGET_DIR=str(target), PYO3_NO_PYTHON="1",
               PYO3_BUILD_EXTENSION_MODULE="1")
    subprocess.run(["cargo", "build", "--quiet", "--release", "--offline", "--features", abi],
                   cwd=crate, env=env, check=True)
    shutil.copy(target / "release" / "librefcount.so", folder / f"refcount.{abi}.so")
(folder / "refcount_cost.py").write_text(REFCOUNT_COST)
sys.exit(status or subprocess.run([python315, "refcount_cost.py", "refcount.abi3.so",
                                   "refcount.abi3t.so"], cwd=folder).returncode)
