"""The project-wide reliability suite (chapter 6): every module the book builds, every function.

- Hostile input: each function is called at least 10 000 times with wrong types, edge and huge
  integers, NaN, None, unencodable strings, bytes, too many and too few arguments and keyword
  arguments. Every failure must be an ordinary Python exception: no crash, no SystemError (a
  broken C-API protocol), no PanicException (a Rust panic that reached the boundary). A function
  with a model in the registry must return what its model returns whenever it returns at all.
- Leaks: a million calls with valid arguments grow the process by less than 1 MiB, and leave
  the arguments' refcounts as they were; so do 100 000 calls of each kind of failing call (a
  reference forgotten on an error path leaks as surely as one on the main path). A module that
  embeds a garbage-collected runtime (chapter 7's Go module) is measured over the second million
  calls, once its heap has grown to the collector's goal (see ch06_probe.leak).
- Kinds of hostile input, each done to every function and every type of every module, in a
  child of its own (tests/children/ch06_kinds.py says what each does): a patched __new__ that never
  constructs the value, a hostile metaclass, keyword arguments that change under conversion,
  deep nesting (a million levels), a call at exit (from __del__ during finalisation, and from
  daemon threads), an allocation that fails (under an address-space limit), a call from C with
  no arguments at all. Each must end in a Python exception or a clean exit, never a signal, an
  abort or a hang, and leave the module's counts of its values (`live()`) where they were. The
  kinds also run over the dev-profile builds (debug assertions on) of the modules that chapters
  stage from release builds, and each kind must catch its fault in tests/c/kinds_broken.c.
- Native checks: chapter 1's C programs run clean under valgrind, and every C file of the book
  compiles without a warning under -Wall -Wextra.

The modules are found, not listed: every staged `*.so` that exports `PyInit_<its name>`. Their
functions are found by introspection, in a child process. Valid arguments come from
tests/children/ch06_registry.py; a function missing there fails the suite. Everything that could crash
runs in a child process (tests/children/ch06_probe.py), whose death by a signal is the verdict. A crash is
reported with the call that was being made, replayed alone, and, if that alone does not crash,
with the shortest tail of the calls that still crashes a fresh process; and, from
tests/support/crashreport.py, the faulting thread's faulthandler block, gdb's backtrace of every thread
from the child's core, and the child's whole stderr. A hang is reported with gdb's backtraces of
the child's threads, taken before it is killed.

The suites for all modules start at once, two at a time, when the first test needs them.
Set CH06_SEED to replay a hostile-input run; a failure message gives the seed it used.
"""

from __future__ import annotations

import json
import re
import os
import random
import shutil
import signal
import subprocess
import sys
import sysconfig
import tomllib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from support import CHILDREN, C_SOURCES, ROOT, STAGE, label, module_id, once_each, twins, crashreport
from ch06_kinds import KINDS
from ch06_registry import EXCLUDED_MODULES, KNOWN_IN_PYO3, TYPE_ARGS, UNIMPORTABLE_MODULES, WHERE, lookup

PROBE = CHILDREN / "ch06_probe.py"
KINDS_PROBE = CHILDREN / "ch06_kinds.py"
HOSTILE_CALLS = 10_000  # per function
LEAK_CALLS = 1_000_000  # per function
ERROR_PATH_CALLS = 100_000  # per kind of failing call
LEAK_LIMIT = 1 << 20  # bytes of growth allowed over LEAK_CALLS (or ERROR_PATH_CALLS) calls
CHILD_TIMEOUT = 300  # seconds: a child that runs longer is reported as hung
SEED = int(os.environ.get("CH06_SEED", random.randrange(1 << 30)))


# ---------------------------------------------------------------------------------------------
# Finding the modules


def exported_symbols(path: Path) -> set[str]:
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def staged_extension_modules() -> list[Path]:
    """Every staged shared object that Python can import: it exports PyInit_<name>, where
    <name> is its file name up to the first dot (foo.abi3.so: PyInit_foo)."""
    if not STAGE.is_dir():
        pytest.fail(f"nothing staged under {STAGE}: run `just build` first")
    found = []
    for so in sorted(STAGE.glob("*/*.so")):
        if so.name in UNIMPORTABLE_MODULES:
            continue
        if f"PyInit_{so.name.split('.')[0]}" in exported_symbols(so):
            found.append(so)
    return found


ALL_MODULES = staged_extension_modules()
# `just stress` runs the hostile-input and leak tests of one module many times: CH06_ONLY names it
# by its label (04/foo.abi3.so), and the other modules' children are not started.
ONLY = os.environ.get("CH06_ONLY")
# Byte-identical modules are tested once, under the first one's name, and the test id names the
# others: `NN/name.abi3.so (= ...)`. tests/test_refleaks.py takes this list too.
MODULES = [m for m in once_each([m for m in ALL_MODULES if m.name not in EXCLUDED_MODULES])
           if ONLY in (None, label(m), *map(label, twins(m)))]
if ONLY and not MODULES:
    raise RuntimeError(f"CH06_ONLY={ONLY} names no staged module")


def embeds_go(module: Path) -> bool:
    """A cgo shared library: it exports crosscall2, cgo's entry from C into Go."""
    return "crosscall2" in exported_symbols(module)


def probe(*args: str, timeout: float = CHILD_TIMEOUT, script: Path = PROBE,
          **env_extra: str) -> subprocess.CompletedProcess:
    """Runs tests/children/ch06_probe.py (or another of the suite's child programs, `script`) in a child
    interpreter (this one, with hypothesis), with `env_extra` in its environment."""
    # Hypothesis keeps a cache of Unicode tables: under target/, not in the working tree.
    # glibc keeps up to 40 MiB of finished threads' stacks for reuse; chapter 4's functions start
    # threads, and those cached stacks would count as memory growth. Keep the cache small, but not
    # at 0: with no cache, glibc (2.36 here) unmaps an exiting detached thread's stack at once, and
    # pthread_detach, which reads the thread's descriptor (on that stack) after marking it
    # detached, can then read unmapped memory. That crashed the leak loop once under 3.12 (gdb:
    # the main thread in pthread_detach from dropping a JoinHandle, another in
    # __nptl_free_stacks(limit=0)); with a cache the stack stays mapped. 8 MiB holds a few
    # stacks, and the warm-up fills it before anything is measured.
    env = dict(os.environ, RUST_BACKTRACE="0", PYTHONFAULTHANDLER="1",
               HYPOTHESIS_STORAGE_DIRECTORY=str(ROOT / "target" / "hypothesis"),
               GLIBC_TUNABLES=f"glibc.pthread.stack_cache_size={8 << 20}", **env_extra)
    try:
        return crashreport.run([sys.executable, str(script), *args], timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:  # run() has killed the child
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
        hung = subprocess.CompletedProcess(e.cmd, returncode=0, stdout=out or "",
                                           stderr=f"killed after {timeout} s: it hung\n"
                                                  + getattr(e, "stacks", ""))
        hung.returncode = None  # type: ignore[assignment] - died() reads None as "hung"
        return hung


def parse_report(proc: subprocess.CompletedProcess):
    """The probe's JSON report. A module's own threads may print at any moment (chapter 4's
    `tick N`), even onto the report's line, so the report is decoded up to its end and no further."""
    found = re.search(r"(?m)^REPORT ", proc.stdout)
    if not found:
        return None
    report, _ = json.JSONDecoder().raw_decode(proc.stdout, found.end())
    return report


def died(proc: subprocess.CompletedProcess) -> str | None:
    """How the child died, or None if it exited normally."""
    if proc.returncode is None:
        return "hung (killed after the timeout)"
    if proc.returncode < 0:
        return f"crashed: killed by {signal.Signals(-proc.returncode).name}"
    return None


def tail(text: str, n: int = 25) -> str:
    lines = text.splitlines()
    return "\n".join(lines[-n:])


def details(proc: subprocess.CompletedProcess) -> str:
    """A crash's report (tests/support/crashreport.py: the faulting thread first, gdb's backtraces from
    the core, the whole stderr), a hang's backtraces, or else the end of the child's stderr."""
    if proc.returncode is not None and proc.returncode < 0:
        return crashreport.report(proc)
    if proc.returncode is None:
        return proc.stderr
    return tail(proc.stderr)


# ---------------------------------------------------------------------------------------------
# Running the children, two at a time, all started as soon as the first result is wanted

_pool = ThreadPoolExecutor(max_workers=2)
_jobs: dict[tuple[str, str], Future] = {}


def _start_all(tmp_root: Path) -> None:
    if _jobs:
        return
    for m in MODULES:
        log = tmp_root / f"hostile-{m.parent.name}-{m.name}.log"
        _jobs[("hostile", str(m))] = _pool.submit(
            lambda m=m, log=log: (probe("hostile", str(m), str(log), str(HOSTILE_CALLS),
                                        str(SEED)), log))
        gc_runtime = ["--gc-runtime"] if embeds_go(m) else []
        _jobs[("leak", str(m))] = _pool.submit(probe, "leak", str(m), str(LEAK_CALLS),
                                               str(ERROR_PATH_CALLS), *gc_runtime)


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    _start_all(tmp_path_factory.mktemp("ch06"))
    yield _jobs


@pytest.fixture(scope="module")
def inventory() -> dict[str, list[str]]:
    """The functions of each module, found by introspection in a child process."""
    found = {}
    for m in once_each(ALL_MODULES):
        proc = probe("list", str(m), timeout=60)
        functions = parse_report(proc)
        assert functions is not None, f"{label(m)} could not be imported and listed " \
                                      f"({died(proc) or proc.returncode}):\n{details(proc)}"
        for same in [m, *twins(m)]:
            found[str(same)] = functions
    return found


# ---------------------------------------------------------------------------------------------
# The suite's own sanity: it sees the modules it should, and nothing escapes it


def test_finds_the_books_modules():
    names = {label(m) for m in ALL_MODULES}
    assert "02/foo.abi3.so" in names and "06/errors.abi3.so" in names, names
    # chapter 7's Go module is built on every machine (scripts/setup.sh installs Go)
    assert "07/go_sum.abi3.so" in names, names
    assert [label(m) for m in ALL_MODULES if embeds_go(m)] == ["07/go_sum.abi3.so"]
    # chapter 1's libsum.so is a plain C library, not a Python module
    assert not any(m.name.startswith("libsum") for m in ALL_MODULES)


def test_exclusions_name_real_modules_and_say_why():
    staged = {m.name for m in ALL_MODULES}
    for name, reason in EXCLUDED_MODULES.items():
        assert name in staged, f"EXCLUDED_MODULES names {name}, which no chapter stages: " \
                               f"remove it from tests/children/ch06_registry.py"
        assert len(reason) > 20, f"say why {name} is excluded"
    on_disk = {so.name for so in STAGE.glob("*/*.so")}
    for name, reason in UNIMPORTABLE_MODULES.items():
        assert name in on_disk, f"UNIMPORTABLE_MODULES names {name}, which no chapter stages: " \
                                f"remove it from tests/children/ch06_registry.py"
        assert len(reason) > 20, f"say why {name} cannot be imported"


def test_every_module_is_tested_or_the_twin_of_one():
    """A module left out as a twin has the very bytes of one that is tested."""
    if ONLY:
        pytest.skip(f"CH06_ONLY={ONLY} narrows the suite to one module on purpose")
    tested = {m: twins(m) for m in MODULES}
    for m in ALL_MODULES:
        if m.name in EXCLUDED_MODULES or m in tested:
            continue
        stand_in = [t for t, others in tested.items() if m in others]
        assert stand_in and stand_in[0].read_bytes() == m.read_bytes(), f"{label(m)} is not tested"


def test_twins_are_byte_identical_files_only(tmp_path):
    a, b, c = (tmp_path / d / "x.abi3.so" for d in ("07", "08", "09"))
    for f, data in ((a, b"same"), (b, b"same"), (c, b"sam\x00")):
        f.parent.mkdir()
        f.write_bytes(data)
    assert once_each([a, b, c]) == [a, c]


def unregistered(module: Path, functions: list[str]) -> str | None:
    """The complaint about functions that have no valid arguments in the registry, if any."""
    name = module.name.split(".")[0]
    missing = [f for f in functions if lookup(name, f) is None]
    if not missing:
        return None
    return (f"{label(module)}: no valid arguments registered for "
            f"{', '.join(f'{name}.{f}' for f in missing)}. Add an entry to {WHERE}, e.g. "
            f"\"{missing[0]}\": (<valid arguments>,), so that the leak and hostile-input tests "
            "can call it.")


@pytest.mark.parametrize("module", MODULES, ids=module_id)
def test_every_function_is_registered(module, jobs, inventory):
    assert inventory[str(module)], f"{label(module)} has no functions"
    complaint = unregistered(module, inventory[str(module)])
    assert complaint is None, complaint


# ---------------------------------------------------------------------------------------------
# Hostile input


def explain_crash(module: Path, log: Path, how: str) -> str:
    """Names the call that crashed the child: the last one logged, replayed alone; if that alone
    does not crash (the damage was done earlier, as with a double decref), the shortest tail of
    the log that crashes a fresh process when replayed, found by bisection."""
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    if not lines:
        return f"{label(module)} {how} before its first call"
    scratch = log.with_suffix(".replay")

    def crashes(calls: list[str]) -> bool:
        scratch.write_text("\n".join(calls) + "\n", encoding="utf-8")
        replayed = probe("replay", str(module), str(scratch), timeout=120)
        crashreport.forget(replayed)  # the first crash's core is the one the report reads
        return died(replayed) is not None

    msg = [f"{label(module)} {how} after {len(lines)} calls (seed {SEED}; rerun with "
           f"CH06_SEED={SEED}). The call being made:", f"    {lines[-1]}"]
    if how.startswith("hung"):
        return "\n".join(msg)
    if crashes(lines[-1:]):
        msg.append("Replayed alone in a fresh process, it crashes again.")
        return "\n".join(msg)
    if not crashes(lines):
        msg.append("Replaying all the logged calls in a fresh process does not crash: the "
                   "crash depends on something else (memory layout, timing).")
        return "\n".join(msg)
    lo, hi = 1, len(lines)  # tail of lo calls does not crash, tail of hi calls does
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if crashes(lines[-mid:]):
            hi = mid
        else:
            lo = mid
    msg += ["Replayed alone, it does not crash: an earlier call did the damage. The shortest "
            f"tail of the log that crashes a fresh process has {hi} calls; it starts with:",
            f"    {lines[-hi]}"]
    return "\n".join(msg)


@pytest.mark.parametrize("module", MODULES, ids=module_id)
def test_hostile_input(module, jobs, inventory):
    proc, log = jobs[("hostile", str(module))].result()
    how = died(proc)
    if how:
        pytest.fail(explain_crash(module, log, how) + "\n" + details(proc))
    results = parse_report(proc)
    assert results is not None, f"the hostile-input run of {label(module)} failed:\n{tail(proc.stderr)}"
    assert sorted(results) == inventory[str(module)]
    problems = []
    for name, r in results.items():
        if r["calls"] < HOSTILE_CALLS:
            problems.append(f"{name}: only {r['calls']} calls")
        for f in r["failures"]:
            problems.append(f"{name}: {f}")
    assert not problems, (f"{label(module)} (seed {SEED}; rerun with CH06_SEED={SEED}):\n  "
                          + "\n  ".join(problems))


# ---------------------------------------------------------------------------------------------
# Leaks


@pytest.mark.parametrize("module", MODULES, ids=module_id)
def test_no_leaks(module, jobs, inventory):
    proc = jobs[("leak", str(module))].result()
    how = died(proc)
    assert not how, f"the leak test of {label(module)} {how}:\n{details(proc)}"
    results = parse_report(proc)
    assert results is not None, f"the leak test of {label(module)} failed:\n{tail(proc.stderr)}"
    assert sorted(results) == inventory[str(module)]
    problems = []
    for name, r in results.items():
        if "error" in r:
            problems.append(f"{name}: {r['error']}")
            continue
        problems += leak_problems(f"{name} (valid arguments)", r)
        assert r["error_paths"], f"{name}: no failing call found to measure its error paths"
        for e in r["error_paths"]:
            problems += leak_problems(f"{e['call']} (raises {e['exception']})", e)
    assert not problems, f"{label(module)} leaks:\n  " + "\n  ".join(problems)


def leak_problems(what: str, r: dict) -> list[str]:
    problems = []
    if r["rss_growth"] >= LEAK_LIMIT:
        problems.append(f"{what}: {r['calls']} calls grew the process by "
                        f"{r['rss_growth'] / 2**20:.1f} MiB (limit: 1 MiB)")
    for arg, delta in r["refcount_deltas"].items():
        if delta:
            problems.append(f"{what}: the refcount of argument {arg} changed by {delta:+d} "
                            f"over {r['calls']} calls")
    return problems


# ---------------------------------------------------------------------------------------------
# Kinds of hostile input

KIND_TIMEOUT = 120  # seconds per child: deep nesting, the slowest, takes about 20; one longer hung
AT_EXIT = {"at_exit_del", "at_exit_daemon"}  # kinds whose verdict is how the process exits


def kind_env(kind: str) -> dict[str, str]:
    """The mutated-keywords kind runs with pymalloc's debug hooks (release builds have them too):
    a freed object's memory is overwritten at once, so reading it afterwards crashes instead of
    finding the old bytes still there."""
    return {"PYTHONMALLOC": "debug"} if kind == "mutated_kwargs" else {}


def trimmed(report: str, head: int = 250, end: int = 120) -> str:
    """A crash report without the middle of a long one: a crash in a recursion a million deep
    has a backtrace of a hundred thousand frames, the same few again and again. The head keeps
    the innermost frames (where it faulted), the end the child's stderr."""
    lines = report.splitlines()
    if len(lines) <= head + end:
        return report
    return "\n".join(lines[:head] + [f"[... {len(lines) - head - end} lines left out ...]"]
                     + lines[-end:])


def reports(proc: subprocess.CompletedProcess) -> dict[str, dict]:
    """tests/children/ch06_kinds.py's report of each module it finished, by the module's label."""
    found, decoder = {}, json.JSONDecoder()
    for m in re.finditer(r"(?m)^REPORT ", proc.stdout):
        r, _ = decoder.raw_decode(proc.stdout, m.end())
        found[r["module"]] = r
    return found


def run_kind(kind: str, modules: list[Path], tmp_path: Path, *options: str,
             timeout: float = KIND_TIMEOUT, explain: bool = True) -> tuple[dict, list[str]]:
    """Runs the kind over all the modules in one child. When the child dies, hangs or (at exit)
    fails, the module that was at work then (the log's last line names it) is reported, and a
    new child takes the modules it did not finish, so that one fault hides no other.
    Returns the reports of the modules that finished, and the problems: how a child ended, and
    the failures that the finished modules report. `options` go to tests/children/ch06_kinds.py; without
    `explain`, a crash is reported by the end of its stderr only, and its core is not kept."""
    finished, problems, todo = {}, [], list(modules)
    by_label = {label(m): m for m in modules}
    for attempt in range(len(modules)):
        if not todo:
            break
        log = tmp_path / f"{kind}-{attempt}.log"
        proc = probe(kind, str(log), *map(str, todo), *options, script=KINDS_PROBE,
                     timeout=timeout, **kind_env(kind))
        done = reports(proc)
        finished.update(done)
        steps = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        how = died(proc) or (f"exited with status {proc.returncode}"
                             if kind in AT_EXIT and proc.returncode != 0 else None)
        if how is None:
            missing = [label(m) for m in todo if label(m) not in done]
            if missing:
                problems.append(f"no report from {', '.join(missing)}:\n{tail(proc.stderr)}")
            break
        culprit = steps[-1].split(" ", 1)[0] if steps else label(todo[0])
        culprit = culprit if culprit in by_label else label(todo[0])
        problems.append(f"{culprit} {how} under the {kind} kind of hostile input. The step being "
                        f"taken (`tests/children/ch06_kinds.py {kind} LOG MODULE` logs each):\n    "
                        f"{steps[-1] if steps else '(none: no module was loaded yet)'}\n"
                        + (trimmed(details(proc)) if explain else tail(proc.stderr or "")))
        if not explain:
            crashreport.forget(proc)
        finished.pop(culprit, None)
        todo = [m for m in todo if label(m) != culprit
                and (kind in AT_EXIT or label(m) not in done)]
    for name, r in sorted(finished.items()):
        problems += [f"{name}: {f}" for f in r["failures"]]
    return finished, problems


def debug_builds() -> dict[str, Path]:
    """The dev-profile build of each Rust module that a chapter stages from its release build
    (chapters 7, 8, 10 and 11 measure release builds), by the name it would be staged under
    ("10-debug/ring.abi3.so"). `just build` compiles the whole workspace in the dev profile
    first, into target/debug: the same sources, with the checks of unsafe preconditions that a
    release build leaves out (a slice made from a null pointer, an integer that overflows)."""
    packages = {}  # package name -> its [lib] name
    for manifest in (ROOT / "steps").rglob("Cargo.toml"):
        if "target" in manifest.parts:
            continue
        toml = tomllib.loads(manifest.read_text())
        if "package" in toml and "cdylib" in toml.get("lib", {}).get("crate-type", []):
            name = toml["package"]["name"]
            packages[name] = toml["lib"].get("name", name.replace("-", "_"))
    staged = {label(m) for m in MODULES}
    found, seen = {}, set()
    for commands in sorted((ROOT / "steps").glob("[0-9][0-9]-*/commands.toml")):
        spec = tomllib.loads(commands.read_text())
        if spec.get("profile") != "release":
            continue
        nn, package = commands.parent.name[:2], tomllib.loads(
            (commands.parent / "Cargo.toml").read_text())["package"]["name"]
        for name, source in spec.get("stage", {}).items():
            kind, _, rest = source.removeprefix("?").partition(":")
            kind, _, pkg = kind.partition("@")
            if kind != "cdylib" or rest or f"{nn}/{name}" not in staged:
                continue
            built = ROOT / "target" / "debug" / f"lib{packages[pkg or package]}.so"
            if built not in seen:
                seen.add(built)
                found[f"{nn}-debug/{name}"] = built
    return found


@pytest.fixture(scope="module")
def debug_modules(tmp_path_factory) -> list[Path]:
    """debug_builds(), copied under the names Python imports them by."""
    folder = tmp_path_factory.mktemp("debug-builds")
    copies = []
    for name, built in debug_builds().items():
        assert built.is_file(), f"{built} is missing: run `just build`, which builds it"
        copy = folder / name
        copy.parent.mkdir(exist_ok=True)
        shutil.copy2(built, copy)
        copies.append(copy)
    return copies


def test_debug_builds_are_found():
    found = debug_builds()
    for name in ("10-debug/ring.abi3.so", "10-debug/helper_ring.abi3.so", "11-debug/hist.abi3.so",
                 "08-debug/tally.abi3.so"):
        assert name in found, sorted(found)
    assert not any("pyo3_hist" in name for name in found), "EXCLUDED_MODULES applies to it too"


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_input_of_kind(kind, tmp_path, debug_modules):
    """One kind of hostile input (tests/children/ch06_kinds.py) done to every module's functions and
    types, and to the debug builds of the modules staged from release builds: each ends in a
    Python exception or a clean exit, and leaves the counts where they were. Every module that
    fails is named, with how, at which step, and the crash report."""
    modules = [m for m in MODULES + debug_modules if m not in known_in_pyo3(kind, debug_modules)]
    finished, problems = run_kind(kind, modules, tmp_path)
    assert not problems, f"{kind}:\n" + "\n".join(problems)
    assert sorted(finished) == sorted(label(m) for m in modules)


def known_in_pyo3(kind: str, debug_modules: list[Path], only: str | None = None) -> list[Path]:
    """The modules (release and debug builds) that KNOWN_IN_PYO3 says `kind` breaks here (or,
    with `only`, that one module's builds)."""
    names = {name for name, holds_from, _ in KNOWN_IN_PYO3.get(kind, [])
             if (holds_from is None or sys.version_info[:2] < holds_from)
             and only in (None, name)}
    return [m for m in MODULES + debug_modules if m.name in names]


@pytest.mark.parametrize("kind,name", [(kind, name) for kind, entries in sorted(KNOWN_IN_PYO3.items())
                                       for name, _, _ in entries])
def test_pyo3_breaks_as_its_pages_say(kind, name, tmp_path, debug_modules):
    """What the hostile-input kinds leave out of PyO3's modules (KNOWN_IN_PYO3) still breaks
    them, so the exception stays true: when PyO3 mends it, this fails and the entry goes."""
    _, holds_from, why = next(e for e in KNOWN_IN_PYO3[kind] if e[0] == name)
    modules = known_in_pyo3(kind, debug_modules, only=name)
    if not modules:
        pytest.skip(f"{kind} does not break {name} on this CPython (from "
                    f"{'.'.join(map(str, holds_from))} its fault does not show)")
    _, problems = run_kind(kind, modules, tmp_path, explain=False)
    broken = {p.split(" ", 1)[0].rstrip(":") for p in problems}
    assert broken == {label(m) for m in modules}, (why, problems)


def test_kinds_find_the_books_types(tmp_path):
    """The kinds reach the types as well as the functions: chapter 10's three Rings, and the
    exception types that modules export; every type has valid arguments registered."""
    proc = probe("list", str(tmp_path / "log"), *map(str, MODULES), script=KINDS_PROBE,
                 timeout=KIND_TIMEOUT)
    found = {name: r["types"] for name, r in reports(proc).items()}
    assert sorted(found) == sorted(label(m) for m in MODULES), details(proc)
    for ring in ("10/ring.abi3.so", "10/helper_ring.abi3.so", "10/pyo3_ring.abi3.so"):
        assert "Ring" in found[ring], found
    assert found["06/errors.abi3.so"] == ["PanicException", "ParseError"], found
    missing = sorted({t for types in found.values() for t in types} - set(TYPE_ARGS))
    assert not missing, (f"no valid arguments registered for the types {missing}: add them to "
                         "tests/children/ch06_registry.py (TYPE_ARGS)")


# ---------------------------------------------------------------------------------------------
# Native checks

VALGRIND = ["valgrind", "--error-exitcode=1", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--quiet"]


@pytest.mark.parametrize("program", ["main", "dot"])
def test_chapter1_host_is_clean_under_valgrind(program, tmp_path):
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed (Debian/Ubuntu: apt-get install valgrind)")
    for f in ["libsum.so", "sum.h", f"{program}.c"]:
        shutil.copy2(STAGE / "01" / f, tmp_path / f)
    subprocess.run(["cc", "-Wall", "-Wextra", "-Werror", "-g", "-o", program, f"{program}.c",
                    "-L.", "-lsum", "-Wl,-rpath,$ORIGIN"], cwd=tmp_path, check=True)
    proc = subprocess.run([*VALGRIND, f"./{program}"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"valgrind found errors in chapter 1's {program}:\n{proc.stderr}"
    assert proc.stderr == "", f"valgrind reported:\n{proc.stderr}"


def c_files() -> list[Path]:
    return sorted(p for p in (ROOT / "steps").rglob("*.c") if "target" not in p.parts)


@pytest.mark.parametrize("source", c_files(), ids=lambda p: str(p.relative_to(ROOT / "steps")))
def test_c_compiles_without_warnings(source, tmp_path):
    """Every C file of the book (chapter 2's module among them) under -Wall -Wextra -Werror.
    Headers a file needs from its chapter's build (sum.h) come from the chapter's stage. The C of
    a Go package includes the header that `go build` writes (_cgo_export.h): that build compiles
    it, with the same flags."""
    if any(source.parent.glob("*.go")):
        proc = go_build(source.parent, tmp_path / "module.so",
                        f"-Wall -Wextra -Werror -I{sysconfig.get_path('include')}")
        assert proc.returncode == 0, f"go build of {source.parent}:\n{proc.stderr}"
        return
    chapter_stage = STAGE / source.relative_to(ROOT / "steps").parts[0][:2]
    cmd = ["cc", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
           f"-I{sysconfig.get_path('include')}", f"-I{chapter_stage}", str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"


def go_build(package: Path, out: Path, cflags: str) -> subprocess.CompletedProcess:
    """`go build -buildmode=c-shared` of a Go package, as steps/07-call-overhead/go-sum/build.rs
    does it, with the Go on PATH (.venv's)."""
    if shutil.which("go") is None:
        pytest.fail("no Go toolchain on PATH: run scripts/setup.sh, which installs it in .venv/bin")
    env = dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="1", CGO_CFLAGS=cflags,
               CC=os.environ.get("CC", "cc"))
    return subprocess.run(["go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false",
                           "-o", str(out), "."], cwd=package, env=env, capture_output=True,
                          text=True, timeout=300)


def test_chapter2_build_treats_warnings_as_errors():
    """The build of chapter 2's module must keep failing on warnings, not just this test."""
    build = (ROOT / "steps" / "02-c-extension" / "build.rs").read_text()
    assert "build_support::compile_extension_module(" in build, \
        "steps/02-c-extension/build.rs no longer compiles foo.c with build_support"
    support = (ROOT / "steps" / "build-support" / "src" / "lib.rs").read_text()
    compile_fn = support[support.index("pub fn compile_extension_module"):]
    for setting in [".warnings(true)", ".extra_warnings(true)", ".warnings_into_errors(true)"]:
        assert setting in compile_fn, f"compile_extension_module no longer sets {setting}"


# ---------------------------------------------------------------------------------------------
# The detectors detect: run them on chapter 6's deliberately broken module, which the suite
# above excludes, and expect each bug to be caught.

BROKEN = STAGE / "06" / "broken.abi3.so"
BROKEN_VALID = repr({"add": (2000, 40000), "add_guarded": (2000, 40000),
                     "text_length": (123456789,), "first": (("left", 12345),)})


def test_models_catch_silent_wrong_results():
    from ch06_probe import disagrees
    from ch06_registry import MODELS

    assert disagrees(MODELS["sum"], (2, 40), {}, 42) is None
    wrapped = disagrees(MODELS["sum"], (2**63 - 1, 1), {}, -2**63)
    assert wrapped == "returned -9223372036854775808, but its model returns 9223372036854775808"
    assert disagrees(MODELS["divide"], (-7, 2), {}, -3) is None
    assert disagrees(MODELS["divide"], (-7, 2), {}, -4)  # floor division is not divide()
    assert disagrees(MODELS["encode"], ("é",), {}, "é")  # the right value of the wrong type
    assert "model raises" in disagrees(MODELS["sum"], ("2", 40), {}, 42)


def test_the_leak_loop_bounds_the_threads_alive_at_once():
    """A module that leaves threads running has them joined every PACE calls: how many are alive
    at once during the measured calls must not depend on how busy the machine is (see PACE).
    A stand-in counts the calls made since the last join."""
    from ch06_probe import PACE, measure

    since_join, most = [0], [0]

    def call():
        since_join[0] += 1
        most[0] = max(most[0], since_join[0])

    def join():
        since_join[0] = 0

    r = measure(call, (), {}, 10 * PACE, join, pace=join)
    assert r["calls"] == 10 * PACE and most[0] == PACE, f"{most[0]} calls between two joins"


def test_unregistered_functions_fail_the_suite(inventory):
    complaint = unregistered(BROKEN, inventory[str(BROKEN)])
    assert complaint and "broken.add" in complaint and WHERE in complaint, complaint


def test_hostile_input_catches_an_unguarded_panic(tmp_path):
    log = tmp_path / "add.log"
    proc = probe("hostile", str(BROKEN), str(log), "10000", str(SEED), "--valid", BROKEN_VALID,
                 "--only", "add")
    assert died(proc) == "crashed: killed by SIGABRT", f"{proc.returncode}\n{tail(proc.stderr)}"
    report = explain_crash(BROKEN, log, died(proc))
    assert "Replayed alone in a fresh process, it crashes again." in report, report
    name, args, kwargs = eval(log.read_text().splitlines()[-1])  # noqa: S307 - our own log
    a, b = args
    assert name == "add" and not -2**63 <= a + b < 2**63, report  # an overflowing sum
    # what the suite prints for the crash: the faulting thread's block first, then gdb's
    # backtrace from the core, down to the abort that Rust's panic in extern "C" ends in
    crash = details(proc)
    crashreport.forget(proc)
    first, rest = crash.split("\n== gdb", 1)
    assert "Current thread 0x" in first and "in hostile" in first, crash
    assert "over the core" in rest.splitlines()[0], crash
    assert re.search(r"(?m)^#\d+ .*abort", rest) and "panic" in rest, crash


def test_hostile_input_catches_a_panic_turned_into_an_exception(tmp_path):
    proc = probe("hostile", str(BROKEN), str(tmp_path / "log"), "10000", str(SEED),
                 "--valid", BROKEN_VALID, "--only", "add_guarded")
    assert proc.returncode == 1, f"{proc.returncode}\n{tail(proc.stderr)}"
    failures = parse_report(proc)["add_guarded"]["failures"]
    assert failures and "PanicException: attempt to add with overflow" in failures[0], failures


def test_hostile_input_catches_a_double_decref(tmp_path):
    log = tmp_path / "first.log"
    proc = probe("hostile", str(BROKEN), str(log), "10000", str(SEED), "--valid", BROKEN_VALID,
                 "--only", "first")
    how = died(proc)
    assert how and how.startswith("crashed"), f"{proc.returncode}\n{tail(proc.stderr)}"
    report = explain_crash(BROKEN, log, how)
    crashreport.forget(proc)
    assert "('first'," in report, report


GO_PACKAGE = ROOT / "steps" / "07-call-overhead" / "go-sum" / "go"


def test_leak_test_catches_a_leak_in_a_garbage_collected_runtime(tmp_path):
    """The Go module's leak test warms up for a million calls first (--gc-runtime). A Go module
    that keeps what it allocates, as a global slice that every call appends to, must still fail
    it: garbage that is never collected grows without end."""
    package = tmp_path / "go"
    shutil.copytree(GO_PACKAGE, package)
    source = (package / "sum.go").read_text()
    leaky = source.replace("\ts := a + b", "\tkept = append(kept, &a, &b)\n\ts := a + b")
    assert leaky != source, "sum.go no longer has the line `s := a + b` to inject the leak at"
    (package / "sum.go").write_text(leaky + "\nvar kept []*C.longlong\n")
    module = tmp_path / "go_sum.abi3.so"
    proc = go_build(package, module, f"-O2 -I{sysconfig.get_path('include')}")
    assert proc.returncode == 0, proc.stderr
    proc = probe("leak", str(module), "1000000", "0", "--gc-runtime")
    r = parse_report(proc)
    assert r is not None, tail(proc.stderr)
    # two 8-byte values and two 8-byte pointers kept per call: about 30 MB over the second million
    assert r["sum"]["rss_growth"] > 10 * LEAK_LIMIT, r


def test_leak_test_catches_a_missing_decref():
    proc = probe("leak", str(BROKEN), "1000000", "0", "--valid", BROKEN_VALID,
                 "--only", "text_length")
    r = parse_report(proc)["text_length"]
    # str(123456789) is a new string per call, never released: about 60 bytes each
    assert r["rss_growth"] > 30 * LEAK_LIMIT, r
    proc = probe("leak", str(BROKEN), "1000", "0", "--valid", repr({"text_length": ("a str",)}),
                 "--only", "text_length")
    r = parse_report(proc)["text_length"]
    # str(s) is s itself, with one more reference, never released
    assert r["refcount_deltas"] == {"'a str'": 1000}, r


KINDS_BROKEN = C_SOURCES / "kinds_broken.c"
# What each kind must report about tests/c/kinds_broken.c: words of the problem. at_exit_daemon has
# no fault of its own there: its verdict, how the process ends, is at_exit_del's.
KINDS_CATCH = {
    "patched_new": "kinds_broken.live() is -",
    "hostile_metaclass": "Ring (Sub, __name__ -> int): repr()",
    "mutated_kwargs": "sum_kw: a=Mutator(how='delete')",
    "deep_nesting": "crashed: killed by SIGSEGV under the deep_nesting kind",
    "at_exit_del": "hung (killed after the timeout) under the at_exit_del kind",
    "out_of_memory": "crashed: killed by SIGABRT under the out_of_memory kind",
    "null_args": "count: collections.defaultdict(f)[0]",
}


@pytest.fixture(scope="module")
def kinds_broken(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kinds") / "00" / "kinds_broken.abi3.so"
    out.parent.mkdir()
    cmd = ["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
           "-DPy_LIMITED_API=0x030A0000", f"-I{sysconfig.get_path('include')}",
           str(KINDS_BROKEN), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    return out


@pytest.mark.parametrize("kind", sorted(KINDS_CATCH))
def test_kinds_catch_their_faults(kind, kinds_broken, tmp_path):
    """Each kind of hostile input, run on tests/c/kinds_broken.c, reports its fault there. (Its
    `stall` never returns during finalisation: a hang is a hang whatever the timeout, so this
    test waits 5 s, not the suite's two minutes.)"""
    _, problems = run_kind(kind, [kinds_broken], tmp_path, "--valid", repr({"count": (),
                                                                            "stall": ()}),
                           timeout=5, explain=False)
    assert any(KINDS_CATCH[kind] in p for p in problems), f"{kind} missed it:\n" + "\n".join(
        problems)
