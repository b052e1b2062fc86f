"""Chapter 10's Ring, every implementation the book stages (by hand, with PyO3, and the helper's
once staged): tests/children/ring_contract.py under every CPython >= 3.10 and the debug builds (behaviour,
the cycle GC, the drop counter, hostile input), the reference-leak check under the debug builds,
and a type object per subinterpreter; what only the hand-written Ring promises (tests/children/ring_by_hand.py:
its trashcan, its immutable type, ...), and the page's table of a subclass's layout under each
version. Each run is a child process, so a crash is reported instead of taking pytest down with
it. Each contract check is shown to fail on a Ring that breaks its rule."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import (ABI3_VERSIONS, CHILDREN, DEBUG_VERSIONS, ROOT, STAGE, debug_interpreter,
                     describe_exit, interpreter, missing, crashreport)

CONTRACT = CHILDREN / "ring_contract.py"
LEAK_PROBE = CHILDREN / "ring_refleak_probe.py"
RAW = STAGE / "10" / "ring.abi3.so"
PYO3 = STAGE / "10" / "pyo3_ring.abi3.so"
PAGE = ROOT / "book" / "ch10-classes.md"
# Every Ring module of the chapter: ring, pyo3_ring, and helper_ring when the helper's is staged.
MODULES = sorted((STAGE / "10").glob("*ring.abi3.so"))


def label(module: Path) -> str:
    return module.name.split(".")[0]


def test_the_chapter_stages_its_rings():
    assert RAW in MODULES and PYO3 in MODULES, f"run `just build` first: {MODULES}"


def python_for(version: str) -> str:
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    return python


@pytest.mark.parametrize("version", ABI3_VERSIONS)
@pytest.mark.parametrize("module", MODULES, ids=label)
def test_contract(module: Path, version: str):
    proc = crashreport.run([python_for(version), str(CONTRACT), str(module)], timeout=120)
    assert proc.returncode == 0, f"{label(module)} under CPython {version}: {describe_exit(proc)}"


# Rings that break one rule each, made by wrapping the real one in Python: the contract must fail
# on every one of them (a contract that passes anything proves nothing).
FAULTS = {
    "hashable": "class Ring(_real.Ring):\n    __hash__ = object.__hash__\n",
    "push returns nothing": ("class Ring(_real.Ring):\n"
                             "    def push(self, item):\n        super().push(item)\n"),
    "== for any type": ("class Ring(_real.Ring):\n"
                        "    def __eq__(self, other):\n"
                        "        return super().__eq__(other) is True\n    __hash__ = None\n"),
    "a value never dropped": ("_kept = []\nclass Ring(_real.Ring):\n"
                              "    def __init__(self, *a, **k):\n        _kept.append(self)\n"),
}
WRAPPER = """import importlib.machinery, importlib.util
_loader = importlib.machinery.ExtensionFileLoader("ring", {real!r})
_real = importlib.util.module_from_spec(importlib.util.spec_from_loader("ring", _loader))
_loader.exec_module(_real)
live = _real.live
{body}"""


def fake(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake_ring.py"
    path.write_text(WRAPPER.format(real=str(RAW), body=body))
    return path


@pytest.mark.parametrize("fault", FAULTS)
def test_the_contract_catches(fault, tmp_path):
    # ring_contract.py loads a .so; for a .py, the loader's spec is the source loader's.
    runner = tmp_path / "run.py"
    runner.write_text(f"import sys, runpy, importlib.util\nsys.path.insert(0, {str(CHILDREN)!r})\n"
                      "import load_extension\n"
                      "def load(path, name=None):\n"
                      "    spec = importlib.util.spec_from_file_location('fake_ring', path)\n"
                      "    m = importlib.util.module_from_spec(spec)\n"
                      "    spec.loader.exec_module(m)\n    return m\n"
                      "load_extension.load = load\n"
                      f"sys.argv = [{str(CONTRACT)!r}, sys.argv[1]]\n"
                      f"runpy.run_path({str(CONTRACT)!r}, run_name='__main__')\n")
    faultless = "class Ring(_real.Ring):\n    pass\n"
    ok = subprocess.run([sys.executable, str(runner), str(fake(tmp_path, faultless))],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, f"the faultless wrapper fails the contract:\n{ok.stderr}"
    bad = subprocess.run([sys.executable, str(runner), str(fake(tmp_path, FAULTS[fault]))],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "AssertionError" in bad.stderr, (
        f"the contract missed the fault {fault!r}: {describe_exit(bad)}")


def debug_python(version: str) -> str:
    python = debug_interpreter(version)
    if python is None:
        pytest.skip(missing(version, debug=True))
    return python


def leak_report(python: str, module: Path) -> dict:
    proc = crashreport.run([python, str(LEAK_PROBE), str(module)], timeout=600)
    assert proc.returncode == 0, f"{module.name} under {python}: {describe_exit(proc)}"
    reports = [line for line in proc.stdout.splitlines() if line.startswith("REPORT ")]
    assert reports, f"no report from {module.name}:\n{proc.stdout}{proc.stderr}"
    return json.loads(reports[-1][len("REPORT "):])


def leaks(results: dict) -> list[str]:
    """regrtest -R's rule: a leak when every measured round grew (blocks: by one per ten calls,
    as tests/test_refleaks.py allows the allocator's caches)."""
    return [f"{name}: {what} grew by {r[what]} in the measured rounds of 200 calls"
            for name, r in results.items()
            for what, least in (("refs", 1), ("blocks", 20)) if all(d >= least for d in r[what])]


@pytest.mark.parametrize("version", DEBUG_VERSIONS)
@pytest.mark.parametrize("module", MODULES, ids=label)
def test_no_reference_leaks(module: Path, version: str):
    problems = leaks(leak_report(debug_python(version), module))
    assert not problems, f"{label(module)} under CPython {version}-dbg:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("version", DEBUG_VERSIONS)
def test_the_leak_check_catches_a_leak(version: str, tmp_path):
    """A Ring whose push keeps one reference too many: every round must show it."""
    leaky = fake(tmp_path, "_kept = []\nclass Ring(_real.Ring):\n"
                           "    def push(self, item):\n        _kept.append(item)\n"
                           "        return super().push(item)\n")
    problems = leaks(leak_report(debug_python(version), leaky))
    assert any(p.startswith("push (full): refs grew") for p in problems), problems


SUBINTERPRETERS = """
import sys
sys.path.insert(0, {folder!r})
import ring, pyo3_ring
version = sys.version_info[:2]
if version >= (3, 13):
    import _interpreters as i
    new = lambda: i.create("legacy")
    run = lambda x, code: i.run_string(x, code)
else:
    import _xxsubinterpreters as i
    new = lambda: i.create(isolated=False) if version >= (3, 12) else i.create()
    run = i.run_string
CODE = '''
import sys
sys.path.insert(0, {folder!r})
import MODULE
kept_MODULE = MODULE.Ring(1)
print("MODULE", id(MODULE.Ring) != MAIN, flush=True)
'''
made = []
for _ in range(2):
    x = new()
    made.append(x)
    for m in (ring, pyo3_ring):
        failure = run(x, CODE.replace("MODULE", m.__name__).replace("MAIN", str(id(m.Ring))))
        assert failure is None, failure
print("live", ring.live(), flush=True)
for x in made:
    i.destroy(x)
print("destroyed", ring.live(), flush=True)
"""


BY_HAND = CHILDREN / "ring_by_hand.py"
# tests/children/ring_by_hand.py's checks, each a child process of its own (see its docstring).
BY_HAND_CHECKS = ["chain", "shapes", "threads", "interpreters", "immutable", "never_written",
                  "metaclass", "capacity", "out_of_memory", "subclass_init", "recursive_repr"]


@pytest.mark.parametrize("version", ABI3_VERSIONS)
@pytest.mark.parametrize("check", BY_HAND_CHECKS)
def test_by_hand(check: str, version: str):
    """The hand-written Ring's own promises (its trashcan, its immutable type, the state of an
    instance no __new__ initialised, ...), under every CPython >= 3.10 and the debug builds."""
    proc = crashreport.run([python_for(version), str(BY_HAND), str(RAW), check], timeout=600)
    assert proc.returncode == 0, f"{check} under CPython {version}: {describe_exit(proc)}"


def test_by_hand_runs_every_check():
    import ring_by_hand
    assert sorted(BY_HAND_CHECKS) == sorted(ring_by_hand.CHECKS)


# The page's table of where a subclass's __dict__ goes, row by row: (CPython, basicsize,
# dictoffset), the first version of each row; the rows that the book's own builds print
# (expected/subclass*.txt) are checked there too, and 3.10, which cannot build the book, here.
LAYOUT_ROW = re.compile(r"^\| (3\.\d+)(?: and later| to 3\.\d+)? \| (\d+) \| (-?\d+) \|", re.M)


@pytest.mark.parametrize("version", ABI3_VERSIONS[:6])
def test_the_pages_subclass_layout(version: str):
    rows = {v: (int(size), int(offset))
            for v, size, offset in LAYOUT_ROW.findall(PAGE.read_text())}
    assert "3.10" in rows and "3.11" in rows and "3.12" in rows, rows
    expected = rows[max((v for v in rows if version_key(v) <= version_key(version)),
                        key=version_key)]
    proc = crashreport.run([python_for(version), "subclass.py"], cwd=STAGE / "10", timeout=60)
    assert proc.returncode == 0, describe_exit(proc)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("Recent: basicsize"))
    got = tuple(int(n) for n in re.findall(r"basicsize (\d+), .* dictoffset (-?\d+)", line)[0])
    assert got == expected, f"CPython {version} prints {line!r}; the page's table says {expected}"


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in version.split("."))


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13", "3.14", "3.15"])
def test_each_subinterpreter_has_its_own_type(version: str):
    """ring makes a type per interpreter; PyO3's pyo3_ring, whose type is one per process, is
    the fault the check must see (its interpreters share the main one's type)."""
    code = SUBINTERPRETERS.format(folder=str(STAGE / "10"))
    proc = crashreport.run([python_for(version), "-c", code], timeout=120)
    assert proc.returncode == 0, describe_exit(proc)
    lines = proc.stdout.split("\n")
    assert lines.count("ring True") == 2, proc.stdout
    assert lines.count("pyo3_ring False") == 2, f"the check cannot see a shared type:\n{proc.stdout}"
    assert "live 2" in lines and "destroyed 0" in lines, proc.stdout
