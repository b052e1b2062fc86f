import os
import threading
import time

import foo
from overlap import CALLS, N, both_inside


def run(function, threads):
    """Calls per second; how many cores the threads kept busy on average; and, with two threads,
    the share of the time during which both were inside a call."""
    cpu, spans = [0.0] * threads, [[] for _ in range(threads)]

    def work(i):
        start = time.thread_time()  # this thread's CPU time, which waiting does not add to
        for _ in range(CALLS):
            function(N)
            spans[i].append(foo.last_call())
        cpu[i] = time.thread_time() - start

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    overlap = both_inside(*spans) / 1e9 / wall if threads == 2 else 0.0
    return threads * CALLS / wall, sum(cpu) / wall, overlap


# The cores this process may run on (os.process_cpu_count(), from 3.13, says the same).
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
print(f"cores this process may use: {cores}")
print(f"{'':<19} {'1 thread':>14} {'2 threads':>14} {'ratio':>6} {'cores busy':>10} {'overlap':>8}")
for function in (foo.count_primes, foo.count_primes_nogil):
    (one, _, _), (two, busy, overlap) = run(function, 1), run(function, 2)
    print(f"{function.__name__:<19} {one:7.0f} call/s {two:7.0f} call/s {two / one:5.2f}x"
          f" {busy:10.2f} {overlap:8.2f}")
