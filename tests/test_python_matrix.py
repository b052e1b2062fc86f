"""The book is green with every CPython >= 3.11 on the machine as the reader's `python3`.

For each version other than the book's own interpreter (which `just build`, the first thing
`just test` does, has just checked), this runs what a reader with that version runs: the README's
`scripts/setup.sh && just build`, with that version first on PATH. It builds in a folder of its own
(target/matrix/3.N: its .venv, cargo's output, the rendered book), so the main build is untouched,
and a second run only rebuilds what changed. The commands then run under that interpreter and are
compared with its expectations (expected/ID@3.N.txt where its output really differs).

CPython 3.14 and 3.15 come from Debian sid (scripts/pythons.sh). For them the same command runs
inside the sid root folder, with that version as its `python3`: there the reader's machine is a sid
one (bash 5.3, GCC 16, glibc 2.43, sid's valgrind), which is what a reader with 3.14 or 3.15 from
their distribution has, and which tests that no output depends on the tools' versions."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SID_RUN, in_sid_root, interpreter, missing

MATRIX = ["3.11", "3.12", "3.13", "3.14", "3.15"]
OWN = "%d.%d" % sys.version_info[:2]


def checked(target) -> dict:
    record = target / "book-work" / "checked.json"
    assert record.exists(), f"{record} is missing: the book check did not pass there"
    return json.loads(record.read_text())


@pytest.mark.parametrize("version", MATRIX)
def test_book_is_green_under(version):
    if version == OWN:
        # This is the book's own interpreter: `just test` began with `just build`, which checked
        # the whole book with it and recorded so.
        got = checked(ROOT / "target")
        assert got["python"] == OWN, f"the main build was checked under {got['python']}, not {OWN}"
        return
    exe = interpreter(version)
    if exe is None:
        pytest.skip(missing(version))
    target = ROOT / "target" / "matrix" / version
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "BOOK_READY_TOKEN")}
    # Only what `just build` needs: no browser, no further CPythons (scripts/setup.sh).
    env.update(BOOK_VENV=str(target / "venv"), BOOK_TARGET=str(target), BOOK_SETUP="build")
    command = ["sh", "-c", "scripts/setup.sh && just build"]
    if in_sid_root(exe):
        # sid has no `python3`: /opt/book/3.N/bin/python3 is that version (scripts/pythons.sh).
        cargo_bin = os.path.dirname(os.path.realpath(subprocess.run(
            ["sh", "-c", "command -v cargo"], capture_output=True, text=True).stdout.strip()))
        env["PATH"] = f"/opt/book/{version}/bin:{cargo_bin}:/usr/local/bin:/usr/bin:/bin"
        command = [str(SID_RUN), *command]
    else:
        env["PATH"] = f"{os.path.dirname(exe)}{os.pathsep}{env['PATH']}"
    proc = subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=2400)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, (f"with CPython {version} as python3, "
                                  f"`scripts/setup.sh && just build` failed:\n{out[-20000:]}")
    assert checked(target)["python"] == version
