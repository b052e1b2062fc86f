"""The reliability suite's hostile-input and leak tests (tests/test_ch06_reliability.py) under the
newest CPythons too, beside the book's own interpreter, which `just test` runs it with directly.

Each run is pytest itself on that CPython, as a child process, with the suite's tools (pytest and
hypothesis, pure Python) taken from the book's .venv: the probe's children then run on that CPython,
every staged module is loaded by it, and a crash is reported as the suite reports one (with the
faulting thread and gdb's backtraces). Under 3.14 and 3.15 from Debian sid, the run is inside the
sid root folder (the launcher of scripts/pythons.sh)."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from support import ROOT, interpreter, missing

VERSIONS = ["3.14", "3.15"]
SUITE = Path(__file__).with_name("test_ch06_reliability.py")


@pytest.mark.parametrize("version", VERSIONS)
def test_reliability_suite_under(version):
    if version == "%d.%d" % sys.version_info[:2]:
        pytest.skip(f"CPython {version} is the book's own interpreter: the suite runs on it directly")
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    env = dict(os.environ, PYTHONPATH=sysconfig.get_path("purelib"), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider",
                           "-q", "-rs", str(SUITE), "-k", "hostile_input or no_leaks"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=2400)
    tail = (proc.stdout + proc.stderr)[-15000:]
    assert proc.returncode == 0, f"the reliability suite under CPython {version} failed:\n{tail}"
    assert " passed" in proc.stdout and " skipped" not in proc.stdout.splitlines()[-1], tail
