# ANCHOR: all
import broken

print(broken.add(2, 40), flush=True)  # flush: an abort skips Python's own clean-up
print(broken.add(2**63 - 1, 1))
print("never printed")
# ANCHOR_END: all
