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
# 16 GiB of zero pages, read-only: Linux charges a writable private mapping against RAM and swap,
# and its default overcommit rule refuses one larger than both (as on a machine with 8 GiB).
zeros = mmap.mmap(-1, 16 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ)
before = threads()
print("READY", flush=True)
report = {"interrupted": False, "at": None, "threads_before": before}
try:
    hist.histogram(zeros, threads=int(sys.argv[2]))
except KeyboardInterrupt:
    report.update(interrupted=True, at=time.monotonic())
# A joined thread can still be listed for a moment (join returns when the kernel clears its id,
# a little before the thread leaves /proc/self/task: seen once under 3.14 in CI, 2 for 1): wait up
# to a second for the count to settle. A thread that really stays (the test's fault) stays longer.
deadline = time.monotonic() + 1
while threads() > before and time.monotonic() < deadline:
    time.sleep(0.001)
report["threads_after"] = threads()
try:
    zeros.close()
    report["closed"] = True
except BufferError as e:
    report["closed"] = str(e)
print("REPORT " + json.dumps(report), flush=True)
