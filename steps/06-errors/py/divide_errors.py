# ANCHOR: all
import errors

for args in [(-2**63, -1), (2**63, 1), ("7", 2), (7.0, 2), (7,)]:
    try:
        errors.divide(*args)
    except (OverflowError, TypeError) as e:
        print(f"divide{args}: {type(e).__name__}: {e}")
# ANCHOR_END: all
