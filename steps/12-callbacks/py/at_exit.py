# ANCHOR: all
"""Workers and the interpreter's exit: python3 at_exit.py [daemon]"""
import sys
import threading
import time

import callbacks

calls = 0

def tick():
    global calls
    calls += 1
    time.sleep(0.001)

callbacks.start_worker(tick, 1_000_000)  # far more calls than the script waits for
while calls < 3:
    time.sleep(0.001)
print("the worker is running; the script ends here")

class LastWords:
    def __del__(self):
        try:
            callbacks.start_worker(tick, 1)
        except RuntimeError as e:
            print(f"from __del__ at exit: RuntimeError: {e}")

last_words = LastWords()  # a global of __main__: deleted while the interpreter finalises

# ANCHOR: daemon
if sys.argv[1:] == ["daemon"]:
    # A daemon thread waits in from_thread() while its Rust thread calls back, again and
    # again: nothing joins them, so the Rust thread asks for the GIL while CPython finalises.
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
