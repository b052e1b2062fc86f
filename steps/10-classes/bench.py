"""Chapter 10's benchmark, run by `just bench` (after a build, from the repository's root): what
a method call, a property read and an instance's creation cost, in instructions, for the
hand-written Ring, PyO3's and a plain Python class with __slots__ (and the helper's, once its
row is in py/cost.py: see the HELPER marks there). It runs py/cost.py on the staged copies of the
modules, target/book-work/stage/10 (release builds), the very files the book's page measures."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "target" / "book-work" / "stage" / "10"

if not (STAGE / "cost.py").exists():
    sys.exit(f"{STAGE} is not staged: run `just build` first")
print("Ring: instructions per operation (callgrind)\n")
# The lines `ratio class-raw/class-pyo3:` (method call, create+drop) come from cost.py; the
# helper's `ratio class-helper/class-raw:` will come from there too, from its RATIOS.
sys.exit(subprocess.run([sys.executable, "cost.py"], cwd=STAGE).returncode)
