"""The pages show, once per chapter, the commands that stage a chapter's files by hand: build, copy
each library to the name Python looks for, put sum.h next to main.c (steps/NN-*/by-hand.sh,
included on the pages). Run them, and check that they gather exactly the files, byte for byte,
that the book's own commands ran with (target/book-work/stage/NN, staged by `just build`)."""

import hashlib
import json
import os
import subprocess

import pytest

from conftest import ROOT, STAGE

# Every chapter but 7, whose modules only its measuring harness runs.
SCRIPTS = sorted((ROOT / "steps").glob("0[1-689]-*/by-hand.sh"))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_chapter_but_7_has_one():
    assert [s.parent.name[:2] for s in SCRIPTS] == ["01", "02", "03", "04", "05", "06", "08", "09"]


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
    gathered = {str(p.relative_to(run)): sha256(p) for p in run.rglob("*") if p.is_file()}
    assert gathered == staged, (
        f"{script.relative_to(ROOT)} gathers other files than the book's commands ran with:\n"
        f"only by hand: {sorted(set(gathered) - set(staged))}\n"
        f"only staged: {sorted(set(staged) - set(gathered))}\n"
        f"different: {sorted(k for k in set(gathered) & set(staged) if gathered[k] != staged[k])}")
