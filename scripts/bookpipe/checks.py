"""The page checks, after `mdbook build`: failure reports, mdbook's log, markers, includes,
and the rendered HTML as a browser gets it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .build import sources_digest
from .config import (BOOK_SRC, CHECKED, FAILURES, HTML, MARKER, MDBOOK_LOG, PYVER, READY, ROOT,
                     Fail)
from .steps import all_steps, find_step


def cmd_check() -> int:
    """After `mdbook build`. mdbook-cmdrun never fails a build: a failing command only leaves
    `**cmdrun error**` in the page, and a missing preprocessor leaves the raw marker; mdbook itself
    only logs a broken include. Catch all of these, print the runner's reports, check that pages
    and definitions agree, then check the rendered pages as a browser gets them."""
    import re
    problems: list[str] = []
    reports = sorted(FAILURES.glob("*.txt")) if FAILURES.exists() else []
    for r in reports:
        problems.append(r.read_text())
    if MDBOOK_LOG.exists():
        for line in MDBOOK_LOG.read_text(errors="replace").splitlines():
            if re.search(r"\[(ERROR|WARN)\]", line):
                problems.append(f"mdbook reported: {line.strip()}")
    pages = sorted(HTML.rglob("*.html")) if HTML.exists() else []
    if not pages:
        problems.append(f"no HTML under {HTML}: did `mdbook build` run?")
    for page in pages:
        text = page.read_text(errors="replace")
        rel = page.relative_to(HTML)
        if "cmdrun error" in text and not reports:
            problems.append(f"{rel}: mdbook-cmdrun reported an error that left no report: "
                            "run the page's commands with `just step NN` to see it")
        if re.search(r"<!--\s*cmdrun", text):
            problems.append(f"{rel}: a cmdrun marker was left unexpanded: is mdbook-cmdrun installed "
                            "and enabled in book.toml? (run scripts/setup.sh)")
    problems += check_sources()
    if pages and not reports:
        problems += check_pages()
    if problems:
        sys.stderr.write("\n".join(p.rstrip("\n") for p in problems) + "\n\n")
        sys.stderr.write(f"book check FAILED: {len(problems)} problem(s) (python3 is CPython {PYVER})\n")
        return 1
    n = sum(len(s.commands) for s in all_steps())
    CHECKED.write_text(json.dumps({"python": PYVER, "version": sys.version.split()[0],
                                   "sources": sources_digest()}))
    print(f"book check: {len(pages)} pages, {n} commands, every output matches its expectation "
          f"under CPython {PYVER}, and every page renders its listings and outputs intact")
    return 0


def summary_pages() -> list[Path]:
    """The pages mdbook renders: those SUMMARY.md links to, in order."""
    import re
    text = (BOOK_SRC / "SUMMARY.md").read_text()
    return [BOOK_SRC / m for m in re.findall(r"\]\(([^)\s]+\.md)\)", text)]


# mdbook 0.4's own syntax for {{#include}} (src/preprocess/links.rs): optional whitespace after the
# braces, a link type, whitespace, then the target up to the closing braces. `\{{#...}}` is escaped.
LINK = r"(?x) \\\{\{\#.*?\}\} | \{\{\s*\#([a-zA-Z0-9_]+)\s+([^}]+)\}\}"
ANCHOR_START = r"ANCHOR:\s*([\w_-]+)"
ANCHOR_END = r"ANCHOR_END:\s*([\w_-]+)"


def includes(md: Path) -> list[tuple[str, Path, str, str | None]]:
    """The page's includes as (directive, file, what, error): `what` is the text mdbook pastes,
    computed as mdbook does; `error` says why mdbook could not include it, if it cannot."""
    import re
    found = []
    for m in re.finditer(LINK, md.read_text()):
        kind, target = m.group(1), m.group(2)
        if kind not in ("include", "rustdoc_include"):
            continue
        spec = target.split()[0]
        path, _, sel = spec.partition(":")
        src = (md.parent / path).resolve()
        if not src.is_file():
            found.append((m.group(0), src, "", f"{path} does not exist"))
            continue
        text = src.read_text()
        what, error = select_lines(text, sel)
        found.append((m.group(0), src, what, error and f"{spec}: {error}"))
    return found


def select_lines(text: str, sel: str) -> tuple[str, str | None]:
    """mdbook's selection: a whole file, `N` (one line), `N:M`, `N:`, `:M` (1-based, inclusive),
    or an anchor name. mdbook 0.4 leaves out the lines that mark anchors only inside an anchored
    selection: a whole file or a range shows them as they are."""
    import re
    lines = text.splitlines()
    if not sel:
        return "\n".join(lines), None
    first, _, rest = sel.partition(":")
    if first.isdigit() or (first == "" and (rest == "" or rest.isdigit())):
        start = max(int(first) - 1, 0) if first else 0
        if ":" not in sel:
            end = start + 1
        else:
            end = int(rest) if rest else len(lines)
        if start >= len(lines) or end > len(lines) or end <= start:
            return "", f"lines {sel} are not within the file's {len(lines)} lines"
        return "\n".join(lines[start:end]), None
    anchor = first
    inside, kept = False, []
    for l in lines:
        if inside:
            end_m = re.search(ANCHOR_END, l)
            if end_m and end_m.group(1) == anchor:
                return "\n".join(kept), None
            if not end_m and not re.search(ANCHOR_START, l):
                kept.append(l)
        else:
            start_m = re.search(ANCHOR_START, l)
            if start_m and start_m.group(1) == anchor:
                inside = True
    if inside:
        return "", f"anchor `{anchor}` is never closed"
    return "", f"the file has no anchor named exactly `{anchor}`"


def check_sources() -> list[str]:
    """Pages and step definitions agree; every include can be made; every anchor is closed.
    A command counts as shown only from a page that mdbook renders (one SUMMARY.md lists)."""
    import re
    problems = []
    shown = set()
    rendered = {p.resolve() for p in summary_pages()}
    for md in sorted(BOOK_SRC.rglob("*.md")):
        rel = md.relative_to(ROOT)
        text = md.read_text()
        markers = re.findall(MARKER, text)
        if markers and md.resolve() not in rendered and md.name != "SUMMARY.md":
            problems.append(f"{rel} runs commands but is not in book/SUMMARY.md, so mdbook never "
                            "renders it: add it there, or move its commands to a rendered page")
        for nn, cid in markers:
            if md.resolve() in rendered:
                shown.add((nn, cid))
            try:
                find_step(nn).command(cid)
            except Fail as e:
                problems.append(f"{rel}: {e}")
        for directive, _src, what, error in includes(md):
            if error:
                problems.append(f"{rel}: `{directive}` cannot be included: {error}")
            elif re.search(ANCHOR_START, what) or re.search(ANCHOR_END, what):
                problems.append(f"{rel}: `{directive}` would show the reader the file's ANCHOR "
                                "comments (mdbook keeps them in a whole file or a line range): "
                                "include by anchor, or drop the anchors from that file")
    for step in all_steps():
        for cid in step.commands:
            if (step.nn, cid) not in shown:
                problems.append(f"{step.label}: command `{cid}` is defined but no rendered page "
                                "shows it")
        for f in step.folder.rglob("*"):
            if f.is_file() and f.suffix in {".rs", ".c", ".h", ".py", ".toml", ".go"}:
                text = f.read_text(errors="replace")
                opened = re.findall(ANCHOR_START, text)
                closed = re.findall(ANCHOR_END, text)
                for a in sorted(set(opened) ^ set(closed)):
                    problems.append(f"{f.relative_to(ROOT)}: anchor `{a}` is not both opened and closed")
    return problems


def check_pages() -> list[str]:
    """The rendered HTML, as a browser gets it: one <h1> per page, every include one intact code
    block with exactly the included lines, every shown command's output block present."""
    import re
    problems = []
    for md in summary_pages():
        html_file = HTML / md.relative_to(BOOK_SRC).with_suffix(".html")
        rel = md.relative_to(ROOT)
        if not html_file.exists():
            problems.append(f"{rel}: mdbook rendered no {html_file.name}")
            continue
        page = parse_page(html_file.read_text())
        if page.h1 != 1:
            problems.append(f"{rel}: the rendered page has {page.h1} <h1> headings, not one "
                            "(a `#` line that fell out of a code block renders as one)")
        blocks = [b.split("\n") for b in page.blocks]
        for directive, src, what, error in includes(md):
            want = what.rstrip("\n").split("\n")  # a block's trailing blank lines don't render
            if error or not what.strip():
                continue
            if not any(contains_run(b, want) for b in blocks):
                near = max(blocks, key=lambda b: overlap(b, want), default=[])
                problems.append(
                    f"{rel}: `{directive}` is not one intact code block on the rendered page: no "
                    f"block holds its {len(want)} lines (the closest holds "
                    f"{overlap(near, want)} of them). An include inside a list item or a quote "
                    "indents only its first line; keep includes at the top level.")
        for nn, cid in re.findall(MARKER, md.read_text()):
            ready = READY / f"{nn.zfill(2)}-{cid}.md"
            if not ready.exists():
                problems.append(f"{rel}: command {nn} `{cid}` left no checked output")
                continue
            step = find_step(nn)
            out = ready.read_text()
            if step.command(cid).get("html"):
                missing = [l for l in out.splitlines() if l.strip() and l.strip() not in page.raw]
                if missing:
                    problems.append(f"{rel}: the HTML output of {nn} `{cid}` is not intact on the "
                                    f"page; missing: {missing[0].strip()[:80]!r}")
                continue
            body = re.match(r"(`{3,})console\n(.*)\1\n", out, flags=re.DOTALL)
            want = body.group(2).rstrip("\n").split("\n") if body else []
            if not any(b == want for b in blocks):
                problems.append(f"{rel}: the output block of {nn} `{cid}` is not on the rendered "
                                "page as one code block (is its marker inside a list or a fence?)")
    return problems


def contains_run(block: list[str], want: list[str]) -> bool:
    n = len(want)
    return any(block[i:i + n] == want for i in range(len(block) - n + 1))


def overlap(block: list[str], want: list[str]) -> int:
    return len(set(block) & set(want))


class Page:
    def __init__(self) -> None:
        self.h1 = 0
        self.blocks: list[str] = []
        self.raw = ""


def parse_page(html: str) -> Page:
    """The <h1> count and the text of every <pre> block in the page's <main>."""
    from html.parser import HTMLParser

    page = Page()
    page.raw = html

    class Parser(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.in_main = 0
            self.pre: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "main":
                self.in_main += 1
            elif tag == "h1" and self.in_main:
                page.h1 += 1
            elif tag == "pre" and self.in_main:
                self.pre = []

        def handle_endtag(self, tag):
            if tag == "main":
                self.in_main -= 1
            elif tag == "pre" and self.pre is not None:
                page.blocks.append("".join(self.pre).rstrip("\n"))
                self.pre = None

        def handle_data(self, data):
            if self.pre is not None:
                self.pre.append(data)

    Parser().feed(html)
    return page
