import threading

import foo

N = 100_000  # one call: a few milliseconds of Rust work
CALLS = 20  # per thread


def spans(function):
    """Two threads call `function` CALLS times each: each thread's calls, as (start, end) from
    foo.last_call(), in nanoseconds."""
    found = ([], [])
    ready = threading.Barrier(2)  # both threads are running before either calls

    def work(mine):
        ready.wait()
        for _ in range(CALLS):
            function(N)
            mine.append(foo.last_call())

    workers = [threading.Thread(target=work, args=(mine,)) for mine in found]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return found


def both_inside(first, second):
    """The nanoseconds during which a call of one thread and a call of the other both ran."""
    return sum(max(0, min(end1, end2) - max(start1, start2))
               for start1, end1 in first for start2, end2 in second)


if __name__ == "__main__":
    for function in (foo.count_primes, foo.count_primes_nogil):
        overlapped = both_inside(*spans(function)) > 0
        print(f"{function.__name__:<20} the two threads' calls overlapped: "
              f"{'yes' if overlapped else 'never'}")
