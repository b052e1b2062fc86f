# ANCHOR: all
"""What a callback and an iteration step cost: instructions per item, counted by callgrind (as in
chapters 7, 8 and 10), Rust's side against Python's own, in one run.

    python3 cost.py            the table and the ratios
    python3 cost.py --facts    whether the goals hold (yes/no)

Run in a folder holding callbacks.abi3.so.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# ANCHOR: cases
# (row, setup): each setup defines run(), one measured loop over n items.
CASES = [
    ("rust-calls-python", "def f(i):\n    return i\n"
                          "def run():\n    callbacks.call_n(f, n)\n"),
    ("python-calls-python", "def f(i):\n    return i\n"
                            "def run():\n    s = 0\n    for i in range(n):\n        s += f(i)\n"),
    ("ring-iter", "r = callbacks.Ring(n)\nfor i in range(n):\n    r.push(i)\n"
                  "def run():\n    for x in r:\n        pass\n"),
    ("list-iter", "r = list(range(n))\n"
                  "def run():\n    for x in r:\n        pass\n"),
    # CPython's own iterator whose step does least (count down, hand out a new reference to
    # the same object), which the interpreter does not specialise: the floor for any iterator
    # that is not a list's, a tuple's, a range's or a generator.
    ("repeat-iter", "import itertools\nitem = object()\n"
                    "def run():\n    for x in itertools.repeat(item, n):\n        pass\n"),
]
RATIOS = [("rust-calls-python", "python-calls-python"), ("ring-iter", "list-iter"),
          ("repeat-iter", "list-iter")]
GOALS = {("rust-calls-python", "python-calls-python"): 1.1, ("ring-iter", "list-iter"): 1.2,
         ("ring-iter", "repeat-iter"): 1.1}
# ANCHOR_END: cases
N1, N2 = 200, 1200


def child(folder):
    """Under callgrind: for each case, a warm-up, then runs over N1 and N2 items, each followed
    by getppid(), where callgrind dumps its counters."""
    sys.path.insert(0, folder)
    import callbacks
    for _, setup in CASES:
        runs = []
        for n in (2000, N1, N2):
            namespace = {"callbacks": callbacks, "n": n}
            exec(setup, namespace)
            runs.append(namespace["run"])
        runs[0]()
        os.getppid()
        runs[1]()
        os.getppid()
        runs[2]()
        os.getppid()


def counts(folder):
    """Instructions per item of each case."""
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
        return {row: (total(3 * k + 3) - total(3 * k + 2)) / (N2 - N1)
                for k, (row, _) in enumerate(CASES)}


def main():
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2])
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not installed, and this measure needs it: install it "
                 "(Debian/Ubuntu: apt-get install valgrind), or run scripts/setup.sh as root")
    found = counts(os.getcwd())
    if sys.argv[1:] == ["--facts"]:
        for (num, den), most in GOALS.items():
            ok = found[num] <= most * found[den]
            print(f"{num}/{den} <= {most}: {'yes' if ok else 'no'}")
        return
    print("instructions per item")
    for row, _ in CASES:
        print(f"{row:<24}{found[row]:8.0f}")
    for num, den in RATIOS:
        print(f"ratio {num}/{den}: {found[num] / found[den]:.2f}")


if __name__ == "__main__":
    main()
# ANCHOR_END: all
