"""The crash report of tests/crashreport.py finds the fault: deliberate crashes, in a thread that
Python started among threads that wait, and in a thread that C started (no Python thread state).
"""

import re
import shutil
import sys
import textwrap

import pytest

import crashreport

# Ten threads wait on an event, so faulthandler's dump is long and the faulting thread is in the
# middle of it (started sixth); once all have started, it reads address 0 through ctypes.
PYTHON_THREAD = """
import ctypes, threading, time
never, go = threading.Event(), threading.Event()
for _ in range(5):
    threading.Thread(target=never.wait, daemon=True).start()

def read_address_zero():
    go.wait()
    ctypes.string_at(0)

threading.Thread(target=read_address_zero, daemon=True).start()
for _ in range(5):
    threading.Thread(target=never.wait, daemon=True).start()
go.set()
time.sleep(30)
"""

# pthread_create with strlen as the thread's function and NULL as its argument: strlen(NULL) on a
# thread that never had a Python thread state.
C_THREAD = """
import ctypes, time
libc = ctypes.CDLL(None)
thread = ctypes.c_ulong()
libc.pthread_create(ctypes.byref(thread), None, ctypes.cast(libc.strlen, ctypes.c_void_p), None)
time.sleep(30)
"""


@pytest.fixture
def crash():
    """Runs code that must crash; its folder (and core) is removed after the test."""
    folders = []

    def crash(code: str):
        proc = crashreport.run([sys.executable, "-c", textwrap.dedent(code)], timeout=120)
        folders.append(proc.crash_folder)
        assert proc.returncode == -11, f"expected SIGSEGV, got {proc.returncode}\n{proc.stderr}"
        return proc, crashreport.report(proc)

    yield crash
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def gdb_section(report: str) -> str:
    start = report.index("\n== gdb")
    return report[start:report.index("\n== the child's stderr")]


def test_a_fault_in_a_python_thread_is_reported_with_its_block_first_and_a_backtrace(crash):
    proc, report = crash(PYTHON_THREAD)
    assert report.startswith("CRASHED: killed by SIGSEGV\n"), report
    first = report.split("\n== ")[1]
    assert first.startswith("the faulting thread, as faulthandler saw it\nCurrent thread 0x"), report
    assert "in read_address_zero" in first and "never.wait" not in first, report
    # the core was found and gdb read it: every thread's frames, the faulting one marked
    gdb = gdb_section(report)
    assert "over the core" in gdb, report
    assert len(re.findall(r"(?m)^Thread \d+ ", gdb)) >= 12, gdb  # main + 11 threads
    marked = gdb[gdb.index(">>> the faulting thread (faulthandler's"):]
    frames = marked[:marked.index("\n\n")]
    assert re.search(r"(?m)^#0 ", frames), gdb
    assert "string_at" in frames or "strlen" in frames, frames


def test_a_fault_in_a_thread_without_python_state_says_so_and_gdb_names_it(crash):
    proc, report = crash(C_THREAD)
    first = report.split("\n== ")[1]
    assert "no \"Current thread\" block" in first, report
    assert "The gdb backtrace below names it." in first, report
    gdb = gdb_section(report)
    marked = gdb[gdb.index(">>> the faulting thread (the thread that took the signal)"):]
    frames = marked[:marked.index("\n\n")]
    assert re.search(r"<signal handler called>\n#\d+ [^\n]*strlen", frames), gdb


def test_a_child_that_exits_normally_leaves_nothing():
    proc = crashreport.run([sys.executable, "-c", "print('fine')"], timeout=60)
    assert proc.returncode == 0 and proc.stdout == "fine\n"
    assert crashreport.report(proc) == ""
    assert not proc.crash_folder.exists()


def test_without_a_core_the_report_reruns_the_child_under_gdb(crash, monkeypatch):
    """What happens where core_pattern pipes cores to a program (systemd-coredump, apport)."""
    proc, _ = crash(PYTHON_THREAD)
    monkeypatch.setattr(crashreport, "core_pattern", lambda: "|/usr/lib/systemd/systemd-coredump %P")
    report = crashreport.report(proc)
    assert "core_pattern pipes cores to a program" in report, report
    assert "received signal SIGSEGV" in report, report  # gdb caught it on the rerun
    assert re.search(r"(?m)^#0 ", report), report
