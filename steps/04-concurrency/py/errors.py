# ANCHOR: all
import foo

for call in [
    "foo.tick(3)",
    "foo.tick(-1, 100)",
    "foo.tick(3, 2**64)",
    "foo.every(100, 3, 'print')",
    "foo.count_primes(10**7)",
]:
    try:
        eval(call)
    except Exception as e:
        print(f"{call}: {type(e).__name__}: {e}")
# ANCHOR_END: all
