"""Chapter 12's module, callbacks (book/ch12-callbacks.md): tests/children/callbacks_contract.py
under every CPython >= 3.10 and the debug builds (calls, iterators both ways, Rust threads, and
the hostile callbacks: raising, re-entrant, mutating the ring, KeyboardInterrupt), the
reference-leak check under the debug builds (every function, every error path), and the exit
with Rust threads calling back, many times over. Each run is a child process, so a crash is
reported instead of taking pytest down with it. Each check is shown to fail on a module that
breaks its rule. (The reliability suite, tests/test_ch06_reliability.py, covers the module too:
tests/children/ch06_registry.py registers its functions.)"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import (ABI3_VERSIONS, CHILDREN, DEBUG_VERSIONS, STAGE, crashreport,
                     debug_interpreter, describe_exit, interpreter, missing)

CONTRACT = CHILDREN / "callbacks_contract.py"
LEAK_PROBE = CHILDREN / "callbacks_refleak_probe.py"
MODULE = STAGE / "12" / "callbacks.abi3.so"


def python_for(version: str) -> str:
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    return python


def test_the_chapter_stages_its_module():
    assert MODULE.exists(), f"run `just build` first: {MODULE}"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_contract(version: str):
    proc = crashreport.run([python_for(version), str(CONTRACT), str(MODULE)], timeout=180)
    assert proc.returncode == 0, f"callbacks under CPython {version}: {describe_exit(proc)}"


# Modules that break one promise each, made by wrapping the real one in Python: the contract must
# fail on every one of them (a contract that passes anything proves nothing).
FAULTS = {
    "a new exception object": ("def call_n(f, n):\n    try:\n        return _real.call_n(f, n)\n"
                               "    except Exception as e:\n"
                               "        raise type(e)(*e.args) from None\n"),
    "KeyboardInterrupt swallowed": ("def call_n(f, n):\n    try:\n"
                                    "        return _real.call_n(f, n)\n"
                                    "    except KeyboardInterrupt:\n        return 0\n"),
    "an iterator blind to changes": ("class Ring:\n"
                                     "    def __init__(self, capacity):\n"
                                     "        self._r = _real.Ring(capacity)\n"
                                     "    def push(self, x):\n        return self._r.push(x)\n"
                                     "    def clear(self):\n        return self._r.clear()\n"
                                     "    def __len__(self):\n        return len(self._r)\n"
                                     "    def __iter__(self):\n        return iter(list(self._r))\n"),
    "a thread state never kept": ("def from_thread(f, n, keep):\n"
                                  "    return _real.from_thread(f, n, False)\n"),
    "workers without a bound": ("import threading\n"
                                "def start_worker(f, n):\n    try:\n"
                                "        return _real.start_worker(f, n)\n"
                                "    except RuntimeError:\n"
                                "        threading.Thread(target=f, daemon=True).start()\n"),
    "an exception lost on the thread": ("def from_thread(f, n, keep):\n"
                                        "    try:\n        return _real.from_thread(f, n, keep)\n"
                                        "    except Exception:\n        return []\n"),
}
WRAPPER = """import sys
sys.path.insert(0, {children!r})
from load_extension import load
_real = load({real!r})
def __getattr__(name):
    return getattr(_real, name)
{body}"""


def fake(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake_callbacks.py"
    path.write_text(WRAPPER.format(children=str(CHILDREN), real=str(MODULE), body=body))
    return path


@pytest.mark.parametrize("fault", FAULTS)
def test_the_contract_catches(fault, tmp_path):
    ok = subprocess.run([sys.executable, str(CONTRACT), str(fake(tmp_path, "pass\n"))],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, f"the faultless wrapper fails the contract:\n{ok.stderr}"
    bad = subprocess.run([sys.executable, str(CONTRACT), str(fake(tmp_path, FAULTS[fault]))],
                         capture_output=True, text=True, timeout=120)
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
def test_no_reference_leaks(version: str):
    results = leak_report(debug_python(version), MODULE)
    assert len(results) >= 20, results
    problems = leaks(results)
    assert not problems, f"callbacks under CPython {version}-dbg:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("version", DEBUG_VERSIONS)
def test_the_leak_check_catches_a_leak(version: str, tmp_path):
    """A call_n that keeps one reference too many on its error path: every round must show it."""
    leaky = fake(tmp_path, "_kept = []\ndef call_n(f, n):\n    try:\n"
                           "        return _real.call_n(f, n)\n"
                           "    except ValueError as e:\n        _kept.append(e)\n        raise\n")
    problems = leaks(leak_report(debug_python(version), leaky))
    assert any(p.startswith("call_n raising: refs grew") for p in problems), problems


# Daemon threads that call into the module in a loop while the interpreter exits: Rust threads
# attach, background workers run, and nothing waits for them but the module's atexit hook.
AT_EXIT = """
import sys, threading, time
sys.path.insert(0, {children!r})
from load_extension import load
m = load({module!r})

def loop(fn, *args):
    while True:
        try:
            fn(*args)
        except RuntimeError:
            pass  # refused: 64 workers are running, or the interpreter is shutting down

m.start_worker(lambda: time.sleep(0.001), 1_000_000)
for _ in range(3):
    threading.Thread(target=loop, args=(m.from_thread, abs, 50, False), daemon=True).start()
    threading.Thread(target=loop, args=(m.from_thread, abs, 50, True), daemon=True).start()
    threading.Thread(target=loop, args=(m.start_worker, lambda: None, 50), daemon=True).start()
time.sleep(0.05)
print("exiting", flush=True)
"""


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_exit_with_rust_threads_calling_back(version: str, tmp_path):
    """Ten exits, each with Rust threads attaching as the interpreter finalises: every one
    exits with 0, promptly (before the hook, 3.14 crashed here once in a few runs; before
    start_worker kept to 64 workers, the loops had thousands waiting for the GIL, and an exit
    took 6-47 s)."""
    script = tmp_path / "at_exit.py"
    script.write_text(AT_EXIT.format(children=str(CHILDREN), module=str(MODULE)))
    python = python_for(version)
    for attempt in range(10):
        proc = crashreport.run([python, str(script)], timeout=60)
        assert proc.returncode == 0 and proc.stdout == "exiting\n", (
            f"exit {attempt} under CPython {version}: {describe_exit(proc)}")
