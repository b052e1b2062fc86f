"""Chapter 11's benchmark, run by `just bench` (after a build, from the repository's root): the
histogram of 100 MB of random bytes, every way the page compares, timed in one run. It runs
py/speed.py on the staged copies of the modules, target/book-work/stage/11 (release builds), the
very files the page measures. It ends with the lines `ratio rust-1/numpy:`, `ratio
rust-2/rust-1:`, `ratio python/rust-1:` and `bandwidth:`."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "target" / "book-work" / "stage" / "11"

if not (STAGE / "speed.py").exists():
    sys.exit(f"{STAGE} is not staged: run `just build` first")
sys.exit(subprocess.run([sys.executable, "speed.py"], cwd=STAGE).returncode)
