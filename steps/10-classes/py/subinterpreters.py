# ANCHOR: all
"""Import ring and PyO3's pyo3_ring into subinterpreters: does each get a type of its own?"""
import os
import sys

version = sys.version_info[:2]
if version >= (3, 13):
    import _interpreters as interpreters  # private; 3.14 has concurrent.interpreters

    def new(own_gil):
        return interpreters.create("isolated" if own_gil else "legacy")

    def run(interp, code):
        failure = interpreters.run_string(interp, code)
        assert failure is None, failure
else:
    import _xxsubinterpreters as interpreters  # private

    def new(own_gil):
        if version >= (3, 12):
            return interpreters.create(isolated=own_gil)
        return interpreters.create()  # before 3.12, every interpreter shares the main GIL

    def run(interp, code):
        interpreters.run_string(interp, code)

import pyo3_ring
import ring

SHOW = f"""
import sys
sys.path.insert(0, {os.getcwd()!r})
try:
    import MODULE
    kept_MODULE = MODULE.Ring(2)  # lives as long as the interpreter
    print(f"  {{NAME}}: MODULE has its own type: {{id(MODULE.Ring) != MAIN}}, live() = "
          f"{{MODULE.live()}}", flush=True)
except ImportError as e:
    print(f"  {{NAME}}: ImportError: {{e}}", flush=True)
"""
main = {"ring": id(ring.Ring), "pyo3_ring": id(pyo3_ring.Ring)}
kinds = [("shared GIL", False)]
if version >= (3, 12):  # interpreters with a GIL of their own exist from 3.12
    kinds.insert(0, ("own GIL", True))
made = []
for kind, own_gil in kinds:
    print(f"interpreters with {kind}:", flush=True)
    for name in ("one", "two"):
        interp = new(own_gil)
        made.append(interp)
        for module in ("ring", "pyo3_ring"):
            code = SHOW.replace("MODULE", module).replace("MAIN", str(main[module]))
            run(interp, f"NAME = {name!r}\n" + code)
print(f"main interpreter: ring.live() = {ring.live()}", flush=True)
for interp in made:
    interpreters.destroy(interp)
print(f"all destroyed: ring.live() = {ring.live()}", flush=True)
# ANCHOR_END: all
