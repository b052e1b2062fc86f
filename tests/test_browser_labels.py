"""What a reader sees around the listings, checked in the chapters' Markdown.

- Every listing included from a file names that file on the line above it
  (`<span class="filename">Filename: steps/...</span>`), and says "(an excerpt)" when it shows
  only part of the file, or "(without its tests)" when it leaves out only the unit tests at the end.
- Each numbered chapter says what you will build, and ends with a recap and its `just step NN`.

Each check also runs on a page broken on purpose, and must fail.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import config, pages  # noqa: E402

INCLUDE = re.compile(r"^\{\{#include\s+(\S+?)(?::(\S+))?\}\}\s*$")
FENCE = re.compile(r"^(`{3,})\w*\s*$")
ANCHOR_LINE = re.compile(r"ANCHOR(_END)?:")


def expected_label(md: Path, includes: list[re.Match]) -> str | None:
    """The label a block of includes needs, or None when they come from several files."""
    files = {(md.parent / m.group(1)).resolve() for m in includes}
    if len(files) != 1:
        return None
    path = files.pop()
    label = f'<span class="filename">Filename: {path.relative_to(ROOT)}'
    if len(includes) > 1:
        return label + " (an excerpt)</span>"
    sel = includes[0].group(2)
    if not sel:
        return label + "</span>"
    text = path.read_text()
    shown, _ = pages.select_lines(text, sel)
    everything = "".join(l for l in text.splitlines(keepends=True) if not ANCHOR_LINE.search(l))
    shown, everything = shown.strip("\n"), everything.strip("\n")
    if shown == everything:
        return label + "</span>"
    if everything.startswith(shown) and everything[len(shown):].strip().startswith("#[cfg(test)]"):
        return label + " (without its tests)</span>"
    return label + " (an excerpt)</span>"


def label_problems(md: Path, text: str) -> list[str]:
    problems = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith(m.group(1)):
            j += 1
        body = [l for l in lines[i + 1:j] if l.strip()]
        includes = [INCLUDE.match(l) for l in body]
        if body and all(includes):
            want = expected_label(md, includes)
            got = lines[i - 1] if i > 0 else ""
            if want and got != want:
                problems.append(f"{md.name}:{i + 1}: the listing of {includes[0].group(1)} needs "
                                f"the line {want!r} above it; it has {got!r}")
        i = j + 1
    return problems


def chapter_problems(md: Path, text: str) -> list[str]:
    nn = re.match(r"ch(\d\d)-", md.name)
    if not nn:
        return []
    problems = []
    if "**What you will build:**" not in text.split("\n## ", 1)[0]:
        problems.append(f"{md.name}: does not say what you will build before its first section")
    last = text.rsplit("\n## ", 1)[-1]
    if not last.startswith("Recap") or f"$ just step {nn.group(1)}" not in last:
        problems.append(f"{md.name}: does not end with a recap and `just step {nn.group(1)}`")
    return problems


def chapters() -> list[Path]:
    # A chapter's own sub-pages (ch07-complete-crates) have its number but are not chapters.
    seen, firsts = set(), []
    for md in pages.summary_pages():
        nn = md.name[:4]
        if nn.startswith("ch") and nn not in seen:
            seen.add(nn)
            firsts.append(md)
    return firsts


def test_every_listing_names_its_file():
    problems = [p for md in pages.summary_pages() for p in label_problems(md, md.read_text())]
    assert problems == []


def test_each_chapter_opens_with_its_goal_and_ends_with_a_recap():
    problems = [p for md in chapters() for p in chapter_problems(md, md.read_text())]
    assert problems == []


def test_a_missing_or_wrong_label_is_seen():
    md = config.BOOK_SRC / "ch03-rust-extension.md"
    text = md.read_text()
    whole = '<span class="filename">Filename: steps/03-rust-extension/Cargo.toml</span>\n'
    assert whole in text
    assert label_problems(md, text.replace(whole, "", 1))
    part = "Filename: steps/03-rust-extension/stages/2-init-in-rust/foo.c (an excerpt)"
    assert part in text
    assert label_problems(md, text.replace(part, part.replace(" (an excerpt)", ""), 1))


def test_a_chapter_without_goal_or_recap_is_seen():
    md = config.BOOK_SRC / "ch02-c-extension.md"
    text = md.read_text()
    assert chapter_problems(md, text.replace("**What you will build:**", "You build:")) != []
    assert chapter_problems(md, text.rsplit("\n## Recap", 1)[0]) != []


CAPTION = re.compile(r'^(?:<span class="filename">)?Filename: `?([^`<(]+?)`?(?: \(.*\))?(?:</span>)?\s*$')


def caption_problems(md: Path, text: str) -> list[str]:
    """A listing's file named twice: a caption line, and the label right after it (blank lines
    between), as chapter 7's complete-crates page had for every file."""
    lines = [(i, l) for i, l in enumerate(text.splitlines()) if l.strip()]
    problems = []
    for (i, a), (_, b) in zip(lines, lines[1:]):
        ma, mb = CAPTION.match(a), CAPTION.match(b)
        if ma and mb and ma.group(1) == mb.group(1):
            problems.append(f"{md.name}:{i + 1}: {ma.group(1)} is named twice above its listing")
    return problems


def test_no_listing_is_captioned_twice():
    problems = [p for md in pages.summary_pages() for p in caption_problems(md, md.read_text())]
    assert problems == []


def test_a_caption_given_twice_is_seen():
    md = config.BOOK_SRC / "ch07-complete-crates.md"
    label = '<span class="filename">Filename: steps/07-call-overhead/Cargo.toml</span>'
    text = md.read_text()
    assert label in text
    twice = text.replace(label, "Filename: `steps/07-call-overhead/Cargo.toml`\n\n" + label, 1)
    assert caption_problems(md, twice)
