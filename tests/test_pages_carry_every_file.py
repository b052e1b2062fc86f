"""A reader who copies what chapters 1 to N show into an empty folder can rebuild chapter N: every
line of every file its crates need is on one of those pages, included from the step (by anchor or
whole), never pasted. Checked on the Markdown: each required line must fall inside an include."""

import re
import subprocess
from pathlib import Path

import pytest

from support import ROOT

BOOK = ROOT / "book"
STEPS = ROOT / "steps"
INCLUDE = re.compile(r"\{\{#include\s+([^}:\s]+)(?::([A-Za-z_][\w-]*))?\s*\}\}")
ANCHOR_LINE = re.compile(r"ANCHOR(_END)?:\s*[\w-]+")
# Files a chapter's crates need besides their own folder, by the first chapter that needs them.
# The workspace manifest grows: chapter 1 shows its start and end (anchors `workspace` and
# `workspace-end`), each chapter the lines it adds to `members` (anchor `members-NN`), and chapter
# 8 the lints its helper crate takes (anchor `lints`).
SHARED = {
    "01": ["steps/.cargo/config.toml", "steps/Cargo.toml:workspace", "steps/Cargo.toml:workspace-end"],
    "02": ["steps/build-support/Cargo.toml", "steps/build-support/src/lib.rs"],
    "08": ["steps/Cargo.toml:lints"],
}
for _nn in range(2, 14):
    SHARED.setdefault(f"{_nn:02}", []).append(f"steps/Cargo.toml:members-{_nn:02}")
# In a step folder: what the pipeline reads (commands, expectations) and what no page output
# depends on (the benchmarks, run by `just bench`: chapter 12 has two, one per half).
NOT_NEEDED = {"commands.toml", "bench.py", "bench-helper.py"}


def chapters() -> list[str]:
    return sorted({p.name[2:4] for p in BOOK.glob("ch[0-9][0-9]-*.md")})


def covered_lines(nn: str) -> dict[Path, set[int]]:
    """For the pages of chapters 1..nn: file -> the numbers of the lines an include shows."""
    covered: dict[Path, set[int]] = {}
    for page in sorted(BOOK.glob("ch[0-9][0-9]-*.md")):
        if page.name[2:4] > nn:
            continue
        for path, anchor in INCLUDE.findall(page.read_text()):
            src = (page.parent / path).resolve()
            lines = src.read_text().splitlines()
            shown = covered.setdefault(src, set())
            shown.update(anchor_range(lines, anchor) if anchor else range(len(lines)))
    return covered


def anchor_range(lines: list[str], anchor: str) -> range:
    start = next((i for i, l in enumerate(lines) if re.search(rf"ANCHOR:\s*{anchor}\b", l)), None)
    end = next((i for i, l in enumerate(lines) if re.search(rf"ANCHOR_END:\s*{anchor}\b", l)), None)
    assert start is not None and end is not None, f"anchor {anchor} is not opened and closed"
    return range(start + 1, end)


def required_lines(path: Path, anchor: str | None) -> set[int]:
    """Every line that matters: not blank, not an anchor marker, not in the unit tests after
    `#[cfg(test)]` (they are not needed to build the crate)."""
    lines = path.read_text().splitlines()
    numbers = anchor_range(lines, anchor) if anchor else range(len(lines))
    needed = set()
    for i in numbers:
        if lines[i].startswith("#[cfg(test)]"):
            break
        if lines[i].strip() and not ANCHOR_LINE.search(lines[i]):
            needed.add(i)
    return needed


def step_files(nn: str) -> list[str]:
    folder = next(STEPS.glob(f"{nn}-*"))
    tracked = subprocess.run(["git", "ls-files", str(folder.relative_to(ROOT))], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    # Of a by-hand.sh, the commands (anchor `all`); its header speaks to the book's tests.
    return [f + (":all" if f.endswith("/by-hand.sh") else "") for f in tracked
            if "/expected/" not in f and Path(f).name not in NOT_NEEDED]


@pytest.mark.parametrize("nn", chapters())
def test_the_pages_carry_every_file_the_chapter_needs(nn):
    covered = covered_lines(nn)
    needed = [f for n, files in SHARED.items() if n <= nn for f in files] + step_files(nn)
    missing = []
    for entry in needed:
        rel, _, anchor = entry.partition(":")
        path = (ROOT / rel).resolve()  # a symbolic link counts as the file it points to
        lines = path.read_text().splitlines()
        for i in sorted(required_lines(path, anchor or None) - covered.get(path, set())):
            missing.append(f"{rel}:{i + 1}: {lines[i].strip()}")
    assert not missing, (f"chapters 01..{nn} do not show these lines that chapter {nn}'s crates "
                         f"need:\n" + "\n".join(missing[:40])
                         + (f"\n... and {len(missing) - 40} more" if len(missing) > 40 else ""))


def test_the_check_sees_a_missing_line(tmp_path, monkeypatch):
    """Fault injection: a page that stops showing a file makes the check fail."""
    page = BOOK / "ch01-shared-library.md"
    text = page.read_text()
    assert "{{#include ../steps/01-shared-library/cbindgen.toml}}" in text
    monkeypatch.setattr(Path, "read_text", _hide(page, text.replace(
        "{{#include ../steps/01-shared-library/cbindgen.toml}}", "")))
    with pytest.raises(AssertionError, match="cbindgen.toml"):
        test_the_pages_carry_every_file_the_chapter_needs("01")


def _hide(page: Path, replacement: str):
    original = Path.read_text

    def read_text(self, *args, **kwargs):
        return replacement if self == page else original(self, *args, **kwargs)
    return read_text
