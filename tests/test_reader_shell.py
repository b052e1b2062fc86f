"""The commands a reader types give the page's output in a Rust developer's usual shell.

The book runs every command in an environment built from nothing (run.command_env), so the build
never sees a variable of the reader's shell. A reader's shell has them: many Rust developers keep
RUST_BACKTRACE=1 set, and with it every panic prints a backtrace of its own. So each command whose
output shows a Rust panic is run here with RUST_BACKTRACE set as a reader may have it, in a copy of
the main build, and must still print its expectation (the line sets RUST_BACKTRACE=0 where the page
shows it)."""

import sys

import pytest

from support import ROOT
from test_drift import Book, book, main_build  # noqa: F401 (the fixtures that copy the build)

sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import run, steps, verdicts  # noqa: E402

# A panic's first line, as Rust's default hook prints it.
PANIC = "panicked at "


def panicking_commands() -> list[tuple[str, str]]:
    """(NN, command id) of each command an expectation of which shows a Rust panic."""
    found = set()
    for step in steps.all_steps():
        for expected in step.folder.glob("expected/*.txt"):
            if PANIC in expected.read_text():
                found.add((step.nn, expected.stem.partition("@")[0]))
    return sorted(found)


PANICKING = panicking_commands()


def test_the_book_shows_panics():
    assert ("03", "stage4-crash") in PANICKING and ("06", "abort") in PANICKING, PANICKING


@pytest.mark.parametrize("setting", ["1", "full"])
@pytest.mark.parametrize("nn, cid", PANICKING, ids=lambda v: v)
def test_a_panic_prints_the_page_output_with_backtraces_on(book, monkeypatch, nn, cid, setting):
    base = run.command_env
    monkeypatch.setattr(run, "command_env",
                        lambda cmd: {**base(cmd), "RUST_BACKTRACE": setting})
    book.stage(nn)
    step = book.step(nn)
    transcript, lines = run.run_command(step, cid)
    assert run.command_env(step.command(cid))["RUST_BACKTRACE"] == setting
    problems = verdicts.judge(step, cid, transcript, lines)
    assert problems == [], f"with RUST_BACKTRACE={setting}:\n" + "\n".join(problems)
