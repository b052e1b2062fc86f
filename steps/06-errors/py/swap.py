# ANCHOR: all
import sys

import errors

left = "left"
pair = (left, 12345)
print(errors.swap(pair))

before = sys.getrefcount(left)
swapped = errors.swap(pair)
print("references to left, after swap():", sys.getrefcount(left) - before)
del swapped
print("after the new tuple is gone:", sys.getrefcount(left) - before)
# ANCHOR_END: all
