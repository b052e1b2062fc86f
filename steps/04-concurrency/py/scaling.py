# ANCHOR: all
import threading
import time

import foo

N = 100_000  # one call: a few milliseconds of Rust work
CALLS = 20  # per thread


def throughput(function, threads):
    def work():
        for _ in range(CALLS):
            function(N)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return threads * CALLS / (time.perf_counter() - start)


print(f"{'':<20} {'1 thread':>15} {'2 threads':>15} {'ratio':>6}")
for function in (foo.count_primes, foo.count_primes_nogil):
    one, two = throughput(function, 1), throughput(function, 2)
    print(f"{function.__name__:<20} {one:8.0f} call/s {two:8.0f} call/s {two / one:5.2f}x")
# ANCHOR_END: all
