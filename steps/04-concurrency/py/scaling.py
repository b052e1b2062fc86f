import threading
import time

import foo

N = 100_000  # one call: a few milliseconds of Rust work
CALLS = 20  # per thread


def run(function, threads):
    """Calls per second, and how many cores the threads kept busy on average."""
    cpu = [0.0] * threads

    def work(i):
        start = time.thread_time()  # this thread's CPU time, which waiting does not add to
        for _ in range(CALLS):
            function(N)
        cpu[i] = time.thread_time() - start

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    return threads * CALLS / wall, sum(cpu) / wall


print(f"{'':<20} {'1 thread':>15} {'2 threads':>15} {'ratio':>6} {'cores busy':>11}")
for function in (foo.count_primes, foo.count_primes_nogil):
    (one, _), (two, cores) = run(function, 1), run(function, 2)
    print(f"{function.__name__:<20} {one:8.0f} call/s {two:8.0f} call/s {two / one:5.2f}x"
          f" {cores:11.2f}")
