# ANCHOR: all
import threading

import foo


def busy(i):
    sum(range(1000))  # a little Python work on every call


for _ in range(4):
    foo.every(0, 10**9, busy)  # four Rust threads, calling back without a pause


def hammer():
    try:
        while True:
            foo.gil()
            foo.count_primes_nogil(1000)
    except RuntimeError:  # "cannot start a thread: the interpreter is exiting"
        pass


for _ in range(4):
    threading.Thread(target=hammer, daemon=True).start()
# ANCHOR_END: all
