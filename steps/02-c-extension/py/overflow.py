# ANCHOR: all
import foo

print(foo.sum(2**63 - 2, 1))
try:
    foo.sum(2**63 - 1, 1)
except OverflowError as e:
    print("OverflowError:", e)
# ANCHOR_END: all
