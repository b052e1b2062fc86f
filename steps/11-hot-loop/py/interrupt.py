# ANCHOR: all
import mmap
import os
import signal
import threading
import time

import hist

# 16 GiB that can never be written: the kernel maps every page of it to one page of zeros, so it
# takes no memory (read-only, it is not even counted against RAM and swap), and counting it takes
# seconds.
zeros = mmap.mmap(-1, 16 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ)
sent = None


def press_ctrl_c():
    global sent
    time.sleep(0.5)
    sent = time.monotonic()
    os.kill(os.getpid(), signal.SIGINT)  # what the terminal does on Ctrl-C


def hist_threads():
    """The threads of this process that hist started (they are named hist-0, hist-1, ...).

    A thread that has been joined can still be listed for a moment: join returns when the
    kernel clears the thread's id, a little before it removes the thread from the list. So
    this waits up to a second for hist's threads to go."""
    deadline = time.monotonic() + 1
    while True:
        names = []
        for task in os.listdir("/proc/self/task"):
            try:
                names.append(open(f"/proc/self/task/{task}/comm").read().strip())
            except FileNotFoundError:  # it went while we looked
                pass
        count = sum(name.startswith("hist-") for name in names)
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.001)


threading.Thread(target=press_ctrl_c).start()
try:
    hist.histogram(zeros, threads=2)
    print("the call finished before the signal")
except KeyboardInterrupt:
    late = time.monotonic() - sent
    within = "yes" if late < 0.2 else f"no ({late:.3f} s)"
    print("KeyboardInterrupt within 200 ms of the signal:", within)
print("hist's threads still running:", hist_threads())
# ANCHOR_END: all
