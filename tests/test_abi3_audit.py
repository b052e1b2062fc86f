"""Every extension module the book builds keeps the stable-ABI promise of its `.abi3.so` name, for
CPython 3.10 (pyo3-ffi's `abi3-py310`, `Py_LIMITED_API 0x030A0000`), and so does chapter 9's wheel:
abi3audit (pinned in scripts/requirements.txt) finds no symbol outside the stable ABI of 3.10. The
module that chapter 9 breaks on purpose must fail, on exactly the symbol it declares by hand.
Chapter 9's module with two entry points is flagged for exactly one symbol, its own
`PyModExport_hooks`: abi3audit 0.0.26 excuses the `PyInit_` symbols a module exports, not PEP 793's
export hook, so the finding is about the tool, and the test pins it to that one symbol.
Chapter 11's `hist` calls the buffer protocol, in the stable ABI only from 3.11: against 3.10 it is
flagged for exactly the three buffer functions it calls, and against 3.11 it passes (its
`PyInit_hist` refuses 3.10, and a wheel of it would be tagged `cp311-abi3`). Chapter 12's
`hist_progress`, hist with a progress callback, is audited against 3.11 too.

abi3audit runs with every network connection refused: it must need none for files on disk."""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from support import ABI3_VERSIONS, STAGE, describe_exit, interpreter, missing

VIOLATION = STAGE / "09" / "violation.abi3.so"
HOOKS = STAGE / "09" / "hooks.abi3.so"
HIST = STAGE / "11" / "hist.abi3.so"

# abi3audit's command-line entry point, in a Python whose sockets cannot connect or resolve.
OFFLINE = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("the test refuses every network connection")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
from abi3audit._cli import main
sys.argv = ["abi3audit", *sys.argv[1:]]
main()
"""


# abi3audit's HTTP cache (a SQLite file, made when it is asked about PyPI) goes to a throwaway
# folder, not to the user's ~/.cache.
ENV = dict(os.environ, XDG_CACHE_HOME=tempfile.mkdtemp(prefix="abi3audit-cache-"))
atexit.register(shutil.rmtree, ENV["XDG_CACHE_HOME"], True)


def audit(*args: str) -> tuple[int, dict, str]:
    """Runs abi3audit offline with a JSON report; returns its status, the report and its log."""
    proc = subprocess.run([sys.executable, "-c", OFFLINE, "--report", *args],
                          capture_output=True, text=True, timeout=120, env=ENV)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = {}
    return proc.returncode, report, proc.stderr


def results(report: dict) -> dict[str, dict]:
    """Each audited library's result, by the spec it was named by (and its name in a wheel)."""
    found = {}
    for spec, entry in report["specs"].items():
        if entry["kind"] == "object":
            found[spec] = entry["object"]["result"]
        elif entry["kind"] == "wheel":
            for obj in entry["wheel"]:
                found[f"{spec}:{obj['name']}"] = obj["result"]
    return found


def needs_3_11(module) -> bool:
    """Chapter 11's hist, and chapter 12's hist_progress (hist with a progress callback, and its
    broken variant): the buffer protocol, in the stable ABI from 3.11."""
    return module.name in ("hist.abi3.so", "hist_progress.abi3.so")


def staged_modules(for_3_11: bool = False) -> list:
    modules = sorted(p for p in STAGE.rglob("*.abi3.so")
                     if not p.relative_to(STAGE).parts[0].endswith(".tmp")
                     and p not in (VIOLATION, HOOKS, HIST) and needs_3_11(p) == for_3_11)
    if not modules:
        pytest.fail(f"no staged modules under {STAGE}: run `just build` first")
    return modules


def test_every_module_the_book_builds_passes():
    modules = staged_modules()
    chapters = {m.relative_to(STAGE).parts[0] for m in modules}
    assert {"02", "03", "04", "05", "06", "07", "08"} <= chapters, sorted(chapters)
    status, report, log = audit("--assume-minimum-abi3", "3.10", *map(str, modules))
    assert status == 0, log
    found = results(report)
    assert sorted(found) == sorted(map(str, modules))
    bad = {spec: r for spec, r in found.items()
           if not (r["is_abi3"] and r["is_abi3_baseline_compatible"] and r["computed"] == "3.10"
                   or r["computed"] < "3.10" and r["is_abi3"])}
    assert not bad, json.dumps(bad, indent=1)


def test_the_modules_that_need_3_11_pass_against_3_11():
    """hist_progress (chapter 12) is hist with a callback: like hist (below), it needs 3.11's
    stable ABI, and nothing newer."""
    modules = staged_modules(for_3_11=True)
    assert {m.relative_to(STAGE).parts[0] for m in modules} >= {"12"}, modules
    status, report, log = audit("--assume-minimum-abi3", "3.11", *map(str, modules))
    assert status == 0, log
    bad = {spec: r for spec, r in results(report).items()
           if not (r["is_abi3"] and r["is_abi3_baseline_compatible"] and r["computed"] == "3.11")}
    assert not bad, json.dumps(bad, indent=1)


def test_the_wheel_passes_with_its_tag_as_the_baseline(ch09_wheel):
    status, report, log = audit(str(ch09_wheel))
    assert status == 0, log
    (result,) = results(report).values()
    assert result["baseline"] == "3.10" and result["is_abi3"] and result["is_abi3_baseline_compatible"]


def test_a_bare_abi3_so_has_no_minimum_version():
    """Without a wheel, abi3audit can only assume 3.2: the `.abi3.so` name says no more."""
    module = STAGE / "08" / "foo.abi3.so"
    status, report, _ = audit(str(module))
    assert status == 1
    (result,) = results(report).values()
    assert result["baseline"] == "3.2" and result["computed"] == "3.10"


def test_the_deliberate_violation_fails():
    """Fault injection: chapter 9's module declares PyUnstable_Module_SetGIL by hand."""
    status, report, _ = audit("--assume-minimum-abi3", "3.10", str(VIOLATION))
    assert status == 1
    (result,) = results(report).values()
    assert result["non_abi3_symbols"] == ["PyUnstable_Module_SetGIL"], result
    assert not result["is_abi3"]


def test_the_export_hook_is_the_only_finding():
    """abi3audit flags the symbol the module exports for CPython 3.15, and nothing it imports:
    every function it calls is in 3.10's stable ABI."""
    status, report, _ = audit("--assume-minimum-abi3", "3.10", str(HOOKS))
    assert status == 1
    (result,) = results(report).values()
    assert result["non_abi3_symbols"] == ["PyModExport_hooks"], result
    assert result["computed"] == "3.10" and result["is_abi3_baseline_compatible"], result
    exported = subprocess.run(["nm", "-D", "--defined-only", str(HOOKS)], capture_output=True,
                              text=True, check=True).stdout.split()
    assert "PyModExport_hooks" in exported and "PyInit_hooks" in exported


def test_hist_needs_3_11_for_the_buffer_protocol_alone():
    """Against 3.10, the only findings are the three buffer functions, each dated 3.11; against
    3.11, none."""
    status, report, log = audit("--assume-minimum-abi3", "3.10", str(HIST))
    assert status == 1, log
    (result,) = results(report).values()
    assert result["is_abi3"] and not result["non_abi3_symbols"], result
    assert result["computed"] == "3.11" and not result["is_abi3_baseline_compatible"], result
    assert result["future_abi3_objects"] == {"PyObject_GetBuffer": "3.11",
                                             "PyBuffer_IsContiguous": "3.11",
                                             "PyBuffer_Release": "3.11"}, result
    status, report, log = audit("--assume-minimum-abi3", "3.11", str(HIST))
    assert status == 0, log
    (result,) = results(report).values()
    assert result["is_abi3_baseline_compatible"] and result["computed"] == "3.11", result


def test_the_audit_really_is_offline():
    """The same entry point, asked about a package on PyPI, fails: no request got through."""
    proc = subprocess.run([sys.executable, "-c", OFFLINE, "foo==1.0"], capture_output=True,
                          text=True, timeout=120, env=ENV)
    assert proc.returncode != 0
    assert "the test refuses every network connection" in proc.stdout + proc.stderr


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_the_violation_loads_nowhere_with_a_gil(version):
    """What the audit protects against: PyUnstable_Module_SetGIL exists only in free-threaded
    builds (3.13t on), so every GIL-enabled CPython fails the import on the undefined symbol."""
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    code = "import sys; sys.path.insert(0, sys.argv[1]); import violation"
    proc = subprocess.run([python, "-c", code, str(VIOLATION.parent)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1, describe_exit(proc)
    assert "undefined symbol: PyUnstable_Module_SetGIL" in proc.stderr, proc.stderr
