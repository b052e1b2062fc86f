"""Chapter 7's modules, under every CPython >= 3.10 on the machine: the same file must add (or
double), and reject bad input with the exception CPython would raise, whatever the calling
convention. Each run is a child process, so a crash is reported instead of taking pytest down."""

from pathlib import Path

import pytest

from support import ABI3_VERSIONS, CHILDREN, STAGE, describe_exit, interpreter, missing, crashreport

CONTRACT = CHILDREN / "ch07_contract.py"
# module name -> whether its sum takes keyword arguments ("twice": the one-argument controls)
MODULES = {"c_fastcall": "reject", "c_varargs_manual": "reject", "rust_fastcall": "reject",
           "rust_varargs": "reject", "pyo3_sum": "accept", "go_sum": "reject",
           "c_one_arg": "twice"}


def staged_module(name: str) -> Path:
    path = STAGE / "07" / f"{name}.abi3.so"
    assert path.exists(), f"{path} is not staged: run `just build` first"
    return path


@pytest.mark.parametrize("version", ABI3_VERSIONS)
@pytest.mark.parametrize("name", MODULES)
def test_contract(name: str, version: str):
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    module = staged_module(name)
    proc = crashreport.run([python, str(CONTRACT), str(module), name, MODULES[name]],
                           timeout=120)
    assert proc.returncode == 0, f"{name} under CPython {version}: {describe_exit(proc)}"


def test_every_module_is_tested():
    """A module staged by chapter 7 but missing from MODULES would escape the contract."""
    staged = {p.name.removesuffix(".abi3.so") for p in (STAGE / "07").glob("*.abi3.so")}
    assert staged - {"foo"} <= set(MODULES), f"untested modules: {staged - {'foo'} - set(MODULES)}"
