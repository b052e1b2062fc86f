# ANCHOR: all
import random

import hist
import numpy


def peak():
    """The most memory this process has had in RAM so far (Linux: VmHWM), in bytes."""
    with open("/proc/self/status") as status:
        line = next(l for l in status if l.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def reset_peak():
    """Starts the count of VmHWM again from what is in RAM now (Linux 4.0 and later)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


data = bytearray(random.Random(11).randbytes(64 << 20))  # 64 MiB
for name, count in [
    ("hist.histogram, 2 threads", lambda: hist.histogram(data, threads=2)),
    ("numpy.bincount", lambda: numpy.bincount(numpy.frombuffer(data, numpy.uint8), minlength=256)),
]:
    reset_peak()
    before = peak()
    count()
    grew = peak() - before
    print(f"{name}: the peak grew by {grew / len(data):.0f} bytes per byte counted")
# ANCHOR_END: all
