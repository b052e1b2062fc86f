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
            # With the original's modification times: the copies share one cargo target folder,
            # whose record of source hashes (scripts/bookpipe/build.py, sync_sources) makes cargo rebuild
            # exactly the files whose content differs from its last build, whatever their times.
            # So a copy rebuilds only what it changed, and never reuses another copy's drift.
            shutil.copy2(src, copy / os.fsdecode(f))
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def just_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BOOK_TARGET", "BOOK_VENV", "BOOK_READY_TOKEN")}
    env.update(CARGO_TARGET_DIR=str(ROOT / "target" / "drift-cargo"),
               BOOK_CACHE_DIR=str(ROOT / "target" / "book-work" / "cache"))
    env.update(extra)
    return env


def just_build(copy: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(["just", "build"], cwd=copy, env=just_env(**extra), capture_output=True,
                          text=True, timeout=600)


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
    assert_red(just_build(copy), r"FAILED: chapter 02 .*command `import`",
               r"was still running after its timeout of 2 s")


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


# --- Content, not modification times, decides what is stale -------------------------------------


def test_edit_saved_with_an_old_time_is_caught(tmp_path):
    """Cargo judges freshness by modification times: an edit saved with an old one (an archive, a
    copy that keeps times, `touch -d`) must still be rebuilt, by `just build` and `just step`."""
    copy = throwaway_copy(tmp_path)
    assert just_build(copy).returncode == 0
    src = copy / "steps/04-concurrency/src/threads.rs"
    edit(src, '"tick {i}"', '"tock {i}"')
    os.utime(src, (1577836800, 1577836800))  # 2020-01-01
    assert_red(just_build(copy), r"FAILED: chapter 04 .*command `tick`", r"(?m)^\+tock 1$")
    step = subprocess.run(["just", "step", "04"], cwd=copy, env=just_env(), capture_output=True,
                          text=True, timeout=600)
    assert_red(step, r"FAILED: chapter 04 .*command `tick`", r"(?m)^\+tock 1$")


# --- Every command is shown on a page mdbook renders --------------------------------------------


def test_marker_on_a_page_outside_the_summary_is_not_shown(tmp_path):
    copy = throwaway_copy(tmp_path)
    marker = "<!-- cmdrun ../scripts/book show 02 import -->"
    edit(copy / "book/ch02-c-extension.md", marker, "")
    (copy / "book/unlisted.md").write_text(f"# Not in the summary\n\n{marker}\n")
    assert_red(just_build(copy), r"book/unlisted\.md runs commands but is not in book/SUMMARY\.md",
               r"command `import` is defined but no rendered page shows it")


# --- Includes: mdbook's own syntax, exact anchors, ranges, and mdbook's errors ------------------


@pytest.mark.parametrize("old, new, needle", [
    ("foo.c:all}}", "foo.c:al}}", r"no anchor named exactly `al`"),
    ("{{#include ../steps/02-c-extension/foo.c:all}}", "{{ #include ../steps/02-c-extension/nofile.c }}",
     r"nofile\.c does not exist"),
    ("{{#include ../steps/02-c-extension/foo.c:all}}", "{{#include ../steps/02-c-extension/foo.c:2:9999}}",
     r"lines 2:9999 are not within the file's \d+ lines"),
], ids=["anchor-prefix", "spaced-missing-file", "line-range"])
def test_broken_include_is_caught(tmp_path, old, new, needle):
    copy = throwaway_copy(tmp_path)
    edit(copy / "book/ch02-c-extension.md", old, new)
    assert_red(just_build(copy), r"book/ch02-c-extension\.md: `\{\{ ?#include", needle)


def test_mdbook_error_fails_the_build(tmp_path):
    """mdbook only logs what it cannot do and carries on: here, a playground link to a file that
    does not exist (the book's own include check knows nothing of playground links)."""
    copy = throwaway_copy(tmp_path)
    edit(copy / "book/ch02-c-extension.md", "## Importing it",
         "## Importing it\n\n{{#playground ../steps/02-c-extension/nofile.rs}}\n")
    assert_red(just_build(copy), r"mdbook reported: .*\[(ERROR|WARN)\]")


# --- Outputs shown but not compared still have their shape --------------------------------------


@pytest.mark.parametrize("new, needle", [
    ("true", r"its output is empty"),
    ("python3 scaling.py | head -2", r"no match for the `shape` regex '\^count_primes_nogil"),
], ids=["empty", "missing-row"])
def test_uncompared_output_of_the_wrong_shape_is_caught(tmp_path, new, needle):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/04-concurrency/commands.toml", 'run = ["python3 scaling.py"]', f'run = ["{new}"]')
    assert_red(just_build(copy), r"FAILED: chapter 04 .*command `scaling`", needle)


# --- Commands run in a cleared environment ------------------------------------------------------


def test_callers_environment_does_not_reach_the_commands(tmp_path):
    """With these set in the caller's shell and nothing cached, chapter 6's outputs changed (the
    faulthandler dumps tracebacks on the deliberate crashes, warnings turn into errors)."""
    copy = throwaway_copy(tmp_path)
    env = just_env(BOOK_CACHE_DIR=str(tmp_path / "empty-cache"), PYTHONFAULTHANDLER="1",
                   PYTHONWARNINGS="error", RUST_BACKTRACE="full", PYTHONPATH=str(tmp_path))
    proc = subprocess.run(["just", "step", "06"], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_commands_environment_is_defined(tmp_path):
    """The same check without a build: a command prints its whole environment."""
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/02-c-extension/commands.toml",
         'run = ["python3 -c \'import foo; print(foo.sum(40, 2))\'"]', 'run = ["env | sort"]')
    proc = subprocess.run(["just", "step", "02"], cwd=copy, capture_output=True, text=True,
                          env=just_env(PYTHONFAULTHANDLER="1", SOMETHING_ELSE="x"), timeout=600)
    out = proc.stdout
    names = set(re.findall(r"(?m)^([A-Z_][A-Z0-9_]*)=", out.split("## import", 1)[1].split("## ", 1)[0]))
    assert names <= {"PATH", "HOME", "LC_ALL", "TERM", "NO_COLOR", "RUST_BACKTRACE",
                     "PYTHONDONTWRITEBYTECODE", "PWD", "SHLVL", "_", "OLDPWD"}, names


# --- A hang cannot escape its timeout -----------------------------------------------------------


@pytest.mark.parametrize("run", [
    "setsid sleep {marker} & echo started",
    "setsid bash -c 'while :; do sleep 1; done' {marker} & echo started",
], ids=["detached-sleep", "endless"])
def test_detached_process_cannot_outlive_its_timeout(tmp_path, run):
    import time
    # A number no other process has in its command line (other copies of the book may be testing
    # at the same time): sleep's argument, or the endless loop's $0.
    marker = f"317.{os.getpid()}{time.monotonic_ns() % 10**6:06d}"
    run = run.format(marker=marker)
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/02-c-extension/commands.toml",
         'run = ["python3 -c \'import foo; print(foo.sum(40, 2))\'"]',
         f'timeout = 3\nrun = ["{run}"]')
    start = time.monotonic()
    out = assert_red(just_build(copy), r"FAILED: chapter 02 .*command `import`",
                     r"was still running after its timeout of 3 s, so it and every process it "
                     r"started were killed", r"A hang is not a changed output: do not bless it")
    assert time.monotonic() - start < 120, "the build waited for the detached process"
    assert "update the expectation with" not in out
    left = subprocess.run(["pgrep", "-f", re.escape(marker)], capture_output=True, text=True)
    assert left.stdout == "", f"processes outlived the command: {left.stdout}"


# --- The page as a browser gets it ---------------------------------------------------------------


def test_include_inside_a_list_item_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "book/ch02-c-extension.md", "```c\n{{#include ../steps/02-c-extension/foo.c:all}}\n```",
         "- The whole file:\n\n  ```c\n  {{#include ../steps/02-c-extension/foo.c:all}}\n  ```")
    assert_red(just_build(copy),
               r"`\{\{#include \.\./steps/02-c-extension/foo\.c:all\}\}` is not one intact code block")


def test_second_title_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "book/ch02-c-extension.md", "## Importing it", "# Importing it")
    assert_red(just_build(copy), r"ch02-c-extension\.md: the rendered page has 2 <h1> headings")


def test_output_block_that_does_not_render_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    marker = "<!-- cmdrun ../scripts/book show 02 import -->"
    edit(copy / "book/ch02-c-extension.md", marker, f"<div>\n{marker}\n</div>")
    assert_red(just_build(copy), r"the output block of 02 `import` is not on the rendered page")


# --- Version-specific expectations --------------------------------------------------------------


def test_version_specific_expectation_is_used(tmp_path):
    """An expectation for the running CPython version takes precedence over expected/ID.txt."""
    import sys
    copy = throwaway_copy(tmp_path)
    version = "%d.%d" % sys.version_info[:2]
    expected = copy / "steps/02-c-extension/expected"
    (expected / f"import@{version}.txt").write_text((expected / "import.txt").read_text().replace("42", "41"))
    assert_red(just_build(copy), r"FAILED: chapter 02 .*command `import`",
               rf"expected \(steps/02-c-extension/expected/import@{re.escape(version)}\.txt\)", r"(?m)^-41$")


def test_failure_is_shown_on_the_page_while_serving(tmp_path):
    """`mdbook serve` renders without `scripts/book check`: a drifted output must still be seen,
    as a failure box with its diff where the output would be, and `just build` must still fail."""
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/02-c-extension/expected/import.txt", "42", "41")
    env = just_env(PATH=f"{copy / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(["mdbook", "build"], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (copy / "target/book/ch02-c-extension.html").read_text()
    assert 'class="book-failure"' in page, "the page shows no failure box"
    assert "This output failed its check</strong>: chapter 02, command <code>import</code>" in page
    assert re.search(r"(?m)^-41$", page) and re.search(r"(?m)^\+42$", page), "the box lacks the diff"
    assert_red(just_build(copy), r"FAILED: chapter 02 .*command `import`")
