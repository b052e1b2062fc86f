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
    assert names <= {"PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME", "LC_ALL", "TERM", "NO_COLOR",
                     "RUST_BACKTRACE", "PYTHONDONTWRITEBYTECODE", "PWD", "SHLVL", "_", "OLDPWD"}, names
    # A home of its own (shown as ~), never the caller's: no configuration file of theirs is read.
    assert re.search(r"(?m)^HOME=~$", out), out


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
    assert_red(just_build(copy), r"book/ch02-c-extension\.md:\d+: `\{\{#include "
               r"\.\./steps/02-c-extension/foo\.c:all\}\}` is in an indented listing")


def test_second_title_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "book/ch02-c-extension.md", "## Importing it", "# Importing it")
    assert_red(just_build(copy), r"ch02-c-extension\.md: the rendered page has 2 <h1> headings")


def test_output_block_that_does_not_render_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    marker = "<!-- cmdrun ../scripts/book show 02 import -->"
    edit(copy / "book/ch02-c-extension.md", marker, f"<div>\n{marker}\n</div>")
    assert_red(just_build(copy), r"book/ch02-c-extension\.md: listing \d+ of \d+ \(it starts "
               r"\"\$ python3 -c 'import foo; print\(foo\.sum\(40, 2\)\)'\"\) does not render exactly")


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



# --- The check holds by principle (issue 18): one fault per principle, each red -----------------


# (1) Every include renders exactly and alone; (6) every marker goes through the checked pipeline.
@pytest.mark.parametrize("page, old, new, needle", [
    ("ch01-shared-library.md", "{{#include ../steps/01-shared-library/Cargo.toml}}\n```\n",
     "{{#include ../steps/01-shared-library/Cargo.toml}}\n",
     r"ch01-shared-library\.md:\d+: `\{\{#include \.\./steps/01-shared-library/Cargo\.toml\}\}` is not "
     r"alone in its listing: .* Is a closing fence missing\?"),
    ("ch02-c-extension.md", "## Importing it",
     "## Importing it\n\nThe file: {{#include ../steps/02-c-extension/foo.c:all}}\n",
     r"ch02-c-extension\.md:\d+: `\{\{#include \.\./steps/02-c-extension/foo\.c:all\}\}` is not "
     r"inside a fenced listing"),
    ("ch02-c-extension.md", "## Importing it",
     "## Importing it\n\n{{#playground ../steps/02-c-extension/foo.c}}\n",
     r"ch02-c-extension\.md: `\{\{#playground \.\./steps/02-c-extension/foo\.c\}\}` would show the "
     r"reader the file's ANCHOR comments"),
    ("ch02-c-extension.md", "## Importing it", "## Importing it\n\n<!-- cmdrun echo unchecked -->\n",
     r"ch02-c-extension\.md:\d+: `<!-- cmdrun echo unchecked -->` does not go through the checked "
     r"pipeline"),
    ("ch02-c-extension.md", "## Importing it",
     "## Importing it\n\nType `<!-- cmdrun ../scripts/book show 02 docstring -->` to see it.\n",
     r"ch02-c-extension\.md:\d+: the marker `<!-- cmdrun \.\./scripts/book show 02 docstring -->` "
     r"is inside a line of text"),
    ("ch02-c-extension.md", "{{#include ../steps/02-c-extension/foo.c:all}}",
     "{{#include ../steps/02-c-extension/foo.c:3:9}}",
     r"ch02-c-extension\.md:\d+: `\{\{#include \.\./steps/02-c-extension/foo\.c:3:9\}\}` includes "
     r"by line numbers"),
], ids=["missing-closing-fence", "include-in-prose", "playground-anchors", "unchecked-marker",
        "marker-in-inline-code", "line-range"])
def test_page_that_would_lie_is_caught(tmp_path, page, old, new, needle):
    copy = throwaway_copy(tmp_path)
    edit(copy / "book" / page, old, new)
    assert_red(just_build(copy), needle)


# (6) An expectation that is not compared, is shadowed, or repeats the one below it.
@pytest.mark.parametrize("fault, needle", [
    ("identical-variant", r"steps/02-c-extension/expected/import@3\.12\.txt: identical to import\.txt"),
    ("shadowing-variant", r"steps/02-c-extension/expected/import@3\.11\.txt: expected/import\.txt is "
                          r"CPython 3\.11's"),
    ("not-compared", r"steps/02-c-extension/expected/import\.txt: command `import` is not compared"),
    ("orphan", r"steps/02-c-extension/expected/gone\.txt: no command `gone`"),
])
def test_expectation_that_is_never_checked_is_caught(tmp_path, fault, needle):
    copy = throwaway_copy(tmp_path)
    expected = copy / "steps/02-c-extension/expected"
    base = (expected / "import.txt").read_text()
    if fault == "identical-variant":
        (expected / "import@3.12.txt").write_text(base)
    elif fault == "shadowing-variant":
        (expected / "import@3.11.txt").write_text(base)
    elif fault == "not-compared":
        edit(copy / "steps/02-c-extension/commands.toml", 'id = "import"\n',
             'id = "import"\ncompare = false\nshape = ["^42$"]\n')
    else:
        (expected / "gone.txt").write_text(base)
    assert_red(just_build(copy), needle)


# (2) A cached result is shown only while it equals its expectation, whatever the cache holds.
def test_tampered_cache_is_not_shown(tmp_path):
    copy = throwaway_copy(tmp_path)
    cache = tmp_path / "cache"
    shutil.copytree(ROOT / "target" / "book-work" / "cache", cache)
    tampered = list(cache.glob("02-import-*.txt"))
    assert tampered, "the original's cache has no result for 02 import: run `just build` first"
    for f in tampered:
        f.write_text(f.read_text().replace("42", "41"))
    proc = just_build(copy, BOOK_CACHE_DIR=str(cache))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (copy / "target/book/ch02-c-extension.html").read_text()
    assert re.search(r"(?m)^42$", page) and not re.search(r"(?m)^41$", page)


# (2) The environment's packages are in the cache key (a sitecustomize, another version).
def test_python_environment_is_in_the_cache_key(tmp_path, monkeypatch):
    import sys
    sys.path.insert(0, str(ROOT / "scripts"))
    from bookpipe import config, verdicts
    site = tmp_path / "venv/lib/python3.11/site-packages"
    (site / "maturin-1.16.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(config, "VENV", tmp_path / "venv")

    def digest():
        monkeypatch.setattr(verdicts, "_ENVIRONMENT", None)
        return verdicts.environment_digest()
    first = digest()
    (site / "maturin-1.16.0.dist-info").rename(site / "maturin-1.15.0.dist-info")
    second = digest()
    (site / "sitecustomize.py").write_text("print('hello')\n")
    third = digest()
    (site / "sitecustomize.py").write_text("print('hello again')\n")
    assert len({first, second, third, digest()}) == 4


# (3) A build script's rerun-if-changed must not hide a source it reads.
def test_build_script_that_hides_a_module_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/01-shared-library/build.rs", 'rerun-if-changed=src"', 'rerun-if-changed=src/lib.rs"')
    (copy / "steps/01-shared-library/src/twice.rs").write_text("pub fn twice() {}\n")
    assert_red(just_build(copy), r"steps/01-shared-library/build\.rs: reruns for src/lib\.rs but not "
               r"for src/twice\.rs")


# (4) The page's structure: no element left open, the sidebar's numbers agree with the chapters'.
def test_unclosed_html_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "book/ch01-shared-library.md", "## Recap", "<details>\n\n## Recap")
    assert_red(just_build(copy), r"book/ch01-shared-library\.md: <details> \(before .*\) is never "
               r"closed", r"print\.html \(the whole book on one page\): <details>")


def test_sidebar_numbers_that_disagree_are_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    summary = copy / "book/SUMMARY.md"
    text = summary.read_text()
    three = "- [A Python module in Rust](ch03-rust-extension.md)\n"
    four = "- [Threads and the GIL](ch04-concurrency.md)\n"
    assert three in text and four in text
    summary.write_text(text.replace(three, "@@").replace(four, three).replace("@@", four))
    assert_red(just_build(copy), r"the sidebar numbers ch04-concurrency\.md \('Threads and the GIL'\) "
               r"as chapter 3")


# (5) A diff that shows the same lines says what differs.
def test_newline_only_drift_says_so(tmp_path):
    copy = throwaway_copy(tmp_path)
    f = copy / "steps/02-c-extension/expected/import.txt"
    f.write_text(f.read_text() + "\n")
    assert_red(just_build(copy), r"differs from the expectation: only the final newline")


# --- Serving: a reader can always read ----------------------------------------------------------


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_fetch(cmd: list[str], cwd: Path, env: dict, page: str, timeout: float = 300):
    """Start a server, fetch `page` from it once it answers, stop it; (text, output, seconds)."""
    import signal
    import time
    import urllib.request
    port = free_port()
    start = time.monotonic()
    proc = subprocess.Popen([*cmd, str(port)] if cmd[0] == "just" else [*cmd, "--port", str(port)],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        while True:
            assert proc.poll() is None, f"{cmd} ended: {proc.communicate()[0].decode()}"
            assert time.monotonic() - start < timeout, f"{cmd} served nothing in {timeout} s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/{page}", timeout=2) as r:
                    text = r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        return text, time.monotonic() - start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate()


def test_serve_serves_the_book_whatever_fails(tmp_path):
    """`just serve` with an output broken on purpose: one summary names it, the page shows its
    box, and `just build` still fails."""
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/02-c-extension/expected/import.txt", "42", "41")
    env = just_env()
    prepare = subprocess.run(["scripts/book", "prepare"], cwd=copy, env=env, capture_output=True,
                             text=True, timeout=600)
    assert prepare.returncode == 0, prepare.stderr
    summary = subprocess.run(["scripts/book", "summary"], cwd=copy, env=env, capture_output=True,
                             text=True)
    assert summary.returncode == 0
    assert re.search(r"book: 1 output\(s\) failed their check", summary.stderr), summary.stderr
    assert re.search(r"chapter 02 `import`: its output differs from the expectation", summary.stderr)
    page, _ = serve_and_fetch(["just", "serve"], copy, env, "ch02-c-extension.html")
    assert 'class="book-failure"' in page, "the served page shows no failure box"
    assert re.search(r"(?m)^-41$", page) and re.search(r"(?m)^\+42$", page)
    assert_red(just_build(copy), r"FAILED: chapter 02 .*command `import`")


def test_plain_mdbook_serve_works_after_setup(tmp_path):
    """What mdBook users type, with nothing of the Justfile's environment: the book's outputs
    are checked and shown all the same."""
    copy = throwaway_copy(tmp_path)
    env = {k: v for k, v in just_env().items() if k not in ("PYO3_PYTHON", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    page, _ = serve_and_fetch(["mdbook", "serve"], copy, env, "ch02-c-extension.html", timeout=600)
    assert "book-failure" not in page and re.search(r"(?m)^42$", page), page[-2000:]


# (5) A shown-not-compared table is checked for sense, not only for digits in their places.
@pytest.mark.parametrize("old, new, needle", [
    ('f"<td align=\\"right\\">{fmt(r.ns_min)}</td>"', 'f"<td align=\\"right\\">{fmt(r.instructions, 0)}</td>"',
     r"its table's row 'py-def' has 'ns per call, median' [\d.]+ below 0.5 x 'ns per call, min'"),
    ('f"<td align=\\"right\\">{fmt(r.ns_median)}</td>"', 'f"<td align=\\"right\\">{fmt(-r.ns_median)}</td>"',
     r"its table's row 'py-def' has '-[\d.]+' in 'ns per call, median', which must be a number above"),
], ids=["columns-swapped", "median-negated"])
def test_table_without_sense_is_caught(tmp_path, old, new, needle):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/07-call-overhead/py/overhead.py", old, new)
    assert_red(just_build(copy), r"FAILED: chapter 07 .*command `table`", needle)


# (4) A diagram that does not render as drawn: a box with a missing corner, a side that does not
# meet its corner.
@pytest.mark.parametrize("page, old, new, needle", [
    ("ch02-c-extension.md", "'--------------------------'  \"dlsym(PyInit_foo)\"",
     "'--------------------------   \"dlsym(PyInit_foo)\"",
     r"the line from column \d+ to \d+ leaves a corner and ends in the air"),
    ("ch01-shared-library.md", '| "RUNPATH $ORIGIN"   |', '| "RUNPATH $ORIGIN"    ',
     r"the side in column \d+ leaves a corner and ends in the air"),
], ids=["missing-corner", "side-that-does-not-meet"])
def test_broken_diagram_is_caught(tmp_path, page, old, new, needle):
    copy = throwaway_copy(tmp_path)
    edit(copy / "book" / page, old, new)
    assert_red(just_build(copy), rf"book/{re.escape(page)}:\d+: the diagram opened at line \d+: "
               + needle)


# (5) A ratio shown agrees with the counts it comes from.
def test_ratio_that_disagrees_with_its_counts_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/08-helper/py/zero_cost.py", "found[num] / found[den]:.2f",
         "found[den] / found[num]:.2f")
    assert_red(just_build(copy), r"FAILED: chapter 08 .*command `zero-cost`",
               r"its ratio 0\.\d\d \(matched by .*helper/raw-fastcall.*\) disagrees with the figures "
               r"it comes from: \d+ / \d+ = 1\.")


# (6) Every script a page includes runs in `just build`.
@pytest.mark.parametrize("path, old, new, needle", [
    ("steps/04-concurrency/bench.py", 'print(f"gil-release speed-up (2 threads)',
     'print(f"speed-up with the GIL released',
     r"FAILED: chapter 04 .*command `bench-lines`(.|\n)*no match for the `shape` regex "
     r"'[^']*gil-release speed-up"),
    ("steps/04-concurrency/commands.toml", '"exit_busy.py" = "src:py/exit_busy.py"\n', "",
     r"book/ch04-concurrency\.md: `\{\{#include \.\./steps/04-concurrency/py/exit_busy\.py:all\}\}` "
     r"shows steps/04-concurrency/py/exit_busy\.py, which no command of `just build` runs"),
    ("steps/02-c-extension/by-hand.sh", "cp ../../../steps/02-c-extension/py/overflow.py .\n", "",
     r"chapter 02 .*: steps/02-c-extension/by-hand\.sh, which its page shows, gathers other files "
     r"than the book's commands ran with: only by hand \[\], only staged \['overflow\.py'\]"),
], ids=["quoted-line-gone", "script-not-run", "by-hand-staging"])
def test_included_script_that_no_build_runs_is_caught(tmp_path, path, old, new, needle):
    copy = throwaway_copy(tmp_path)
    edit(copy / path, old, new)
    assert_red(just_build(copy), needle)


# (2) What a command runs with is on its page: its folder in the prompt, no environment of its own.
@pytest.mark.parametrize("path, old, new, needles", [
    ("steps/02-c-extension/commands.toml", 'id = "import"\n', 'id = "import"\nenv = { PYTHONPATH = "py" }\n',
     [r"chapter 02 .*: command `import` sets `env` \(PYTHONPATH\), which its page does not show"]),
    ("steps/03-rust-extension/commands.toml", 'cwd = "3-returns-zero"', 'cwd = "2-init-in-rust"',
     [r"FAILED: chapter 03 .*command `stage3-zero`", r"(?m)^-3-returns-zero\$ python3",
      r"(?m)^\+2-init-in-rust\$ python3"]),
], ids=["env", "cwd"])
def test_settings_the_page_does_not_show_are_caught(tmp_path, path, old, new, needles):
    copy = throwaway_copy(tmp_path)
    edit(copy / path, old, new)
    assert_red(just_build(copy), *needles)


# (3) An output that moves from stdout to stderr looks the same on the page, but it drifts.
def test_output_that_changes_stream_is_caught(tmp_path):
    copy = throwaway_copy(tmp_path)
    edit(copy / "steps/02-c-extension/py/overflow.py", "print(foo.sum(2**63 - 2, 1))",
         'print(foo.sum(2**63 - 2, 1), file=__import__("sys").stderr)')
    assert_red(just_build(copy), r"FAILED: chapter 02 .*command `overflow`",
               r"differs from the expectation: only the streams", r"(?m)^\+2\| 9223372036854775807$")
