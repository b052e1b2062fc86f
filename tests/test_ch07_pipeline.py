"""The two pipeline features chapter 7 added to scripts/book.py: optional stage sources, and
commands whose output is raw HTML."""

import importlib.util
import sys

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("book_pipeline", ROOT / "scripts" / "book.py")
book = importlib.util.module_from_spec(spec)
sys.modules["book_pipeline"] = book
spec.loader.exec_module(book)


class FakeStep:
    folder = ROOT / "steps" / "07-call-overhead"
    package = "step07-call-overhead"


def test_optional_source_is_skipped_only_when_missing(tmp_path):
    present = tmp_path / "there.so"
    present.write_text("x")
    out_dirs = {"step07-go-sum": str(tmp_path)}
    assert book.resolve_source(FakeStep, "out@step07-go-sum:there.so", {}, out_dirs, True) == present
    assert book.resolve_source(FakeStep, "out@step07-go-sum:absent.so", {}, out_dirs, True) is None
    with pytest.raises(book.Fail, match="does not exist"):
        book.resolve_source(FakeStep, "out@step07-go-sum:absent.so", {}, out_dirs)


def test_html_commands_print_their_output_raw():
    assert book.markdown("<table></table>\n", {"html": True}) == "<table></table>\n"
    assert book.markdown("$ ls\nx\n", {}).startswith("```console\n$ ls\n")
