# ANCHOR: all
"""Import the modules of this folder into two subinterpreters, each with its own GIL."""
import os
import sys

version = sys.version_info[:2]
if version >= (3, 13):
    import _interpreters as interpreters  # private; 3.14 has concurrent.interpreters

    def new():
        return interpreters.create("isolated")

    def run(interp, code):
        failure = interpreters.run_string(interp, code)
        assert failure is None, failure

    print("an isolated interpreter:", interpreters.new_config("isolated").gil, "GIL", flush=True)
elif version == (3, 12):
    import _xxsubinterpreters as interpreters  # private

    def new():
        return interpreters.create(isolated=True)  # isolated: its own GIL

    def run(interp, code):
        interpreters.run_string(interp, code)
else:
    print(f"CPython {version[0]}.{version[1]}: no interpreter has its own GIL before 3.12")
    sys.exit()

SETUP = f"import sys; sys.path.insert(0, {os.getcwd()!r}); import tally\n"
TRY_FOO = """
try:
    import foo
    print(f"  {LABEL}: foo.sum(2, 40) = {foo.sum(2, 40)}", flush=True)
except ImportError as e:
    print(f"  {LABEL}: ImportError: {e}", flush=True)
"""

import tally

tally.add(1)
one, two = new(), new()
run(one, SETUP + "tally.add(10)")
run(two, SETUP + "tally.add(100)")
run(one, SETUP + "tally.add_from_threads(4)")
print(f"main interpreter: tally.count() = {tally.count()}", flush=True)
for name, interp in [("one", one), ("two", two)]:
    run(interp, f"print('interpreter {name}: tally.count() =', tally.count(), flush=True)")
# foo three ways: this chapter's (with the helper), PyO3's, and chapter 3's (single-phase)
FOOS = [(".", "the helper's foo"), ("pyo3", "PyO3's foo"), ("ch03", "chapter 3's foo")]
for folder, label in FOOS:
    path = os.path.join(os.getcwd(), folder)
    run(one, f"sys.path.insert(0, {path!r}); LABEL = {label!r}" + TRY_FOO)
    run(one, "del sys.path[0]; sys.modules.pop('foo', None)")
for interp in (one, two):
    interpreters.destroy(interp)
print(f"main interpreter: tally.count() = {tally.count()}", flush=True)
# ANCHOR_END: all
