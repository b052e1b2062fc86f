"""Python from a thread that Python did not start: python3 threads.py"""
import sys
import threading
import traceback

import callbacks

local = threading.local()
seen = []

def remember(i):
    seen.append(getattr(local, "last", None))  # what this thread's last call left
    local.last = i

for keep in (False, True):
    seen.clear()
    callbacks.from_thread(remember, 4, keep)
    print(f"keep={keep}: {seen}")

def fails(i):
    if i == 1:
        raise ValueError(f"call {i} failed")

try:
    callbacks.from_thread(fails, 3, False)
except ValueError:
    traceback.print_exc(file=sys.stdout)
