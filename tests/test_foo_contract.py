"""Every `foo` module the book builds, under every CPython >= 3.10 on the machine.

The stable ABI is a promise: the very same foo.abi3.so file (not a rebuild) must pass the contract
in tests/foo_contract.py under each interpreter. Each run is a child process, so a crash is caught
and reported instead of taking pytest down with it."""

import subprocess
from pathlib import Path

import pytest

from conftest import ABI3_VERSIONS, STAGE, describe_exit, interpreter, staged

CONTRACT = Path(__file__).with_name("foo_contract.py")
MODULES = staged("foo.abi3.so")


@pytest.mark.parametrize("version", ABI3_VERSIONS)
@pytest.mark.parametrize("module", MODULES, ids=lambda p: f"ch{p.parent.name}")
def test_contract(module: Path, version: str):
    python = interpreter(version)
    if python is None:
        pytest.skip(f"CPython {version} is not installed on this machine")
    proc = subprocess.run([python, str(CONTRACT), str(module)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, f"{module.relative_to(STAGE)} under CPython {version}: {describe_exit(proc)}"
