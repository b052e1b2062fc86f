"""The crash report of tests/support/crashreport.py finds the fault: deliberate crashes, in a thread that
Python started among threads that wait, and in a thread that C started (no Python thread state).
"""

import re
import shutil
import sys
import textwrap

import pytest

from support import crashreport

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


def thread_frames(gdb: str) -> list[tuple[str, str]]:
    """Each thread's head line and frames, in the report's order, read by the format's own
    delimiters: a `>>> Thread N` line, the frames, a `<<< end of Thread N` line."""
    found = re.findall(r"(?ms)^>>> (Thread (\d+) [^\n]*)\n(.*?)\n<<< end of Thread \2$", gdb)
    assert found, gdb
    return [(head, frames) for head, _, frames in found]


def test_a_fault_in_a_python_thread_is_reported_with_its_block_first_and_a_backtrace(crash):
    proc, report = crash(PYTHON_THREAD)
    assert report.startswith("CRASHED: killed by SIGSEGV\n"), report
    first = report.split("\n== ")[1]
    assert first.startswith("the faulting thread, as faulthandler saw it\nCurrent thread 0x"), report
    assert "in read_address_zero" in first and "never.wait" not in first, report
    # the core was found and gdb read it: every thread's frames, the faulting one first and marked
    gdb = gdb_section(report)
    assert "over the core" in gdb, report
    threads = thread_frames(gdb)
    assert len(threads) >= 12, gdb  # main + 11 threads
    head, frames = threads[0]
    assert head.endswith("the faulting thread (the thread that took the signal, "
                         "faulthandler's \"Current thread\" too)"), gdb
    assert sum("the faulting thread" in h for h, _ in threads) == 1, gdb
    assert re.search(r"(?m)^#0 ", frames), gdb
    assert "string_at" in frames or "strlen" in frames, frames


def test_a_fault_in_a_thread_without_python_state_says_so_and_gdb_names_it(crash):
    proc, report = crash(C_THREAD)
    first = report.split("\n== ")[1]
    assert "no \"Current thread\" block" in first, report
    assert "The gdb backtrace below names it." in first, report
    threads = thread_frames(gdb_section(report))
    head, frames = threads[0]
    assert head.endswith("the faulting thread (the thread that took the signal)"), report
    assert re.search(r"<signal handler called>\n#\d+ [^\n]*strlen", frames), frames


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
    threads = thread_frames(report)
    assert len(threads) >= 12, report
    head, frames = threads[0]
    assert head.endswith("the faulting thread (the thread that took the signal)"), report
    assert "string_at" in frames or "strlen" in frames, frames


def test_without_pthread_ids_the_faulting_thread_is_still_first(crash, monkeypatch):
    """Where gdb cannot load libthread_db it heads threads "Thread N (LWP n)", with no pthread id
    to match faulthandler's: the thread that took the signal is marked all the same."""
    monkeypatch.setattr(crashreport, "GDB_QUIET",
                        [*crashreport.GDB_QUIET, "-iex", "set libthread-db-search-path /nowhere"])
    proc, report = crash(PYTHON_THREAD)
    threads = thread_frames(gdb_section(report))
    assert len(threads) >= 12 and all("(Thread 0x" not in head for head, _ in threads), report
    head, frames = threads[0]
    assert head.endswith("the faulting thread (the thread that took the signal)"), report
    assert "string_at" in frames or "strlen" in frames, frames


def test_the_format_holds_whatever_order_gdb_prints_threads_in():
    """gdb lists threads newest first, so the thread that took the signal (thread 1 in a core)
    usually comes last, with nothing after its frames: the report moves it first and closes every
    thread's frames with a line of its own, so a reader (or a test) never guesses where one ends."""
    gdb_out = ("[Current thread is 1 (Thread 0x7f01 (LWP 11))]\n\n"
               "Thread 2 (Thread 0x7f02 (LWP 12)):\n#0  wait ()\n#1  start ()\n\n"
               "Thread 1 (Thread 0x7f01 (LWP 11)):\n#0  strlen ()\n#1  start ()")
    for thread_id, how in [("0x7f01", ", faulthandler's \"Current thread\" too"),
                           ("0x7f02", " (faulthandler's \"Current thread\" is gdb's thread 2)"),
                           (None, "")]:
        text = crashreport.gdb_part((gdb_out, ""), thread_id)
        threads = thread_frames(text)
        assert [h.split(" (")[0] for h, _ in threads] == ["Thread 1", "Thread 2"], text
        assert threads[0] == ("Thread 1 (Thread 0x7f01 (LWP 11)): the faulting thread (the thread "
                              f"that took the signal{how})", "#0  strlen ()\n#1  start ()"), text
        assert threads[1][1] == "#0  wait ()\n#1  start ()", text
    # no current thread (a hang's attach): faulthandler's id decides, or the report says it cannot
    no_current = gdb_out.split("\n\n", 1)[1]
    assert "Thread 2 (Thread 0x7f02 (LWP 12)): the faulting thread (faulthandler's" in \
        crashreport.gdb_part((no_current, ""), "0x7f02")
    assert "(the faulting thread is not marked:" in crashreport.gdb_part((no_current, ""), None)
