"""The pages show, once per chapter, the commands that stage a chapter's files by hand: build, copy
each library to the name Python looks for, put sum.h next to main.c (steps/NN-*/by-hand.sh,
included on the pages). Run them, and check that they gather exactly the files, byte for byte,
that the book's own commands ran with (target/book-work/stage/NN, staged by `just build`). The
build's own check (scripts/bookpipe/by_hand.py, by_hand_problems) runs them in a folder laid out as
the repository is; this runs them in the repository itself, as a reader does, and compares the
same way."""

import json
import os
import subprocess
import sys

import pytest

from support import ROOT, STAGE

sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import by_hand  # noqa: E402

SCRIPTS = sorted((ROOT / "steps").glob("[0-9][0-9]-*/by-hand.sh"))


def test_every_chapter_has_one():
    chapters = sorted(p.parent.name[:2] for p in (ROOT / "steps").glob("[0-9][0-9]-*/commands.toml"))
    assert [s.parent.name[:2] for s in SCRIPTS] == chapters


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.parent.name[:2])
def test_by_hand_gathers_what_the_book_ran(script):
    nn = script.parent.name[:2]
    manifest = STAGE / nn / ".manifest.json"
    if not manifest.exists():
        pytest.fail(f"{manifest} is missing: run `just build` first")
    staged = json.loads(manifest.read_text())
    run = ROOT / "target" / "run" / nn
    subprocess.run(["rm", "-rf", str(run)], check=True)
    # The same interpreter for pyo3-ffi's build script as the pipeline's, so that cargo finds
    # everything up to date and rebuilds nothing.
    venv = ROOT / ".venv" / "bin"
    env = dict(os.environ, PATH=f"{venv}{os.pathsep}{os.environ['PATH']}",
               PYO3_PYTHON=str(venv / "python"))
    proc = subprocess.run(["sh", str(script)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    difference = by_hand.gathering_difference(by_hand.gathered_files(run), staged)
    assert not difference, (f"{script.relative_to(ROOT)} gathers other files than the book's "
                            f"commands ran with: {difference}")
