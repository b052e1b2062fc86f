# ANCHOR: all
"""hist_progress: chapter 11's histogram with a progress callback, on 100 MB of random bytes."""
import os
import threading

from hist_progress import histogram

data = bytearray(os.urandom(1 << 20)) * 100
calls = []


def progress(done, total):
    calls.append((done, total, threading.current_thread() is threading.main_thread()))


counts = histogram(data, progress=progress)
print("counted:", sum(counts) == len(data))
print("on the calling thread:", all(main for _, _, main in calls))
print("growing:", all(a[0] < b[0] for a, b in zip(calls, calls[1:])))
print("last call:", calls[-1][:2] == (len(data), len(data)))


class Enough(Exception):
    pass


def enough(done, total):
    raise Enough(f"stop at {done * 100 // total}%")


for threads in (1, 2):
    try:
        histogram(data, threads, progress=enough)
    except Enough as e:
        data.append(0)  # the buffer was released: the bytearray can grow again
        print(f"threads={threads}: {type(e).__name__}, and the bytearray grew to {len(data)}")
for bad in (42, "print"):
    try:
        histogram(data, progress=bad)
    except TypeError as e:
        print(e)
# ANCHOR_END: all
