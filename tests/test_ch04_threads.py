"""Chapter 4's module foo: threads that outlive the call, the GIL, and exiting while they run.

Every check runs in a child process, so that a crash or a hang is reported instead of taking
pytest down. Checks whose outcome depends on the CPython version (finalization changed in 3.12,
and again in 3.14) run under every CPython >= 3.10 on the machine; a missing one is skipped.
"""

import subprocess
import sys
import textwrap
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from support import ABI3_VERSIONS, STAGE, describe_exit, interpreter, missing, crashreport

MODULE = STAGE / "04" / "foo.abi3.so"

# Loads the staged module as `foo`, whatever the child's working folder.
PRELUDE = """\
import importlib.machinery, importlib.util, sys
_loader = importlib.machinery.ExtensionFileLoader("foo", sys.argv[1])
_spec = importlib.util.spec_from_file_location("foo", sys.argv[1], loader=_loader)
foo = importlib.util.module_from_spec(_spec)
_loader.exec_module(foo)
sys.modules["foo"] = foo
"""


def child(code: str, python: str = sys.executable) -> subprocess.Popen:
    """Starts `code` in a child that keeps a core if it crashes (tests/support/crashreport.py)."""
    if not MODULE.exists():
        pytest.fail(f"no {MODULE}: run `just build` first")
    return crashreport.popen([python, "-c", PRELUDE + textwrap.dedent(code), str(MODULE)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float, what: str = "") -> subprocess.CompletedProcess:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stacks = crashreport.attach_gdb(proc)  # where every thread waits, before the kill
        proc.kill()
        out, err = proc.communicate()
        crashreport.forget(proc)
        pytest.fail(f"{what}hung for more than {timeout} s\n{out}{err}\n{stacks}")
    return crashreport.completed(proc, out, err)


def run(code: str, python: str = sys.executable, timeout: float = 60) -> subprocess.CompletedProcess:
    return finish(child(code, python), timeout)


def ok(code: str, python: str = sys.executable, timeout: float = 60) -> str:
    """Runs `code`, demands exit status 0, returns its stdout."""
    proc = run(code, python, timeout)
    assert proc.returncode == 0, describe_exit(proc)
    return proc.stdout


def python_or_skip(version: str) -> str:
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    return python


# ---------------------------------------------------------------------------------------------
# Correct results under contention


def test_eight_threads_hammering_every_function():
    out = ok("""
        import threading, time

        def primes_below(n):
            sieve = bytearray([1]) * max(n, 2)
            sieve[0] = sieve[1] = 0
            for k in range(2, int(n ** 0.5) + 1):
                if sieve[k]:
                    sieve[k * k::k] = bytearray(len(sieve[k * k::k]))
            return sum(sieve[:n])

        PRIMES = {n: primes_below(n) for n in (0, 1, 2, 3, 10, 100, 1000, 7919, 7920, 20000)}
        SECONDS = 0.4
        failures, calls, ticks_started = [], [0] * 8, [0]
        lock = threading.Lock()

        def hammer(seed, function):
            deadline = time.monotonic() + SECONDS
            i = 0
            while time.monotonic() < deadline:
                i += 1
                if function == "sum":
                    a, b = seed * 10**12 + i, -(i * 7)
                    got, want = foo.sum(a, b), a + b
                elif function == "gil":
                    got, want = foo.gil(), 1
                elif function in ("count_primes", "count_primes_nogil"):
                    n = list(PRIMES)[i % len(PRIMES)]
                    got, want = getattr(foo, function)(n), PRIMES[n]
                elif function == "sleep":
                    got, want = foo.sleep(0), None
                elif function == "every":
                    seen = []
                    foo.every(0, 5, seen.append)
                    foo.join()
                    got, want = seen, [1, 2, 3, 4, 5]
                elif function == "tick":
                    foo.tick(2, 0)
                    with lock:
                        ticks_started[0] += 1
                    got = want = None
                if got != want:
                    failures.append((function, got, want))
                    return
            calls[seed] += i

        for function in ["sum", "gil", "count_primes", "count_primes_nogil", "sleep", "every",
                         "tick"]:
            workers = [threading.Thread(target=hammer, args=(s, function)) for s in range(8)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            assert not failures, failures
        foo.join()
        assert foo.threads() == 0
        sys.stdout.flush()
        print("ticks started:", ticks_started[0], "calls:", sum(calls), flush=True)
    """)
    lines = out.splitlines()
    summary = lines[-1]
    assert summary.startswith("ticks started: ")
    ticks_started = int(summary.split()[2])
    assert ticks_started > 0
    # Each tick(2, 0) printed exactly two lines, straight to file descriptor 1.
    tick_lines = [line for line in lines[:-1] if line.startswith("tick ")]
    assert sorted(set(tick_lines)) == ["tick 1", "tick 2"]
    assert len(tick_lines) == 2 * ticks_started


def test_results_and_threads():
    out = ok("""
        print(foo.gil(), foo.count_primes(100), foo.count_primes_nogil(100), foo.sum(40, 2))
        print(foo.count_primes(1_000_000) == foo.count_primes_nogil(1_000_000) == 78498)
        foo.tick(1000, 1000)
        seen = []
        foo.every(1000, 1000, seen.append)
        print(foo.threads())
        foo.stop()
        print(foo.threads(), seen)
    """)
    assert out == "1 25 25 42\nTrue\n2\ntick: stopped after 0 of 1000\n0 []\n"



def test_last_call_is_this_threads_last_counting_call():
    """last_call() is per thread: None before the thread's first counting call, then the start and
    end of its last one (a call refused for its argument notes nothing), on one clock for all."""
    out = ok("""
        import threading

        print(foo.last_call())
        foo.count_primes(10_000)
        first = foo.last_call()
        start, end = first
        print(type(start).__name__, type(end).__name__, 0 <= start <= end)
        try:
            foo.count_primes_nogil(-1)
        except ValueError:
            pass
        print(foo.last_call() == first)
        seen = []
        other = threading.Thread(target=lambda: seen.append(foo.last_call()))
        other.start()
        other.join()
        print(seen)
        foo.count_primes_nogil(10_000)
        print(end <= foo.last_call()[0] <= foo.last_call()[1])
    """)
    assert out == "None\nint int True\nTrue\n[None]\nTrue\n"


@pytest.mark.parametrize("cores", ["one core", "every core"])
@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_calls_holding_the_gil_never_overlap(version, cores):
    """What the page's `overlap` output claims, from more threads and calls: holding the GIL, no
    two calls' in-call intervals overlap, under any load; releasing it, calls from two threads do,
    on one core as on several (the system shares the core between the two threads)."""
    out = ok(f"""
        import os, threading

        if {cores == "one core"}:  # as on a machine with one core: this thread and those it starts
            os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})

        def spans(function, threads, calls):
            found = [[] for _ in range(threads)]
            ready = threading.Barrier(threads)

            def work(mine):
                ready.wait()
                for _ in range(calls):
                    function(20_000)
                    mine.append(foo.last_call())

            workers = [threading.Thread(target=work, args=(mine,)) for mine in found]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            return sorted(span for mine in found for span in mine)

        def overlapping(spans):  # sorted by start: any overlap shows between neighbours
            return sum(end > start for (_, end), (start, _) in zip(spans, spans[1:]))

        held = spans(foo.count_primes, 4, 50)
        print(len(held), overlapping(held))
        released = spans(foo.count_primes_nogil, 2, 50)
        print(len(released), overlapping(released) > 0)
    """, python_or_skip(version))
    assert out == "200 0\n100 True\n"


# ---------------------------------------------------------------------------------------------
# Exiting while threads are alive

EXIT_WHILE_BUSY = """
    import threading

    def busy(i):
        sum(range(100))

    foo.tick(60, 60_000)                   # a minute apart: no tick before the exit, however slow
    for _ in range(3):
        foo.every(0, 10**9, busy)          # Rust threads calling back into Python, nonstop

    def hammer(function, *args):
        try:
            while True:
                function(*args)
        except RuntimeError:                # foo refuses to start threads once exiting
            pass

    for function, args in [(foo.gil, ()), (foo.count_primes_nogil, (3000,)), (foo.sleep, (1,)),
                            (foo.join, ())]:
        threading.Thread(target=hammer, args=(function, *args), daemon=True).start()
    print("exiting", flush=True)
"""


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_exit_status_0_in_50_runs_out_of_50_with_threads_alive(version):
    python = python_or_skip(version)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: run(EXIT_WHILE_BUSY, python, timeout=30), range(50)))
    # Each failed run with its report: a run is judged by its own report, never by a match.
    failed = [(r, describe_exit(r)) for r in results
              if r.returncode != 0 or not r.stdout.startswith("exiting\n")]
    theirs = [(r, rep) for r, rep in failed if cpython_daemon_thread_race(version, rep)]
    ours = [rep for r, rep in failed if not cpython_daemon_thread_race(version, rep)]
    assert not ours, (f"{len(ours)} of 50 runs under CPython {version} failed; the first: "
                      + ours[0])
    # Each of these is CPython's race by its own backtrace. It is rare: about 1 run in 250 under
    # 3.10 here, though 2 of 50 under 3.11-dbg in a CI rehearsal (debug builds are slower at
    # exit). A cap at 2 of 50 would fail about one run in three if that were its real rate; at 10
    # of 50 only a race far commoner than any seen here fails the test.
    assert len(theirs) <= 10, (f"{len(theirs)} of 50 runs under CPython {version} crashed in "
                              "take_gil at exit; the first: " + theirs[0][1])
    if theirs:
        warnings.warn(f"CPython {version}: {len(theirs)} of 50 runs crashed in CPython's own "
                      "daemon-thread race at exit (gh-110052, fixed in 3.14 by gh-124878)")
    for r in results:
        if any(r is run for run, _ in theirs):
            continue
        assert r.stdout == "exiting\ntick: the interpreter is exiting, stopping\n", r.stdout


def cpython_daemon_thread_race(version: str, report: str) -> bool:
    """Whether a crash at exit is CPython's own, not foo's: before 3.14, a daemon thread that takes
    the GIL back after Py_Finalize has freed the interpreter touches freed memory in take_gil
    (release builds: SIGSEGV there; debug builds: the is_tstate_valid assertion). A script with
    daemon threads and no foo at all crashed the same way here, 1 run in 300 under 3.10; CPython
    gh-110052 describes it, and gh-124878 (3.14) fixed it by reference-counting thread states."""
    base = tuple(int(x) for x in version.removesuffix("-dbg").split("."))
    return base < (3, 14) and ("take_gil" in report or "is_tstate_valid" in report)


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_daemon_thread_asking_for_the_gil_during_finalization(version):
    """A daemon thread in foo.sleep wakes up while finalization is under way (a slow __del__
    holds it open) and asks for the GIL back. Before 3.14 CPython ends such a thread with
    pthread_exit, whose unwinding must not cross Rust frames: pyo3-ffi parks the thread instead."""
    python = python_or_skip(version)
    out = ok("""
        import threading, time

        class SlowCleanup:
            def __del__(self, sleep=time.sleep, finalizing=sys.is_finalizing):
                sleep(0.6)
                print("cleanup done; finalizing:", finalizing(), flush=True)

        cleanup = SlowCleanup()
        threading.Thread(target=foo.sleep, args=(300,), daemon=True).start()
        print("the script ends here", flush=True)
    """, python)
    assert out == "the script ends here\ncleanup done; finalizing: True\n"


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_at_exit_hook_runs_before_finalization_and_blocks_new_threads(version):
    python = python_or_skip(version)
    out = ok("""
        import atexit

        def after_foo_hook():            # registered before foo's hook, so it runs after it
            print("finalizing:", sys.is_finalizing(), "threads:", foo.threads(), flush=True)
            for call in (lambda: foo.tick(1, 0), lambda: foo.every(0, 1, print), foo.gil):
                try:
                    call()
                except RuntimeError as e:
                    print("RuntimeError:", e, flush=True)

        # foo's hook was registered when the prelude imported foo. atexit runs the most recently
        # registered hook first: put after_foo_hook before foo's hook in the list.
        import gc
        hook = next(o for o in gc.get_objects()
                    if getattr(o, "__name__", "") == "_foo_stop_and_join")
        atexit.unregister(hook)
        atexit.register(after_foo_hook)
        atexit.register(hook)

        def before_foo_hook():           # registered last, so it runs first
            print("threads before foo's hook:", foo.threads(), flush=True)
        atexit.register(before_foo_hook)

        foo.every(1000, 5, print)
    """, python)
    refused = "RuntimeError: cannot start a thread: the interpreter is exiting\n"
    assert out == ("threads before foo's hook: 1\n"
                   "finalizing: False threads: 0\n" + refused * 3)


def test_a_forked_child_does_not_wait_for_its_parents_threads():
    """fork() copies one thread: the child must not wait at exit for the parent's ticker."""
    out = ok("""
        import os, time, warnings
        warnings.simplefilter("ignore", DeprecationWarning)   # 3.12+: fork() with threads
        foo.tick(60, 1000)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            print("child sees", foo.threads(), "threads", flush=True)
            sys.exit(0)                  # runs atexit hooks, foo's included
        _, status = os.waitpid(pid, 0)
        print("child exit status", os.waitstatus_to_exitcode(status),
              "fast:", time.monotonic() - start < 5, flush=True)
        foo.stop()
    """, timeout=30)
    assert out == ("child sees 0 threads\nchild exit status 0 fast: True\n"
                   "tick: stopped after 0 of 60\n")


FORK_IN_A_CALLBACK = """
    import os, select, threading, time, warnings
    warnings.simplefilter("ignore", DeprecationWarning)   # 3.12+: fork() with threads
    r, w = os.pipe()
    counted = threading.Event()

    def in_the_child():
        seen = foo.threads()             # foo's thread is still in the callback: one
        counted.set()
        foo.join()                       # returns once that thread has made its last two rounds
        time.sleep(0.2)                  # by now that thread has ended, whatever join() said
        foo.join()
        os.write(w, f"child: {seen} running; after join(): {foo.threads()}\\n".encode())
        os._exit(0)

    children = []
    def callback(i):
        if i == 1:
            pid = os.fork()
            if pid == 0:
                threading.Thread(target=in_the_child).start()
                counted.wait()
            else:
                children.append(pid)

    foo.every(20, 3, callback)
    foo.join()
    ready, _, _ = select.select([r], [], [], 20)
    print(os.read(r, 200).decode() if ready else "child: join() did not return in 20 s\\n", end="")
    if not ready:
        os.kill(children[0], 9)
    _, status = os.waitpid(children[0], 0)
    print("child exit status", os.waitstatus_to_exitcode(status), flush=True)
"""


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_a_callback_that_forks_leaves_the_child_counting_its_one_thread(version):
    """fork() in a callback copies the callback's thread, one of foo's, into the child: the child
    counts it, and join() there waits for it. (The count used to be reset to 0 on the first call
    in a new process, so the thread's end took it below 0: a panic in a debug build, and in a
    release build a count that wrapped around, so that join() never returned.)"""
    python = python_or_skip(version)
    proc = run(FORK_IN_A_CALLBACK, python, timeout=60)
    assert proc.returncode == 0, describe_exit(proc)
    assert "panicked" not in proc.stderr, proc.stderr
    assert proc.stdout == "child: 1 running; after join(): 0\nchild exit status 0\n", \
        describe_exit(proc)


# ---------------------------------------------------------------------------------------------
# Callbacks that raise


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_a_raising_callback_is_reported_not_lost(version):
    python = python_or_skip(version)
    out = ok("""
        reported, calls = [], []
        sys.unraisablehook = lambda u: reported.append((type(u.exc_value).__name__,
                                                        str(u.exc_value), u.object))

        def callback(i):
            calls.append(i)
            if i == 2:
                raise ValueError("no second call")

        foo.every(0, 5, callback)
        foo.join()
        print(calls, reported == [("ValueError", "no second call", callback)], foo.threads())

        # SystemExit and KeyboardInterrupt from a callback neither exit nor interrupt anything
        foo.every(0, 1, sys.exit)
        foo.every(0, 1, lambda i: (_ for _ in ()).throw(KeyboardInterrupt))
        foo.join()
        print(sorted(r[0] for r in reported[1:]))
    """, python)
    assert out == "[1, 2] True 0\n['KeyboardInterrupt', 'SystemExit']\n"


def test_the_default_hook_prints_the_exception():
    proc = run("""
        def callback(i):
            raise ValueError("from the callback")
        foo.every(0, 3, callback)
        foo.join()
        print("still alive", flush=True)
    """)
    assert proc.returncode == 0, describe_exit(proc)
    assert proc.stdout == "still alive\n"
    assert "Exception ignored in: <function callback" in proc.stderr
    assert proc.stderr.count("ValueError: from the callback") == 1


def test_join_or_stop_from_a_callback_raises_instead_of_deadlocking():
    out = ok("""
        errors = []
        def callback(i):
            for wait in (foo.join, foo.stop):
                try:
                    wait()
                except RuntimeError as e:
                    errors.append(str(e))
        foo.every(0, 2, callback)
        foo.join()
        print(len(errors), set(errors))
    """, timeout=20)
    assert out == '4 {"foo\'s own threads cannot wait for foo\'s threads"}\n'


def test_join_is_interrupted_by_ctrl_c():
    out = ok("""
        import signal, time
        foo.tick(10, 1000)
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        signal.signal(signal.SIGALRM, signal.default_int_handler)
        start = time.monotonic()
        try:
            foo.join()
        except KeyboardInterrupt:
            print("interrupted after less than a second:", time.monotonic() - start < 1)
        foo.stop()
    """, timeout=20)
    assert out == "interrupted after less than a second: True\ntick: stopped after 0 of 10\n"


# ---------------------------------------------------------------------------------------------
# Bad arguments


BAD_CALLS = [
    ("foo.tick()", TypeError), ("foo.tick(1)", TypeError), ("foo.tick(1, 2, 3)", TypeError),
    ("foo.tick('1', 2)", TypeError), ("foo.tick(1.0, 2)", TypeError), ("foo.tick(1, None)", TypeError),
    ("foo.tick(count=1, interval_ms=2)", TypeError), ("foo.tick(-1, 0)", ValueError),
    ("foo.tick(1, -1)", ValueError), ("foo.tick(1, 86_400_001)", ValueError),
    ("foo.tick(2**63, 0)", OverflowError), ("foo.tick(1, -2**63 - 1)", OverflowError),
    ("foo.every(0, 1)", TypeError), ("foo.every(0, 1, None)", TypeError),
    ("foo.every(0, 1, 42)", TypeError), ("foo.every(-1, 1, print)", ValueError),
    ("foo.every(0, -1, print)", ValueError), ("foo.every(2**64, 1, print)", OverflowError),
    ("foo.every('0', 1, print)", TypeError), ("foo.every(0, 1, print, 4)", TypeError),
    ("foo.join(1)", TypeError), ("foo.stop(None)", TypeError), ("foo.threads(0)", TypeError),
    ("foo.gil(1)", TypeError), ("foo.gil(x=1)", TypeError),
    ("foo.count_primes()", TypeError), ("foo.count_primes(1.5)", TypeError),
    ("foo.count_primes('10')", TypeError), ("foo.count_primes(-1)", ValueError),
    ("foo.count_primes(1_000_001)", ValueError), ("foo.count_primes(2**70)", OverflowError),
    ("foo.count_primes_nogil(-5)", ValueError), ("foo.count_primes_nogil([])", TypeError),
    ("foo.count_primes_nogil(10**30)", OverflowError), ("foo.count_primes_nogil(n=3)", TypeError),
    ("foo.sleep(-1)", ValueError), ("foo.sleep(1001)", ValueError), ("foo.sleep(0.5)", TypeError),
    ("foo.sleep(2**63)", OverflowError), ("foo.sleep()", TypeError),
    ("foo.sum(2**63 - 1, 1)", OverflowError), ("foo.sum(1)", TypeError),
]


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_bad_arguments_raise_what_cpython_would(version):
    python = python_or_skip(version)
    out = ok(f"""
        for call, expected in {[(c, e.__name__) for c, e in BAD_CALLS]!r}:
            try:
                eval(call)
            except Exception as e:
                if type(e).__name__ != expected:
                    print(call, "raised", repr(e), "not", expected)
            else:
                print(call, "raised nothing, not", expected)
        foo.join()
        print("done", foo.threads(), foo.sum(2, 40), foo.count_primes(10))
    """, python)
    assert out == "done 0 42 4\n"


def test_edge_values_are_accepted():
    out = ok("""
        print(foo.count_primes(0), foo.count_primes(1), foo.count_primes(2), foo.count_primes(3),
              foo.count_primes_nogil(True), foo.sleep(0), foo.sleep(1))
        foo.tick(0, 86_400_000)
        foo.every(86_400_000, 0, print)
        foo.join()
        print(foo.threads())
    """)
    assert out == "0 0 0 1 0 None None\n0\n"


# ---------------------------------------------------------------------------------------------
# Reference counts


REFCOUNTS = """
    import gc
    N = 100_000

    def check(name, call, *watched, calls=N):
        # Collected before as after: under 3.10 the first collection frees garbage that holds a
        # reference to 0 (the count and interval here), seen as a change of -1 with no call made.
        gc.collect()
        before = [sys.getrefcount(o) for o in watched]
        for _ in range(calls):
            call()
        foo.join()
        gc.collect()
        after = [sys.getrefcount(o) for o in watched]
        if before != after:
            print(name, "leaks:", before, "->", after)

    def raises(call):
        def wrapped():
            try:
                call()
            except (TypeError, ValueError, OverflowError):
                pass
            else:
                raise AssertionError("no exception")
        return wrapped
"""

# Ints above 256 are fresh objects whose count means something; ints up to 256 are cached, and
# before 3.12 (the interpreter running these checks, if older) their counts show leaks as well.
REFCOUNT_GROUPS = {
    "pure": """
        big_a, big_b = 10**15 + 1, 2**40 + 3
        check("sum", lambda: foo.sum(big_a, big_b), big_a, big_b, 42)
        r = foo.sum(big_a, big_b)
        print("sum result refcount", sys.getrefcount(r))
        n = 300   # 62 primes below it
        check("count_primes", lambda: foo.count_primes(n), n, 62)
        check("count_primes_nogil", lambda: foo.count_primes_nogil(n), n, 62)
        check("sleep", lambda: foo.sleep(0), 0, None)
        huge, neg, text = 10**30, -1000, "abc"
        check("bad n", raises(lambda: foo.count_primes(neg)), neg)
        check("overflow", raises(lambda: foo.count_primes_nogil(huge)), huge)
        check("type", raises(lambda: foo.sum(text, big_a)), text, big_a)
        check("threads", foo.threads, 0)
    """,
    "gil-tick": """
        check("gil", foo.gil, 1)
        count, interval = 0, 1000
        check("tick", lambda: foo.tick(count, interval), count, interval)
    """,
    "every": """
        def callback(i):
            pass
        interval, count = 0, 0
        check("every", lambda: foo.every(interval, count, callback), callback, interval, count)
        # Fewer calls when each one also calls back (a thread state is made for each).
        seen = []
        check("every calling back", lambda: foo.every(0, 1, seen.append), seen, calls=10_000)
        print("called back", len(seen))
        def raising(i):
            raise ValueError(i)
        sys.unraisablehook = lambda u: None
        check("every raising", lambda: foo.every(0, 1, raising), raising, calls=10_000)
    """,
}


def test_no_reference_leaks_in_100_000_calls():
    """Three children at once (the thread-starting functions take a few seconds each)."""
    procs = {name: child(textwrap.dedent(REFCOUNTS) + textwrap.dedent(body))
             for name, body in REFCOUNT_GROUPS.items()}
    outputs = {}
    for name, proc in procs.items():
        done = finish(proc, 120, f"{name}: ")
        assert done.returncode == 0, f"{name}: " + describe_exit(done)
        outputs[name] = done.stdout
    assert outputs == {
        "pure": "sum result refcount 2\n",
        "gil-tick": "",
        "every": "called back 10000\n",
    }
