"""Calling back into Python: python3 call.py"""
import sys
import traceback

import callbacks

print(callbacks.apis())
print(callbacks.call_n(lambda i: i * i, 4))  # 0 + 1 + 4 + 9

def picky(i):
    if i == 2:
        raise ValueError(f"no {i}, thank you")
    return i

try:
    callbacks.call_n(picky, 5)
except ValueError as e:
    error = e
    traceback.print_exc(file=sys.stdout)

def keep(i):
    global raised
    raised = ValueError(i)
    raise raised

try:
    callbacks.call_n(keep, 1)
except ValueError as e:
    print("the same object:", e is raised)

kept = []
print(callbacks.call_n(lambda i: kept.append(i) or 1, 3), kept)  # keeps its argument
print(callbacks.call_n(lambda i: callbacks.call_n(abs, i), 4))   # calls back into the module
for result in ["three", 2**64, None]:
    try:
        callbacks.call_n(lambda i: result, 1)
    except (TypeError, OverflowError) as e:
        print(f"{result!r}: {type(e).__name__}: {e}")
def interrupted(i):
    raise KeyboardInterrupt
try:
    callbacks.call_n(interrupted, 10)
except KeyboardInterrupt:
    print("KeyboardInterrupt reached the caller")
