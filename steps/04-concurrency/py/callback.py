# ANCHOR: all
import threading

import foo

main = threading.get_ident()


def report(i):
    print(f"callback {i}, on the main thread: {threading.get_ident() == main}", flush=True)


foo.every(50, 3, report)
print("every() has returned", flush=True)
foo.join()
# ANCHOR_END: all
