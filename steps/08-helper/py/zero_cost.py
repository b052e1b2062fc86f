# ANCHOR: all
"""What a call through the helper costs, against the hand-written function doing the same work:
instructions per call, counted by callgrind (deterministic; see chapter 7).

    python3 zero_cost.py            the counts and the ratios
    python3 zero_cost.py --facts    whether the helper stays within 5% (yes/no)

Run in a folder holding rust_fastcall.abi3.so (chapter 7's hand-written METH_FASTCALL sum),
raw_kw.abi3.so (the same by hand with METH_FASTCALL | METH_KEYWORDS) and helper_sum.abi3.so.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# ANCHOR: cases
# (name, module, call): each call must return 42.
CASES = [
    ("raw-fastcall", "rust_fastcall.sum", "f(2, 40)"),
    ("helper", "helper_sum.sum", "f(2, 40)"),
    ("raw-kw", "raw_kw.sum", "f(2, 40)"),
    ("helper-kw", "helper_sum.sum_kw", "f(2, 40)"),
    ("raw-kw keywords", "raw_kw.sum", "f(a=2, b=40)"),
    ("helper-kw keywords", "helper_sum.sum_kw", "f(a=2, b=40)"),
]
RATIOS = [  # (label, numerator, denominator)
    ("helper/raw-fastcall", "helper", "raw-fastcall"),
    ("helper-kw/raw-kw", "helper-kw", "raw-kw"),
    ("helper-kw/raw-kw with keywords", "helper-kw keywords", "raw-kw keywords"),
]
# ANCHOR_END: cases
N1, N2 = 200, 1200
LOOP = """
def loop(n, f, repeat=__import__("itertools").repeat):
    for _ in repeat(None, n):
        CALL
"""


def child(folder):
    """Under callgrind: for each case (and an empty loop first), a warm-up, then loops of N1 and
    N2 calls, each followed by getppid(), where callgrind dumps its counters."""
    sys.path.insert(0, folder)
    targets = [(None, "pass")]
    for _, function, call in CASES:
        module, name = function.split(".")
        targets.append((getattr(__import__(module), name), call))
    for f, call in targets:
        namespace = {}
        exec(LOOP.replace("CALL", call), namespace)
        loop = namespace["loop"]
        if f is not None:
            assert eval(call, {"f": f}) == 42, call
        loop(2000, f)
        os.getppid()
        loop(N1, f)
        os.getppid()
        loop(N2, f)
        os.getppid()


def counts(folder):
    """Instructions per call of each case, minus the empty loop's."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg")
        cmd = ["valgrind", "--tool=callgrind", "--dump-before=getppid",
               f"--callgrind-out-file={out}", sys.executable, __file__, "--child", folder]
        env = dict(os.environ, PYTHONHASHSEED="0")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            sys.exit(f"callgrind failed:\n{proc.stderr[-3000:]}")

        def total(k):
            with open(f"{out}.{k}") as f:
                return int(re.search(r"^summary:\s*(\d+)", f.read(), re.M).group(1))
        per = [(total(3 * k + 3) - total(3 * k + 2)) / (N2 - N1) for k in range(len(CASES) + 1)]
    return {name: per[k + 1] - per[0] for k, (name, _, _) in enumerate(CASES)}


def main():
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2])
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not installed, and this measure needs it: install it "
                 "(Debian/Ubuntu: apt-get install valgrind), or run scripts/setup.sh as root")
    found = counts(os.getcwd())
    if sys.argv[1:] == ["--facts"]:
        for label, num, den in RATIOS:
            ok = found[num] <= 1.05 * found[den]
            print(f"{label} <= 1.05: {'yes' if ok else 'no'}")
        return
    for name, function, call in CASES:
        shown = function.split(".")[0] + "." + call.replace("f", function.split(".")[1], 1)
        print(f"{name:<19} {shown:<31} {found[name]:5.0f} instructions")
    for label, num, den in RATIOS:
        print(f"ratio {label}: {found[num] / found[den]:.2f}")


if __name__ == "__main__":
    main()
# ANCHOR_END: all
