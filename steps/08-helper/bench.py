"""Chapter 8's benchmark, run by `just bench` (after a build, from the repository's root): what a
call through the helper costs, in instructions, against the hand-written functions doing the same
work, positional and with keywords. It runs py/zero_cost.py on the staged copies of the modules,
target/book-work/stage/08 (release builds), the very files the book's page measures."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "target" / "book-work" / "stage" / "08"

if not (STAGE / "zero_cost.py").exists():
    sys.exit(f"{STAGE} is not staged: run `just build` first")
print("sum(2, 40) and sum(a=2, b=40): instructions per call (callgrind)\n")
sys.exit(subprocess.run([sys.executable, "zero_cost.py"], cwd=STAGE).returncode)
