"""The book's checked pipeline: build the steps, run their commands, compare with expectations.

Every chapter's commands are defined once, in `steps/NN-*/commands.toml`. The pages run them through
mdbook-cmdrun (`<!-- cmdrun ../scripts/book show NN ID -->`) and `just step NN` runs the very same
definitions. Each shown output is compared with `steps/NN-*/expected/ID.txt`.

Subcommands (see `scripts/book help`):
  prepare          cargo build the workspace once, then stage each step's artifacts
  show NN ID       print one command's checked transcript as Markdown (used by the pages)
  step NN          run all of a chapter's commands, print each with its output, compare
  bless [NN ...]   run commands and rewrite their expectations, then show the diff
  check            after `mdbook build`: fail on any failure report or unexpanded marker
  list             list the steps and their commands
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tomllib
from pathlib import Path

# The pages start this script once per command (47 times a build), and a cached result needs only
# the imports above: the modules for running commands, diffing and building are imported where used.

ROOT = Path(__file__).resolve().parent.parent
STEPS = ROOT / "steps"
BOOK_SRC = ROOT / "book"
# Everything built goes under TARGET (cargo's output, the rendered book, the pipeline's folders).
# BOOK_TARGET and BOOK_VENV let `just test` build the whole book again under another CPython, in
# a folder of its own, exactly as a reader whose python3 is that version would.
TARGET = Path(os.environ.get("BOOK_TARGET") or ROOT / "target")
VENV = Path(os.environ.get("BOOK_VENV") or ROOT / ".venv")
WORK = TARGET / "book-work"  # staged artifacts, per-command work folders, cache, failure reports
STAGE = WORK / "stage"
RUNS = WORK / "run"
# Passing results, keyed on everything they depend on; the drift tests share it with their copies.
CACHE = Path(os.environ.get("BOOK_CACHE_DIR", WORK / "cache"))
FAILURES = WORK / "failures"
# Each command's page output, valid while nothing under steps/ (nor this script) is newer: the shell
# wrapper scripts/book prints it without starting Python. See write_ready().
READY = WORK / "ready"
# The token that `prepare` hands to `just build` (BOOK_READY_TOKEN) to let the shell wrapper print
# READY files without starting Python: valid only for the mdbook run that follows that prepare.
READY_TOKEN = READY / ".token"
# Written by a passing `check`: which interpreter the book was checked with, and on what sources.
CHECKED = WORK / "checked.json"
MDBOOK_LOG = WORK / "mdbook.log"
HTML = TARGET / "book"
VENV_BIN = VENV / "bin"

# The interpreter that runs the commands as `python3` is the one running this script (the wrapper
# starts VENV's). Outputs that really differ between CPython versions have an expectation per
# version: expected/ID.txt is CPython 3.11's (the oldest the book supports), and expected/ID@3.N.txt
# holds what 3.N and later print where that differs. VERIFIED is the versions `just test` builds
# the book under on the build machine; newer ones use the newest expectation below them.
PYVER = f"{sys.version_info[0]}.{sys.version_info[1]}"
BASE_VERSION = "3.11"
VERIFIED = ("3.11", "3.12", "3.13", "3.14", "3.15")

DEFAULT_TIMEOUT = 30  # seconds, per command line
MARKER = r"<!--\s*cmdrun\s+\.\./scripts/book\s+show\s+(\S+)\s+(\S+)\s*-->"


class Fail(Exception):
    """A problem the user must see; the message says what to do."""


# ---------------------------------------------------------------------------------------------
# Steps and their command definitions


class Step:
    def __init__(self, folder: Path):
        self.folder = folder
        self.nn = folder.name[:2]
        spec = tomllib.loads((folder / "commands.toml").read_text())
        self.chapter = spec.get("chapter", folder.name)
        self.stage_spec: dict[str, str] = spec.get("stage", {})
        # The cargo profile that builds the artifacts the step stages (default: the workspace's
        # dev build); e.g. chapter 7 measures release builds.
        self.profile: str | None = spec.get("profile")
        self.commands: dict[str, dict] = {}
        for cmd in spec.get("command", []):
            if cmd["id"] in self.commands:
                raise Fail(f"{folder / 'commands.toml'}: command id {cmd['id']!r} is defined twice")
            self.commands[cmd["id"]] = cmd
        self.package = tomllib.loads((folder / "Cargo.toml").read_text())["package"]["name"] \
            if (folder / "Cargo.toml").exists() else None

    @property
    def label(self) -> str:
        return f"chapter {self.nn} ({self.chapter}, steps/{self.folder.name})"

    def expected_variants(self, cid: str) -> dict[str, Path]:
        """The command's expectations by the CPython version they start at ("3.11" for ID.txt)."""
        folder = self.folder / "expected"
        found = {BASE_VERSION: folder / f"{cid}.txt"}
        for p in folder.glob(f"{cid}@3.*.txt"):
            found[p.name[len(cid) + 1:-4]] = p
        return found

    def expected_path(self, cid: str, version: str = PYVER, below: bool = False) -> Path:
        """The expectation for `version`: the newest one that starts at or before it (strictly
        before it with `below`). ID.txt when there is no other."""
        candidates = [(version_key(v), p) for v, p in self.expected_variants(cid).items()
                      if (version_key(v) < version_key(version) if below
                          else version_key(v) <= version_key(version))]
        return max(candidates)[1] if candidates else self.folder / "expected" / f"{cid}.txt"

    def bless_path(self, cid: str) -> Path:
        """Where `bless` under this interpreter writes: ID.txt under 3.11, else ID@3.N.txt."""
        if PYVER == BASE_VERSION:
            return self.folder / "expected" / f"{cid}.txt"
        return self.folder / "expected" / f"{cid}@{PYVER}.txt"

    def version_note(self, cid: str) -> str:
        """Under a version-specific output, which interpreter printed it and which others differ."""
        variants = [v for v, p in self.expected_variants(cid).items() if p.exists()]
        if len(variants) < 2:
            return ""
        mine = self.expected_path(cid)
        others = [v for v in VERIFIED if v != PYVER and self.expected_path(cid, v) != mine]
        differ = (f"; CPython {' and '.join(others)} print{'s' if len(others) == 1 else ''} "
                  "it differently") if others else ""
        return (f"\n<p class=\"python-version\"><small>Printed by CPython {PYVER}, the book's "
                f"<code>python3</code>{differ}. Each version's output is checked against its own "
                "expectation.</small></p>\n")

    def command(self, cid: str) -> dict:
        try:
            return self.commands[cid]
        except KeyError:
            raise Fail(f"{self.label}: no command {cid!r} in {self.folder / 'commands.toml'} "
                       f"(it has: {', '.join(self.commands) or 'none'})") from None


def version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def all_steps() -> list[Step]:
    return [Step(d) for d in sorted(STEPS.glob("[0-9][0-9]-*")) if (d / "commands.toml").exists()]


def find_step(nn: str) -> Step:
    nn = nn.zfill(2)
    for folder in sorted(STEPS.glob(f"{nn}-*")):
        if (folder / "commands.toml").exists():
            return Step(folder)
    known = ", ".join(s.nn for s in all_steps())
    raise Fail(f"there is no step {nn} (steps with commands: {known})")


# ---------------------------------------------------------------------------------------------
# Building and staging


def python_env() -> dict[str, str]:
    """The environment of the pipeline's own cargo build: the caller's, with the book's Python."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    # The interpreter's folder resolved: a copy of the book whose .venv links to this one's is
    # the same configuration to pyo3's build script, which reruns whenever the text changes.
    env["PYO3_PYTHON"] = os.path.join(os.path.realpath(VENV_BIN), "python")
    env.setdefault("CARGO_TARGET_DIR", str(TARGET))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def command_env(cmd: dict) -> dict[str, str]:
    """The environment every command runs in: built from nothing, never inherited, so that a
    variable set in the reader's shell (PYTHONFAULTHANDLER, PYTHONWARNINGS, RUST_BACKTRACE, ...)
    cannot change an output. It is part of each result's cache key.

    PATH holds the book's interpreter, then the folders where the caller's PATH finds the native
    tools the commands use, then the system's."""
    import shutil
    path = [os.path.realpath(VENV_BIN), os.path.realpath(ROOT / ".venv" / "bin")]
    search = python_env()["PATH"]
    for tool in ("cc", "readelf", "nm", "go", "cargo"):
        found = shutil.which(tool, path=search)
        if found:
            path.append(os.path.realpath(os.path.dirname(found)))
    path += ["/usr/local/bin", "/usr/bin", "/bin"]
    env = {
        "PATH": os.pathsep.join(dict.fromkeys(path)),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "RUST_BACKTRACE": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update({k: str(v) for k, v in cmd.get("env", {}).items()})
    return env


def cargo_build(profile: str | None = None, packages: list[str] | None = None) -> tuple[dict, dict]:
    """One `cargo build` of the whole workspace (or of `packages` in `profile`); returns
    (artifacts, out_dirs) by package name."""
    import subprocess
    which = ["--profile", profile, *(f"--package={p}" for p in packages or [])] if profile \
        else ["--workspace"]
    proc = subprocess.Popen(
        ["cargo", "build", *which, "--message-format=json-render-diagnostics"],
        cwd=STEPS, env=python_env(), stdout=subprocess.PIPE, text=True)
    artifacts: dict[str, dict[str, str]] = {}
    out_dirs: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        msg = json.loads(line)
        reason = msg.get("reason")
        if reason == "compiler-artifact":
            pkg = package_name(msg["package_id"])
            for kind, filename in zip(msg["target"]["crate_types"], msg["filenames"]):
                artifacts.setdefault(pkg, {})[kind] = filename
            if msg.get("executable"):
                artifacts.setdefault(pkg, {})["bin:" + msg["target"]["name"]] = msg["executable"]
        elif reason == "build-script-executed":
            out_dirs[package_name(msg["package_id"])] = msg["out_dir"]
    if proc.wait() != 0:
        raise Fail("cargo build failed (its messages are above)")
    return artifacts, out_dirs


def package_name(package_id: str) -> str:
    # "path+file:///…/01-shared-library#step01-shared-library@0.1.0", or "…/name#0.1.0"
    # when the folder and the package share a name, or the old "name 0.1.0 (path+file://…)".
    if " " in package_id:
        return package_id.split(" ")[0]
    base, _, frag = package_id.partition("#")
    if "@" in frag:
        return frag.split("@")[0]
    return base.rstrip("/").rsplit("/", 1)[-1]


def stage(steps: list[Step]) -> None:
    """Copy what each step's commands need into target/book-work/stage/NN, with a manifest of hashes."""
    import shutil
    digest = sync_sources()
    artifacts, out_dirs = cargo_build()
    for step in steps:
        built = (artifacts, out_dirs)
        if step.profile:
            built = cargo_build(step.profile, built_packages(step))
        dest = STAGE / step.nn
        tmp = STAGE / f"{step.nn}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        manifest = {}
        for name, source in sorted(step.stage_spec.items()):
            # "?SOURCE": staged only if the build made it (e.g. a module that needs a toolchain
            # the machine may lack); the commands must cope with its absence.
            optional = source.startswith("?")
            src = resolve_source(step, source.removeprefix("?"), *built, optional)
            if src is None:
                continue
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, tmp / name)
            manifest[name] = sha256_file(tmp / name)
        (tmp / ".manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        (STAGE / f"{step.nn}.stamp").write_text(digest)


def built_packages(step: Step) -> list[str]:
    """The packages whose artifacts a step stages (every source but `src:`)."""
    packages = set()
    for source in step.stage_spec.values():
        kind, _, _ = source.removeprefix("?").partition(":")
        if kind != "src":
            packages.add(kind.partition("@")[2] or step.package)
    return sorted(packages)


def resolve_source(step: Step, source: str, artifacts: dict, out_dirs: dict,
                   optional: bool = False) -> Path | None:
    """`cdylib`, `staticlib`, `bin:NAME` (of this step's package or `KIND@package`), `out:PATH`
    (a file in the build script's OUT_DIR, `out@package:PATH` for another package), `src:PATH`
    (a file of the step folder)."""
    kind, _, rest = source.partition(":")
    kind, _, pkg = kind.partition("@")
    pkg = pkg or step.package
    where = f"{step.folder / 'commands.toml'}: stage source {source!r}"
    if kind == "src":
        path = step.folder / rest
    elif kind == "out":
        if pkg not in out_dirs:
            raise Fail(f"{where}: package {pkg} has no build script output")
        path = Path(out_dirs[pkg]) / rest
    else:
        key = f"{kind}:{rest}" if rest else kind
        try:
            path = Path(artifacts[pkg][key])
        except KeyError:
            raise Fail(f"{where}: cargo built no {key} for package {pkg}") from None
    if not path.is_file():
        if optional:
            return None
        raise Fail(f"{where}: {path} does not exist")
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def source_files() -> list[Path]:
    """Every file under steps/ that a build or a command can read (not expectations, not caches)."""
    files = []
    for dirpath, dirnames, filenames in os.walk(STEPS):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in ("expected", "__pycache__", ".pytest_cache", "target"))
        files += [Path(dirpath, f) for f in sorted(filenames)]
    return files


def sync_sources() -> str:
    """Make content, not modification times, decide what is stale; returns the sources' digest.

    Cargo (and the `rerun-if-changed` of build scripts) rebuilds only a file newer than its last
    build, so an edit saved with an old time (`touch -d`, an archive, a copy that keeps times)
    would leave the old build in place. Each file's hash is recorded, in cargo's target folder,
    when the pipeline hands the tree to cargo; a file whose content differs from the record gets a
    fresh modification time first, which cargo sees. With no record (a new target folder) every
    file gets one: there is no telling what the target folder was built from."""
    import time
    # The record belongs with cargo's target folder, not with this tree: it says what that
    # folder's builds were made from, whichever copy of the sources made them.
    record_file = Path(python_env()["CARGO_TARGET_DIR"]) / "book-sources.json"
    try:
        record = json.loads(record_file.read_text())
    except (OSError, ValueError):
        record = None
    now = time.time()
    hashes = source_hashes()
    for rel, digest in hashes.items():
        if record is None or record.get(rel) != digest:
            os.utime(STEPS / rel, (now, now))
    record_file.parent.mkdir(parents=True, exist_ok=True)
    record_file.write_text(json.dumps(hashes, indent=0, sort_keys=True))
    return digest_of(hashes)


def source_hashes() -> dict[str, str]:
    """Each source's hash, by its path relative to steps/."""
    return {f.relative_to(STEPS).as_posix(): sha256_file(f) for f in source_files()}


def digest_of(hashes: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()


def sources_digest() -> str:
    return digest_of(source_hashes())


def ensure_staged(step: Step) -> dict[str, str]:
    """The manifest of the step's staged files, rebuilding first when any source changed.

    `just build` stages everything before mdbook runs; this catches edits made while
    `mdbook serve` is running (book.toml watches steps/ too). Staleness is decided by content:
    the stamp holds the digest of every source the stage was built from."""
    stamp = STAGE / f"{step.nn}.stamp"
    if not stamp.exists() or stamp.read_text() != sources_digest():
        stage([step])
    return json.loads((STAGE / step.nn / ".manifest.json").read_text())


# ---------------------------------------------------------------------------------------------
# Running commands


def lines_of(cmd: dict) -> list[dict]:
    out = []
    for item in cmd["run"]:
        out.append({"run": item} if isinstance(item, str) else item)
    return out


def normalise(text: str, workdir: Path, cmd: dict) -> str:
    import re
    text = text.replace(str(workdir), ".").replace(str(ROOT), "<book>")
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
            transcript.append(f"$ {line['run']}\n{output}")
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


def shape_problems(cmd: dict, text: str) -> list[str]:
    """A command whose output is shown but not compared (timings) must still have the shape the
    page describes: not empty, and every regex of its `shape` found in it."""
    import re
    body = text if cmd.get("html") else "".join(
        l for l in text.splitlines(keepends=True) if not l.startswith("$ "))
    if not body.strip():
        return ["its output is empty; the page describes what it shows"]
    if not cmd.get("shape"):
        return ["it is not compared (`compare = false`) and has no `shape` to check its output "
                "against: add one to commands.toml"]
    return [f"its output lacks what the page describes: no match for the `shape` regex {rx!r}"
            for rx in cmd["shape"] if not re.search(rx, body, flags=re.MULTILINE)]


def compared(cmd: dict) -> bool:
    return cmd.get("compare", True)


def verdict(step: Step, cid: str, transcript: str, problems: list[str]) -> str | None:
    """None when the command is fine, else a report naming the chapter, the command and a diff."""
    import difflib
    cmd = step.command(cid)
    expected_file = step.expected_path(cid)
    if compared(cmd):
        if not expected_file.exists():
            problems = problems + [f"no expectation {expected_file.relative_to(ROOT)}: "
                                   f"review the output below, then run `just bless {step.nn}`"]
            diff = transcript
        else:
            expected = expected_file.read_text()
            diff = "".join(difflib.unified_diff(
                expected.splitlines(keepends=True), transcript.splitlines(keepends=True),
                fromfile=f"expected ({expected_file.relative_to(ROOT)})",
                tofile="actual (this build)"))
            if diff:
                problems = problems + ["its output differs from the expectation"]
    else:
        diff = ""
    if not problems:
        return None
    hung = any(p.startswith(HUNG) for p in problems)
    lines = [f"FAILED: {step.label}, command `{cid}` (python3 is CPython {PYVER})"]
    lines += [f"  - {p.removeprefix(HUNG)}" for p in problems]
    if diff:
        lines += ["", diff.rstrip("\n")]
    if hung:
        lines += ["", "A hang is not a changed output: do not bless it; what it printed before it "
                  "was killed is above."]
    elif compared(cmd) and (diff or not expected_file.exists()):
        lines += [""]
        if PYVER not in VERIFIED and compared(cmd):
            lines += [f"The book's expectations were verified under CPython {', '.join(VERIFIED)}; "
                      f"this is {PYVER}, compared with {expected_file.name}. If this output is "
                      f"right for {PYVER}, `just bless {step.nn}` records it as "
                      f"expected/{cid}@{PYVER}.txt."]
        else:
            lines += [f"If the change is intended, update the expectation with "
                      f"`just bless {step.nn}` (under CPython {PYVER}, it writes "
                      f"{step.bless_path(cid).name} where this version's output differs)."]
    return "\n".join(lines) + "\n"


_TOOL_VERSIONS: str | None = None


def native_tool_versions() -> str:
    """The first line of `cc --version` and of `readelf --version` (binutils: readelf, nm, ld)."""
    global _TOOL_VERSIONS
    if _TOOL_VERSIONS is None:
        import subprocess
        lines = []
        for tool in ("cc", "readelf"):
            try:
                out = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
            except OSError:
                out = "missing"
            lines.append(f"{tool}: {out.splitlines()[0] if out else 'no version'}")
        _TOOL_VERSIONS = "\n".join(lines)
    return _TOOL_VERSIONS


def cache_key(step: Step, cid: str, manifest: dict) -> str:
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())  # the runner itself
    # The interpreter the commands run as `python3` (this one: .venv's) and the native tools they
    # call: a new version of any reruns them all.
    h.update(f"{os.path.realpath(sys.executable)} {sys.version}".encode())
    h.update(native_tool_versions().encode())
    h.update(json.dumps(step.command(cid), sort_keys=True).encode())
    h.update(json.dumps(command_env(step.command(cid)), sort_keys=True).encode())
    h.update(json.dumps(manifest, sort_keys=True).encode())
    expected_file = step.expected_path(cid)
    h.update(expected_file.name.encode())
    h.update(expected_file.read_bytes() if expected_file.exists() else b"<none>")
    return h.hexdigest()[:32]


def markdown(transcript: str, cmd: dict) -> str:
    if cmd.get("html"):
        return transcript
    fence = "```"
    while fence in transcript:
        fence += "`"
    return f"{fence}console\n{transcript}{fence}\n"


def cmd_show(nn: str, cid: str) -> int:
    """Used by the pages. Cached only after a passing run, keyed on everything the result depends on:
    the runner, the command definition, the expectation and the contents of the staged artifacts."""
    step = find_step(nn)
    step.command(cid)
    manifest = ensure_staged(step)
    key = cache_key(step, cid, manifest)
    cached = CACHE / f"{step.nn}-{cid}-{key}.txt"
    if cached.exists():
        sys.stdout.write(write_ready(step, cid, cached.read_text()))
        return 0
    transcript, problems = run_command(step, cid)
    report = verdict(step, cid, transcript, problems)
    if report:
        FAILURES.mkdir(parents=True, exist_ok=True)
        (FAILURES / f"{step.nn}-{cid}.txt").write_text(report)
        sys.stderr.write(report)
        # The page shows the failure where the output would be (under `mdbook serve` nothing
        # else would: mdbook-cmdrun drops a failed command's block). `just build` still fails:
        # `check` reads the report written above.
        sys.stdout.write(failure_box(step, cid, report))
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob(f"{step.nn}-{cid}-*.txt"):
        old.unlink()
    cached.write_text(transcript)
    sys.stdout.write(write_ready(step, cid, transcript))
    return 0


def failure_box(step: Step, cid: str, report: str) -> str:
    """A failed command's report as an HTML block for the page. It has no blank line (one would
    end the HTML block in Markdown); an empty line of the report is written as a no-break space."""
    import html
    body = "\n".join(html.escape(line) or "&#160;" for line in report.rstrip("\n").split("\n"))
    return (f'<div class="book-failure" style="border: 3px solid #c62828; padding: 0 1em; '
            f'margin: 1em 0">\n<p><strong>This output failed its check</strong>: chapter {step.nn}, '
            f'command <code>{html.escape(cid)}</code>. <code>just build</code> fails until it is '
            f'fixed; the report:</p>\n<pre style="white-space: pre-wrap">{body}</pre>\n</div>\n')


def write_ready(step: Step, cid: str, transcript: str) -> str:
    """Writes (and returns) the page output of a command whose result is checked and valid now.

    `prepare` writes these for every command whose cached result matches the freshly built and
    staged sources, and hands `just build` a token (READY_TOKEN) with which the shell wrapper
    prints them without starting Python, during the mdbook run that follows. Without the token
    (under `mdbook serve`, after an edit), every page output goes through cmd_show, which checks
    the sources' contents, rebuilds, reruns and rechecks as needed."""
    cmd = step.command(cid)
    text = markdown(transcript, cmd) + ("" if cmd.get("html") else step.version_note(cid))
    READY.mkdir(parents=True, exist_ok=True)
    (READY / f"{step.nn}-{cid}.md").write_text(text)
    return text


def cmd_step(nn: str) -> int:
    step = find_step(nn)
    stage([step])
    reports = []
    print(f"# {step.label}, with python3 = CPython {PYVER}\n")
    for cid, cmd in step.commands.items():
        transcript, problems = run_command(step, cid)
        note = "" if compared(cmd) else "   (shown, not compared: machine-dependent)"
        print(f"## {cid}{note}\n{transcript}")
        report = verdict(step, cid, transcript, problems)
        if report:
            reports.append(report)
    if reports:
        sys.stderr.write("\n".join(reports))
        print(f"chapter {step.nn}: {len(reports)} of {len(step.commands)} commands FAILED")
        return 1
    print(f"chapter {step.nn}: all {len(step.commands)} commands ran and match their expectations")
    return 0


def cmd_bless(nns: list[str]) -> int:
    import subprocess
    steps = [find_step(n) for n in nns] if nns else all_steps()
    stage(steps)
    failed = []
    for step in steps:
        for cid, cmd in step.commands.items():
            transcript, problems = run_command(step, cid)
            if problems:
                failed.append(f"{step.label}, `{cid}`: " + "; ".join(problems))
            if compared(cmd):
                bless_one(step, cid, transcript)
    # New expectation files show up in the diff only once git knows of them (as intent to add).
    expected = [str(s.folder / "expected") for s in steps if (s.folder / "expected").exists()]
    import shutil
    if shutil.which("git") is None:
        print("(no git on PATH: the expectations are written, but their diff is not shown)")
    else:
        subprocess.run(["git", "add", "--intent-to-add", "--", *expected], cwd=ROOT, check=False)
        subprocess.run(["git", "--no-pager", "diff", "--stat", "--", *expected], cwd=ROOT)
        subprocess.run(["git", "--no-pager", "diff", "--", *expected], cwd=ROOT)
    if failed:
        print("\nThese commands did not run as defined; their expectations were written anyway, "
              "fix them before committing:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0


def bless_one(step: Step, cid: str, transcript: str) -> None:
    """Record `transcript` as what this interpreter prints. Under CPython 3.11 that is ID.txt.
    Under 3.N it is ID@3.N.txt, written only where 3.N's output differs from what the versions
    before it print (and removed where it no longer does), so each variant is a real difference."""
    path = step.bless_path(cid)
    path.parent.mkdir(exist_ok=True)
    if PYVER != BASE_VERSION:
        below = step.expected_path(cid, below=True)
        if below.exists() and below.read_text() == transcript:
            path.unlink(missing_ok=True)
            return
    path.write_text(transcript)


def cmd_prepare() -> int:
    """Build and stage every step, write the page outputs whose checked result is cached, and
    print the token that lets the shell wrapper use them during the mdbook run that follows."""
    import secrets
    import shutil
    shutil.rmtree(FAILURES, ignore_errors=True)
    shutil.rmtree(READY, ignore_errors=True)
    CHECKED.unlink(missing_ok=True)
    MDBOOK_LOG.unlink(missing_ok=True)
    steps = all_steps()
    stage(steps)
    for step in steps:
        manifest = json.loads((STAGE / step.nn / ".manifest.json").read_text())
        for cid in step.commands:
            cached = CACHE / f"{step.nn}-{cid}-{cache_key(step, cid, manifest)}.txt"
            if cached.exists():
                write_ready(step, cid, cached.read_text())
    token = secrets.token_hex(16)
    READY.mkdir(parents=True, exist_ok=True)
    READY_TOKEN.write_text(token)
    print(token)
    return 0


def cmd_check() -> int:
    """After `mdbook build`. mdbook-cmdrun never fails a build: a failing command only leaves
    `**cmdrun error**` in the page, and a missing preprocessor leaves the raw marker; mdbook itself
    only logs a broken include. Catch all of these, print the runner's reports, check that pages
    and definitions agree, then check the rendered pages as a browser gets them."""
    import re
    problems: list[str] = []
    reports = sorted(FAILURES.glob("*.txt")) if FAILURES.exists() else []
    for r in reports:
        problems.append(r.read_text())
    if MDBOOK_LOG.exists():
        for line in MDBOOK_LOG.read_text(errors="replace").splitlines():
            if re.search(r"\[(ERROR|WARN)\]", line):
                problems.append(f"mdbook reported: {line.strip()}")
    pages = sorted(HTML.rglob("*.html")) if HTML.exists() else []
    if not pages:
        problems.append(f"no HTML under {HTML}: did `mdbook build` run?")
    for page in pages:
        text = page.read_text(errors="replace")
        rel = page.relative_to(HTML)
        if "cmdrun error" in text and not reports:
            problems.append(f"{rel}: mdbook-cmdrun reported an error that left no report: "
                            "run the page's commands with `just step NN` to see it")
        if re.search(r"<!--\s*cmdrun", text):
            problems.append(f"{rel}: a cmdrun marker was left unexpanded: is mdbook-cmdrun installed "
                            "and enabled in book.toml? (run scripts/setup.sh)")
    problems += check_sources()
    if pages and not reports:
        problems += check_pages()
    if problems:
        sys.stderr.write("\n".join(p.rstrip("\n") for p in problems) + "\n\n")
        sys.stderr.write(f"book check FAILED: {len(problems)} problem(s) (python3 is CPython {PYVER})\n")
        return 1
    n = sum(len(s.commands) for s in all_steps())
    CHECKED.write_text(json.dumps({"python": PYVER, "version": sys.version.split()[0],
                                   "sources": sources_digest()}))
    print(f"book check: {len(pages)} pages, {n} commands, every output matches its expectation "
          f"under CPython {PYVER}, and every page renders its listings and outputs intact")
    return 0


def summary_pages() -> list[Path]:
    """The pages mdbook renders: those SUMMARY.md links to, in order."""
    import re
    text = (BOOK_SRC / "SUMMARY.md").read_text()
    return [BOOK_SRC / m for m in re.findall(r"\]\(([^)\s]+\.md)\)", text)]


# mdbook 0.4's own syntax for {{#include}} (src/preprocess/links.rs): optional whitespace after the
# braces, a link type, whitespace, then the target up to the closing braces. `\{{#...}}` is escaped.
LINK = r"(?x) \\\{\{\#.*?\}\} | \{\{\s*\#([a-zA-Z0-9_]+)\s+([^}]+)\}\}"
ANCHOR_START = r"ANCHOR:\s*([\w_-]+)"
ANCHOR_END = r"ANCHOR_END:\s*([\w_-]+)"


def includes(md: Path) -> list[tuple[str, Path, str, str | None]]:
    """The page's includes as (directive, file, what, error): `what` is the text mdbook pastes,
    computed as mdbook does; `error` says why mdbook could not include it, if it cannot."""
    import re
    found = []
    for m in re.finditer(LINK, md.read_text()):
        kind, target = m.group(1), m.group(2)
        if kind not in ("include", "rustdoc_include"):
            continue
        spec = target.split()[0]
        path, _, sel = spec.partition(":")
        src = (md.parent / path).resolve()
        if not src.is_file():
            found.append((m.group(0), src, "", f"{path} does not exist"))
            continue
        text = src.read_text()
        what, error = select_lines(text, sel)
        found.append((m.group(0), src, what, error and f"{spec}: {error}"))
    return found


def select_lines(text: str, sel: str) -> tuple[str, str | None]:
    """mdbook's selection: a whole file, `N` (one line), `N:M`, `N:`, `:M` (1-based, inclusive),
    or an anchor name. mdbook 0.4 leaves out the lines that mark anchors only inside an anchored
    selection: a whole file or a range shows them as they are."""
    import re
    lines = text.splitlines()
    if not sel:
        return "\n".join(lines), None
    first, _, rest = sel.partition(":")
    if first.isdigit() or (first == "" and (rest == "" or rest.isdigit())):
        start = max(int(first) - 1, 0) if first else 0
        if ":" not in sel:
            end = start + 1
        else:
            end = int(rest) if rest else len(lines)
        if start >= len(lines) or end > len(lines) or end <= start:
            return "", f"lines {sel} are not within the file's {len(lines)} lines"
        return "\n".join(lines[start:end]), None
    anchor = first
    inside, kept = False, []
    for l in lines:
        if inside:
            end_m = re.search(ANCHOR_END, l)
            if end_m and end_m.group(1) == anchor:
                return "\n".join(kept), None
            if not end_m and not re.search(ANCHOR_START, l):
                kept.append(l)
        else:
            start_m = re.search(ANCHOR_START, l)
            if start_m and start_m.group(1) == anchor:
                inside = True
    if inside:
        return "", f"anchor `{anchor}` is never closed"
    return "", f"the file has no anchor named exactly `{anchor}`"


def check_sources() -> list[str]:
    """Pages and step definitions agree; every include can be made; every anchor is closed.
    A command counts as shown only from a page that mdbook renders (one SUMMARY.md lists)."""
    import re
    problems = []
    shown = set()
    rendered = {p.resolve() for p in summary_pages()}
    for md in sorted(BOOK_SRC.rglob("*.md")):
        rel = md.relative_to(ROOT)
        text = md.read_text()
        markers = re.findall(MARKER, text)
        if markers and md.resolve() not in rendered and md.name != "SUMMARY.md":
            problems.append(f"{rel} runs commands but is not in book/SUMMARY.md, so mdbook never "
                            "renders it: add it there, or move its commands to a rendered page")
        for nn, cid in markers:
            if md.resolve() in rendered:
                shown.add((nn, cid))
            try:
                find_step(nn).command(cid)
            except Fail as e:
                problems.append(f"{rel}: {e}")
        for directive, _src, what, error in includes(md):
            if error:
                problems.append(f"{rel}: `{directive}` cannot be included: {error}")
            elif re.search(ANCHOR_START, what) or re.search(ANCHOR_END, what):
                problems.append(f"{rel}: `{directive}` would show the reader the file's ANCHOR "
                                "comments (mdbook keeps them in a whole file or a line range): "
                                "include by anchor, or drop the anchors from that file")
    for step in all_steps():
        for cid in step.commands:
            if (step.nn, cid) not in shown:
                problems.append(f"{step.label}: command `{cid}` is defined but no rendered page "
                                "shows it")
        for f in step.folder.rglob("*"):
            if f.is_file() and f.suffix in {".rs", ".c", ".h", ".py", ".toml", ".go"}:
                text = f.read_text(errors="replace")
                opened = re.findall(ANCHOR_START, text)
                closed = re.findall(ANCHOR_END, text)
                for a in sorted(set(opened) ^ set(closed)):
                    problems.append(f"{f.relative_to(ROOT)}: anchor `{a}` is not both opened and closed")
    return problems


def check_pages() -> list[str]:
    """The rendered HTML, as a browser gets it: one <h1> per page, every include one intact code
    block with exactly the included lines, every shown command's output block present."""
    import re
    problems = []
    for md in summary_pages():
        html_file = HTML / md.relative_to(BOOK_SRC).with_suffix(".html")
        rel = md.relative_to(ROOT)
        if not html_file.exists():
            problems.append(f"{rel}: mdbook rendered no {html_file.name}")
            continue
        page = parse_page(html_file.read_text())
        if page.h1 != 1:
            problems.append(f"{rel}: the rendered page has {page.h1} <h1> headings, not one "
                            "(a `#` line that fell out of a code block renders as one)")
        blocks = [b.split("\n") for b in page.blocks]
        for directive, src, what, error in includes(md):
            want = what.rstrip("\n").split("\n")  # a block's trailing blank lines don't render
            if error or not what.strip():
                continue
            if not any(contains_run(b, want) for b in blocks):
                near = max(blocks, key=lambda b: overlap(b, want), default=[])
                problems.append(
                    f"{rel}: `{directive}` is not one intact code block on the rendered page: no "
                    f"block holds its {len(want)} lines (the closest holds "
                    f"{overlap(near, want)} of them). An include inside a list item or a quote "
                    "indents only its first line; keep includes at the top level.")
        for nn, cid in re.findall(MARKER, md.read_text()):
            ready = READY / f"{nn.zfill(2)}-{cid}.md"
            if not ready.exists():
                problems.append(f"{rel}: command {nn} `{cid}` left no checked output")
                continue
            step = find_step(nn)
            out = ready.read_text()
            if step.command(cid).get("html"):
                missing = [l for l in out.splitlines() if l.strip() and l.strip() not in page.raw]
                if missing:
                    problems.append(f"{rel}: the HTML output of {nn} `{cid}` is not intact on the "
                                    f"page; missing: {missing[0].strip()[:80]!r}")
                continue
            body = re.match(r"(`{3,})console\n(.*)\1\n", out, flags=re.DOTALL)
            want = body.group(2).rstrip("\n").split("\n") if body else []
            if not any(b == want for b in blocks):
                problems.append(f"{rel}: the output block of {nn} `{cid}` is not on the rendered "
                                "page as one code block (is its marker inside a list or a fence?)")
    return problems


def contains_run(block: list[str], want: list[str]) -> bool:
    n = len(want)
    return any(block[i:i + n] == want for i in range(len(block) - n + 1))


def overlap(block: list[str], want: list[str]) -> int:
    return len(set(block) & set(want))


class Page:
    def __init__(self) -> None:
        self.h1 = 0
        self.blocks: list[str] = []
        self.raw = ""


def parse_page(html: str) -> Page:
    """The <h1> count and the text of every <pre> block in the page's <main>."""
    from html.parser import HTMLParser

    page = Page()
    page.raw = html

    class Parser(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.in_main = 0
            self.pre: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "main":
                self.in_main += 1
            elif tag == "h1" and self.in_main:
                page.h1 += 1
            elif tag == "pre" and self.in_main:
                self.pre = []

        def handle_endtag(self, tag):
            if tag == "main":
                self.in_main -= 1
            elif tag == "pre" and self.pre is not None:
                page.blocks.append("".join(self.pre).rstrip("\n"))
                self.pre = None

        def handle_data(self, data):
            if self.pre is not None:
                self.pre.append(data)

    Parser().feed(html)
    return page


def cmd_list() -> int:
    for step in all_steps():
        print(f"{step.nn}  {step.chapter}  (steps/{step.folder.name})")
        for cid, cmd in step.commands.items():
            first = lines_of(cmd)[0]["run"]
            print(f"      {cid:<22} $ {first}")
    return 0


def main(argv: list[str]) -> int:
    try:
        match argv:
            case ["prepare"]:
                return cmd_prepare()
            case ["show", nn, cid]:
                return cmd_show(nn, cid)
            case ["step", nn]:
                return cmd_step(nn)
            case ["bless", *nns]:
                return cmd_bless(nns)
            case ["check"]:
                return cmd_check()
            case ["list"]:
                return cmd_list()
            case _:
                print(__doc__)
                return 0 if argv in ([], ["help"]) else 2
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
