"""The drift check can fail, one check at a time: each test breaks the book on purpose and expects
red from the check that must catch it.

A check is a function of the pipeline named `*_problems` that returns what it finds; `book check`
runs them (cli.cmd_check), and prints the reports that `prepare` wrote for the outputs that
failed theirs (cache.checked). The tests here run in this process, on the pipeline's own
functions, in a copy of what the main build (`just build`) left: the pages, the step sources, the
rendered HTML, the checked page outputs, the staged files and the cached outputs. A fault is
injected into those real files, and `red(check, needles)` expects that check (wherever the
pipeline calls it from) to find it. The whole builds that prove each stage's wiring, one fault
per stage, are in tests/test_drift_builds.py; test_every_check_has_a_fault fails on a check that
no test here turns red.

Where each fault of the former tests/test_drift.py (56 whole builds) is now: a test of this file
(here), and/or a whole build of tests/test_drift_builds.py (builds).

  clean_copy_is_green: here copy_is_green; builds edit_saved_with_an_old_time (its first build)
  stale_expectation: here stale_expectation; builds stale_expectation
  changed_code (ch01), changed_rust_module[03, 05]: builds changed_rust_code (one build, all three)
  changed_c_code: builds changed_c_code
  failing_command: here failing_command
  hanging_command: here hang[sleep]; builds hang_and_detached_children
  detached_process_cannot_outlive_its_timeout[detached-sleep, endless]: here hang[detached-sleep,
      endless]; builds hang_and_detached_children (one build, all three hangs)
  unexpanded_marker: here unexpanded_marker[marker]; builds unexpanded_marker
  unknown_command_on_a_page: here, the same name
  edit_saved_with_an_old_time: builds edit_saved_with_an_old_time; here sync_sources_* (the rule)
  marker_on_a_page_outside_the_summary_is_not_shown: here marker_on_a_page_outside_the_summary
  broken_include[anchor-prefix, spaced-missing-file, line-range]: here, the same names
  mdbook_error_fails_the_build: here mdbook_error; builds mdbook_error
  uncompared_output_of_the_wrong_shape[empty]: here wrong_shape[empty]; builds wrong_shape
  uncompared_output_of_the_wrong_shape[missing-row]: here wrong_shape[missing-row]
  callers_environment_does_not_reach_the_commands: here commands_environment; builds
      callers_environment
  commands_environment_is_defined: here commands_environment
  include_inside_a_list_item, second_title, output_block_that_does_not_render: here, the same names
  version_specific_expectation_is_used: here, the same name; builds version_specific_expectation
  failure_is_shown_on_the_page_while_serving: here failure_box_while_serving; builds serve
  page_that_would_lie[6 cases]: here, the same names
  expectation_that_is_never_checked[4 cases]: here, the same names
  tampered_cache_is_not_shown: here, the same name; builds tampered_cache
  python_environment_is_in_the_cache_key: here, unchanged
  build_script_that_hides_a_module, unclosed_html, sidebar_numbers_that_disagree,
      newline_only_drift_says_so: here, the same names
  serve_serves_the_book_whatever_fails: builds serve; here failure_box_while_serving
  plain_mdbook_serve_works_after_setup: builds plain_mdbook_serve
  table_without_sense[2 cases], broken_diagram[2 cases], ratio_that_disagrees_with_its_counts:
      here, the same names
  included_script_that_no_build_runs[quoted-line-gone]: here quoted_line_gone
  included_script_that_no_build_runs[script-not-run]: here, the same name
  included_script_that_no_build_runs[by-hand-staging]: here by_hand_staging_that_differs; builds
      by_hand_staging
  settings_the_page_does_not_show[env, cwd]: here env_the_page_does_not_show,
      cwd_the_page_does_not_show
  output_that_changes_stream: here, the same name; builds output_that_changes_stream

New: output_out_of_order (a page shows its outputs in the order of commands.toml),
sync_sources_built_but_no_record (and the two other cases of the rule), a fault for each check that
had none (anchor_that_is_never_closed, missing_page, html_output_that_is_not_intact,
unexpanded_marker[error], report_problems in stale_expectation), and the two meta-tests at the end.
Later: misspelt_key (a key of commands.toml that no record has)."""

import ast
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from support import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import (build, by_hand, cache, cli, commands, config,  # noqa: E402
                      definitions, diagrams, guide, markdown, pages, rendered, run, sources, steps,
                      verdicts)

# What the main build (`just build`) left, whose files the faults are injected into (in a copy).
BUILT = ROOT / "target"
PIPELINE = ROOT / "scripts" / "bookpipe"
MODULES = (config, commands, steps, build, run, verdicts, cache, pages, diagrams, markdown, rendered,
           definitions, by_hand, cli, guide, sources)


class Book:
    """A copy of the book's sources and of what the main build left, with the pipeline's paths
    pointed at it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / "target" / "book-work"

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text, f"{rel} no longer contains {old!r}: update this test"
        path.write_text(text.replace(old, new, 1))

    def html(self, name: str) -> Path:
        return self.root / "target" / "book" / name

    def step(self, nn: str) -> steps.Step:
        return steps.find_step(nn)

    def stage(self, nn: str) -> dict:
        """Copy the main build's staged files of chapter NN, to run its commands; its manifest."""
        dest = self.work / "stage" / nn
        shutil.rmtree(dest)
        shutil.copytree(BUILT / "book-work" / "stage" / nn, dest, symlinks=True)
        return self.manifest(nn)

    def manifest(self, nn: str) -> dict:
        import json
        return json.loads((self.work / "stage" / nn / ".manifest.json").read_text())


def point_pipeline_at(root: Path, monkeypatch) -> None:
    """Every module's view of where the book and its build are, set to `root`."""
    target = root / "target"
    work = target / "book-work"
    where = dict(ROOT=root, STEPS=root / "steps", BOOK_SRC=root / "book", TARGET=target, WORK=work,
                 STAGE=work / "stage", RUNS=work / "run", CACHE=work / "cache",
                 FAILURES=work / "failures", READY=work / "ready", READY_TOKEN=work / "ready" / ".token",
                 CHECKED=work / "checked.json", MDBOOK_LOG=work / "mdbook.log", HTML=target / "book",
                 HOME=work / "home")
    for module in MODULES:
        for name, value in where.items():
            if isinstance(getattr(module, name, None), Path):
                monkeypatch.setattr(module, name, value)
    monkeypatch.setattr(build, "_HASHES", None)  # the sources' hashes, remembered per process
    monkeypatch.delenv("BOOK_READY_TOKEN", raising=False)


@pytest.fixture(scope="session")
def main_build() -> Path:
    """The main build's work folder, checked to be of the sources as they are now (else a copy
    would stage, i.e. build everything again)."""
    work = BUILT / "book-work"
    if not (work / "checked.json").exists():
        pytest.fail("the main build is missing: run `just build` first")
    stale = [s.nn for s in steps.all_steps()
             if (work / "stage" / f"{s.nn}.stamp").read_text() != build.sources_digest()]
    if stale:
        pytest.fail(f"the main build is older than the sources (chapters {stale}): run `just build`")
    return work


@pytest.fixture
def book(tmp_path, monkeypatch, main_build) -> Book:
    """The copy: pages, step sources (and scripts/ and tests/, which pages include from), and of
    the main build its rendered pages (the HTML
    files), its checked page outputs, mdbook's log, each step's manifest and stamp (not the staged
    files, which Book.stage copies for the tests that run commands) and the by-hand scripts'
    passing results."""
    root = tmp_path / "book"
    shutil.copytree(ROOT / "book", root / "book")
    shutil.copytree(ROOT / "steps", root / "steps", symlinks=True,
                    ignore=shutil.ignore_patterns("target", "__pycache__"))
    for folder in ("scripts", "tests"):  # pages include files of these too
        shutil.copytree(ROOT / folder, root / folder, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    shutil.copy2(ROOT / "Justfile", root / "Justfile")  # and of this one
    # The commands' PATH names the book's interpreter through ROOT/.venv, as the main build's did.
    (root / ".venv").symlink_to(ROOT / ".venv")
    html = BUILT / "book"
    for f in html.rglob("*.html"):
        (root / "target" / "book" / f.relative_to(html)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, root / "target" / "book" / f.relative_to(html))
    shutil.copy2(html / sources.ARCHIVE, root / "target" / "book")
    work = root / "target" / "book-work"
    shutil.copytree(main_build / "ready", work / "ready")
    shutil.copy2(main_build / "mdbook.log", work / "mdbook.log")
    for step in steps.all_steps():
        (work / "stage" / step.nn).mkdir(parents=True)
        shutil.copy2(main_build / "stage" / step.nn / ".manifest.json", work / "stage" / step.nn)
        shutil.copy2(main_build / "stage" / f"{step.nn}.stamp", work / "stage")
    (work / "cache").mkdir()
    for f in (main_build / "cache").glob("by-hand-*.ok"):
        shutil.copy2(f, work / "cache")
    point_pipeline_at(root, monkeypatch)
    return Book(root)


@contextmanager
def red(check, *needles: str):
    """Expect `check` (a `*_problems` function of the pipeline) to find a problem while the block
    runs, whoever calls it, with messages that match each regex of `needles`. Yields the list of
    what it found."""
    found: list[str] = []

    def spy(*args, **kwargs):
        result = check(*args, **kwargs)
        found.extend(p if isinstance(p, str) else p[1] for p in result)
        return result
    with pytest.MonkeyPatch.context() as mp:
        for module in MODULES:
            for name, value in list(vars(module).items()):
                if value is check:
                    mp.setattr(module, name, spy)
        yield found
    assert found, f"{check.__name__} found nothing: the fault went unnoticed"
    text = "\n".join(found)
    for needle in needles:
        assert re.search(needle, text), f"{check.__name__}'s problems lack {needle!r}:\n{text}"


def cached_output(nn: str, cid: str) -> str:
    """The main build's cached output of a command (what it printed, normalised)."""
    found = [f for f in (BUILT / "book-work" / "cache").glob(f"{nn}-*.txt")
             if re.fullmatch(rf"{nn}-{re.escape(cid)}-[0-9a-f]{{32}}\.txt", f.name)]
    assert len(found) == 1, f"the main build's cache holds {len(found)} outputs of {nn} {cid}"
    return found[0].read_text()


def run_and_judge(step: steps.Step, cid: str) -> str | None:
    """Run a command as `prepare` does (with no cache), and its report, None if it passes."""
    return verdicts.verdict(step, cid, *run.run_command(step, cid))


def test_copy_is_green(book):
    """The copy, untouched, passes every check: each fault below is what turns it red."""
    assert cli.cmd_check() == 0


# --- What `prepare` judges: each command's output ----------------------------------------------


def test_stale_expectation(book):
    book.edit("steps/02-c-extension/expected/import.txt", "42", "41")
    step, manifest = book.step("02"), book.stage("02")
    with red(verdicts.comparison_problems, r"its output differs from the expectation$"):
        report = cache.checked(step, "import", manifest)
    assert re.search(r"FAILED: chapter 02 .*command `import`", report)
    assert re.search(r"(?m)^-41$", report) and re.search(r"(?m)^\+42$", report)
    assert "just bless 02" in report
    # `book check` prints it, and the page shows it.
    with red(verdicts.report_problems, r"FAILED: chapter 02 .*command `import`"):
        assert cli.cmd_check() == 1
    assert 'class="book-failure"' in (book.work / "ready" / "02-import.md").read_text()


def test_failing_command(book):
    book.edit("steps/02-c-extension/commands.toml", "print(foo.sum(40, 2))", "print(foo.sum(40))")
    book.stage("02")
    with red(verdicts.status_problems, r"exited with status 1, expected 0"):
        report = run_and_judge(book.step("02"), "import")
    assert "TypeError" in report


@pytest.mark.parametrize("line", [
    "python3 -c 'import foo, time; time.sleep(60)'",
    "setsid sleep {marker} & echo started",
    "setsid bash -c 'while :; do sleep 1; done' {marker} & echo started",
], ids=["sleep", "detached-sleep", "endless"])
def test_hang(book, line):
    """A hang ends at its timeout, with every process it started, however detached."""
    # A number no other process has in its command line: sleep's argument, or the loop's $0.
    marker = f"317.{os.getpid()}{time.monotonic_ns() % 10**6:06d}"
    book.edit("steps/02-c-extension/commands.toml",
              'run = ["python3 -c \'import foo; print(foo.sum(40, 2))\'"]',
              f'timeout = 1\nrun = ["{line.format(marker=marker)}"]')
    book.stage("02")
    start = time.monotonic()
    with red(verdicts.status_problems, r"was still running after its timeout of 1 s, so it and every "
             r"process it started were killed"):
        report = run_and_judge(book.step("02"), "import")
    assert time.monotonic() - start < 30, "the run waited for the detached process"
    assert "A hang is not a changed output: do not bless it" in report
    assert "update the expectation with" not in report
    left = subprocess.run(["pgrep", "-f", re.escape(marker)], capture_output=True, text=True)
    assert left.stdout == "", f"processes outlived the command: {left.stdout}"


def test_commands_environment(book, monkeypatch, tmp_path):
    """Commands run in an environment built from nothing: what the caller's shell sets (these
    changed chapter 6's outputs once) never reaches them, and HOME is theirs."""
    for name, value in dict(PYTHONFAULTHANDLER="1", PYTHONWARNINGS="error", RUST_BACKTRACE="full",
                            PYTHONPATH=str(tmp_path), SOMETHING_ELSE="x").items():
        monkeypatch.setenv(name, value)
    book.edit("steps/02-c-extension/commands.toml",
              'run = ["python3 -c \'import foo; print(foo.sum(40, 2))\'"]', 'run = ["env | sort"]')
    book.stage("02")
    transcript, lines = run.run_command(book.step("02"), "import")
    assert verdicts.judge(book.step("02"), "import", transcript, lines, compare=False) == []
    names = set(re.findall(r"(?m)^([A-Z_][A-Z0-9_]*)=", transcript))
    assert names <= {"PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME", "LC_ALL", "TERM", "NO_COLOR",
                     "RUST_BACKTRACE", "PYTHONDONTWRITEBYTECODE", "PWD", "SHLVL", "_", "OLDPWD"}, names
    assert re.search(r"(?m)^RUST_BACKTRACE=0$", transcript), transcript
    assert re.search(r"(?m)^HOME=~$", transcript), transcript


@pytest.mark.parametrize("fault", ["empty", "missing-row", "held-calls-overlapped"])
def test_wrong_shape(book, fault):
    """An output shown but not compared (timings) still has the shape the page describes, and the
    figures the page says are checked: the calls that hold the GIL never overlap."""
    if fault == "empty":
        book.edit("steps/04-concurrency/commands.toml", 'run = ["python3 scaling.py"]', 'run = ["true"]')
        book.stage("04")
        with red(verdicts.shape_problems, r"its output is empty"):
            report = run_and_judge(book.step("04"), "scaling")
        assert re.search(r"FAILED: chapter 04 .*command `scaling`", report)
    elif fault == "missing-row":  # what `python3 scaling.py | head -3` leaves: header and one row
        text = "".join(cached_output("04", "scaling").splitlines(keepends=True)[:4])
        with red(verdicts.shape_problems, r"no match for the `shape` regex '\^count_primes_nogil"):
            verdicts.shape_problems(book.step("04").command("scaling"), text)
    else:  # the GIL-holding row with the overlap a released GIL gives (as if it released it)
        text = cached_output("04", "scaling")
        text, n = re.subn(r"(?m)^(count_primes +.*) 0\.00$", r"\1 0.37", text)
        assert n == 1, text
        with red(verdicts.shape_problems, r"no match for the `shape` regex '\^count_primes \+"):
            verdicts.shape_problems(book.step("04").command("scaling"), text)


def test_quoted_line_gone(book):
    """bench.py's last line, which the page quotes, printed differently: the shape of the command
    that runs it for the page (bench-lines) no longer matches."""
    text = cached_output("04", "bench-lines")
    assert "gil-release speed-up (2 threads)" in text
    text = text.replace("gil-release speed-up (2 threads)", "speed-up with the GIL released")
    with red(verdicts.shape_problems, r"no match for the `shape` regex '[^']*gil-release speed-up"):
        verdicts.shape_problems(book.step("04").command("bench-lines"), text)


def table_with(fault: str, text: str) -> str:
    """Chapter 7's real table as overhead.py would print it with a fault: the min column showing
    the instruction counts, or the median negated."""
    def row(m: re.Match) -> str:
        cells = re.findall(r"<td[^>]*>.*?</td>", m.group(0))
        if len(cells) != 5:
            return m.group(0)
        if fault == "columns-swapped":
            cells[2] = cells[4]
        else:
            cells[3] = re.sub(r">([\d.,]+)<", r">-\1<", cells[3])
        return "<tr>" + "".join(cells) + "</tr>"
    return re.sub(r"<tr>.*?</tr>", row, text)


@pytest.mark.parametrize("fault, needle", [
    ("columns-swapped", r"its table's row 'py-def' has 'ns per call, median' [\d.]+ below 0.5 x "
                        r"'ns per call, min'"),
    ("median-negated", r"its table's row 'py-def' has '-[\d.]+' in 'ns per call, median', which "
                       r"must be a number above"),
])
def test_table_without_sense(book, fault, needle):
    cmd = book.step("07").command("table")
    with red(verdicts.table_problems, needle), red(verdicts.shape_problems, needle):
        verdicts.shape_problems(cmd, table_with(fault, cached_output("07", "table")))


def test_ratio_that_disagrees_with_its_counts(book):
    """zero_cost.py's ratios inverted (den / num), in chapter 8's real output."""
    def inverted(m: re.Match) -> str:
        return f"{m.group(1)}{1 / float(m.group(2)):.2f}"
    text = re.sub(r"(?m)^(ratio [^:]+: )(\d+\.\d+)", inverted, cached_output("08", "zero-cost"))
    with red(verdicts.ratio_problems, r"its ratio 0\.\d\d \(matched by .*helper/raw-fastcall.*\) "
             r"disagrees with the figures it comes from: \d+ / \d+ = 1\."):
        verdicts.shape_problems(book.step("08").command("zero-cost"), text)


def test_newline_only_drift_says_so(book):
    f = book.root / "steps/02-c-extension/expected/import.txt"
    f.write_text(f.read_text() + "\n")
    with red(verdicts.comparison_problems, r"differs from the expectation: only the final newline"):
        verdicts.verdict(book.step("02"), "import", cached_output("02", "import"))


def test_output_that_changes_stream(book):
    """What overflow.py prints moved to stderr: the page shows the same text, yet it drifted."""
    edit = ("print(foo.sum(2**63 - 2, 1))", 'print(foo.sum(2**63 - 2, 1), file=__import__("sys").stderr)')
    book.edit("steps/02-c-extension/py/overflow.py", *edit)
    book.stage("02")
    book.edit("target/book-work/stage/02/overflow.py", *edit)  # as staging copies it
    with red(verdicts.comparison_problems, r"differs from the expectation: only the streams"):
        report = run_and_judge(book.step("02"), "overflow")
    assert re.search(r"(?m)^\+2\| 9223372036854775807$", report), report


def test_cwd_the_page_does_not_show(book):
    """A command's folder is in its prompt: another folder is another output."""
    book.edit("steps/03-rust-extension/commands.toml", 'cwd = "3-returns-zero"', 'cwd = "2-init-in-rust"')
    book.stage("03")
    with red(verdicts.comparison_problems, r"differs from the expectation"):
        report = run_and_judge(book.step("03"), "stage3-zero")
    assert re.search(r"(?m)^-3-returns-zero\$ python3", report), report
    assert re.search(r"(?m)^\+2-init-in-rust\$ python3", report), report


def test_version_specific_expectation_is_used(book):
    """An expectation for the running CPython takes precedence over expected/ID.txt."""
    expected = book.root / "steps/02-c-extension/expected"
    variant = expected / f"import@{config.PYVER}.txt"
    variant.write_text((expected / "import.txt").read_text().replace("42", "41"))
    with red(verdicts.comparison_problems, r"differs from the expectation"):
        report = verdicts.verdict(book.step("02"), "import", cached_output("02", "import"))
    assert re.search(rf"expected \(steps/02-c-extension/expected/import@{re.escape(config.PYVER)}"
                     r"\.txt\)", report), report
    assert re.search(r"(?m)^-41$", report), report


def test_tampered_cache_is_not_shown(book):
    """A cached result is shown only while it equals its expectation, whatever the cache holds."""
    step, manifest = book.step("02"), book.stage("02")
    cached = book.work / "cache" / f"02-import-{cache.cache_key(step, 'import', manifest)}.txt"
    cached.write_text(cached_output("02", "import").replace("42", "41"))
    assert cache.checked(step, "import", manifest) is None
    shown = (book.work / "ready" / "02-import.md").read_text()
    assert re.search(r"(?m)^42$", shown) and not re.search(r"(?m)^41$", shown), shown
    assert cached.read_text() == cached_output("02", "import")


def test_failure_box_while_serving(book, capsys):
    """`mdbook serve` renders without `book check`: a page output checked on its own (no token
    from `prepare`) shows a drifted output as a failure box with its diff, and `summary` names it."""
    book.edit("steps/02-c-extension/expected/import.txt", "42", "41")
    book.stage("02")
    with red(verdicts.comparison_problems):
        assert cli.cmd_show("02", "import") == 0
    out, err = capsys.readouterr()
    assert "This output failed its check</strong>: chapter 02, command <code>import</code>" in out
    assert re.search(r"(?m)^-41$", out) and re.search(r"(?m)^\+42$", out), out
    assert cli.cmd_summary() == 0
    err = capsys.readouterr().err
    assert re.search(r"book: 1 output\(s\) failed their check", err), err
    assert re.search(r"chapter 02 `import`: its output differs from the expectation", err), err


def test_python_environment_is_in_the_cache_key(tmp_path, monkeypatch):
    site = tmp_path / "venv/lib/python3.11/site-packages"
    (site / "maturin-1.16.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(config, "VENV", tmp_path / "venv")

    def digest():
        monkeypatch.setattr(cache, "_ENVIRONMENT", None)
        return cache.environment_digest()
    first = digest()
    (site / "maturin-1.16.0.dist-info").rename(site / "maturin-1.15.0.dist-info")
    second = digest()
    (site / "sitecustomize.py").write_text("print('hello')\n")
    third = digest()
    (site / "sitecustomize.py").write_text("print('hello again')\n")
    assert len({first, second, third, digest()}) == 4


# --- What `book check` reads after mdbook: its log and the rendered pages ------------------------


def test_mdbook_error(book):
    """mdbook logs a playground link to a missing file and carries on: the log fails the build."""
    with open(book.work / "mdbook.log", "a") as log:
        log.write('[ERROR] (mdbook::preprocess::links): Error updating "{{#playground '
                  '../steps/02-c-extension/nofile.rs}}", Could not read file\n')
    with red(rendered.mdbook_log_problems, r"mdbook reported: .*\[ERROR\]"):
        rendered.mdbook_log_problems()


@pytest.mark.parametrize("left", ["<!-- cmdrun ../scripts/book show 02 import -->",
                                  "<p><strong>cmdrun error</strong>: exit status 1</p>"],
                         ids=["marker", "error"])
def test_unexpanded_marker(book, left):
    """What mdbook-cmdrun leaves when it is not enabled (the marker), or a command it ran failed
    outside the pipeline (its error): both only render."""
    page = book.html("ch02-c-extension.html")
    page.write_text(page.read_text().replace('<h2 id="recap">', f"{left}\n<h2 id=\"recap\">", 1))
    with red(rendered.rendered_marker_problems,
             r"ch02-c-extension\.html: (a cmdrun marker was left unexpanded|mdbook-cmdrun reported "
             r"an error that left no report)"):
        rendered.rendered_marker_problems()


def test_second_title(book):
    book.edit("book/ch02-c-extension.md", "## Importing it", "# Importing it")
    # what mdbook renders of it
    page = book.html("ch02-c-extension.html")
    page.write_text(re.sub(r'<h2 (id="importing-it".*?)</h2>', r"<h1 \1</h1>", page.read_text()))
    with red(rendered.heading_problems, r"ch02-c-extension\.md: the rendered page has 2 <h1> headings"):
        assert rendered.check_pages()


def test_output_block_that_does_not_render(book):
    """A marker inside an HTML block: its output's fence is pasted into the <div> as text, which
    mdbook renders as such (no <pre>)."""
    marker = "<!-- cmdrun ../scripts/book show 02 import -->"
    book.edit("book/ch02-c-extension.md", marker, f"<div>\n{marker}\n</div>")
    page = book.html("ch02-c-extension.html")
    pre = re.compile(r"<pre><code class=\"language-console\">(\$ python3 -c 'import foo; "
                     r"print\(foo\.sum\(40, 2\)\)'\n42\n)</code></pre>")
    assert pre.search(page.read_text()), "the page no longer renders chapter 2's import as expected"
    page.write_text(pre.sub(r"<div>\n```console\n\1```\n</div>", page.read_text()))
    with red(rendered.listing_problems, r"book/ch02-c-extension\.md: listing \d+ of \d+ \(it starts "
             r"\"\$ python3 -c 'import foo; print\(foo\.sum\(40, 2\)\)'\"\) does not render exactly"):
        rendered.check_pages()


def test_unclosed_html(book):
    book.edit("book/ch01-shared-library.md", "## Recap", "<details>\n\n## Recap")
    for name in ("ch01-shared-library.html", "print.html"):  # print.html: ch01's is the first recap
        page = book.html(name)
        page.write_text(page.read_text().replace('<h2 id="recap">', '<details>\n<h2 id="recap">', 1))
    with red(rendered.unclosed_problems, r"book/ch01-shared-library\.md: <details> \(before .*\) is "
             r"never closed", r"print\.html \(the whole book on one page\): <details>"):
        rendered.check_pages()


def test_missing_page(book):
    book.html("ch05-hard-way.html").unlink()
    with red(rendered.missing_page_problems, r"book/ch05-hard-way\.md: mdbook rendered no "
             r"ch05-hard-way\.html"):
        rendered.check_pages()


@pytest.mark.parametrize("fault", ["no-link", "no-archive", "incomplete-archive"])
def test_source_archive_that_a_reader_cannot_use(book, fault):
    """The introduction links to the archive of the book's sources, which `just build` writes
    beside the pages: a link gone, an archive missing, or one without the Justfile is red."""
    intro, archive = book.html("introduction.html"), book.root / "target/book" / sources.ARCHIVE
    if fault == "no-link":
        intro.write_text(intro.read_text().replace(f'href="{sources.ARCHIVE}"', 'href="#"'))
        needle = rf"introduction\.html links to no {re.escape(sources.ARCHIVE)}"
    elif fault == "no-archive":
        archive.unlink()
        needle = r"which the rendered book does not hold"
    else:
        import tarfile
        with tarfile.open(archive) as tar, tarfile.open(archive.with_suffix(".new"), "w:gz") as out:
            for member in tar.getmembers():
                if member.name != f"{sources.TOP}/Justfile":
                    out.addfile(member, tar.extractfile(member) if member.isfile() else None)
        archive.with_suffix(".new").replace(archive)
        needle = r"lacks Justfile \(it holds \d+ files\)"
    with red(rendered.source_archive_problems, needle):
        rendered.check_pages()


def test_source_archive_holds_the_working_tree(book, tmp_path):
    """Written from a folder with no git (the copy, as a reader's unpacked archive), the archive
    holds the sources and nothing built or installed."""
    import tarfile
    written = sources.write_archive(tmp_path)
    with tarfile.open(written) as tar:
        names = set(tar.getnames())
    top = sources.TOP
    assert {f"{top}/book/introduction.md", f"{top}/steps/Cargo.toml",
            f"{top}/steps/01-shared-library/commands.toml"} <= names
    assert not [n for n in names if n.startswith((f"{top}/target/", f"{top}/.venv"))]


@pytest.mark.parametrize("fault", ["intro", "verified", "no-sentence"])
def test_matrix_versions_that_disagree(book, fault, monkeypatch):
    """The introduction names the versions tests/test_python_matrix.py builds the book under,
    and the version notes (config.VERIFIED) name the same."""
    intro = "book/introduction.md"
    said = re.search(markdown.MATRIX_SENTENCE, " ".join((book.root / intro).read_text().split()))
    assert said, "the introduction's sentence is gone"
    if fault == "intro":
        book.edit(intro, "3.13, 3.14 and 3.15", "3.13 and 3.14")
        needle = r"introduction\.md says the book is built under CPython 3\.11, 3\.12, 3\.13 and " \
            r"3\.14, but tests/test_python_matrix\.py builds it under 3\.11, 3\.12, 3\.13, 3\.14, 3\.15"
    elif fault == "verified":
        monkeypatch.setattr(config, "VERIFIED", ("3.11", "3.12", "3.13"))
        needle = r"VERIFIED \(3\.11, 3\.12, 3\.13\) is not the matrix"
    else:
        book.edit(intro, "build the whole book again under", "build the book under")
        needle = r"introduction\.md does not say which versions the book is built under"
    with red(markdown.matrix_problems, needle):
        markdown.check_markdown()


def test_html_output_that_is_not_intact(book):
    """Chapter 7's table is raw HTML on its page: a row lost on the way is red."""
    page = book.html("ch07-call-overhead.html")
    row = next(l for l in (book.work / "ready" / "07-table.md").read_text().splitlines()
               if "<code>py-def</code>" in l)
    assert row.strip() in page.read_text()
    page.write_text(page.read_text().replace(row.strip(), ""))
    with red(rendered.html_output_problems, r"ch07-call-overhead\.md: the HTML output of 07 `table` "
             r"is not intact on the page; missing: '<tr><td><code>py-def"):
        rendered.check_pages()


# --- What `book check` reads of the sources: pages and definitions -------------------------------


def test_unknown_command_on_a_page(book):
    book.edit("book/ch02-c-extension.md", "## Importing it",
              "## Importing it\n\n<!-- cmdrun ../scripts/book show 02 no-such-command -->\n")
    with red(markdown.marker_problems, r"ch02-c-extension\.md: .*no command 'no-such-command'"):
        markdown.marker_problems()


def test_marker_on_a_page_outside_the_summary(book):
    marker = "<!-- cmdrun ../scripts/book show 02 import -->"
    book.edit("book/ch02-c-extension.md", marker, "")
    (book.root / "book/unlisted.md").write_text(f"# Not in the summary\n\n{marker}\n")
    with red(markdown.marker_problems, r"book/unlisted\.md runs commands but is not in book/SUMMARY\.md",
             r"command `import` is defined but no rendered page shows it"):
        markdown.marker_problems()


def test_output_out_of_order(book):
    """Two of chapter 1's markers swapped: every output is still right, but each now stands beside
    the other command's prose."""
    first, second = ("<!-- cmdrun ../scripts/book show 01 loader-not-found -->",
                     "<!-- cmdrun ../scripts/book show 01 loader-wrong-way -->")
    book.edit("book/ch01-shared-library.md", first, "@@")
    book.edit("book/ch01-shared-library.md", second, first)
    book.edit("book/ch01-shared-library.md", "@@", second)
    with red(markdown.order_problems, r"book/ch01-shared-library\.md: the output of 01 "
             r"`loader-not-found` follows that of `loader-wrong-way`, while "
             r"steps/01-shared-library/commands\.toml defines `loader-not-found` first"):
        markdown.order_problems()


@pytest.mark.parametrize("old, new, needle", [
    ("foo.c:all}}", "foo.c:al}}", r"no anchor named exactly `al`"),
    ("{{#include ../steps/02-c-extension/foo.c:all}}", "{{ #include ../steps/02-c-extension/nofile.c }}",
     r"nofile\.c does not exist"),
    ("{{#include ../steps/02-c-extension/foo.c:all}}", "{{#include ../steps/02-c-extension/foo.c:2:9999}}",
     r"lines 2:9999 are not within the file's \d+ lines"),
], ids=["anchor-prefix", "spaced-missing-file", "line-range"])
def test_broken_include(book, old, new, needle):
    book.edit("book/ch02-c-extension.md", old, new)
    with red(markdown.include_problems, r"book/ch02-c-extension\.md: `\{\{ ?#include", needle):
        markdown.include_problems()


def test_anchor_that_is_never_closed(book):
    book.edit("steps/02-c-extension/foo.c", "// ANCHOR_END: all\n", "")
    with red(definitions.anchor_problems, r"steps/02-c-extension/foo\.c: anchor `all` is not both opened "
             r"and closed"):
        definitions.anchor_problems()



# A page that says its excerpts of a file, in order, are the whole file (markdown.WHOLE_CLAIM) must
# show them so; a file shown in several excerpts and never whole must say where the rest is.
@pytest.mark.parametrize("fault", ["out-of-order", "left-over", "wrong-count", "no-word"])
def test_excerpts_that_do_not_add_up(book, fault):
    page, code = "book/ch05-hard-way.md", "steps/05-hard-way/src/lib.rs"
    claim = r"book/ch05-hard-way\.md: it says the four excerpts of `steps/05-hard-way/src/lib\.rs`"
    if fault == "out-of-order":  # `tables` where `uses` was: out of order, and lines left out
        book.edit(page, "src/lib.rs:uses}}", "src/lib.rs:tables}}")
        needles = [claim + r".* but `sum` \(from line 13\) comes before `tables` \(lines 38-62\)",
                   r"no excerpt shows its line\(s\) 2, "]
    elif fault == "left-over":  # a line of code outside every anchor
        book.edit(code, "// ANCHOR_END: sum\n", "// ANCHOR_END: sum\nconst EXTRA: u8 = 0;\n")
        needles = [claim + r".* no excerpt shows its line\(s\) 37 \('const EXTRA"]
    elif fault == "wrong-count":
        book.edit(page, "These four excerpts", "These five excerpts")
        needles = [r"the five excerpts of .* but it includes 4 excerpt"]
    else:
        book.edit("book/ch09-ship.md", "These three excerpts, in order, are the whole of", "See")
        needles = [r"steps/09-ship/hooks/src/lib\.rs is shown in 3 excerpts \(book/ch09-ship\.md\) "
                   r"and never whole"]
    with red(markdown.excerpt_problems, *needles):
        markdown.check_markdown()

def test_include_inside_a_list_item(book):
    book.edit("book/ch02-c-extension.md", "```c\n{{#include ../steps/02-c-extension/foo.c:all}}\n```",
              "- The whole file:\n\n  ```c\n  {{#include ../steps/02-c-extension/foo.c:all}}\n  ```")
    with red(markdown.structure_problems, r"book/ch02-c-extension\.md:\d+: `\{\{#include "
             r"\.\./steps/02-c-extension/foo\.c:all\}\}` is in an indented listing"):
        markdown.structure_problems(book.root / "book/ch02-c-extension.md")


# (1) Every include renders exactly and alone; (6) every marker goes through the checked pipeline.
@pytest.mark.parametrize("page, old, new, check, needle", [
    ("ch01-shared-library.md", "{{#include ../steps/01-shared-library/Cargo.toml}}\n```\n",
     "{{#include ../steps/01-shared-library/Cargo.toml}}\n", "structure_problems",
     r"ch01-shared-library\.md:\d+: `\{\{#include \.\./steps/01-shared-library/Cargo\.toml\}\}` is not "
     r"alone in its listing: .* Is a closing fence missing\?"),
    ("ch02-c-extension.md", "## Importing it",
     "## Importing it\n\nThe file: {{#include ../steps/02-c-extension/foo.c:all}}\n", "structure_problems",
     r"ch02-c-extension\.md:\d+: `\{\{#include \.\./steps/02-c-extension/foo\.c:all\}\}` is not "
     r"inside a fenced listing"),
    ("ch02-c-extension.md", "## Importing it",
     "## Importing it\n\n{{#playground ../steps/02-c-extension/foo.c}}\n", "include_problems",
     r"ch02-c-extension\.md: `\{\{#playground \.\./steps/02-c-extension/foo\.c\}\}` would show the "
     r"reader the file's ANCHOR comments"),
    ("ch02-c-extension.md", "## Importing it", "## Importing it\n\n<!-- cmdrun echo unchecked -->\n",
     "structure_problems",
     r"ch02-c-extension\.md:\d+: `<!-- cmdrun echo unchecked -->` does not go through the checked "
     r"pipeline"),
    ("ch02-c-extension.md", "## Importing it",
     "## Importing it\n\nType `<!-- cmdrun ../scripts/book show 02 docstring -->` to see it.\n",
     "structure_problems",
     r"ch02-c-extension\.md:\d+: the marker `<!-- cmdrun \.\./scripts/book show 02 docstring -->` "
     r"is inside a line of text"),
    ("ch02-c-extension.md", "{{#include ../steps/02-c-extension/foo.c:all}}",
     "{{#include ../steps/02-c-extension/foo.c:3:9}}", "structure_problems",
     r"ch02-c-extension\.md:\d+: `\{\{#include \.\./steps/02-c-extension/foo\.c:3:9\}\}` includes "
     r"by line numbers"),
], ids=["missing-closing-fence", "include-in-prose", "playground-anchors", "unchecked-marker",
        "marker-in-inline-code", "line-range"])
def test_page_that_would_lie(book, page, old, new, check, needle):
    book.edit(f"book/{page}", old, new)
    if check == "include_problems":
        with red(markdown.include_problems, needle):
            markdown.check_markdown()
    else:
        with red(markdown.structure_problems, needle):
            markdown.check_markdown()


# (4) A diagram that does not render as drawn: a box with a missing corner, a side that does not
# meet its corner.
@pytest.mark.parametrize("page, old, new, needle", [
    ("ch02-c-extension.md", "'--------------------------'  \"dlsym(PyInit_foo)\"",
     "'--------------------------   \"dlsym(PyInit_foo)\"",
     r"the line from column \d+ to \d+ leaves a corner and ends in the air"),
    ("ch01-shared-library.md", '| "RUNPATH $ORIGIN"   |', '| "RUNPATH $ORIGIN"    ',
     r"the side in column \d+ leaves a corner and ends in the air"),
], ids=["missing-corner", "side-that-does-not-meet"])
def test_broken_diagram(book, page, old, new, needle):
    book.edit(f"book/{page}", old, new)
    with red(diagrams.diagram_problems, needle), \
            red(markdown.structure_problems, rf"book/{re.escape(page)}:\d+: the diagram opened at "
                rf"line \d+: " + needle):
        markdown.structure_problems(book.root / "book" / page)


def test_sidebar_numbers_that_disagree(book):
    summary = book.root / "book/SUMMARY.md"
    text = summary.read_text()
    three = "- [A Python module in Rust](ch03-rust-extension.md)\n"
    four = "- [Threads and the GIL](ch04-concurrency.md)\n"
    assert three in text and four in text
    summary.write_text(text.replace(three, "@@").replace(four, three).replace("@@", four))
    with red(markdown.numbering_problems, r"the sidebar numbers ch04-concurrency\.md \('Threads and "
             r"the GIL'\) as chapter 3"):
        markdown.numbering_problems()


# (6) An expectation that is not compared, is shadowed, or repeats the one below it.
@pytest.mark.parametrize("fault, needle", [
    ("identical-variant", r"steps/02-c-extension/expected/import@3\.12\.txt: identical to import\.txt"),
    ("shadowing-variant", r"steps/02-c-extension/expected/import@3\.11\.txt: expected/import\.txt is "
                          r"CPython 3\.11's"),
    ("not-compared", r"steps/02-c-extension/expected/import\.txt: command `import` is not compared"),
    ("orphan", r"steps/02-c-extension/expected/gone\.txt: no command `gone`"),
])
def test_expectation_that_is_never_checked(book, fault, needle):
    expected = book.root / "steps/02-c-extension/expected"
    base = (expected / "import.txt").read_text()
    if fault == "identical-variant":
        (expected / "import@3.12.txt").write_text(base)
    elif fault == "shadowing-variant":
        (expected / "import@3.11.txt").write_text(base)
    elif fault == "not-compared":
        book.edit("steps/02-c-extension/commands.toml", 'id = "import"\n',
                  'id = "import"\ncompare = false\nshape = ["^42$"]\n')
    else:
        (expected / "gone.txt").write_text(base)
    with red(definitions.expectation_problems, needle):
        definitions.expectation_problems()


# (3) A build script's rerun-if-changed must not hide a source it reads.
def test_build_script_that_hides_a_module(book):
    book.edit("steps/01-shared-library/build.rs", 'rerun-if-changed=src"', 'rerun-if-changed=src/lib.rs"')
    (book.root / "steps/01-shared-library/src/twice.rs").write_text("pub fn twice() {}\n")
    with red(definitions.build_script_problems, r"steps/01-shared-library/build\.rs: reruns for "
             r"src/lib\.rs but not for src/twice\.rs"):
        definitions.build_script_problems()


# (6) Every script a page includes runs in `just build`.
def test_included_script_that_no_build_runs(book):
    book.edit("steps/04-concurrency/commands.toml", '"exit_busy.py" = "src:py/exit_busy.py"\n', "")
    with red(markdown.script_problems, r"book/ch04-concurrency\.md: `\{\{#include "
             r"\.\./steps/04-concurrency/py/exit_busy\.py:all\}\}` shows "
             r"steps/04-concurrency/py/exit_busy\.py, which no command of `just build` runs"):
        markdown.script_problems()


def test_by_hand_staging_that_differs(book, monkeypatch):
    """Chapter 2's by-hand.sh without the line that gathers overflow.py. It runs cargo on the main
    build's target folder, which must find everything built: the copy's sources are the same files
    with their times, and the edited script keeps its time too (its crate's build script reruns
    for any newer file of the package)."""
    monkeypatch.setenv("CARGO_TARGET_DIR", str(BUILT))
    book.edit("steps/02-c-extension/by-hand.sh", "cp ../../../steps/02-c-extension/py/overflow.py .\n", "")
    shutil.copystat(ROOT / "steps/02-c-extension/by-hand.sh", book.root / "steps/02-c-extension/by-hand.sh")
    with red(by_hand.by_hand_problems, r"chapter 02 .*: steps/02-c-extension/by-hand\.sh, which its "
             r"page shows, gathers other files than the book's commands ran with: only by hand \[\], "
             r"only staged \['overflow\.py'\]"):
        by_hand.by_hand_problems()


# (2) What a command runs with is on its page: no environment of its own.
def test_env_the_page_does_not_show(book):
    book.edit("steps/02-c-extension/commands.toml", 'id = "import"\n',
              'id = "import"\nenv = { PYTHONPATH = "py" }\n')
    with red(definitions.settings_problems, r"chapter 02 .*: command `import` sets `env` \(PYTHONPATH\), "
             r"which its page does not show"):
        definitions.settings_problems()


# A key of commands.toml that no record has: ignored, it would leave its command with the default.
@pytest.mark.parametrize("chapter, old, new, needle", [
    ("02-c-extension", 'id = "import"\n', 'id = "import"\ntimout = 60\n',
     r"chapter 02 .*: commands\.toml: command `import` has an unknown key `timout`; the keys it may "
     r"hold are id, run, cwd, env, timeout, "),
    ("01-shared-library", '{ run = "./main", status = 127 }', '{ run = "./main", stauts = 127 }',
     r"chapter 01 .*: line 2 of command `loader-not-found`'s `run` has an unknown key `stauts`; the "
     r"keys it may hold are run, status, hidden, timeout "),
], ids=["command", "line"])
def test_misspelt_key(book, chapter, old, new, needle):
    book.edit(f"steps/{chapter}/commands.toml", old, new)
    with red(definitions.key_problems, needle):
        assert cli.cmd_check() == 1


# --- Content, not modification times, decides what cargo rebuilds --------------------------------


@pytest.fixture
def checkout(tmp_path, monkeypatch) -> Path:
    """A copy of steps/ written afresh, as a checkout is (each file's time is that of its last
    change), and an empty cargo target folder for it."""
    copy = tmp_path / "steps"
    shutil.copytree(ROOT / "steps", copy, symlinks=True, copy_function=shutil.copy,
                    ignore=shutil.ignore_patterns("target", "__pycache__"))
    monkeypatch.setattr(build, "STEPS", copy)
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path / "cargo"))
    (tmp_path / "cargo").mkdir()
    return copy


def touched_by_sync(steps_copy: Path) -> set[str]:
    """The sources whose modification time build.sync_sources() changed."""
    def times() -> dict[str, int]:
        return {rel: os.stat(steps_copy / rel).st_mtime_ns for rel in build.source_hashes()}
    before = times()
    build.sync_sources()
    after = times()
    return {rel for rel in before if after[rel] != before[rel]}


def edit_with_old_time(path: Path) -> None:
    """An edit saved with an old time (`touch -d`, an archive, a copy that keeps times)."""
    path.write_text(path.read_text().replace('"tick {i}"', '"tock {i}"'))
    os.utime(path, (1577836800, 1577836800))  # 2020-01-01


EDITED = "04-concurrency/src/threads.rs"


def test_sync_sources_touches_nothing_where_nothing_is_built(checkout, tmp_path):
    """A new target folder (the version matrix's) compiles everything anyway: a touch would only
    make the other target folders of this tree rebuild."""
    edit_with_old_time(checkout / EDITED)
    assert touched_by_sync(checkout) == set()
    assert (tmp_path / "cargo" / "book-sources.json").exists()


def test_sync_sources_built_but_no_record(checkout, tmp_path):
    """A target folder that cargo built in, without the pipeline's record: the edit saved with an
    old time gets a fresh one (cargo rebuilds it), no other file does (no rebuild of everything)."""
    fingerprint = tmp_path / "cargo" / "debug" / ".fingerprint" / "step04-concurrency-0123456789abcdef"
    fingerprint.mkdir(parents=True)
    (fingerprint / "lib-step04_concurrency").write_text("0123456789abcdef")
    edit_with_old_time(checkout / EDITED)
    assert touched_by_sync(checkout) == {EDITED}
    assert os.stat(checkout / EDITED).st_mtime > time.time() - 60


def test_sync_sources_with_its_record(checkout, tmp_path):
    """With the record, content decides: an edit whatever its time, and nothing else."""
    (tmp_path / "cargo" / "debug" / ".fingerprint" / "x").mkdir(parents=True)
    build.sync_sources()  # the record
    edit_with_old_time(checkout / EDITED)
    os.utime(checkout / "02-c-extension" / "foo.c", (1577836800, 1577836800))  # same content
    assert touched_by_sync(checkout) == {EDITED}


# --- Every check has a fault -----------------------------------------------------------------


# `book check` runs cmd_check's checks, and prints the reports of the outputs that failed the
# checks `prepare` made (cache.checked) on each command's output.
ROOTS = ("cmd_check", "checked")


def pipeline_functions() -> dict[str, ast.FunctionDef]:
    """The pipeline's module-level functions by name (a name is unique across the package)."""
    found: dict[str, ast.FunctionDef] = {}
    for f in sorted(PIPELINE.glob("*.py")):
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                assert node.name not in found, f"{node.name} is defined twice in the pipeline"
                found[node.name] = node
    return found


def reachable(functions: dict[str, ast.FunctionDef]) -> set[str]:
    """The functions that ROOTS call or refer to, and those that they do, and so on."""
    seen: set[str] = set()
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Name):
                todo.append(node.id)
            elif isinstance(node, ast.Attribute):
                todo.append(node.attr)
    return seen


def faulted() -> set[str]:
    """The checks that a test of this file turns red: the first argument of each `red(...)`."""
    names = set()
    for node in ast.walk(ast.parse(Path(__file__).read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "red" and node.args:
            arg = node.args[0]
            names.add(arg.attr if isinstance(arg, ast.Attribute) else getattr(arg, "id", None))
    return names


def test_every_check_has_a_fault():
    """Every `*_problems` function that `book check` reaches has a test here that turns it red."""
    functions = pipeline_functions()
    found = {n for n in reachable(functions) if n.endswith("_problems")}
    assert len(found) >= 20, f"the call graph found only {sorted(found)}"
    missing = sorted(found - faulted())
    assert not missing, (f"checks that no test of {Path(__file__).name} turns red: {missing}; add "
                         "a test that injects what each must catch, with `with red(module.name, ...)`")


def test_only_checks_find_problems():
    """A problem written outside a `*_problems` function (an inline check in cmd_check, say)
    would be a check that test_every_check_has_a_fault cannot see."""
    functions = pipeline_functions()

    def writes_a_problem(node: ast.AST) -> bool:
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("append", "extend"):
            target, value = node.func.value, node
        elif isinstance(node, (ast.AugAssign, ast.Assign)):
            target = node.target if isinstance(node, ast.AugAssign) else node.targets[0]
            value = node.value
        if not (isinstance(target, ast.Name) and target.id == "problems"):
            return False
        return any(isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant)
                                                    and isinstance(n.value, str))
                   for n in ast.walk(value))
    inline = sorted(name for name in reachable(functions) if not name.endswith("_problems")
                    and any(writes_a_problem(n) for n in ast.walk(functions[name])))
    assert not inline, (f"{inline} write problems themselves: move each check into a function "
                        "named `*_problems`, with its fault in this file")
