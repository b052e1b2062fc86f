import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import crashreport

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "target" / "book-work" / "stage"

# CPython versions the stable-ABI modules are tested under. A version the machine lacks is reported
# as skipped, never left out silently.
ABI3_VERSIONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]


def staged(name: str) -> list[Path]:
    """Every staged copy of `name` (e.g. foo.abi3.so), in any chapter's staged folder."""
    found = sorted(p for p in STAGE.rglob(name) if not p.relative_to(STAGE).parts[0].endswith(".tmp"))
    if not found:
        pytest.fail(f"no {name} under {STAGE}: run `just build` first")
    return found


def interpreter(version: str) -> str | None:
    """A CPython of that version: the one running the tests, a pythonX.Y on PATH, or pyenv's."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(Path(pyenv_root, "versions").glob(f"{version}.*/bin/python{version}"))
    for c in candidates:
        if c and os.access(c, os.X_OK):
            out = subprocess.run([str(c), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip() == version:
                return str(c)
    return None


def describe_exit(proc: subprocess.CompletedProcess) -> str:
    """How a child ended, with its output. A crash (death by a signal) is described by
    tests/crashreport.py: the faulting thread's faulthandler block first, then gdb's backtrace of
    every thread from the core, when the child was started through crashreport.popen or .run."""
    if proc.returncode < 0:
        return f"{crashreport.report(proc)}\n== the child's stdout\n{proc.stdout}"
    return f"exit status {proc.returncode}\n{proc.stdout}{proc.stderr}"


@pytest.fixture(scope="session")
def ch09_wheel(tmp_path_factory) -> Path:
    """Chapter 9's wheel, built by maturin from the project the book stages (a copy of
    target/book-work/stage/09/wheel), with cargo's output where the book's commands keep it."""
    project = STAGE / "09" / "wheel"
    if not (project / "pyproject.toml").exists():
        pytest.fail(f"{project} is missing: run `just build` first")
    work = tmp_path_factory.mktemp("ch09")
    shutil.copytree(project, work / "wheel")
    maturin = Path(sys.executable).parent / "maturin"
    env = dict(os.environ, CARGO_TARGET_DIR=str(STAGE.parent / "cargo-wheel"))
    proc = subprocess.run([str(maturin), "build", "--release", "--offline", "--quiet",
                           "-m", str(work / "wheel" / "Cargo.toml"), "--out", str(work / "dist")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"maturin failed:\n{proc.stdout}{proc.stderr}"
    wheels = sorted((work / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]
