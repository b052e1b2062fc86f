"""The child of chapter 11's Ctrl-C test (tests/test_ch11_hist.py): starts a histogram that would
take seconds and waits for the parent's SIGINT.

    python3 hist_interrupt.py MODULE THREADS

Prints `READY`, then, once the call ends, one line `REPORT <json>`: whether KeyboardInterrupt came,
time.monotonic() when it did (the parent compares it with when it sent the signal: the clock is the
system's, the same in both processes), the threads of the process before and after the call, and
whether the mmap could be closed after it (it cannot while an export of it is held)."""

import json
import mmap
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from hist_contract import module_at  # noqa: E402


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


hist = module_at(sys.argv[1])
zeros = mmap.mmap(-1, 16 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # zero pages
before = threads()
print("READY", flush=True)
report = {"interrupted": False, "at": None, "threads_before": before}
try:
    hist.histogram(zeros, threads=int(sys.argv[2]))
except KeyboardInterrupt:
    report.update(interrupted=True, at=time.monotonic())
report["threads_after"] = threads()
try:
    zeros.close()
    report["closed"] = True
except BufferError as e:
    report["closed"] = str(e)
print("REPORT " + json.dumps(report), flush=True)
