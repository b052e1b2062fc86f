"""The behaviour of chapter 6's `errors` module, under any CPython >= 3.10.

Run as `python ch06_errors_contract.py STAGE_DIR` (the folder holding errors.abi3.so). It needs
only the standard library, so it runs under interpreters without pytest. Exit status 0: every check
passed; 1: a check failed; death by a signal: a crash.
"""

import sys
from pathlib import Path

from load_extension import load


def raises(exc_type, fn, *args):
    try:
        result = fn(*args)
    except exc_type as e:
        return e
    raise AssertionError(f"{fn.__name__}{args!r} returned {result!r}, expected {exc_type.__name__}")


def check(errors):
    # exceptions: built-in types, the custom type, chaining
    assert errors.divide(7, 2) == 3 and errors.divide(-7, 2) == -3
    assert str(raises(ZeroDivisionError, errors.divide, 1, 0)) == "division by zero"
    raises(OverflowError, errors.divide, -2**63, -1)
    raises(OverflowError, errors.divide, 2**63, 1)
    raises(TypeError, errors.divide, "7", 2)
    raises(TypeError, errors.divide, 7)
    assert issubclass(errors.ParseError, ValueError)
    assert errors.ParseError.__module__ == "errors"
    assert not issubclass(errors.PanicException, Exception)
    assert issubclass(errors.PanicException, BaseException)
    assert errors.parse_setting("workers = 8") == ("workers", 8)
    assert errors.parse_setting("big=-1_000_000_000_000_000_000_000") == ("big", -10**21)
    e = raises(errors.ParseError, errors.parse_setting, "workers")
    assert str(e) == "expected NAME=VALUE, got 'workers'" and e.__cause__ is None
    e = raises(errors.ParseError, errors.parse_setting, "workers = eight")
    assert str(e) == "invalid value for 'workers'", str(e)
    assert type(e.__cause__) is ValueError and "eight" in str(e.__cause__), repr(e.__cause__)
    assert e.__suppress_context__
    raises(errors.ParseError, errors.parse_setting, "a=1\0")
    raises(errors.ParseError, errors.parse_setting, " = 1")
    # reference counts: swap takes its own references and gives them back
    left = "".join(["le", "ft"])
    pair = (left, 12345)
    before = sys.getrefcount(left)
    swapped = errors.swap(pair)
    assert swapped == (12345, "left") and sys.getrefcount(left) == before + 1
    del swapped
    assert sys.getrefcount(left) == before
    raises(ValueError, errors.swap, (1, 2, 3))
    raises(TypeError, errors.swap, [1, 2])
    # strings
    assert errors.encode("héllo") == "héllo".encode()
    assert errors.encode("") == b""
    assert errors.shout("straße") == "STRASSE!"
    e = raises(UnicodeEncodeError, errors.encode, "caf\udce9")
    assert e.start == 3 and e.reason == "surrogates not allowed"
    raises(UnicodeEncodeError, errors.shout, "\udc80")
    raises(UnicodeEncodeError, errors.parse_setting, "\udc80=1")
    raises(TypeError, errors.encode, b"bytes")


if __name__ == "__main__":
    check(load(Path(sys.argv[1]) / "errors.abi3.so"))
    print(f"ok: errors under CPython {sys.version.split()[0]}")
