"""The two pipeline features chapter 7 added: optional stage sources (scripts/bookpipe/build.py),
and commands whose output is raw HTML (scripts/bookpipe/verdicts.py)."""

import sys

import pytest

from support import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import build, config, verdicts  # noqa: E402


class FakeStep:
    folder = ROOT / "steps" / "07-call-overhead"
    package = "step07-call-overhead"


def test_optional_source_is_skipped_only_when_missing(tmp_path):
    present = tmp_path / "there.so"
    present.write_text("x")
    out_dirs = {"step07-go-sum": str(tmp_path)}
    assert build.resolve_source(FakeStep, "out@step07-go-sum:there.so", {}, out_dirs, True) == present
    assert build.resolve_source(FakeStep, "out@step07-go-sum:absent.so", {}, out_dirs, True) is None
    with pytest.raises(config.Fail, match="does not exist"):
        build.resolve_source(FakeStep, "out@step07-go-sum:absent.so", {}, out_dirs)


def test_html_commands_print_their_output_raw():
    assert verdicts.markdown("<table></table>\n", html=True) == "<table></table>\n"
    assert verdicts.markdown("$ ls\nx\n", html=False).startswith("```console\n$ ls\n")

