"""What a test says when its child process dies by a signal: enough to find the fault.

Every suite that runs code which could crash the interpreter in a child process (chapter 4's
threads, the reliability suite) starts the child through `popen` or `run` here. The child then
runs in a folder of its own under target/crashes/, with its core-file limit raised to the hard
limit (resource.RLIMIT_CORE, set in the child before it executes), and with faulthandler on. When
it dies by a signal, `report` gives, in this order:

1. the faulting thread's faulthandler block ("Current thread ..."), taken out of the dump: with
   many threads the dump is long, and the faulting thread is wherever CPython's list of threads
   put it. A fault on a thread that has no Python thread state (a thread Rust or C started, which
   never called PyGILState_Ensure) has no such block: the report says so.
2. `gdb -batch -ex "thread apply all bt"` over the child's core file. Each thread's frames stand
   between a line `>>> Thread N (...)` and a line `<<< end of Thread N`, and the faulting thread
   comes first, its head line saying so: it is the thread that took the signal (gdb's current
   thread), checked against the id faulthandler printed, whatever order gdb lists threads in and
   whether or not gdb could read pthread ids. gdb's own messages follow, apart.
   The kernel writes the core where /proc/sys/kernel/core_pattern says. A plain pattern ("core",
   the kernel's default, or "core.%p") writes it into the child's own folder, where it is found;
   an absolute pattern is expanded with the child's pid. A pattern that pipes to a program
   ("|/usr/lib/systemd/systemd-coredump ...", apport) hands the core to that program instead: then
   the report says so, and runs the same command again under gdb (`gdb -batch -ex run
   -ex "thread apply all bt"`), which catches the signal itself, whatever core_pattern says.
   A crash that needs luck may not happen again on that rerun; the report says that too.
3. the child's whole stderr (faulthandler's dump of every thread among it).

A child that exits normally leaves nothing behind: its folder is removed. A crashed child's folder
(with the core) is kept, and the report names it.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

CRASHES = Path(__file__).resolve().parents[2] / "target" / "crashes"
GDB_TIMEOUT = 180  # seconds for gdb to print every thread's backtrace
STDERR_LINES = 400  # of the child's stderr, at most, in a report

# No downloads of debug info, no offer to load CPython's python-gdb.py (a page of advice).
GDB_QUIET = ["-iex", "set debuginfod enabled off", "-iex", "set auto-load python-scripts off",
             "-iex", "set pagination off"]

CURRENT_THREAD = re.compile(
    r"^Current thread (0x[0-9a-f]+)(?: \[[^]\n]*\])? \(most recent call first\):\n(?:[ \t].*\n?)*",
    re.M)  # 3.14 and later name the thread: "Current thread 0x... [python3] (most recent ..."


def core_pattern() -> str:
    try:
        return Path("/proc/sys/kernel/core_pattern").read_text().strip()
    except OSError:
        return "core"  # not Linux: the traditional name, in the working folder


def _allow_core_dumps() -> None:
    """Runs in the child between fork and exec: as large a core as the hard limit allows."""
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def _prepare(kwargs: dict) -> Path:
    CRASHES.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="child-", dir=CRASHES))
    if "preexec_fn" in kwargs:
        raise TypeError("crashreport sets preexec_fn itself")
    if "cwd" not in kwargs:
        kwargs["cwd"] = folder
        kwargs["preexec_fn"] = _allow_core_dumps
    # A child that must run in a folder of the test's choosing (a chapter's staged files) would
    # leave its core there: it keeps the core limit it has, and a crash is rerun under gdb.
    env = dict(kwargs.get("env") or os.environ)
    env["PYTHONFAULTHANDLER"] = "1"
    kwargs["env"] = env
    return folder


def popen(cmd: list[str], **kwargs) -> subprocess.Popen:
    """subprocess.Popen, with the child ready to leave a core; finish with `completed`."""
    folder = _prepare(kwargs)
    proc = subprocess.Popen(cmd, **kwargs)
    if os.environ.get("CRASHREPORT_TALLY"):  # `just stress` counts the children it started
        with open(os.environ["CRASHREPORT_TALLY"], "a", encoding="utf-8") as tally:
            tally.write(f"{cmd[0]}\n")
    proc.crash_folder = folder  # type: ignore[attr-defined]
    proc.crash_cwd = Path(kwargs["cwd"])  # type: ignore[attr-defined]
    proc.crash_env = kwargs["env"]  # type: ignore[attr-defined]
    return proc


def completed(proc: subprocess.Popen, stdout, stderr) -> subprocess.CompletedProcess:
    """The CompletedProcess of a child started by `popen`, remembering where its core may be.
    Removes the child's folder unless it died by a signal."""
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    for name in ("crash_folder", "crash_cwd", "crash_env"):
        setattr(done, name, getattr(proc, name))
    done.pid = proc.pid  # type: ignore[attr-defined]
    forget_unless_crashed(done)
    return done


def forget_unless_crashed(proc) -> None:
    if proc.returncode is None or proc.returncode >= 0:
        forget(proc)


def forget(proc) -> None:
    """Removes the child's folder (for a child killed on purpose, after a timeout)."""
    folder = getattr(proc, "crash_folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def run(cmd: list[str], *, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run(capture_output=True, text=True), with the child ready to leave a core.
    Raises subprocess.TimeoutExpired, as run() does, after killing the child, with the
    backtraces of its threads as they were before the kill in the exception's `stacks`."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    kwargs.setdefault("text", True)
    proc = popen(cmd, **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        e.stacks = attach_gdb(proc)  # type: ignore[attr-defined]
        proc.kill()
        proc.communicate()
        forget(proc)
        raise
    return completed(proc, out, err)


# ---------------------------------------------------------------------------------------------
# The report


def faulting_thread(stderr: str) -> tuple[str | None, str]:
    """faulthandler's block for the faulting thread, and its thread id, or None and a note."""
    found = CURRENT_THREAD.search(stderr or "")
    if found:
        return found.group(1), found.group(0).rstrip("\n")
    if "Fatal Python error" in (stderr or ""):
        return None, ("faulthandler printed no \"Current thread\" block: the faulting thread has "
                      "no Python thread state (a thread Rust or C started, outside "
                      "PyGILState_Ensure). The gdb backtrace below names it.")
    return None, ("faulthandler printed nothing: the child died before faulthandler was enabled, "
                  "or by a signal faulthandler does not catch (SIGKILL, SIGTERM).")


def find_core(proc) -> Path | None:
    folder = getattr(proc, "crash_cwd", None)
    pid = getattr(proc, "pid", None)
    pattern = core_pattern()
    if folder is None or pattern.startswith("|"):
        return None
    # %p is the pid; any other specifier (%e, %t, %h ...) may be anything. With
    # /proc/sys/kernel/core_uses_pid set, the kernel appends .PID to a pattern without %p.
    specifiers = {"%p": str(pid), "%P": str(pid), "%%": "%"}
    expanded = re.sub(r"%.", lambda m: specifiers.get(m.group(0), "*"), pattern)
    base = Path(expanded) if expanded.startswith("/") else Path(folder) / expanded
    for name in (base.name, f"{base.name}.{pid}"):
        found = sorted(c for c in base.parent.glob(name) if c.is_file())
        if found:
            return found[0]
    return None


def gdb_over_core(executable: str, core: Path) -> tuple[str, str]:
    cmd = ["gdb", "-batch", "-nx", *GDB_QUIET, "-ex", "thread", "-ex", "thread apply all bt",
           executable, str(core)]
    return _gdb(cmd, cwd=core.parent)


def gdb_rerun(proc) -> tuple[str, str]:
    cmd = ["gdb", "-batch", "-nx", *GDB_QUIET, "-ex", "handle SIGPIPE nostop noprint pass",
           "-ex", "run", "-ex", "thread", "-ex", "thread apply all bt", "--args", *proc.args]
    return _gdb(cmd, cwd=getattr(proc, "crash_cwd", None), env=getattr(proc, "crash_env", None))


def attach_gdb(proc: subprocess.Popen) -> str:
    """Every thread's backtrace of a child that is still running (a hang), by attaching gdb."""
    cmd = ["gdb", "-batch", "-nx", *GDB_QUIET, "-p", str(proc.pid), "-ex", "thread apply all bt"]
    out, err = _gdb(cmd)
    return f"== gdb -p {proc.pid} -batch -ex \"thread apply all bt\" (it hung)\n" + \
        "\n".join(filter(None, [out, err]))


def _gdb(cmd: list[str], **kwargs) -> tuple[str, str]:
    """gdb's stdout (the backtraces) and its stderr (its messages), each without gdb's chatter."""
    if shutil.which("gdb") is None:
        return "", "(gdb is not installed: Debian/Ubuntu: apt-get install gdb)"
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=GDB_TIMEOUT,
                             stdin=subprocess.DEVNULL, **kwargs)
    except subprocess.TimeoutExpired:
        return "", f"(gdb did not finish in {GDB_TIMEOUT} s)"
    # gdb's own chatter about missing debug info and loaded threads says nothing about the crash.
    noise = re.compile(r"^(\[New LWP|\[Thread debugging|Using host libthread_db|warning: )")

    def quiet(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not noise.match(line)).strip()
    return quiet(out.stdout), quiet(out.stderr)


# gdb heads each thread's frames with "Thread N (Thread 0xPTHREAD (LWP n))", or "Thread N (LWP n)"
# where it could not load libthread_db (then it knows no pthread ids); "thread" prints
# "[Current thread is N (...)]": the thread that took the signal, in a core and after `run`.
THREAD_HEAD = re.compile(r"^Thread (\d+) \((.*)\):$", re.M)
CURRENT = re.compile(r"^\[Current thread is (\d+) ", re.M)


def thread_blocks(backtrace: str) -> tuple[str, list[tuple[str, str, str]]]:
    """gdb's output split into what comes before the first thread, and each thread's
    (number, description, frames), in gdb's order."""
    heads = list(THREAD_HEAD.finditer(backtrace))
    if not heads:
        return backtrace.strip(), []
    blocks = []
    for head, after in zip(heads, heads[1:] + [None]):
        frames = backtrace[head.end():after.start() if after else len(backtrace)].strip("\n")
        blocks.append((head.group(1), head.group(2), frames.rstrip()))
    return backtrace[:heads[0].start()].strip(), blocks


def faulting_number(preamble: str, blocks, thread_id: str | None) -> tuple[str | None, str]:
    """gdb's number of the faulting thread, and how it was told: the thread that took the signal
    (gdb's current thread), checked against the one faulthandler named where gdb knows pthread
    ids; faulthandler's alone if gdb printed no current thread."""
    current = CURRENT.search(preamble)
    by_id = None
    if thread_id:
        for number, description, _ in blocks:
            found = re.search(r"Thread (0x[0-9a-f]+)", description)
            if found and int(found.group(1), 16) == int(thread_id, 16):
                by_id = number
    if current:
        how = "the thread that took the signal"
        if by_id == current.group(1):
            how += ", faulthandler's \"Current thread\" too"
        elif by_id is not None:
            how += f" (faulthandler's \"Current thread\" is gdb's thread {by_id})"
        return current.group(1), how
    if by_id is not None:
        return by_id, "faulthandler's \"Current thread\""
    return None, "gdb named no current thread, and no thread with faulthandler's id"


def format_threads(backtrace: str, thread_id: str | None) -> str:
    """gdb's backtraces with every thread's frames between a head line and an end line, the
    faulting thread first and marked, whatever order gdb printed them in:

        >>> Thread 1 (Thread 0x7f... (LWP 5334)): the faulting thread (the thread that took ...)
        #0 ...
        <<< end of Thread 1
    """
    preamble, blocks = thread_blocks(backtrace)
    if not blocks:
        return backtrace
    faulting, how = faulting_number(preamble, blocks, thread_id)
    ordered = sorted(blocks, key=lambda b: b[0] != faulting)  # stable: gdb's order otherwise
    parts = [preamble] if preamble else []
    if faulting is None:
        parts.append(f"(the faulting thread is not marked: {how})")
    for number, description, frames in ordered:
        mark = f": the faulting thread ({how})" if number == faulting else ""
        parts.append(f">>> Thread {number} ({description}){mark}\n{frames}\n<<< end of Thread {number}")
    return "\n\n".join(parts)


def gdb_part(out_err: tuple[str, str], thread_id: str | None) -> str:
    out, err = out_err
    text = format_threads(out, thread_id)
    if err:
        text += f"\n\n-- gdb's messages\n{err}"
    return text


def report(proc) -> str:
    """What to print for a child that died by a signal (see the module's docstring)."""
    if proc.returncode is None or proc.returncode >= 0:
        return ""
    try:
        name = signal.Signals(-proc.returncode).name
    except ValueError:
        name = f"signal {-proc.returncode}"
    stderr = proc.stderr if isinstance(proc.stderr, str) else (proc.stderr or b"").decode(
        errors="replace")
    thread_id, block = faulting_thread(stderr)
    parts = [f"CRASHED: killed by {name}", "", "== the faulting thread, as faulthandler saw it",
             block, ""]
    core = find_core(proc)
    pattern = core_pattern()
    if core is not None:
        parts += [f"== gdb -batch -ex \"thread apply all bt\" over the core ({core})",
                  gdb_part(gdb_over_core(proc.args[0], core), thread_id)]
    elif getattr(proc, "crash_folder", None) is None:
        parts += ["== no core: this child was not started through tests/support/crashreport.py"]
    else:
        why = (f"core_pattern pipes cores to a program ({pattern!r})" if pattern.startswith("|")
               else f"no core file was written (core_pattern {pattern!r}, RLIMIT_CORE "
                    f"{resource.getrlimit(resource.RLIMIT_CORE)})")
        parts += [f"== {why}: the same command again, under gdb -batch -ex run "
                  "-ex \"thread apply all bt\" (a crash that needs luck may not happen again)",
                  gdb_part(gdb_rerun(proc), None)]  # another process: other ids
    lines = stderr.splitlines()
    cut = f" (its last {STDERR_LINES} of {len(lines)} lines)" if len(lines) > STDERR_LINES else ""
    parts += ["", f"== the child's stderr{cut}", "\n".join(lines[-STDERR_LINES:])]
    if getattr(proc, "crash_folder", None):
        parts += ["", f"(the child's folder, with its core if any, is kept: {proc.crash_folder})"]
    return "\n".join(parts)
