# ANCHOR: all
"""Workers and the interpreter's exit: python3 at_exit.py [daemon]"""
import atexit
import sys
import threading
import time


# ANCHOR: last-words
@atexit.register  # registered before callbacks registers its hook: runs after it
def last_words():
    try:
        callbacks.start_worker(tick, 1)
    except RuntimeError as e:
        print(f"at exit, after the hook: RuntimeError: {e}")
# ANCHOR_END: last-words


import callbacks  # noqa: E402  (its hook is registered here)

calls = 0


def tick():
    global calls
    calls += 1
    time.sleep(0.001)


callbacks.start_worker(tick, 1_000_000)  # far more calls than the script waits for
while calls < 3:
    time.sleep(0.001)
print("the worker is running; the script ends here")

# ANCHOR: daemon
if sys.argv[1:] == ["daemon"]:
    # A daemon thread waits in from_thread() while its Rust thread calls back, again and
    # again: nothing joins it, so without the hook the Rust thread would ask for the GIL
    # while CPython finalises.
    def call_back_forever():
        try:
            callbacks.from_thread(lambda i: None, 1_000_000, False)
        except RuntimeError:
            pass  # stopped at exit (if this thread gets the GIL back before CPython finalises)

    threading.Thread(target=call_back_forever, daemon=True).start()
    time.sleep(0.01)
    print("exiting with a Rust thread still calling back")
# ANCHOR_END: daemon
# ANCHOR_END: all
