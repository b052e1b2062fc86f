"""Chapter 11's `hist`: tests/children/hist_contract.py under every CPython >= 3.10 and the debug builds
(answers, every kind of buffer, refusals, the export's lifetime, writers and callers in other
threads), also with the module's debug build (Rust's checks of unsafe preconditions on), Ctrl-C
within 200 ms with the workers stopped and the export released, a clean exit while a daemon
thread is inside a call, and the reference-leak check under the debug builds. Each run is a child
process, so that a crash is reported instead of taking pytest down. Each check is shown to fail on
a `hist` that breaks its rule (a wrapper in Python around the real module)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import (ABI3_VERSIONS, CHILDREN, DEBUG_VERSIONS, ROOT, STAGE, describe_exit,
                     interpreter, missing, crashreport)

CONTRACT = CHILDREN / "hist_contract.py"
INTERRUPT = CHILDREN / "hist_interrupt.py"
AT_EXIT = CHILDREN / "hist_at_exit.py"
HIST = STAGE / "11" / "hist.abi3.so"
# The same crate from `just build`'s cargo build of the workspace in the dev profile: debug
# assertions on, so that the standard library checks the preconditions of its unsafe functions
# (a null pointer given to slice::from_raw_parts aborts instead of going unnoticed).
HIST_DEBUG = ROOT / "target" / "debug" / "libhist.so"


def python_for(version: str) -> str:
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    return python


def test_the_chapter_stages_hist():
    assert HIST.exists(), f"{HIST} is missing: run `just build` first"


def contract(python: str, module: Path, *only: str) -> subprocess.CompletedProcess:
    return crashreport.run([python, str(CONTRACT), str(module), *only], timeout=300)


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_contract(version: str):
    proc = contract(python_for(version), HIST)
    assert proc.returncode == 0, f"hist under CPython {version}: {describe_exit(proc)}"
    assert proc.stdout.startswith("ok"), proc.stdout


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_contract_with_debug_assertions(version: str):
    """The contract again, on the debug build of the module: what a release build lets pass
    silently (a slice made from the NULL that PyObject_CallNoArgs passes as its arguments) is
    an abort there."""
    assert HIST_DEBUG.exists(), f"{HIST_DEBUG} is missing: run `just build` first"
    proc = contract(python_for(version), HIST_DEBUG)
    assert proc.returncode == 0, f"hist's debug build, CPython {version}: {describe_exit(proc)}"
    assert proc.stdout.startswith("ok"), proc.stdout


@pytest.mark.parametrize("version", [v for v in ABI3_VERSIONS if v != "3.10"])
def test_a_call_in_a_daemon_thread_at_exit(version: str):
    """A daemon thread is inside `histogram` (the GIL released, its workers counting) when the
    interpreter exits: the thread's PyEval_RestoreThread never returns, and the process exits
    cleanly. Through pyo3-ffi's wrapper the thread parks on every version; the C function
    alone ends it with pthread_exit on 3.10 to 3.13, whose unwinding through Rust frames aborts
    the process (seen with a variant of `workers.rs`: exit status 134 on 3.11 to 3.13)."""
    proc = crashreport.run([python_for(version), str(AT_EXIT), str(HIST)], timeout=180)
    assert proc.returncode == 0, f"hist at exit under CPython {version}: {describe_exit(proc)}"
    assert proc.stdout.split() == ["EXITING", "PARKED"], describe_exit(proc)


# Modules that break one promise each, made by wrapping the real one in Python: the contract must
# fail on every one of them (a contract that passes anything proves nothing).
WRAPPER = """import sys
sys.path.insert(0, {here!r})
from load_extension import load
_real = load({real!r}, "hist")
parity = _real.parity
{body}"""
FAULTS = {
    "off by one byte": "def histogram(data, /, threads=1):\n"
                       "    c = _real.histogram(data, threads=threads)\n"
                       "    c[0] += len(memoryview(data).cast('B')) > 4096\n    return c\n",
    "counts doubles as bytes": "def histogram(data, /, threads=1):\n"
                               "    return _real.histogram(memoryview(data).cast('B'), threads=threads)\n",
    "keeps the export": "_kept = []\ndef histogram(data, /, threads=1):\n"
                        "    _kept.append(memoryview(data))\n"
                        "    return _real.histogram(data, threads=threads)\n",
    "threads=0 allowed": "def histogram(data, /, threads=1):\n"
                         "    return _real.histogram(data, threads=max(threads, 1))\n",
    "a tuple, not a list": "def histogram(data, /, threads=1):\n"
                           "    return tuple(_real.histogram(data, threads=threads))\n",
}


def fake(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake_hist.py"
    path.write_text(WRAPPER.format(here=str(CHILDREN), real=str(HIST), body=body))
    return path


def test_the_contract_passes_a_faithful_wrapper(tmp_path):
    faithful = "def histogram(data, /, threads=1):\n    return _real.histogram(data, threads=threads)\n"
    proc = contract(sys.executable, fake(tmp_path, faithful))
    assert proc.returncode == 0, describe_exit(proc)


@pytest.mark.parametrize("fault", FAULTS)
def test_the_contract_catches(fault, tmp_path):
    proc = contract(sys.executable, fake(tmp_path, FAULTS[fault]))
    assert proc.returncode == 1 and "AssertionError" in proc.stderr, (
        f"the contract passed a hist whose fault is: {fault}\n{describe_exit(proc)}")


# Ctrl-C: the parent sends SIGINT once the child's call has started and expects the child's
# KeyboardInterrupt within 200 ms of it, its threads back to what they were, the export released.
LIMIT = 0.2


def interrupt(python: str, module: Path, threads: int) -> dict:
    child = subprocess.Popen([python, str(INTERRUPT), str(module), str(threads)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "READY", child.communicate(timeout=30)
        time.sleep(0.3)  # the call has started and its workers are counting
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=3)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        pytest.fail(f"no end within 3 s of SIGINT (the call alone would take seconds):\n{out}{err}")
    reports = [line for line in out.splitlines() if line.startswith("REPORT ")]
    assert child.returncode == 0 and reports, f"exit {child.returncode}:\n{out}{err}"
    report = json.loads(reports[-1][len("REPORT "):])
    report["late"] = report["at"] - sent if report["interrupted"] else None
    return report


def assert_interrupted(report: dict) -> None:
    assert report["interrupted"], f"the call ended without KeyboardInterrupt: {report}"
    assert report["late"] < LIMIT, f"KeyboardInterrupt {report['late']:.3f} s after SIGINT"
    assert report["threads_after"] == report["threads_before"], f"threads left running: {report}"
    assert report["closed"] is True, f"the export outlived the call: {report['closed']}"


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("version", [v for v in ABI3_VERSIONS if v != "3.10"])
def test_ctrl_c_interrupts_within_200_ms(version: str, threads: int):
    assert_interrupted(interrupt(python_for(version), HIST, threads))


INTERRUPT_FAULTS = {
    # Retries when interrupted: the call goes on after the signal.
    "swallows Ctrl-C": "def histogram(data, /, threads=1):\n    while True:\n        try:\n"
                       "            return _real.histogram(data, threads=threads)\n"
                       "        except KeyboardInterrupt:\n            pass\n",
    # Keeps an export of the data after the interrupted call.
    "keeps the export": "_kept = []\ndef histogram(data, /, threads=1):\n"
                        "    _kept.append(memoryview(data))\n"
                        "    return _real.histogram(data, threads=threads)\n",
    # Starts a thread of its own that never ends.
    "leaves a thread": "import threading, time\ndef histogram(data, /, threads=1):\n"
                       "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
                       "    return _real.histogram(data, threads=threads)\n",
}


@pytest.mark.parametrize("fault", INTERRUPT_FAULTS)
def test_the_ctrl_c_check_catches(fault, tmp_path):
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        assert_interrupted(interrupt(sys.executable, fake(tmp_path, INTERRUPT_FAULTS[fault]), 2))


def debug_python(version: str) -> str:
    python = interpreter(f"{version}-dbg")
    if python is None:
        pytest.skip(missing(version, debug=True))
    return python


@pytest.mark.parametrize("version", DEBUG_VERSIONS)
def test_the_leak_check_catches_a_leak(version: str, tmp_path):
    """A hist that keeps one new object per call on the threads' path: only the contract's
    reference count under a debug build can see it (the argument's own count does not change)."""
    leaky = ("_kept = []\ndef histogram(data, /, threads=1):\n"
             "    if threads > 1:\n        _kept.append(object())\n"
             "    return _real.histogram(data, threads=threads)\n")
    faithful = contract(debug_python(version), HIST, "leaks")
    assert faithful.returncode == 0, describe_exit(faithful)
    proc = contract(debug_python(version), fake(tmp_path, leaky), "leaks")
    assert proc.returncode == 1 and "references grew in every round" in proc.stderr, (
        describe_exit(proc))


PYO3_CHECK = """import sys
sys.path.insert(0, {here!r})
import numpy
from load_extension import load
from hist_contract import raises, reference
m = load({module!r}, "pyo3_hist")
data = numpy.random.default_rng(3).integers(0, 256, 3 << 20, dtype=numpy.uint8)
for piece in (data, data[1:], data[:0], data[5:1000]):
    assert m.histogram(piece) == reference(piece.tobytes()), len(piece)
raises(TypeError, lambda: m.histogram(data.tobytes()))
raises(TypeError, lambda: m.histogram(data.astype(numpy.int64)))
raises(TypeError, lambda: m.histogram(data.reshape(-1, 2)))
raises(TypeError, lambda: m.histogram(data[::2]), "not contiguous")
print("ok")
"""


def test_pyo3_hist_counts_and_refuses(tmp_path):
    """PyO3's and rust-numpy's version, under the book's own CPython (which has numpy): the same
    answers as hist on contiguous uint8 arrays, exceptions for anything else."""
    module = STAGE / "11" / "pyo3_hist.abi3.so"
    script = tmp_path / "pyo3_check.py"
    script.write_text(PYO3_CHECK.format(here=str(CHILDREN), module=str(module)))
    proc = crashreport.run([sys.executable, str(script)], timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", describe_exit(proc)


# --- The page's `cargo test -p step11-counting` runs the tests the page shows ------------------

NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def counting_tests_on_the_page(text: str) -> list[str]:
    """The unit tests of counting/src/lib.rs that chapter 11's page shows (`text`: its Markdown)."""
    import re
    sys.path.insert(0, str(ROOT / "scripts"))
    from bookpipe import pages
    counting = ROOT / "steps" / "11-hot-loop" / "counting" / "src" / "lib.rs"
    shown = []
    for m in re.finditer(pages.LINK, text):
        ln = pages.link(m)
        if ln.kind == "include" and (ROOT / "book" / ln.path).resolve() == counting:
            shown.append(pages.select_lines(counting.read_text(), ln.selection)[0])
    return sorted({name for what in shown for name in re.findall(r"#\[test\]\s+fn (\w+)", what)})


def test_the_page_shows_the_counting_tests_that_its_command_runs():
    """Chapter 11 names `cargo test -p step11-counting` (in steps/) for the loop's unit tests: the
    page shows every one of them, and that command runs exactly those, as many as it says."""
    import re
    text = (ROOT / "book" / "ch11-hot-loop.md").read_text()
    flat = " ".join(text.split())
    assert "`cargo test -p step11-counting` in `steps/`" in flat
    said = re.search(r"runs them \((\w+) tests\)", flat)
    assert said, "the page no longer says how many tests the command runs"
    shown = counting_tests_on_the_page(text)
    listed = subprocess.run(["cargo", "test", "-p", "step11-counting", "--offline", "--quiet", "--",
                             "--list"], cwd=ROOT / "steps", capture_output=True, text=True,
                            timeout=600)
    assert listed.returncode == 0, listed.stderr
    ran = sorted(re.findall(r"(?m)^tests::(\w+): test$", listed.stdout))
    assert ran and ran == shown, f"cargo runs {ran}; the page shows {shown}"
    assert NUMBERS.index(said.group(1)) == len(ran)


def test_a_page_without_the_counting_tests_is_seen():
    text = (ROOT / "book" / "ch11-hot-loop.md").read_text()
    include = "{{#include ../steps/11-hot-loop/counting/src/lib.rs:all}}"
    assert include in text
    assert counting_tests_on_the_page(text)
    assert counting_tests_on_the_page(text.replace(include, "")) == []
