"""Reference leaks, counted by a debug CPython, in the manner of CPython's own `regrtest -R`.

A debug build (Debian's python3.11-dbg; sid's python3.14-dbg and python3.15-dbg, from
scripts/pythons.sh) keeps a running total of every reference in sys.gettotalrefcount(). For every
function of every module the book stages (the reliability suite's list), tests/children/refleak_probe.py
runs rounds of calls with good and with bad input, three to warm up and three measured; a
function leaks when every measured round leaves more references than it found, which is
regrtest's rule (for memory blocks, when every round grew by one block per ten calls or more).
The same modules also run under the debug builds' own checks here: the C API's assertions are
compiled in, so a broken protocol aborts the child.

The check is checked: chapter 6's broken module leaks a reference on purpose (text_length), and
tests/c/leaky.c, compiled here, leaks eight bytes on every call, eight bytes on every fifth call,
and a reference on every fifth call; the check must catch each of them."""

import json
import subprocess
import sysconfig
from pathlib import Path

import pytest

from support import (CHILDREN, C_SOURCES, DEBUG_VERSIONS, STAGE, debug_interpreter, describe_exit,
                     label, missing, module_id)

from test_ch06_reliability import MODULES

PROBE = CHILDREN / "refleak_probe.py"
# References: regrtest's rule, a leak when every measured round grew at all. Memory blocks: the
# allocator's own caches may keep one block more now and then (seen: +1 a round, for 200 calls with
# a 150-digit int, under 3.11.2's debug build), so a block leak is one per ten calls or more.
BLOCKS_PER_ROUND = 20
BROKEN = STAGE / "06" / "broken.abi3.so"


def probe(python: str, module: Path, *extra: str) -> dict:
    proc = subprocess.run([python, str(PROBE), str(module), *extra], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"{label(module)} under {python}: {describe_exit(proc)}"
    reports = [line for line in proc.stdout.splitlines() if line.startswith("REPORT ")]
    assert reports, f"no report from {label(module)} under {python}:\n{proc.stdout}{proc.stderr}"
    return json.loads(reports[-1][len("REPORT "):])


def leaks(results: dict) -> list[str]:
    problems = []
    for name, r in results.items():
        if "error" in r:
            problems.append(f"{name}: {r['error']}")
            continue
        for kind in r["kinds"]:
            for what, least in (("refs", 1), ("blocks", BLOCKS_PER_ROUND)):
                if all(d >= least for d in kind[what]):
                    problems.append(f"{name}: every measured round left more {what} than it "
                                    f"found ({', '.join(f'{d:+d}' for d in kind[what])}; 200 "
                                    f"calls a round of {kind['call']})")
    return problems


def debug_python(version: str) -> str:
    python = debug_interpreter(version)
    if python is None:
        pytest.skip(missing(version, debug=True))
    return python


@pytest.mark.parametrize("version", DEBUG_VERSIONS)
@pytest.mark.parametrize("module", MODULES, ids=module_id)
def test_no_reference_leaks(module: Path, version: str):
    results = probe(debug_python(version), module)
    assert results, f"{label(module)} has no functions"
    problems = leaks(results)
    assert not problems, (f"{label(module)} under the debug build of CPython {version}:\n  "
                          + "\n  ".join(problems))


@pytest.mark.parametrize("version", DEBUG_VERSIONS)
def test_the_check_catches_a_leak(version: str):
    """broken.text_length forgets one Py_DECREF per call: every round must show it."""
    results = probe(debug_python(version), BROKEN, "--only", "text_length",
                    "--valid", "{'text_length': ('héllo wörld',)}")
    problems = leaks(results)
    assert any(p.startswith("text_length: every measured round left more refs") for p in problems), (
        f"the reference-leak check missed broken.text_length's leak: {results}")


LEAKY = C_SOURCES / "leaky.c"
# Each function of tests/c/leaky.c, and what it leaks: bytes from PyMem_Malloc show only as memory
# blocks (200, or 40, a round of 200 calls), the reference only in the total refcount (40 a round).
LEAKY_FAULTS = {"bytes_every_call": "blocks", "bytes_every_fifth_call": "blocks",
                "ref_every_fifth_call": "refs"}
# A string made in the child (the probe copies it), not interned: Py_IncRef on an immortal object
# (an interned string, from 3.12 on) changes no count.
LEAKY_VALID = repr({name: ("an argument",) for name in LEAKY_FAULTS})


@pytest.fixture(scope="module")
def leaky(tmp_path_factory) -> Path:
    """tests/c/leaky.c as an extension module of the stable ABI (3.10), which every debug build
    loads, as it loads the book's own modules."""
    out = tmp_path_factory.mktemp("leaky") / "leaky.abi3.so"
    cmd = ["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
           "-DPy_LIMITED_API=0x030A0000", f"-I{sysconfig.get_path('include')}", str(LEAKY),
           "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    return out


@pytest.mark.parametrize("version", DEBUG_VERSIONS)
def test_the_check_catches_small_and_sparse_leaks(version: str, leaky: Path):
    results = probe(debug_python(version), leaky, "--valid", LEAKY_VALID)
    problems = leaks(results)
    for name, what in LEAKY_FAULTS.items():
        assert any(p.startswith(f"{name}: every measured round left more {what}")
                   for p in problems), f"the check missed leaky.{name}'s leak of {what}: {results}"
