"""The drift check can fail: break the book on purpose, in a throwaway copy, and expect red.

Each case copies the repository (the files git knows, as they are in the working tree), injects one
kind of drift, runs `just build` there and asserts that it fails with a message that names the
chapter and the command and shows the wrong value. The copies share one cargo target folder
(target/drift-cargo) so that only the first case compiles everything, and the original's cache of
passing results (keyed on the command, its expectation and the built files' contents, so a drifted
command never hits it)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT


def throwaway_copy(tmp_path: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    copy = tmp_path / "book"
    for f in filter(None, files):
        src = ROOT / os.fsdecode(f)
        if src.is_file():
            (copy / os.fsdecode(f)).parent.mkdir(parents=True, exist_ok=True)
            # A fresh modification time, not the original's: the copies share one cargo target
            # folder, and cargo judges a path crate fresh when its sources are older than its last
            # build, so an old time would let a later copy reuse an earlier copy's drifted build.
            shutil.copy(src, copy / os.fsdecode(f))
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def just_build(copy: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, CARGO_TARGET_DIR=str(ROOT / "target" / "drift-cargo"),
               BOOK_CACHE_DIR=str(ROOT / "target" / "book-work" / "cache"))
    return subprocess.run(["just", "build"], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=600)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer contains {old!r}: update this test"
    path.write_text(text.replace(old, new, 1))


def assert_red(proc: subprocess.CompletedProcess, *needles: str) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"`just build` passed despite the drift:\n{out}"
    for needle in needles:
        assert re.search(needle, out), f"the failure message lacks {needle!r}:\n{out}"
    return out


def test_clean_copy_is_green(tmp_path):
    proc = just_build(throwaway_copy(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stale_expectation_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/02-c-extension/expected/import.txt", "42", "41")
    out = assert_red(just_build(copy), r"FAILED: chapter 02 .*command `import`", r"(?m)^-41$", r"(?m)^\+42$")
    assert "just bless 02" in out


def test_changed_code_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/01-shared-library/src/lib.rs", "a.wrapping_add(b)", "a.wrapping_add(b) + 1")
    assert_red(just_build(copy), r"FAILED: chapter 01 .*command `sum`", r"(?m)^-42$", r"(?m)^\+43$")


def test_changed_c_code_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/02-c-extension/foo.c", "PyLong_FromLongLong(result)", "PyLong_FromLongLong(result + 1)")
    assert_red(just_build(copy), r"FAILED: chapter 02 .*command `import`", r"(?m)^\+43$")


def test_failing_command_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/02-c-extension/commands.toml", "print(foo.sum(40, 2))", "print(foo.sum(40))")
    assert_red(just_build(copy), r"FAILED: chapter 02 .*command `import`", r"exited with status 1, expected 0",
               r"TypeError")


def test_hanging_command_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/02-c-extension/commands.toml",
         'run = ["python3 -c \'import foo; print(foo.sum(40, 2))\'"]',
         'timeout = 2\nrun = ["python3 -c \'import foo, time; time.sleep(60)\'"]')
    assert_red(just_build(copy), r"FAILED: chapter 02 .*command `import`", r"ran past its timeout of 2 s")


def test_unexpanded_marker_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "book.toml", "[preprocessor.cmdrun]", "")
    assert_red(just_build(copy), r"cmdrun marker was left unexpanded")


@pytest.mark.parametrize("marker", ["<!-- cmdrun ../scripts/book show 02 no-such-command -->"])
def test_unknown_command_on_a_page_is_caught(tmp_path, marker):
    copy = throwaway_copy(tmp_path)
    edit(copy / "book/ch02-c-extension.md", "## Importing it", f"## Importing it\n\n{marker}\n")
    assert_red(just_build(copy), r"no command 'no-such-command'")


@pytest.mark.parametrize("path, old, new, chapter, command", [
    ("steps/03-rust-extension/src/lib.rs", "Some(sum) => unsafe { PyLong_FromLongLong(sum) }",
     "Some(sum) => unsafe { PyLong_FromLongLong(sum + 1) }", "03", "final-sum"),
    ("steps/05-hard-way/src/lib.rs", "Some(sum) => unsafe { PyLong_FromLongLong(sum) }",
     "Some(sum) => unsafe { PyLong_FromLongLong(sum + 1) }", "05", "import"),
])
def test_changed_rust_module_is_caught(tmp_path, path, old, new, chapter, command):
    copy = throwaway_copy(tmp_path)
    edit(copy / path, old, new)
    assert_red(just_build(copy), rf"FAILED: chapter {chapter} .*command `{command}`", r"(?m)^-42$", r"(?m)^\+43$")
