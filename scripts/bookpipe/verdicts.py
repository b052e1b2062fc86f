"""Verdicts and the cache: a run compared with its expectation, the report a failure gets, the
cache of passing results, and the page output (READY files) of a checked result."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from .build import step_sources_digest
from .config import BASE_VERSION, CACHE, FAILURES, PYVER, READY, ROOT, VERIFIED
from .run import HUNG, command_env, run_command, shape_problems, unmark_streams
from .steps import Step


def verdict(step: Step, cid: str, transcript: str, problems: list[str]) -> str | None:
    """None when the command is fine, else a report naming the chapter, the command and a diff."""
    import difflib
    cmd = step.command(cid)
    expected_file = step.expected_path(cid)
    problems = problems + comparison_problems(step, cid, transcript)
    diff = ""
    if cmd.compare:
        diff = transcript if not expected_file.exists() else "".join(difflib.unified_diff(
            expected_file.read_text().splitlines(keepends=True),
            transcript.splitlines(keepends=True),
            fromfile=f"expected ({expected_file.relative_to(ROOT)})", tofile="actual (this build)"))
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
    elif cmd.compare and (diff or not expected_file.exists()):
        lines += [""]
        if PYVER not in VERIFIED and cmd.compare:
            lines += [f"The book's expectations were verified under CPython {', '.join(VERIFIED)}; "
                      f"this is {PYVER}, compared with {expected_file.name}. If this output is "
                      f"right for {PYVER}, `just bless {step.nn}` records it as "
                      f"expected/{cid}@{PYVER}.txt."]
        else:
            lines += [f"If the change is intended, update the expectation with "
                      f"`just bless {step.nn}` (under CPython {PYVER}, it writes "
                      f"{step.bless_path(cid).name} where this version's output differs)."]
    return "\n".join(lines) + "\n"


def comparison_problems(step: Step, cid: str, transcript: str) -> list[str]:
    """A compared command's output is its expectation for this CPython, byte for byte and stream
    for stream; where a diff would show the same lines, the problem says what differs."""
    if not step.command(cid).compare:
        return []
    expected_file = step.expected_path(cid)
    if not expected_file.exists():
        return [f"no expectation {expected_file.relative_to(ROOT)}: "
                f"review the output below, then run `just bless {step.nn}`"]
    expected = expected_file.read_text()
    if expected == transcript:
        return []
    return ["its output differs from the expectation" + invisible_difference(expected, transcript)]


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


_ENVIRONMENT: str | None = None


def environment_digest() -> str:
    """What the commands can read outside the step, as cheaply as it can be known: the entries
    of the book's Python environment (each installed package's name and version is in its
    .dist-info folder's name) with the contents of its .pth files and any sitecustomize or
    usercustomize; every tool on the commands' PATH that they use, by its file's identity; and
    the configuration of cargo and rustup, whose homes the commands share."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        import shutil
        from .config import VENV
        from .run import cargo_home, command_path, rustup_home
        h = hashlib.sha256()
        h.update((VENV / "pyvenv.cfg").read_bytes() if (VENV / "pyvenv.cfg").exists() else b"")
        for site in sorted(VENV.glob("lib/python3*/site-packages")):
            for entry in sorted(os.listdir(site)):
                h.update(entry.encode() + b"\n")
                if entry.endswith(".pth") or entry in ("sitecustomize.py", "usercustomize.py"):
                    h.update((site / entry).read_bytes())
        for tool in ("bash", "sh", "cc", "ld", "readelf", "nm", "objdump", "go", "cargo", "rustc",
                     "valgrind", "maturin", "pip"):
            found = shutil.which(tool, path=command_path())
            if found:
                st = os.stat(found)
                h.update(f"{tool} {os.path.realpath(found)} {st.st_size} {st.st_mtime_ns}\n".encode())
        for config in (cargo_home() / "config.toml", cargo_home() / "config",
                       rustup_home() / "settings.toml"):
            h.update(config.read_bytes() if config.is_file() else b"-")
        toolchains = rustup_home() / "toolchains"
        h.update(" ".join(sorted(os.listdir(toolchains))).encode() if toolchains.is_dir() else b"")
        _ENVIRONMENT = h.hexdigest()
    return _ENVIRONMENT


RUNNER_MODULES = ("config.py", "commands.py", "steps.py", "build.py", "run.py", "verdicts.py")


def cache_key(step: Step, cid: str, manifest: dict) -> str:
    h = hashlib.sha256()
    # The runner itself: the modules that decide what a command reads, how it runs and how its
    # output is judged (not the page checks nor the command line, which never change a result).
    for module in RUNNER_MODULES:
        h.update(module.encode() + b"\0" + (Path(__file__).parent / module).read_bytes())
    # The interpreter the commands run as `python3` (this one: .venv's) and the native tools they
    # call: a new version of any reruns them all.
    h.update(f"{os.path.realpath(sys.executable)} {sys.version}".encode())
    h.update(native_tool_versions().encode())
    h.update(step.command(cid).digest_text().encode())
    # The home's place is the work folder's (each copy of the book has its own), and outputs show
    # it as ~: only that there is one counts.
    env = dict(command_env(step.command(cid)), HOME="~")
    h.update(json.dumps(env, sort_keys=True).encode())
    h.update(json.dumps(manifest, sort_keys=True).encode())
    # What else a command can read: the step's sources (and the workspace's), the Python packages
    # installed for `python3`, the tools' binaries, cargo's and rustup's configuration.
    h.update(step_sources_digest(step).encode())
    h.update(environment_digest().encode())
    expected_file = step.expected_path(cid)
    h.update(expected_file.name.encode())
    h.update(expected_file.read_bytes() if expected_file.exists() else b"<none>")
    return h.hexdigest()[:32]


def invisible_difference(expected: str, actual: str) -> str:
    """What differs, where a diff shows lines that look the same."""
    if expected != actual and unmark_streams(expected) == unmark_streams(actual):
        return (": only the streams (lines marked `2| ` were written to stderr, `&| ` to both, the "
                "others to stdout): the page shows the same text, but an output moved from one "
                "stream to the other")
    if expected.rstrip("\n") == actual.rstrip("\n"):
        return (": only the final newline (the expectation ends with "
                f"{len(expected) - len(expected.rstrip(chr(10)))} newline(s), the output with "
                f"{len(actual) - len(actual.rstrip(chr(10)))})")
    if expected.split() == actual.split():
        return ": only white space (trailing spaces, tabs or blank lines)"
    if expected.replace("\r", "") == actual.replace("\r", ""):
        return ": only carriage returns"
    return ""


def checked(step: Step, cid: str, manifest: dict) -> str | None:
    """Give command `cid` its checked page output (READY): from the cache when a passing result
    for exactly these inputs is there, else by running it. A failing run leaves its report in
    FAILURES (which fails `just build`) and a failure box as its page output; returns the report."""
    key = cache_key(step, cid, manifest)
    cached = CACHE / f"{step.nn}-{cid}-{key}.txt"
    if cached.exists():
        transcript = cached.read_text()
        # Whatever happened to the cache folder, what is shown is what the expectation says.
        expected = step.expected_path(cid)
        cmd = step.command(cid)
        if (not cmd.compare and not shape_problems(cmd, transcript)) or (
                cmd.compare and expected.exists() and expected.read_text() == transcript):
            write_ready(step, cid, transcript)
            return None
        cached.unlink()
    transcript, problems = run_command(step, cid)
    report = verdict(step, cid, transcript, problems)
    if report:
        fail(step, cid, report)
        return report
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob(f"{step.nn}-{cid}-*.txt"):
        old.unlink()
    cached.write_text(transcript)
    write_ready(step, cid, transcript)
    return None


def fail(step: Step, cid: str, report: str) -> None:
    """Record a failure: its report for `check` and `summary`, and a box on the page where the
    output would be (under `mdbook serve` nothing else would show it)."""
    FAILURES.mkdir(parents=True, exist_ok=True)
    (FAILURES / f"{step.nn}-{cid}.txt").write_text(report)
    READY.mkdir(parents=True, exist_ok=True)
    (READY / f"{step.nn}-{cid}.md").write_text(failure_box(step, cid, report))


def unbuilt_report(step: Step, cid: str, why: str) -> str:
    return (f"FAILED: {step.label}, command `{cid}` (python3 is CPython {PYVER})\n"
            f"  - the step could not be built, so nothing ran: {why}\n")


def markdown(transcript: str, html: bool) -> str:
    if html:
        return transcript
    transcript = unmark_streams(transcript)  # the page shows the text, not its streams
    fence = "```"
    while fence in transcript:
        fence += "`"
    return f"{fence}console\n{transcript}{fence}\n"


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
    text = markdown(transcript, cmd.html) + ("" if cmd.html else step.version_note(cid))
    READY.mkdir(parents=True, exist_ok=True)
    (READY / f"{step.nn}-{cid}.md").write_text(text)
    return text


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
