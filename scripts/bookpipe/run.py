"""Running commands: a clean environment, a fresh work folder, a timeout per line, and (as a
subreaper) every process a line started killed when it ends. It runs; verdicts.py judges."""

from __future__ import annotations

import os
from pathlib import Path

from .commands import Command, Line
from .config import ROOT, RUNS, STAGE, VENV_BIN, WORK, Fail, python_env
from .steps import STREAM_MARKS, Step


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


def command_env(cmd: Command) -> dict[str, str]:
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
    env.update({k: str(v) for k, v in cmd.env.items()})
    return env


# ---------------------------------------------------------------------------------------------
# Running commands


def own_rewrites(workdir: Path) -> list[tuple[str, str, str]]:
    """The rewrites of every command's output, before its own `normalize`: (regex, replacement,
    what it stands for, as the introduction lists it through `book guide rewrites`)."""
    import re
    return [(re.escape(str(workdir)), ".", "the folder the command runs in"),
            (re.escape(str(HOME)), "~", "the empty home folder the commands run with"),
            (re.escape(str(ROOT)), "<book>", "the folder that holds the book's sources"),
            (r"0x[0-9a-fA-F]{6,}", "0x<address>",
             "a memory address that a program printed in hex with its 0x"),
            # cargo says so when another cargo on the machine holds a lock it needs: a fact
            # about what else runs at that moment, not about the code, so no page shows it.
            (r"^ *Blocking waiting for file lock on .*\n", "",
             "cargo's line saying it waits for another cargo's lock")]


def normalise(text: str, workdir: Path, rules: list, streams: str | None = None) -> str | tuple:
    """The output with what varies from run to run replaced (paths, addresses, then `rules`, the
    command's own `normalize` patterns). With `streams` (the stream of each character, "1" or
    "2"), returns the text and its streams, a replacement taking the stream of what it replaces."""
    import re
    tags = streams if streams is not None else "1" * len(text)
    own = [(pattern, replacement) for pattern, replacement, _ in own_rewrites(workdir)]
    for pattern, replacement in [*own, *rules]:
        out, out_tags, last = [], [], 0
        for m in re.finditer(pattern, text, flags=re.MULTILINE):
            new = m.expand(replacement)
            out.append(text[last:m.start()])
            out_tags.append(tags[last:m.start()])
            tag = tags[m.start()] if m.start() < len(tags) else (tags[-1:] or "1")
            out.append(new)
            out_tags.append(tag * len(new))
            last = m.end()
        out.append(text[last:])
        out_tags.append(tags[last:])
        text, tags = "".join(out), "".join(out_tags)
    return (text, tags) if streams is not None else text


def mark_streams(text: str, tags: str) -> str:
    """The output's lines, each marked with the stream that wrote it (see STREAM_MARKS)."""
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        kinds = set(tags[pos:pos + len(body)] or tags[pos:pos + len(line)])
        pos += len(line)
        if kinds == {"2"}:
            out.append("2| " + line)
        elif kinds == {"1", "2"}:
            out.append("&| " + line)
        elif line.startswith(STREAM_MARKS):
            out.append("1| " + line)
        else:
            out.append(line)
    return "".join(out)


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


def run_line(line: str, cwd: Path, env: dict, timeout: float) -> tuple[list, int | None]:
    """Run one command line; returns its output as (stream, bytes) chunks in the order they were
    written, stream 1 for stdout and 2 for stderr, and its exit status (None if it hung).

    stdout and stderr are two datagram sockets that send to one receiving socket: the kernel
    queues every write, from either, in the order it was made, and says which socket sent it. So
    the output is what one pipe for both would have carried, byte for byte and in its order, and
    each write's stream is known. (Two pipes would lose the order between them.)

    The line has `timeout` seconds, counted until its shell has exited AND no process still holds
    its output (a datagram socket has no end of file: the processes' open files say). Then every
    process it started, however detached, is killed: nothing a line starts outlives it, and a
    hang can never stall the build."""
    import select
    import socket
    import subprocess
    import time
    name = f"\0book-{os.getpid()}-{time.monotonic_ns()}".encode()
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(name)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    senders = []
    for stream in (1, 2):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(name + b"-%d" % stream)
        # A write is one datagram: room for the largest one a program makes (stdio's, Python's
        # and cat's buffers are 4 to 128 KiB).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        s.connect(name)
        senders.append(s)
    held = {f"socket:[{os.fstat(s.fileno()).st_ino}]" for s in senders}
    try:
        proc = subprocess.Popen(["bash", "-c", line], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=senders[0].fileno(), stderr=senders[1].fileno(),
                                start_new_session=True)
    finally:
        for s in senders:
            s.close()
    deadline = time.monotonic() + timeout
    chunks: list[tuple[int, bytes]] = []
    hung = False

    def receive(wait: float) -> bool:
        ready, _, _ = select.select([receiver], [], [], wait)
        if ready:
            data, sender = receiver.recvfrom(1 << 23)
            chunks.append((int(sender[-1:]), data))
        return bool(ready)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            hung = True
            break
        if receive(min(left, 0.02)):
            continue
        if proc.poll() is not None and not output_held(held):
            while receive(0):
                pass
            break
    kill_descendants()
    proc.wait()
    receiver.close()
    return chunks, None if hung else proc.returncode


def output_held(held: set[str]) -> bool:
    """Whether a process below this one still has one of the sockets `held` names open."""
    for pid in descendants():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in held:
                    return True
            except OSError:
                pass
    return False


def decode(chunks: list[tuple[int, bytes]]) -> tuple[str, str]:
    """The chunks' text (UTF-8, as one stream would decode) and the stream of each character."""
    import codecs
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    text, tags = [], []
    for stream, data in chunks:
        piece = decoder.decode(data)
        text.append(piece)
        tags.append(str(stream) * len(piece))
    tail = decoder.decode(b"", final=True)
    text.append(tail)
    tags.append((tags[-1][-1:] if tags and tags[-1] else "1") * len(tail))
    return "".join(text), "".join(tags)


def run_command(step: Step, cid: str) -> tuple[str, list[tuple[Line, int | None, str]]]:
    """Run one command definition in a fresh copy of the step's staged files.

    Returns the normalised transcript (`$ line` then its output, for each line that is not
    hidden) and, for each line, its exit status (None if it hung) and its output."""
    import shutil
    cmd = step.command(cid)
    workdir = RUNS / step.nn / cid
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(STAGE / step.nn, workdir, ignore=shutil.ignore_patterns(".manifest.json"))
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    env = command_env(cmd)
    become_subreaper()
    transcript, lines = [], []
    for line in cmd.run:
        chunks, status = run_line(line.run, workdir / (cmd.cwd or "."), env, cmd.timeout_of(line))
        text, streams = decode(chunks)
        output, streams = normalise(text, workdir, cmd.normalize, streams)
        if output and not output.endswith("\n"):
            output += "\n"
            streams += streams[-1:]
        if cmd.html:  # raw HTML for the page (a chart, a table): its output only
            transcript.append(output)
        elif not line.hidden:
            transcript.append(f"{cmd.prompt}{line.run}\n{mark_streams(output, streams)}")
        lines.append((line, status, output))
    return "".join(transcript), lines
