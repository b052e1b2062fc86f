"""Chapter 7's benchmark, run by `just bench` (after a build, from the repository's root).

The full measurement of every path to `sum(2, 40)`: the table (time and instructions per call),
the ratio lines and whether the chapter's goals are met; then where the instructions of a call go
and, for the Go module, where its time goes. The figures are also written to
target/bench/call-overhead.json and the chart to target/bench/call-overhead.svg.

It runs the harness on the staged copies of the modules, target/book-work/stage/07, the very files
the book's page measures. Times depend on the machine and its load; instruction counts do not.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "target" / "book-work" / "stage" / "07"
OUT = ROOT / "target" / "bench"


def harness(*args: str) -> str:
    proc = subprocess.run([sys.executable, str(STAGE / "overhead.py"), "--dir", str(STAGE), *args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"overhead.py {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def main() -> None:
    if not (STAGE / "overhead.py").exists():
        sys.exit(f"{STAGE} is not staged: run `just build` first")
    OUT.mkdir(parents=True, exist_ok=True)
    json_path, svg_path = OUT / "call-overhead.json", OUT / "call-overhead.svg"

    print("sum(2, 40), one call, by every path (ns: this machine; instructions: callgrind)\n")
    print(harness("--json", str(json_path), "--svg", str(svg_path)))

    where = harness("--where", "operator.add", "c-varargs", "c-fastcall", "rust-varargs",
                    "rust-fastcall", "helper", "pyo3", "ctypes", "cffi", "go", "--top", "8")
    print("where the instructions of one call go (callgrind, per call, by function itself)\n")
    print(where)

    kernel = harness("--kernel", "c-varargs", "rust-fastcall", "pyo3", "go")
    print("where the time goes: the calling thread's user and kernel time, and its system calls\n")
    print(kernel)

    report = json.loads(json_path.read_text())
    report["where"] = where
    report["kernel"] = kernel
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {json_path.relative_to(ROOT)} and {svg_path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
