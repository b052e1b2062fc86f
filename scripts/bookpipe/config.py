"""Where everything is, which CPython runs the book (and the environment that runs it), and the
error the user sees."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The pages start the pipeline once per command that is not ready, and a cached result needs only
# the standard library's light modules: those for running commands, diffing and building are
# imported where used.

ROOT = Path(__file__).resolve().parent.parent.parent
STEPS = ROOT / "steps"
BOOK_SRC = ROOT / "book"
# Everything built goes under TARGET (cargo's output, the rendered book, the pipeline's folders).
# BOOK_TARGET and BOOK_VENV let `just test` build the whole book again under another CPython, in
# a folder of its own, exactly as a reader whose python3 is that version would.
TARGET = Path(os.environ.get("BOOK_TARGET") or ROOT / "target")
VENV = Path(os.environ.get("BOOK_VENV") or ROOT / ".venv")
WORK = TARGET / "book-work"  # staged artifacts, per-command work folders, cache, failure reports
STAGE = WORK / "stage"
RUNS = WORK / "run"
# Passing results, keyed on everything they depend on; the drift tests share it with their copies.
CACHE = Path(os.environ.get("BOOK_CACHE_DIR", WORK / "cache"))
FAILURES = WORK / "failures"
# Each command's page output, valid while nothing under steps/ (nor the pipeline) is newer: the shell
# wrapper scripts/book prints it without starting Python. See write_ready().
READY = WORK / "ready"
# The token that `prepare` hands to `just build` (BOOK_READY_TOKEN) to let the shell wrapper print
# READY files without starting Python: valid only for the mdbook run that follows that prepare.
READY_TOKEN = READY / ".token"
# Written by a passing `check`: which interpreter the book was checked with, and on what sources.
CHECKED = WORK / "checked.json"
MDBOOK_LOG = WORK / "mdbook.log"
HTML = TARGET / "book"
VENV_BIN = VENV / "bin"

# The interpreter that runs the commands as `python3` is the one running this script (the wrapper
# starts VENV's). Outputs that really differ between CPython versions have an expectation per
# version: expected/ID.txt is CPython 3.11's (the oldest the book supports), and expected/ID@3.N.txt
# holds what 3.N and later print where that differs. VERIFIED is the versions `just test` builds
# the book under on the build machine; newer ones use the newest expectation below them.
PYVER = f"{sys.version_info[0]}.{sys.version_info[1]}"
BASE_VERSION = "3.11"
VERIFIED = ("3.11", "3.12", "3.13", "3.14", "3.15")



def python_env() -> dict[str, str]:
    """The caller's environment with the book's Python first: the pipeline's own cargo build runs
    in it, and the commands' tools are looked up on its PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    # The interpreter's folder resolved: a copy of the book whose .venv links to this one's is
    # the same configuration to pyo3's build script, which reruns whenever the text changes.
    env["PYO3_PYTHON"] = os.path.join(os.path.realpath(VENV_BIN), "python")
    env.setdefault("CARGO_TARGET_DIR", str(TARGET))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class Fail(Exception):
    """A problem the user must see; the message says what to do."""
