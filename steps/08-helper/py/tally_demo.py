# ANCHOR: all
import inspect

import tally

print(tally.add(), tally.add(41), tally.add(n=8), tally.count())
try:
    tally.add(2**64 - 1)
except tally.TallyOverflow as e:
    print(f"{type(e).__module__}.{type(e).__name__}: {e}")
    print("an OverflowError too:", isinstance(e, OverflowError))
print(tally.add_from_threads(8))
print(tally.count_primes(1000))
print(tally.describe(-1, 2**64 - 1, 0.5, True, "héllo", b"\x00\xff"))
print(inspect.signature(tally.describe))
print(tally.describe.__doc__)
# ANCHOR_END: all
