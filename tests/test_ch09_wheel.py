"""Chapter 9's wheel: built by maturin, installed by pip into a fresh virtual environment outside the
repository, and imported from there under every CPython >= 3.10 on the machine, where chapter 3's
behavioural contract (tests/children/foo_contract.py) must pass; pip for CPython 3.9 must refuse it."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support import ABI3_VERSIONS, CHILDREN, ROOT, describe_exit, interpreter, launcher, missing

NAME = re.compile(r"^foo-1\.0\.0-cp310-abi3-manylinux_(\d+)_(\d+)_x86_64\.whl$")


def test_the_wheel_is_named_for_the_stable_abi_of_310(ch09_wheel):
    assert NAME.match(ch09_wheel.name), ch09_wheel.name
    with zipfile.ZipFile(ch09_wheel) as z:
        names = set(z.namelist())
        wheel_file = z.read("foo-1.0.0.dist-info/WHEEL").decode()
    assert {"foo/__init__.py", "foo/foo.abi3.so", "foo-1.0.0.dist-info/RECORD"} <= names, names
    assert f"Tag: {ch09_wheel.name[len('foo-1.0.0-'):-len('.whl')]}" in wheel_file


def install(python: str, wheel: Path, where: Path) -> Path:
    """A new virtual environment for `python` under `where`, with the wheel installed by pip (the
    test's own pip, pointed at the environment's interpreter: quicker than one pip per venv)."""
    venv_python = where / "venv" / "bin" / "python"
    if launcher(python):
        # Inside the sid root: the test's pip (23.2) predates 3.15, so the environment gets the
        # pip that comes with its own CPython (ensurepip), run in there.
        subprocess.run([python, "-m", "venv", str(where / "venv")], check=True)
        pip = [*launcher(python), str(venv_python), "-m", "pip"]
    else:
        subprocess.run([python, "-m", "venv", "--without-pip", str(where / "venv")], check=True)
        pip = [sys.executable, "-m", "pip", "--python", str(venv_python)]
    proc = subprocess.run([*pip, "install", "--no-index", "--disable-pip-version-check",
                           str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return venv_python


@pytest.mark.parametrize("version", ABI3_VERSIONS)
def test_installs_and_imports_outside_the_repository(ch09_wheel, version, tmp_path):
    python = interpreter(version)
    if python is None:
        pytest.skip(missing(version))
    assert ROOT not in tmp_path.parents, "the environment must be outside the repository"
    venv_python = install(python, ch09_wheel, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    # The contract travels with the test, so nothing of the repository is on the import path.
    contract = tmp_path / "contract"
    contract.mkdir()
    for name in ("foo_contract.py", "load_extension.py"):
        shutil.copy(CHILDREN / name, contract)
    code = ("import sys; sys.path.append(sys.argv[1]); import foo, foo_contract; "
            "foo_contract.check(foo); print(foo.foo.__file__); print(sys.version_info[:2])")
    proc = subprocess.run([*launcher(python), str(venv_python), "-c", code, str(contract)], cwd=empty,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"CPython {version}: {describe_exit(proc)}"
    where, got_version = proc.stdout.splitlines()
    assert Path(where).is_relative_to(tmp_path / "venv"), where
    assert where.endswith("site-packages/foo/foo.abi3.so"), where
    assert got_version == str(tuple(int(x) for x in version.removesuffix("-dbg").split("."))), got_version


def test_pip_for_39_refuses_it(ch09_wheel, tmp_path):
    """The minimum version is in the tag (cp310), and pip reads it."""
    python = interpreter("3.9")
    if python is None:
        pytest.skip("CPython 3.9 is not installed on this machine")
    subprocess.run([python, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "--python",
                           str(tmp_path / "venv" / "bin" / "python"), "install", "--no-index",
                           "--disable-pip-version-check", str(ch09_wheel)],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "is not a supported wheel on this platform" in proc.stdout + proc.stderr, proc.stderr
