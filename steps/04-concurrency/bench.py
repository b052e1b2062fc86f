# ANCHOR: all
"""Chapter 4's benchmark: does releasing the GIL let two Python threads run Rust work in parallel?

`just bench` runs it (cwd: the repository's root) after a build. Each round times one thread, then
two, back to back; each figure is the median round. The figures depend on the machine and on what
else it is doing (a second thread needs a second idle core), so the load is printed too.
The last line is the one to quote: `gil-release speed-up (2 threads): X.XXx`.
"""

import importlib.machinery
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path

MODULE = Path(__file__).resolve().parents[2] / "target" / "book-work" / "stage" / "04" / "foo.abi3.so"
# ANCHOR: rounds
N = 100_000  # primes below N: a few milliseconds of Rust work per call
CALLS = 150  # per thread and round: about a second, so thread start-up noise washes out
ROUNDS = 5  # the figure printed is the median of the rounds
# ANCHOR_END: rounds
# `--quick`, which `just build` runs in the folder of chapter 4's commands to check what the page
# quotes of the output (its lines, not its figures): the module beside it, a few calls, one round.
if "--quick" in sys.argv[1:]:
    MODULE, CALLS, ROUNDS = Path("foo.abi3.so").resolve(), 4, 1


def load(path):
    loader = importlib.machinery.ExtensionFileLoader("foo", str(path))
    spec = importlib.util.spec_from_file_location("foo", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def elapsed(function, threads):
    """Seconds for `threads` Python threads to make CALLS calls each."""

    def work():
        for _ in range(CALLS):
            function(N)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start


def speed_up(function):
    """Throughput with 2 threads over throughput with 1, measured back to back in each round so
    that a change in the machine's load hits both alike; the median of ROUNDS rounds."""
    rounds = []
    for _ in range(ROUNDS):
        one, two = elapsed(function, 1), elapsed(function, 2)
        rounds.append((CALLS / one, 2 * CALLS / two))
    rounds.sort(key=lambda r: r[1] / r[0])
    return rounds[len(rounds) // 2]


def main():
    foo = load(MODULE)
    assert foo.count_primes(N) == foo.count_primes_nogil(N) == 9592
    print(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f} "
          "(figures vary by machine and load)")
    ratios = {}
    for function in (foo.count_primes, foo.count_primes_nogil):
        one, two = speed_up(function)
        ratios[function.__name__] = two / one
        print(f"  {function.__name__:<20} 1 thread {one:7.1f} call/s   2 threads {two:7.1f} call/s"
              f"   {two / one:.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"gil-held ratio (2 threads): {ratios['count_primes']:.2f}x")
    print(f"gil-release speed-up (2 threads): {ratios['count_primes_nogil']:.2f}x")


if __name__ == "__main__":
    main()
# ANCHOR_END: all
