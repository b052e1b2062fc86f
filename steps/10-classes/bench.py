"""Chapter 10's benchmark, run by `just bench` (after a build, from the repository's root): what
a method call, a property read and an instance's creation cost, in instructions, for the
hand-written Ring, PyO3's, the helper's and a plain Python class with __slots__. It runs py/cost.py on the staged copies of the
modules, target/book-work/stage/10 (release builds), the very files the book's page measures."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "target" / "book-work" / "stage" / "10"

if not (STAGE / "cost.py").exists():
    sys.exit(f"{STAGE} is not staged: run `just build` first")
print("Ring: instructions per operation (callgrind)\n")
# The lines `ratio class-raw/class-pyo3:` (method call, create+drop) and `ratio
# class-helper/class-raw:` (method call, property read, create+drop) come from cost.py's RATIOS.
sys.exit(subprocess.run([sys.executable, "cost.py"], cwd=STAGE).returncode)
