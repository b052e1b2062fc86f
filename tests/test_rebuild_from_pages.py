"""A reader rebuilds chapter N from what chapters 1 to N show: each file as its listings show it
(the lines of every include of it, in the file's order), written into an empty folder, with the
workspace's `members` cut down as chapter 1's page says (only the lines of the chapters the reader
has), and then the chapter's first `cargo build` must succeed. (tests/test_pages_carry_every_file.py
checks that every needed line is shown; this checks that what is shown builds.)"""

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from test_pages_carry_every_file import ANCHOR_LINE, covered_lines

MEMBER_CHAPTER = re.compile(r'^\s*"[^"]+",\s*# chapter (\d+)')


def shown_files(nn: str) -> dict[Path, list[str]]:
    """Each file that chapters 1..nn include -> its lines as the listings show them: the lines
    the include check counts as shown (covered_lines), without the anchor comments."""
    files = {}
    for src, numbers in covered_lines(nn).items():
        lines = src.read_text().splitlines()
        files[src] = [lines[i] for i in sorted(numbers) if not ANCHOR_LINE.search(lines[i])]
    return files


def members_for(lines: list[str], nn: str) -> list[str]:
    """The workspace manifest as chapter 1 tells a reader with chapters 1..nn to write it."""
    kept = []
    for line in lines:
        m = MEMBER_CHAPTER.match(line)
        if m and int(m.group(1)) > int(nn):
            continue
        kept.append(line)
    return kept


def test_the_manifest_says_which_chapter_adds_each_member():
    lines = (ROOT / "steps" / "Cargo.toml").read_text().splitlines()
    members = lines[next(i for i, l in enumerate(lines) if l.startswith("members")) + 1:]
    members = members[:members.index("]")]
    assert members[0].strip() == '"[0-9][0-9]-*",', members
    assert all(MEMBER_CHAPTER.match(m) for m in members[1:]), members
    # the fault this guards against: a member without its chapter stays in chapter 1's manifest
    cut = members_for(lines, "01")
    assert '"build-support",' not in " ".join(cut) and '"[0-9][0-9]-*",' in " ".join(cut)


# Chapter 1, and chapter 11, whose module declares its own buffer functions on raw pyo3-ffi.
@pytest.mark.parametrize("nn, package", [("01", "step01-shared-library"),
                                         ("11", "step11-hot-loop")])
def test_a_chapter_rebuilt_from_its_pages_builds(nn, package, tmp_path):
    for src, lines in shown_files(nn).items():
        rel = src.relative_to(ROOT)
        if rel == Path("steps/Cargo.toml"):
            lines = members_for(lines, nn)
        dest = tmp_path / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("\n".join(lines) + "\n")
    # The reader's own target folder; kept between runs under target/, so that a second run
    # compiles only the crate (offline: the registry's crates are already on this machine).
    env = dict(os.environ, CARGO_TARGET_DIR=str(ROOT / "target" / f"rebuild-{nn}"))
    proc = subprocess.run(["cargo", "build", "--offline", "-p", package], cwd=tmp_path / "steps",
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
