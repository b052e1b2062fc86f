# ANCHOR: all
import threading

import hist

data = bytearray(64 << 20)  # 64 MiB of zeros
refused = threading.Event()


def resize_until_refused():
    """Grows and shrinks `data` again and again until one try fails."""
    while not refused.is_set():
        try:
            data.append(1)
            data.pop()
        except BufferError as e:
            print("while histogram() runs:", type(e).__name__, "-", e)
            refused.set()


resizer = threading.Thread(target=resize_until_refused)
resizer.start()
calls = 0
while not refused.is_set() and calls < 1000:
    counts = hist.histogram(data)  # releases the GIL, so the resizer runs meanwhile
    calls += 1
resizer.join()
# The refused resize may be the append or the pop, so the length is 64 MiB or one more; either
# way the last count saw every byte the bytearray has.
print("the last count adds up to its length:", sum(counts) == len(data))
before = len(data)
data.append(1)  # the export has ended: a resize is allowed again
print("after it returns, append works:", len(data) == before + 1)
# ANCHOR_END: all
