# ANCHOR: all
import array
import mmap

import hist
import numpy

data = bytes(range(256)) * 4  # every value 0 to 255, four times
mapped = mmap.mmap(-1, len(data))  # anonymous memory, not a file
mapped.write(data)

# ANCHOR: accepted
for name, obj in [
    ("bytes", data),
    ("bytearray", bytearray(data)),
    ("memoryview", memoryview(data)),
    ("array('B')", array.array("B", data)),
    ("mmap", mapped),
    ("numpy uint8", numpy.frombuffer(data, numpy.uint8)),
    ("numpy 2-D", numpy.frombuffer(data, numpy.uint8).reshape(32, 32)),
]:
    counts = hist.histogram(obj, threads=2)
    print(f"{name:<12} {sum(counts)} bytes, {counts[0]} of value 0, {counts[255]} of value 255")
print("empty       ", sum(hist.histogram(b"")), "bytes")
# ANCHOR_END: accepted

# ANCHOR: refused
for name, call in [
    ("array('d')", lambda: hist.histogram(array.array("d", [1.0, 2.0]))),
    ("every 2nd", lambda: hist.histogram(memoryview(data)[::2])),
    ("numpy.T", lambda: hist.histogram(numpy.frombuffer(data, numpy.uint8).reshape(32, 32).T)),
    ("str", lambda: hist.histogram("text")),
    ("threads=0", lambda: hist.histogram(data, threads=0)),
    ("threads=1.5", lambda: hist.histogram(data, threads=1.5)),
    ("threads=2**64", lambda: hist.histogram(data, threads=2**64)),
]:
    try:
        call()
    except Exception as e:
        print(f"{name}: {type(e).__name__}")
        print(f"    {e}")
# ANCHOR_END: refused
print("as raw bytes:", sum(hist.histogram(memoryview(array.array("d", [1.0, 2.0])).cast("B"))))
# ANCHOR_END: all
