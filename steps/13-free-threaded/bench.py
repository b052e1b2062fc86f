"""Chapter 13's benchmark, run by `just bench` (after a build, from the repository's root).

1. What a method call, a property read and an instance's creation cost, in instructions, for
   chapter 10's Ring and chapter 13's safe_ring: py/cost.py on the staged copies of the modules,
   target/book-work/stage/13 (release builds), the very files the book's page measures. It prints
   the lines `ratio safe-ring/ring:`.
2. What one call of refcount.same(x) costs built for abi3 and for abi3t (abi3t/ builds both, from
   one source), under CPython 3.15: py/refcount_cost.py, which prints `ratio abi3t/abi3:`. Skipped,
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
shutil.copy(STEP / "py" / "refcount_cost.py", folder)
sys.exit(status or subprocess.run([python315, "refcount_cost.py", "refcount.abi3.so",
                                   "refcount.abi3t.so"], cwd=folder).returncode)
