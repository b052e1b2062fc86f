"""What the suites share: where the book stages its modules, the CPythons to run them under, and
how a child process ended. A plain module (tests/conftest.py holds only fixtures and hooks);
`just stress` imports it too."""
import functools
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import crashreport

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "target" / "book-work" / "stage"
# The programs the suites start under other CPythons (never pytest), and the C
# sources of the faulty modules the suites compile to prove a check catches its fault.
CHILDREN = ROOT / "tests" / "children"
C_SOURCES = ROOT / "tests" / "c"

# CPython versions the stable-ABI modules are tested under. A version the machine lacks is reported
# as skipped, never left out silently.
# Debug builds (configured --with-pydebug: the C API's assertions on, sys.gettotalrefcount) that the
# module suites also run under: Debian's python3.11-dbg, and sid's python3.14-dbg and python3.15-dbg.
# In ABI3_VERSIONS, "3.N-dbg" names the debug build of 3.N.
DEBUG_VERSIONS = ["3.11", "3.14", "3.15"]
ABI3_VERSIONS = ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"] + [f"{v}-dbg" for v in DEBUG_VERSIONS]

# Where scripts/pythons.sh (run by scripts/setup.sh as root) puts its launchers: CPython 3.14 and
# 3.15 from Debian sid, each run inside a root folder of its own (see `sid-run` there).
PYTHONS = Path(os.environ.get("BOOK_PYTHONS")
               or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
               / "python-modules-in-rust")
SID_RUN = PYTHONS / "bin" / "sid-run"
# Programs run inside the sid root see the repository at its own path wherever it was cloned
# (sid-run shows the folders this names, besides /tmp, /home, /root and the current folder's).
os.environ["SID_RUN_BIND"] = ":".join(filter(None, [os.environ.get("SID_RUN_BIND"), str(ROOT)]))


def staged(name: str) -> list[Path]:
    """Every staged copy of `name` (e.g. foo.abi3.so), in any chapter's staged folder."""
    found = sorted(p for p in STAGE.rglob(name) if not p.relative_to(STAGE).parts[0].endswith(".tmp"))
    if not found:
        pytest.fail(f"no {name} under {STAGE}: run `just build` first")
    return found


@functools.cache
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def label(module: Path) -> str:
    """A staged file by its chapter and name: 04/foo.abi3.so."""
    return f"{module.parent.name}/{module.name}"


def once_each(modules: list[Path]) -> list[Path]:
    """`modules` with each content once: of byte-identical files only the first is kept, since
    a test of one is a test of the others (chapters 7 and 8 both stage rust_fastcall and
    helper_sum from one release build). twins() names the rest, and so does the test id."""
    first: dict[str, Path] = {}
    for m in modules:
        first.setdefault(_sha256(m), m)
    return [m for m in modules if first[_sha256(m)] == m]


def twins(module: Path) -> list[Path]:
    """The other staged modules with exactly the bytes of `module`, in any chapter's folder."""
    size = module.stat().st_size
    return [p for p in sorted(STAGE.glob("*/*.so"))
            if p != module and not p.parent.name.endswith(".tmp") and p.stat().st_size == size
            and _sha256(p) == _sha256(module)]


def module_id(module: Path) -> str:
    """The test id of a staged module, naming its twins: 07/x.abi3.so (= 08/x.abi3.so)."""
    others = ", ".join(label(t) for t in twins(module))
    return label(module) + (f" (= {others})" if others else "")


# Each lookup probes its candidates in a child process (135 to 189 ms through the sid launcher),
# and the suites ask for the same CPythons hundreds of times: each version is looked up, and each
# candidate probed, once per pytest process.
@functools.cache
def interpreter(version: str) -> str | None:
    """A CPython of that version: the one running the tests, a pythonX.Y on PATH, pyenv's, or the
    launcher of scripts/pythons.sh (Debian sid's, in its root folder). "3.N-dbg": a debug build."""
    if version.endswith("-dbg"):
        return debug_interpreter(version.removesuffix("-dbg"))
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version and not hasattr(sys, "gettotalrefcount"):
        return sys.executable
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    return _first_that_is(version, False, [
        shutil.which(f"python{version}"),
        *sorted(Path(pyenv_root, "versions").glob(f"{version}.*/bin/python{version}")),
        PYTHONS / "bin" / f"python{version}"])


@functools.cache
def debug_interpreter(version: str) -> str | None:
    """A debug build of CPython of that version: pythonX.Y-dbg on PATH (Debian's name), or the
    launcher of scripts/pythons.sh."""
    return _first_that_is(version, True, [shutil.which(f"python{version}-dbg"),
                                          PYTHONS / "bin" / f"python{version}-dbg"])


def _first_that_is(version: str, debug: bool, candidates) -> str | None:
    for c in candidates:
        if c and os.access(c, os.X_OK) and _identify(str(c)) == (version, debug):
            return str(c)
    return None


@functools.cache
def _identify(python: str) -> tuple[str, bool] | None:
    """(its "X.Y", whether it is a debug build), asked of the program itself; None if it fails."""
    probe = "import sys; print('%d.%d' % sys.version_info[:2], hasattr(sys, 'gettotalrefcount'))"
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    words = out.stdout.split()
    if out.returncode != 0 or len(words) != 2:
        return None
    return words[0], words[1] == "True"


def in_sid_root(python: str) -> bool:
    """Whether `python` is one of scripts/pythons.sh's launchers (it runs inside the sid root)."""
    return Path(python).parent == SID_RUN.parent


def launcher(python: str) -> list[str]:
    """What runs another program the way `python` runs: inside the sid root for its launchers
    (a virtual environment made by one of them points at the root folder's own /usr/bin)."""
    return [str(SID_RUN)] if in_sid_root(python) else []


def missing(version: str, debug: bool = False) -> str:
    """Why a test under that CPython is skipped, and what would un-skip it."""
    if version.endswith("-dbg"):
        version, debug = version.removesuffix("-dbg"), True
    what = f"a debug build of CPython {version}" if debug else f"CPython {version}"
    return (f"{what} is not on this machine (looked on PATH, under ~/.pyenv/versions and in "
            f"{PYTHONS / 'bin'}): run scripts/pythons.sh as root on Debian/Ubuntu (scripts/setup.sh "
            f"does), or install python{version}{'-dbg' if debug else ''}, and the test runs")


def describe_exit(proc: subprocess.CompletedProcess) -> str:
    """How a child ended, with its output. A crash (death by a signal) is described by
    tests/support/crashreport.py: the faulting thread's faulthandler block first, then gdb's backtrace of
    every thread from the core, when the child was started through crashreport.popen or .run."""
    if proc.returncode < 0:
        return f"{crashreport.report(proc)}\n== the child's stdout\n{proc.stdout}"
    return f"exit status {proc.returncode}\n{proc.stdout}{proc.stderr}"
