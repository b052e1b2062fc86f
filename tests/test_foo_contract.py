"""Every `foo` module the book builds, under every CPython >= 3.10 on the machine.

The stable ABI is a promise: the very same foo.abi3.so file (not a rebuild) must pass the contract
in tests/children/foo_contract.py under each interpreter. Each run is a child process, so a crash is caught
and reported instead of taking pytest down with it."""

from pathlib import Path

import pytest

from support import ABI3_VERSIONS, CHILDREN, STAGE, describe_exit, interpreter, missing, staged, crashreport

CONTRACT = CHILDREN / "foo_contract.py"

# Intermediate stages that chapter 3 shows on purpose before they work: they are not finished
# modules (no PyInit_foo, a sum that returns 0, a sum that aborts on overflow).
UNFINISHED = {"03/1-c-archive", "03/3-returns-zero", "03/4-parse-tuple"}
MODULES = [m for m in staged("foo.abi3.so") if str(m.parent.relative_to(STAGE)) not in UNFINISHED]


def test_every_finished_chapter_is_tested():
    chapters = {m.relative_to(STAGE).parts[0] for m in MODULES}
    assert {"02", "03", "05"} <= chapters, f"foo modules found for chapters {sorted(chapters)}"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.parent.relative_to(STAGE)))
def test_contract(module: Path, version: str):
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    proc = crashreport.run([python, str(CONTRACT), str(module)], timeout=60)
    assert proc.returncode == 0, f"{module.relative_to(STAGE)} under CPython {version}: {describe_exit(proc)}"
