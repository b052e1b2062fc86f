"""The behaviour every chapter 7 module's `sum` must have (a child process runs it, like
foo_contract.py): `python ch07_contract.py PATH NAME accept|reject`, where the last word says
whether the function takes keyword arguments (PyO3's does, as a Python def would); or, for the
one-argument controls, `python ch07_contract.py PATH c_one_arg twice`."""

import itertools
import sys

from foo_contract import I64_MAX, I64_MIN, raises
from load_extension import load


class Index:
    """Not an int, but usable as one: PyLong_AsLongLong calls __index__."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


def check(s, keywords):
    edges = [0, 1, -1, 2, 40, 255, 256, 257, 2**30 - 1, 2**30, 2**31, 2**32, 2**62,
             I64_MAX - 1, I64_MAX, -(2**31), I64_MIN + 1, I64_MIN]
    for a, b in itertools.product(edges + [-e for e in edges], repeat=2):
        if not (I64_MIN <= a <= I64_MAX and I64_MIN <= b <= I64_MAX):
            raises(OverflowError, s, a, b)
        elif I64_MIN <= a + b <= I64_MAX:
            got = s(a, b)
            assert got == a + b and type(got) is int, f"sum({a}, {b}) returned {got!r}"
        else:
            raises(OverflowError, s, a, b)
    assert s(True, 2) == 3 and s(Index(40), Index(2)) == 42
    for args in [(I64_MAX + 1, 0), (0, I64_MIN - 1), (2**100, 0), (Index(2**64), 1)]:
        raises(OverflowError, s, *args)
    for args in [("1", 2), (1, "2"), (1.0, 2), (1, 2.5), (None, 2), (1, None), (b"1", 2), ([], 1),
                 (1j, 1), (object(), 1), (), (1,), (1, 2, 3)]:
        raises(TypeError, s, *args)
    if keywords == "accept":
        assert s(a=1, b=2) == 3 and s(1, b=2) == 3
        raises(TypeError, s, 1, c=2)
    else:
        raises(TypeError, s, a=1, b=2)
        raises(TypeError, s, 1, b=2)
    assert s.__doc__ == "Add two numbers.", f"docstring is {s.__doc__!r}"
    assert s(2, 40) == 42  # the module survives all of the above and still adds


def check_twice(t):
    """twice(x) = 2x, for the one-argument controls (METH_O and METH_FASTCALL)."""
    for x in [0, 1, -1, 21, 127, 128, 2**31, 2**62 - 1, -(2**62), I64_MAX // 2, I64_MIN // 2]:
        got = t(x)
        assert got == 2 * x and type(got) is int, f"twice({x}) returned {got!r}"
    assert t(True) == 2 and t(Index(21)) == 42
    for x in [2**62, -(2**62) - 1, I64_MAX, I64_MIN, I64_MAX + 1, 2**100, Index(2**64)]:
        raises(OverflowError, t, x)
    for args in [("1",), (1.0,), (None,), (b"1",), ([],), (), (1, 2)]:
        raises(TypeError, t, *args)
    raises(TypeError, t, x=1)
    assert t.__doc__ == "Double a number.", f"docstring is {t.__doc__!r}"
    assert t(21) == 42


if __name__ == "__main__":
    path, name, keywords = sys.argv[1:]
    module = load(path, name)
    if keywords == "twice":
        check_twice(module.twice_o)
        check_twice(module.twice_fastcall)
    else:
        check(module.sum, keywords)
    print(f"ok: {name} under CPython {sys.version.split()[0]}")
