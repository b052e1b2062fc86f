"""The behaviour every `foo` module of the book must have, whichever chapter built it.

Run as `python foo_contract.py PATH/TO/foo.abi3.so` with any CPython >= 3.10. It needs only the
standard library, so it runs under interpreters that have no pytest. Exit status 0 means every
check passed; a failed check exits 1 with a message; a crash shows up as death by a signal.
"""

import sys

from load_extension import load

I64_MAX = 2**63 - 1
I64_MIN = -(2**63)


def raises(exc_type, fn, *args, **kwargs):
    try:
        result = fn(*args, **kwargs)
    except exc_type:
        return
    except BaseException as e:  # noqa: BLE001 - any other exception is a failure worth naming
        raise AssertionError(f"sum{args!r}{kwargs or ''} raised {type(e).__name__}: {e}, "
                             f"expected {exc_type.__name__}") from e
    raise AssertionError(f"sum{args!r}{kwargs or ''} returned {result!r}, expected {exc_type.__name__}")


def check(foo):
    s = foo.sum
    results = [
        (s(2, 40), 42), (s(40, 2), 42), (s(-2, -40), -42), (s(-5, 3), -2), (s(0, 0), 0),
        (s(I64_MAX, 0), I64_MAX), (s(I64_MIN, 0), I64_MIN), (s(I64_MAX, I64_MIN), -1),
        (s(I64_MAX - 1, 1), I64_MAX), (s(I64_MIN + 1, -1), I64_MIN), (s(True, 2), 3),
    ]
    for got, want in results:
        assert got == want and type(got) is int, f"got {got!r}, expected {want!r}"
    # one past either edge, in the sum or in an argument
    for args in [(I64_MAX, 1), (I64_MIN, -1), (I64_MAX + 1, 0), (0, I64_MIN - 1), (2**100, 0)]:
        raises(OverflowError, s, *args)
    for args in [("1", 2), (1, "2"), (1.0, 2), (1, 2.5), (None, 2), (1, None), (b"1", 2), ([], 1),
                 (), (1,), (1, 2, 3)]:
        raises(TypeError, s, *args)
    raises(TypeError, s, a=1, b=2)
    raises(TypeError, s, 1, b=2)
    assert s.__doc__ == "Add two numbers.", f"docstring is {s.__doc__!r}"
    # the module survives all of the above and still adds
    assert s(2, 40) == 42


if __name__ == "__main__":
    check(load(sys.argv[1]))
    print(f"ok: {sys.argv[1]} under CPython {sys.version.split()[0]}")
