"""Running commands: a clean environment, a fresh work folder, a timeout per line, and (as a
subreaper) every process a line started killed when it ends."""

from __future__ import annotations

import os
from pathlib import Path

from .build import python_env
from .config import DEFAULT_TIMEOUT, ROOT, RUNS, STAGE, VENV_BIN, WORK, Fail
from .steps import Step


HOME = WORK / "home"


def cargo_home() -> Path:
    return Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")


def rustup_home() -> Path:
    return Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup")


_PATH: str | None = None


def command_path() -> str:
    """The commands' PATH: the book's interpreter, then the folders where the caller's PATH finds
    the native tools the commands use, then the system's."""
    global _PATH
    if _PATH is None:
        import shutil
        path = [os.path.realpath(VENV_BIN), os.path.realpath(ROOT / ".venv" / "bin")]
        search = python_env()["PATH"]
        for tool in ("cc", "readelf", "nm", "go", "cargo"):
            found = shutil.which(tool, path=search)
            if found:
                path.append(os.path.realpath(os.path.dirname(found)))
        path += ["/usr/local/bin", "/usr/bin", "/bin"]
        _PATH = os.pathsep.join(dict.fromkeys(path))
    return _PATH


def command_env(cmd: dict) -> dict[str, str]:
    """The environment every command runs in: built from nothing, never inherited, so that a
    variable set in the reader's shell (PYTHONFAULTHANDLER, PYTHONWARNINGS, RUST_BACKTRACE, ...)
    cannot change an output. It is part of each result's cache key.

    PATH holds the book's interpreter, then the folders where the caller's PATH finds the native
    tools the commands use, then the system's."""
    env = {
        "PATH": command_path(),
        # A home of their own, empty at each run: no configuration file of the reader's (a
        # ~/.gitconfig, a pip.conf, a ~/.pythonrc) can change an output. Cargo and rustup keep
        # theirs (the registry cache, the toolchains), whose configuration is in the cache key.
        "HOME": str(HOME),
        "CARGO_HOME": str(cargo_home()),
        "RUSTUP_HOME": str(rustup_home()),
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "RUST_BACKTRACE": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update({k: str(v) for k, v in cmd.get("env", {}).items()})
    return env


# ---------------------------------------------------------------------------------------------
# Running commands


def lines_of(cmd: dict) -> list[dict]:
    out = []
    for item in cmd["run"]:
        out.append({"run": item} if isinstance(item, str) else item)
    return out


def normalise(text: str, workdir: Path, cmd: dict) -> str:
    import re
    text = text.replace(str(workdir), ".").replace(str(HOME), "~").replace(str(ROOT), "<book>")
    text = re.sub(r"0x[0-9a-fA-F]{6,}", "0x<address>", text)
    for pattern, replacement in cmd.get("normalize", []):
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    return text


def become_subreaper() -> None:
    """Make this process the reaper of every orphan among its descendants (Linux's
    PR_SET_CHILD_SUBREAPER), so that a process a command starts can never leave the tree: not by
    `setsid`, not by double-forking. kill_descendants() then finds them all."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        raise Fail(f"prctl(PR_SET_CHILD_SUBREAPER) failed: {os.strerror(ctypes.get_errno())}")


def descendants() -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path("/proc", entry, "stat").read_text()
            except OSError:
                continue  # it exited meanwhile
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants() -> int:
    """SIGKILL every process below this one and reap them; returns how many there were."""
    import signal
    killed: set[int] = set()
    for _ in range(100):  # a fork bomb could keep refilling the tree for a moment
        alive = [pid for pid in descendants() if not is_zombie(pid)]
        if not alive:
            break
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            killed.add(pid)
        reap_orphans()
    reap_orphans()
    return len(killed)


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def reap_orphans() -> None:
    """Collect the exit status of orphans reparented to this process (see become_subreaper)."""
    import time
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if not any(is_zombie(p) for p in descendants()):
                return
            time.sleep(0.01)


def run_line(line: str, cwd: Path, env: dict, timeout: float) -> tuple[bytes, int | None]:
    """Run one command line; returns its output and exit status (None if it hung).

    The line has `timeout` seconds, counted until its shell has exited AND every process holding
    its output has closed it. Then every process it started, however detached, is killed: nothing
    a line starts outlives it, and a hang can never stall the build."""
    import select
    import subprocess
    import time
    proc = subprocess.Popen(["bash", "-c", line], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    chunks, hung = [], False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            hung = True
            break
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            data = os.read(fd, 1 << 16)
            if not data:
                break
            chunks.append(data)
    if not hung:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            hung = True
    kill_descendants()
    proc.wait()
    proc.stdout.close()
    return b"".join(chunks), None if hung else proc.returncode


def run_command(step: Step, cid: str) -> tuple[str, list[str]]:
    """Run one command definition in a fresh copy of the step's staged files.

    Returns the normalised transcript (`$ line` then its output, for each line) and the problems
    found (a line exiting with the wrong status, a hang, an output of the wrong shape)."""
    import shutil
    cmd = step.command(cid)
    workdir = RUNS / step.nn / cid
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(STAGE / step.nn, workdir, ignore=shutil.ignore_patterns(".manifest.json"))
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    env = command_env(cmd)
    become_subreaper()
    transcript, problems = [], []
    for line in lines_of(cmd):
        timeout = line.get("timeout", cmd.get("timeout", DEFAULT_TIMEOUT))
        want = line.get("status", 0)
        raw, status = run_line(line["run"], workdir / cmd.get("cwd", "."), env, timeout)
        if status is None:
            problems.append(HUNG + f"`{line['run']}` was still running after its timeout of "
                            f"{timeout} s, so it and every process it started were killed. "
                            "Find out why it hangs (`just step " + step.nn + "` runs it alone); "
                            "if it is only slow, raise its `timeout` in commands.toml")
        output = normalise(raw.decode("utf-8", "replace"), workdir, cmd)
        if output and not output.endswith("\n"):
            output += "\n"
        if cmd.get("html"):  # raw HTML for the page (a chart, a table): its output only
            transcript.append(output)
        elif not line.get("hidden"):
            transcript.append(f"{prompt(cmd)}{line['run']}\n{output}")
        if status is not None and want != "nonzero" and status != want:
            problems.append(f"`{line['run']}` exited with status {status}, expected {want}"
                            + (f"; its output:\n{output}" if line.get("hidden") else ""))
        if status is not None and want == "nonzero" and status == 0:
            problems.append(f"`{line['run']}` exited with status 0, expected a failure")
    text = "".join(transcript)
    if not compared(cmd):
        problems += shape_problems(cmd, text)
    return text, problems


HUNG = "HUNG: "


def prompt(cmd: dict) -> str:
    """The prompt before each line a page shows: `$ `, or the folder the command runs in (`cwd`,
    under the chapter's folder) before it, `4-parse-tuple$ `, so that the page shows where to type
    it and the expectation records it."""
    return f"{cmd['cwd']}$ " if cmd.get("cwd") else "$ "


def shape_problems(cmd: dict, text: str) -> list[str]:
    """A command whose output is shown but not compared (timings) must still have the shape the
    page describes: not empty, and every regex of its `shape` found in it."""
    import re
    body = text if cmd.get("html") else "".join(
        l for l in text.splitlines(keepends=True) if not l.startswith(prompt(cmd)))
    if not body.strip():
        return ["its output is empty; the page describes what it shows"]
    if not cmd.get("shape"):
        return ["it is not compared (`compare = false`) and has no `shape` to check its output "
                "against: add one to commands.toml"]
    problems = [f"its output lacks what the page describes: no match for the `shape` regex {rx!r}"
                for rx in cmd["shape"] if not re.search(rx, body, flags=re.MULTILINE)]
    if cmd.get("table"):
        problems += table_problems(cmd["table"], body)
    for rule in cmd.get("ratio", []):
        problems += ratio_problems(rule, body)
    return problems


def ratio_problems(rule: dict, body: str) -> list[str]:
    """A ratio shown agrees with the figures it is computed from, within the rounding shown.
    `shown`, `num` and `den` are regexes whose first group is the shown ratio, its numerator and
    its denominator. Each figure stands for any value that rounds to it (half a unit of its last
    digit either way), so the check fails only where no such values give the ratio shown."""
    import re
    found = {}
    for part in ("shown", "num", "den"):
        m = re.search(rule[part], body, flags=re.MULTILINE)
        if not m:
            return [f"its output lacks a ratio's {part}: no match for {rule[part]!r}"]
        found[part] = m.group(1)

    def bounds(figure: str) -> tuple[float, float]:
        value = float(figure.replace(",", ""))
        decimals = len(figure.partition(".")[2])
        half = 0.5 * 10 ** -decimals
        return value - half, value + half
    (r_lo, r_hi), (n_lo, n_hi), (d_lo, d_hi) = (bounds(found[p]) for p in ("shown", "num", "den"))
    if d_lo <= 0:
        return [f"its ratio {found['shown']} is computed from a denominator of {found['den']}"]
    lo, hi = n_lo / d_hi, n_hi / d_lo
    if r_hi < lo or r_lo > hi:
        n, d = float(found["num"].replace(",", "")), float(found["den"].replace(",", ""))
        return [f"its ratio {found['shown']} (matched by {rule['shown']!r}) disagrees with the "
                f"figures it comes from: {found['num']} / {found['den']} = {n / d:.4g}"]
    return []


def table_problems(rules: dict, body: str) -> list[str]:
    """A shown table checked for sense, not only for digits in their places: its header holds
    exactly `columns`, in order; every cell of a `positive` column is a number above zero; and in
    each row, for each [A, B] of `not_below`, column A's number is not below column B's (a median
    is never below its minimum); [A, B, F] allows A down to F times B, for figures from which
    different baselines were subtracted."""
    import html
    import re
    heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", body)]
    if heads != rules["columns"]:
        return [f"its table's columns are {heads}, not {rules['columns']}: the page explains "
                "these, in this order"]
    problems = []
    for row in re.findall(r"<tr>(.*?)</tr>", body):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        if len(cells) != len(heads):
            continue  # a row that says why it has no figures (a missing toolchain)
        name = cells[0]

        def number(col: str) -> float | None:
            try:
                return float(cells[heads.index(col)].replace(",", ""))
            except ValueError:
                return None
        for col in rules.get("positive", []):
            v = number(col)
            if v is None or v <= 0:
                problems.append(f"its table's row {name!r} has {cells[heads.index(col)]!r} in "
                                f"{col!r}, which must be a number above zero")
        for a, b, *factor in rules.get("not_below", []):
            va, vb = number(a), number(b)
            f = factor[0] if factor else 1.0
            if va is not None and vb is not None and va < f * vb:
                below = f"below {b!r} {vb}" if f == 1.0 else f"below {f} x {b!r} {vb}"
                problems.append(f"its table's row {name!r} has {a!r} {va} {below}")
    return problems


def compared(cmd: dict) -> bool:
    return cmd.get("compare", True)
