"""The child of chapter 11's exit test (tests/test_ch11_hist.py): a daemon thread is inside
`hist.histogram`, its workers counting and the GIL released, when the interpreter exits.

    python3 hist_at_exit.py MODULE

The main thread waits until the call's workers run, prints `EXITING` and returns, and the
interpreter finalises. During finalisation, with CPython's flag that says so already set, an
object's `__del__` releases the GIL for as long as the calling thread keeps taking it back (it
does every 10 ms, to run the signal handlers), and prints `PARKED` once that thread has stopped
for good: its PyEval_RestoreThread did not return. The parent expects both lines and exit status
0, within its timeout."""

import mmap
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from hist_contract import module_at  # noqa: E402


def task_file(tid: int, name: str) -> str:
    try:
        return Path(f"/proc/self/task/{tid}/{name}").read_text()
    except OSError:
        return ""  # the thread has ended


def workers() -> int:
    return sum(task_file(int(t), "comm").startswith("hist-") for t in os.listdir("/proc/self/task"))


def switches(tid: int) -> str:
    """How often the thread has gone to sleep: a thread that polls does every 10 ms."""
    lines = task_file(tid, "status").splitlines()
    return next((line for line in lines if line.startswith("voluntary_ctxt_switches")), "gone")


class AtExit:
    """Its __del__ runs when finalisation clears __main__'s names, after the flag is set."""

    def __init__(self, tid: int):
        self.tid = tid

    def __del__(self, sleep=time.sleep, monotonic=time.monotonic, write=os.write,
                switches=switches):
        deadline = monotonic() + 60
        seen, still = switches(self.tid), 0
        while monotonic() < deadline:
            sleep(0.01)  # the GIL is free meanwhile
            now = switches(self.tid)
            still = still + 1 if now == seen else 0
            seen = now
            if still == 20:  # 200 ms without going to sleep again: it sleeps for good
                write(1, b"PARKED\n")
                return
        write(1, b"STILL POLLING\n")


hist = module_at(sys.argv[1])
# 16 GiB of zero pages, read-only (see hist_interrupt.py): a call that would take seconds.
zeros = mmap.mmap(-1, 16 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ)
caller = threading.Thread(target=hist.histogram, args=(zeros,), kwargs={"threads": 2},
                          daemon=True)
caller.start()
deadline = time.monotonic() + 60
while workers() == 0:
    if time.monotonic() > deadline:
        sys.exit("the call's workers never started")
    time.sleep(0.001)
at_exit = AtExit(caller.native_id)
print("EXITING", flush=True)
