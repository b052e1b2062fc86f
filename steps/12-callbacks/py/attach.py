# ANCHOR: all
"""What attaching a Rust thread to the interpreter costs, the first time and after, timed (the
figures depend on the machine): python3 attach.py"""
import statistics

import callbacks

CALLS = 2000

print(f"{'nanoseconds to attach':<28}{'first call':>12}{'later (median)':>16}")
for keep, label in [(False, "Ensure/Release each call"), (True, "thread state kept")]:
    firsts, laters = [], []
    for _ in range(20):  # 20 new threads: the median of their first calls
        waits = callbacks.from_thread(lambda i: None, CALLS, keep)
        firsts.append(waits[0])
        laters.append(statistics.median(waits[1:]))
    first, later = statistics.median(firsts), statistics.median(laters)
    print(f"{label:<28}{first:>12.0f}{later:>16.0f}")
    print(f"ratio first/later ({label}): {first / later:.1f}")
# ANCHOR_END: all
