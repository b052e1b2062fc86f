"""Three checks of the pipeline, on their own and quick (tests/test_drift.py injects each fault
into a copy of the whole book): streams recorded per line, ratios checked against their counts,
diagrams linted."""

import os
import sys

import pytest

from support import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import commands, diagrams, markdown, run, verdicts  # noqa: E402


def streams_of(line: str, timeout: float = 10) -> tuple[str, int | None]:
    run.become_subreaper()
    chunks, status = run.run_line(line, ROOT, {"PATH": os.environ["PATH"]}, timeout)
    text, tags = run.decode(chunks)
    return run.mark_streams(text, tags), status


def test_each_line_is_marked_with_its_stream_in_the_order_written():
    marked, status = streams_of("echo out; echo err >&2; echo out again; printf 'half ' >&2; echo half")
    assert status == 0
    assert marked == "out\n2| err\nout again\n&| half half\n"
    assert verdicts.unmark_streams(marked) == "out\nerr\nout again\nhalf half\n"


def test_a_stdout_line_that_looks_marked_is_marked_as_stdout():
    marked, _ = streams_of("echo '2| not stderr'; echo '1| nor this'")
    assert marked == "1| 2| not stderr\n1| 1| nor this\n"
    assert verdicts.unmark_streams(marked) == "2| not stderr\n1| nor this\n"


def test_redirected_streams_are_what_the_process_wrote_to():
    marked, _ = streams_of("(echo to-err 1>&2; echo to-out 2>&1)")
    assert marked == "2| to-err\nto-out\n"


def test_a_process_that_keeps_the_output_open_is_a_hang():
    _, status = streams_of("setsid sleep 30 & echo started", timeout=1)
    assert status is None


def test_a_replacement_keeps_the_stream_of_what_it_replaces():
    text, tags = run.normalise("x 0xdeadbeef1\ny\n", ROOT / "none", [], "1" * 2 + "2" * 11 + "1" * 2)
    assert run.mark_streams(text, tags) == "&| x 0x<address>\ny\n"


def test_a_cargo_lock_notice_is_not_part_of_an_output():
    """cargo prints `Blocking waiting for file lock on ...` when another cargo holds the package
    cache (seen when a second build ran beside the book's): the output must not depend on that."""
    work = ROOT / "target" / "nowhere"
    text = "$ maturin build\n    Blocking waiting for file lock on package cache\n🐍 Found\n"
    assert run.normalise(text, work, []) == "$ maturin build\n🐍 Found\n"
    assert run.normalise("Blocking is a word\n", work, []) == "Blocking is a word\n"


def test_a_stream_only_drift_says_so():
    why = verdicts.invisible_difference("$ x\n42\n", "$ x\n2| 42\n")
    assert "only the streams" in why


RULE = commands.Ratio(shown=r"^ratio: (\d+\.\d+)$", num=r"^a (\d+)$", den=r"^b (\d+)$")


@pytest.mark.parametrize("body, ok", [
    ("a 238\nb 232\nratio: 1.03\n", True),
    ("a 238\nb 232\nratio: 1.02\n", True),   # 237.5 / 232.5 = 1.0215, within 1.02's rounding
    ("a 238\nb 232\nratio: 0.97\n", False),  # the inverse
    ("a 238\nb 232\nratio: 1.05\n", False),
], ids=["right", "within-rounding", "inverse", "off"])
def test_a_ratio_agrees_with_its_counts(body, ok):
    assert (verdicts.ratio_problems(RULE, body) == []) == ok


BOX = """\
 .------.
 | box  +---->
 '------'
"""


@pytest.mark.parametrize("drawing, needle", [
    (BOX, None),
    (BOX.replace(" '------'", "  ------'"), "ends in the air"),
    (BOX.replace(" '------'", " -------'"), "ends in the air"),
    (BOX.replace("| box  +", "| box   "), "joins no vertical stroke"),
    (BOX.replace(".------.", ".---- -."), "ends in the air"),
], ids=["whole", "missing-corner", "corner-turned-line", "side-gone", "gap-in-top"])
def test_a_broken_box_is_caught(drawing, needle):
    problems = diagrams.diagram_problems(drawing.splitlines())
    if needle is None:
        assert problems == []
    else:
        assert any(needle in p for _, p in problems), problems


def test_a_script_imported_by_its_name_as_a_string_runs(monkeypatch):
    """Chapter 10's cost.py imports slots_ring.py by name (`__import__(module)` over a table):
    that counts as running it; a cost.py that no longer names it leaves the page's listing of
    slots_ring.py unchecked, which is red."""
    assert not [p for p in markdown.script_problems() if "slots_ring.py" in p]
    cost = (ROOT / "steps" / "10-classes" / "py" / "cost.py").resolve()
    real = type(cost).read_text

    def read_text(self, *args, **kwargs):
        text = real(self, *args, **kwargs)
        return text.replace('"slots_ring"', '"other_ring"') if self.resolve() == cost else text
    monkeypatch.setattr(type(cost), "read_text", read_text)
    assert [p for p in markdown.script_problems() if "slots_ring.py" in p]


def test_a_version_note_shows_every_other_version_and_names_each_version(tmp_path, monkeypatch):
    """Under an output whose expectation differs between versions, the note names every version
    that prints what the page shows, and each other expectation follows, under a line naming
    every version it covers (3.13's also covers 3.14 and 3.15 here)."""
    from bookpipe import steps
    folder = tmp_path / "99-versions"
    (folder / "expected").mkdir(parents=True)
    (folder / "commands.toml").write_text('[[command]]\nid = "x"\nrun = ["true"]\n')
    (folder / "expected" / "x.txt").write_text("eleven\n")
    (folder / "expected" / "x@3.13.txt").write_text("2| thirteen\n")
    monkeypatch.setattr(verdicts, "PYVER", "3.11")
    step = steps.Step(folder)
    def expected_path(cid, v="3.11"):  # as under CPython 3.11, whatever runs the test
        found = step.expected_variants(cid)
        return found["3.13"] if v >= "3.13" and "3.13" in found else found["3.11"]
    monkeypatch.setattr(step, "expected_path", expected_path)
    note = verdicts.version_note(step, "x")
    assert "Printed by CPython 3.11, the book's <code>python3</code> (CPython 3.12 prints the same)" \
        in note
    assert "<summary>What CPython 3.13, 3.14 and 3.15 print</summary>" in note
    assert "```console\nthirteen\n```" in note  # as the page shows it: no stream marks
    (folder / "expected" / "x@3.13.txt").unlink()
    assert verdicts.version_note(step, "x") == ""
