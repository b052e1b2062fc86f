"""A command's checked output: from the cache of passing results when one for exactly these
inputs is there, else from a new run, judged by verdicts.py either way."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from .build import step_sources_digest
from .config import CACHE
from .run import cargo_home, command_env, command_path, run_command, rustup_home
from .steps import Step
from .verdicts import fail, verdict, write_ready


def checked(step: Step, cid: str, manifest: dict) -> str | None:
    """Give command `cid` its checked page output (READY): from the cache when a passing result
    for exactly these inputs is there, else by running it. A failing run leaves its report in
    FAILURES (which fails `just build`) and a failure box as its page output; returns the report."""
    key = cache_key(step, cid, manifest)
    cached = CACHE / f"{step.nn}-{cid}-{key}.txt"
    transcript = cached.read_text() if cached.exists() else None
    # Whatever happened to the cache folder, what is shown is what the expectation says.
    report = None if transcript is None else verdict(step, cid, transcript)
    if transcript is None or report:
        cached.unlink(missing_ok=True)
        transcript, lines = run_command(step, cid)
        report = verdict(step, cid, transcript, lines)
        if not report:
            CACHE.mkdir(parents=True, exist_ok=True)
            for old in CACHE.glob(f"{step.nn}-{cid}-*.txt"):
                old.unlink()
            cached.write_text(transcript)
    if report:
        fail(step, cid, report)
    else:
        write_ready(step, cid, transcript)
    return report


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


RUNNER_MODULES = ("config.py", "commands.py", "steps.py", "build.py", "run.py", "verdicts.py",
                  "cache.py")


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
    expected_file = step.expected[cid]
    h.update(expected_file.name.encode())
    h.update(expected_file.read_bytes() if expected_file.exists() else b"<none>")
    return h.hexdigest()[:32]
