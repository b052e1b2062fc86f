# ANCHOR: all
import c_fastcall
import c_varargs_manual
import foo
import pyo3_sum
import rust_fastcall

for module in (foo, c_varargs_manual, c_fastcall, rust_fastcall, pyo3_sum):
    for args in [(1,), (1.5, 2), (2**63 - 1, 1)]:
        try:
            module.sum(*args)
        except (TypeError, OverflowError) as e:
            print(f"{module.__name__}.sum{args}: {type(e).__name__}: {e}")
# ANCHOR_END: all
