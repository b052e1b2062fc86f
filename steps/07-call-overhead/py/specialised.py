"""Which call instruction CPython's specialising interpreter (3.11 and later) settles on for the
call `f(2, 40)` (or `f(21)`) of each path, once the loop has run a hundred times."""

import dis

import calls

for name, _, fn, missing in calls.load("."):
    if fn is None:
        continue
    args = calls.args_of(name)
    loop = calls.make_loop(calls.CALL, args)
    loop(100, fn)
    code = list(dis.get_instructions(loop, adaptive=True))
    start = next(k for k, i in enumerate(code) if i.argval == args[-1])  # the call comes next
    ops = [i.opname for i in code[start:] if "CALL" in i.opname and "ADAPTIVE" not in i.opname]
    print(f"{name:<17} {' '.join(ops) or '(none: the generic call)'}")
