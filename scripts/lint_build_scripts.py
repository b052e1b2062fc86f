#!/usr/bin/env python3
"""A build script that reads the interpreter says so to cargo.

Cargo reruns a build script only for what it declared (`cargo::rerun-if-env-changed=...`), and
`just test` builds the Rust once per toolchain for every CPython (chapter 9: an abi3 module does
not depend on the interpreter). A build script that asked the interpreter something (its headers'
folder, its libpython) without declaring it would keep the answer of the first CPython it met and
build every other version's module against it, silently. So, in every build script under steps/
and in the build-support crate they call:

- reading `PYO3_PYTHON` requires `rerun-if-env-changed=PYO3_PYTHON` in the same file;
- running `python3` or `python` from PATH (a fallback when PYO3_PYTHON is unset) requires
  `rerun-if-env-changed=PATH` in the same file.

Usage: scripts/lint_build_scripts.py [FILE...] (default: every build script of the workspace).
Prints each problem with its file and exits 1 if there is any."""

from __future__ import annotations

import re
import sys
from pathlib import Path

STEPS = Path(__file__).resolve().parent.parent / "steps"

READS_VAR = re.compile(r'env::var(?:_os)?\(\s*"PYO3_PYTHON"\s*\)')
RUNS_FROM_PATH = re.compile(r'"python3?"')  # Command::new("python3"), or a fallback to that name


def declares(text: str, what: str) -> bool:
    return re.search(rf'rerun-if-env-changed={re.escape(what)}\b', text) is not None


def problems(path: Path) -> list[str]:
    text = path.read_text()
    code = "\n".join(line.split("//", 1)[0] for line in text.splitlines())  # not the comments
    found = []
    if READS_VAR.search(code) and not declares(code, "PYO3_PYTHON"):
        found.append(f"{path}: reads PYO3_PYTHON without printing "
                     "cargo::rerun-if-env-changed=PYO3_PYTHON (cargo would keep the first "
                     "interpreter's answer for every other one)")
    if RUNS_FROM_PATH.search(code) and not declares(code, "PATH"):
        found.append(f"{path}: runs python3 from PATH without printing "
                     "cargo::rerun-if-env-changed=PATH (another python3 first on PATH would not "
                     "rerun it)")
    return found


def build_scripts() -> list[Path]:
    files = sorted(p for p in STEPS.rglob("build.rs") if "target" not in p.parts)
    return files + sorted((STEPS / "build-support" / "src").rglob("*.rs"))


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or build_scripts()
    found = [p for f in files for p in problems(f)]
    for p in found:
        print(p)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
