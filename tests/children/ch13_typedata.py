"""Chapter 13's typedata module (steps/13-free-threaded/abi3t-class), loaded from the file named by
argv[1] under CPython 3.15: instances of Counter and of a Python subclass each keep their own
count in the type data that PEP 697's negative basicsize asked for; four threads share one
count; a wrong call raises. Prints one line that names the ABI the module reports."""

import importlib.machinery as machinery
import importlib.util as util
import sys
import threading

loader = machinery.ExtensionFileLoader("typedata", sys.argv[1])
spec = util.spec_from_file_location("typedata", sys.argv[1], loader=loader)
typedata = util.module_from_spec(spec)
loader.exec_module(typedata)
Counter = typedata.Counter

a, b = Counter(), Counter()
assert [a.add() for _ in range(3)] == [1, 2, 3] and b.add() == 1


class Sub(Counter):
    """A Python subclass: its instances have a __dict__ after Counter's data, and add() must
    still find the data at Counter's offset (the defining class's, not Sub's)."""

    def __init__(self):
        self.note = "kept"


s = Sub()
assert (s.add(), s.add(), s.note, a.add()) == (1, 2, "kept", 4)


def work(c):
    for _ in range(10_000):
        c.add()


threads = [threading.Thread(target=work, args=(a,)) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert a.add() == 40_005, "the count lost additions"
try:
    a.add(1)
    raise AssertionError("no TypeError")
except TypeError as e:
    assert str(e) == "add() takes no arguments", e
assert Counter.__basicsize__ > object.__basicsize__
print("typedata ok:", Counter.__module__, Counter.__basicsize__ - object.__basicsize__, "bytes")
