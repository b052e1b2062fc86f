"""Chapter 6's modules under every CPython >= 3.10 on the machine, each run in a child process.

`errors` must behave the same under each (tests/children/ch06_errors_contract.py): it is one abi3 file. The
deliberately broken module must fail the way the chapter says, under each: `add` aborts the
process, `add_guarded` raises PanicException and the interpreter lives on.
"""

import signal
import subprocess
from pathlib import Path

import pytest

from support import ABI3_VERSIONS, CHILDREN, STAGE, describe_exit, interpreter, missing, crashreport

CONTRACT = CHILDREN / "ch06_errors_contract.py"
CH06 = STAGE / "06"


def python_or_skip(version: str) -> str:
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    return python


def run(python: str, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-c", code], cwd=CH06, capture_output=True, text=True,
                          timeout=60, env={"RUST_BACKTRACE": "0", "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_errors_contract(version):
    python = python_or_skip(version)
    proc = crashreport.run([python, str(CONTRACT), str(CH06)], timeout=60)
    assert proc.returncode == 0, f"errors under CPython {version}: {describe_exit(proc)}"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_unguarded_panic_aborts(version):
    python = python_or_skip(version)
    proc = run(python, "import broken; print(broken.add(2, 40), flush=True); "
                       "broken.add(2**63 - 1, 1); print('survived')")
    assert proc.returncode == -signal.SIGABRT, describe_exit(proc)
    assert proc.stdout == "42\n"
    assert "attempt to add with overflow" in proc.stderr
    assert "panic in a function that cannot unwind" in proc.stderr


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_guarded_panic_raises(version):
    python = python_or_skip(version)
    proc = run(python, "import broken\n"
                       "try:\n    broken.add_guarded(2**63 - 1, 1)\n"
                       "except BaseException as e:\n    print(type(e).__module__, type(e).__name__, e)\n"
                       "print(broken.add_guarded(2, 40))")
    assert proc.returncode == 0, describe_exit(proc)
    assert proc.stdout == "broken PanicException attempt to add with overflow\n42\n"
