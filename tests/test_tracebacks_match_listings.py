"""An output on a page may name a line of a file the book shows: a Python traceback
(`File "./raising.py", line 7`), a Rust panic (`panicked at 06-errors/broken/src/add.rs:17:34:`),
any `file:line[:column]`. The reader finds that line by counting in the listing the page shows of
the file, so the page that shows the output must also show a listing of the file whose first N
lines are the file's first N lines. An include by anchor hides the ANCHOR comment lines (the
`ANCHOR: all` of the first line included), and every line after a hidden one has another number in
the listing than in the output: such a file is shown whole, with no anchors above the lines its
outputs name (the pipeline refuses to show a reader ANCHOR comments)."""

import re
import sys
from pathlib import Path

import pytest

from support import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import pages  # noqa: E402

STEPS = ROOT / "steps"
BOOK = ROOT / "book"
# Python's traceback line, and a `path:line` or `path:line:column` of a source file (a Rust panic's
# location, a compiler's diagnostic). `<rust>/library/...` is the normalised standard library,
# which the book does not show.
PYTHON_LINE = re.compile(r'File "\./([^"]+)", line (\d+)')
FILE_LINE = re.compile(r"(?<![\w/<>.-])([\w.-]+(?:/[\w.-]+)*\.(?:rs|py|c|h|go)):(\d+)(?::\d+)?")


def quoted_lines(step: Path, text: str) -> list[tuple[str, Path, int]]:
    """(what the output says, the file it names, the line) for each line an output names."""
    found = []
    for m in PYTHON_LINE.finditer(text):
        matches = sorted(step.rglob(m.group(1)))
        assert len(matches) == 1, f"{step.name}: which {m.group(1)}? {matches}"
        found.append((m.group(0), matches[0], int(m.group(2))))
    for m in FILE_LINE.finditer(text):
        # Cargo names a workspace member's file from the workspace's root, steps/.
        path = STEPS / m.group(1)
        assert path.is_file(), f"{step.name}: an output names {m.group(0)}, which is no file of steps/"
        found.append((m.group(0), path, int(m.group(2))))
    return found


def quotes() -> list[tuple[Path, str, str, Path, int]]:
    """(expectation, command id, what it says, file, line) for every line an expectation names."""
    found = []
    for expected in sorted(STEPS.glob("[0-9][0-9]-*/expected/*.txt")):
        cid = expected.stem.partition("@")[0]
        for said, path, line in quoted_lines(expected.parent.parent, expected.read_text()):
            found.append((expected, cid, said, path, line))
    return found


def listing_problems(page: Path, said: str, path: Path, line: int) -> list[str]:
    """Why the reader of `page`, counting in its listings of `path`, would not find the line
    `said` names: empty when one listing's first `line` lines are the file's."""
    lines = path.read_text().splitlines()
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    if line > len(lines):
        return [f"{said}: {path.name} has {len(lines)} lines"]
    listings = [what.splitlines() for _ln, src, what, error in pages.includes(page)
                if not error and src == path.resolve()]
    if not listings:
        return [f"{page.name} shows `{said}` but no listing of {name}"]
    if any(shown[:line] == lines[:line] for shown in listings):
        return []
    counted = ", ".join(repr(shown[line - 1].strip()) if len(shown) >= line else "no such line"
                        for shown in listings)
    return [f"{page.name} shows `{said}`, line {line} of {name} "
            f"({lines[line - 1].strip()!r}), but line {line} of its listings there is {counted}: "
            "each listing hides anchor lines above it, or starts below the file's first line"]


def pages_showing(nn: str, cid: str) -> list[Path]:
    return [page for page in sorted(BOOK.glob("*.md")) if (nn, cid) in pages.shown(page.read_text())]


QUOTES = quotes()


def test_the_book_shows_outputs_that_name_lines():
    files = {path.relative_to(STEPS).as_posix() for *_, path, _ in QUOTES}
    assert "04-concurrency/py/raising.py" in files, files
    assert any(f.endswith(".rs") for f in files), files  # a Rust panic's location


@pytest.mark.parametrize("quote", QUOTES, ids=lambda q: f"{q[0].parent.parent.name}/{q[0].name}:{q[2]}")
def test_a_line_an_output_names_is_that_line_of_the_listing_beside_it(quote):
    expected, cid, said, path, line = quote
    nn = expected.parent.parent.name[:2]
    shown_on = pages_showing(nn, cid)
    assert shown_on, f"no page shows {nn} {cid}"
    problems = [p for page in shown_on for p in listing_problems(page, said, path, line)]
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_hidden_line(tmp_path):
    """The fault this guards against: the file shown whole by its `all` anchor, whose ANCHOR lines
    the listing hides, so that the panic's line 5 is the listing's line 3, and the listing's line 5 another."""
    src = tmp_path / "lib.rs"
    src.write_text("// ANCHOR: all\nfn f() {}\n// ANCHOR: g\nfn g(a: u8) -> u8 {\n"
                   "    a + 1\n}\n// ANCHOR_END: g\nfn h() {}\n// ANCHOR_END: all\n")
    page = tmp_path / "page.md"
    page.write_text("```rust\n{{#include lib.rs:all}}\n```\n")
    problems = listing_problems(page, "lib.rs:5:5", src, 5)
    assert len(problems) == 1 and "'a + 1'" in problems[0] and "'fn h() {}'" in problems[0], problems
    src.write_text("fn f() {}\nfn g(a: u8) -> u8 {\n    a + 1\n}\n")
    page.write_text("```rust\n{{#include lib.rs}}\n```\n")
    assert listing_problems(page, "lib.rs:3:5", src, 3) == []
