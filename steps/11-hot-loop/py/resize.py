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
data.append(1)
print("after it returns: resized to", len(data), "bytes; counts add up to", sum(counts))
# ANCHOR_END: all
