"""A traceback on a page names lines of a script the page shows (`File "./raising.py", line 7`).
The reader copies that script from its listing, so the listing must be the whole file, line for
line: an include by anchor hides the ANCHOR comment lines, and every line after a hidden one has
another number in the reader's copy than in the traceback. So a script whose line numbers an
expectation shows has no ANCHOR comments, and its page includes it whole."""

import re
from pathlib import Path

import pytest

from conftest import ROOT

STEPS = ROOT / "steps"
BOOK = ROOT / "book"
FILE_LINE = re.compile(r'File "\./([^"]+)", line (\d+)')
INCLUDE = re.compile(r"\{\{#include\s+([^}\s]+)\s*\}\}")
ANCHOR = re.compile(r"ANCHOR(_END)?:")


def numbered_scripts() -> dict[Path, set[str]]:
    """Each step script whose line numbers an expectation shows -> the expectations."""
    found: dict[Path, set[str]] = {}
    for expected in sorted(STEPS.glob("[0-9][0-9]-*/expected/*.txt")):
        step = expected.parent.parent
        for name, _ in FILE_LINE.findall(expected.read_text()):
            matches = sorted(step.rglob(name))
            assert len(matches) == 1, f"{expected}: which {name}? {matches}"
            found.setdefault(matches[0], set()).add(expected.name)
    return found


SCRIPTS = numbered_scripts()


def test_the_book_shows_tracebacks_of_its_scripts():
    assert STEPS / "04-concurrency" / "py" / "raising.py" in SCRIPTS, SCRIPTS


@pytest.mark.parametrize("script", sorted(SCRIPTS), ids=lambda p: str(p.relative_to(STEPS)))
def test_a_script_with_numbered_lines_on_a_page_is_shown_whole(script):
    markers = [i + 1 for i, line in enumerate(script.read_text().splitlines())
               if ANCHOR.search(line)]
    assert not markers, (f"{script.relative_to(ROOT)} has ANCHOR lines ({markers}) that its "
                         f"listing hides, so {sorted(SCRIPTS[script])} show line numbers the "
                         "reader's copy does not have: drop the anchors and include it whole")
    pages = [page for page in BOOK.glob("*.md")
             for path in INCLUDE.findall(page.read_text())
             if ":" not in path and (page.parent / path).resolve() == script.resolve()]
    assert pages, f"no page includes {script.relative_to(ROOT)} whole"


def test_the_check_sees_a_hidden_line(tmp_path):
    """The fault this guards against: a file with an anchor line, which the listing hides."""
    script = tmp_path / "raising.py"
    script.write_text("# ANCHOR: all\nraise ValueError\n# ANCHOR_END: all\n")
    assert [i for i, line in enumerate(script.read_text().splitlines()) if ANCHOR.search(line)]
