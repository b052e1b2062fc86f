"""Chapter 12's benchmark, run by `just bench` (after a build, from the repository's root): what a
call from Rust into Python and a step of the Ring's iterator cost, in instructions (callgrind),
against Python's own, and what attaching a Rust thread costs, timed. It runs py/cost.py and
py/attach.py on the staged copies, target/book-work/stage/12 (a release build), the very files
the page measures. It prints the lines `ratio rust-calls-python/python-calls-python:`, `ratio
ring-iter/list-iter:` and `ratio first/later (...)`. Then it runs the helper's half,
bench-helper.py (`just bench` runs only bench.py), whose `ratio helper-iter/raw-iter:` (timed) and
`ratio helper-iter/raw-iter (instructions):` (callgrind) set the helper's iterator against this
half's."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "target" / "book-work" / "stage" / "12"

if not (STAGE / "cost.py").exists():
    sys.exit(f"{STAGE} is not staged: run `just build` first")
print("Callbacks and iterators: instructions per item (callgrind)\n")
for script in ("cost.py", "attach.py"):
    status = subprocess.run([sys.executable, script], cwd=STAGE).returncode
    if status != 0:
        sys.exit(status)
print()
sys.exit(subprocess.run([sys.executable, Path(__file__).with_name("bench-helper.py")]).returncode)
