"""Chapter 4's benchmark: does releasing the GIL let two Python threads run Rust work in parallel?

`just bench` runs it (cwd: the repository's root) after a build. Each figure is the best of a few
rounds; the figures depend on the machine and on what else it is doing, so the load is printed too.
The last line is the one to quote: `gil-release speed-up (2 threads): X.XXx`.
"""

import importlib.machinery
import importlib.util
import os
import threading
import time
from pathlib import Path

MODULE = Path(__file__).resolve().parents[2] / "target" / "book-work" / "stage" / "04" / "foo.abi3.so"
N = 100_000  # primes below N: a few milliseconds of Rust work per call
CALLS = 40  # per thread and round
ROUNDS = 5


def load(path):
    loader = importlib.machinery.ExtensionFileLoader("foo", str(path))
    spec = importlib.util.spec_from_file_location("foo", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def throughput(function, threads):
    """Calls per second, `threads` Python threads each making CALLS calls; best of ROUNDS."""

    def work():
        for _ in range(CALLS):
            function(N)

    best = 0.0
    for _ in range(ROUNDS):
        workers = [threading.Thread(target=work) for _ in range(threads)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = max(best, threads * CALLS / (time.perf_counter() - start))
    return best


def main():
    foo = load(MODULE)
    assert foo.count_primes(N) == foo.count_primes_nogil(N) == 9592
    print(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f} (figures vary by machine)")
    ratios = {}
    for function in (foo.count_primes, foo.count_primes_nogil):
        one, two = throughput(function, 1), throughput(function, 2)
        ratios[function.__name__] = two / one
        print(f"  {function.__name__:<20} 1 thread {one:7.1f} call/s   2 threads {two:7.1f} call/s"
              f"   {two / one:.2f}x")
    print(f"gil-held ratio (2 threads): {ratios['count_primes']:.2f}x")
    print(f"gil-release speed-up (2 threads): {ratios['count_primes_nogil']:.2f}x")


if __name__ == "__main__":
    main()
