# ANCHOR: all
import sys

import errors

# Built at run time: the literal "left" would be interned, and from CPython 3.12 on an interned
# literal is immortal, with a reference count that no longer moves (4294967295 on 3.12 and 3.13).
left = "".join(["le", "ft"])
pair = (left, 12345)
print(errors.swap(pair))

before = sys.getrefcount(left)
swapped = errors.swap(pair)
print("references to left, after swap():", sys.getrefcount(left) - before)
del swapped
print("after the new tuple is gone:", sys.getrefcount(left) - before)
# ANCHOR_END: all
