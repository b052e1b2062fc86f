# ANCHOR: all
import foo

for args, kwargs in [((1, 2, 3), {}), ((1,), {}), (("1", 2), {}), ((2**63, 0), {}),
                     ((), {"a": 1, "b": 2})]:
    try:
        foo.sum(*args, **kwargs)
    except Exception as e:
        print(f"{type(e).__name__}: {e}")
# ANCHOR_END: all
