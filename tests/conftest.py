"""The suites' fixtures and hooks. What they share otherwise is in tests/support; the
programs they start under other CPythons are in tests/children."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import CHILDREN, STAGE

# The children import each other by bare name, as they do when run (their folder is then
# sys.path[0]); the tests that read their tables import them the same way.
sys.path.insert(0, str(CHILDREN))


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
