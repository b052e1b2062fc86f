"""Does the Go module leak? Call its `sum` a million times, three times over, and after each
million print how much the process grew and how often Go's garbage collector ran.

It runs itself as a child with GODEBUG=gctrace=1, under which the Go runtime writes a line to
stderr for each collection ("gc 3 @0.2s 0%: ..., 3->3->0 MB, 4 MB goal, ..."), and counts them.
"""

import ctypes
import gc
import os
import re
import subprocess
import sys

from calls import load_module

MILLION = 1_000_000


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child():
    f = load_module(".", "go_sum")
    trim = ctypes.CDLL(None).malloc_trim  # hand memory that C freed back, so RSS shows use

    def reading():
        trim(0)
        gc.collect()
        return rss()

    for _ in range(20_000):  # warm up, as the reliability suite's leak test does
        f(2000, 40000)
    before = reading()
    for k in range(1, 4):
        for _ in range(MILLION):
            f(2000, 40000)
        after = reading()
        print(f"MILLION {k} {after - before}", file=sys.stderr, flush=True)
        before = after


def main():
    env = dict(os.environ, GODEBUG="gctrace=1")
    proc = subprocess.run([sys.executable, __file__, "child"], env=env, capture_output=True,
                          text=True, check=True)
    collections, goal = 0, "?"
    for line in proc.stderr.splitlines():
        if m := re.match(r"gc \d+ @.*, (\d+) MB goal", line):
            collections += 1
            goal = m.group(1)
        elif line.startswith("MILLION "):
            _, k, grown = line.split()
            mib = round(int(grown) / 2**20, 1) + 0.0  # + 0.0: no "-0.0"
            print(f"million {k}: the process grew by {mib:+.1f} MiB; "
                  f"Go collected garbage {collections} times (heap goal {goal} MB)")
            collections = 0


if __name__ == "__main__":
    child() if sys.argv[1:] == ["child"] else main()
