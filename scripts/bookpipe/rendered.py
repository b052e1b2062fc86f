"""The checks of what mdbook wrote: its log, and the rendered HTML as a browser gets it."""

from __future__ import annotations

from pathlib import Path

from .config import BOOK_SRC, HTML, MDBOOK_LOG, READY, ROOT
from .pages import CMDRUN, expected_listings, shown, summary_pages
from .steps import find_step
from .verdicts import failure_reports


def html_pages() -> list[Path]:
    return sorted(HTML.rglob("*.html")) if HTML.exists() else []


def mdbook_log_problems() -> list[str]:
    """What mdbook only logged and carried on past (a broken include, a playground link to a file
    that does not exist)."""
    import re
    if not MDBOOK_LOG.exists():
        return []
    return [f"mdbook reported: {line.strip()}"
            for line in MDBOOK_LOG.read_text(errors="replace").splitlines()
            if re.search(r"\[(ERROR|WARN)\]", line)]


def rendered_marker_problems() -> list[str]:
    """What mdbook-cmdrun left in the rendered pages: an error it only printed, or a marker it
    never expanded (the preprocessor missing or disabled)."""
    import re
    pages = html_pages()
    if not pages:
        return [f"no HTML under {HTML}: did `mdbook build` run?"]
    problems = []
    for page in pages:
        text = page.read_text(errors="replace")
        rel = page.relative_to(HTML)
        if "cmdrun error" in text and not failure_reports():
            problems.append(f"{rel}: mdbook-cmdrun reported an error that left no report: "
                            "run the page's commands with `just step NN` to see it")
        if re.search(CMDRUN, text):
            problems.append(f"{rel}: a cmdrun marker was left unexpanded: is mdbook-cmdrun installed "
                            "and enabled in book.toml? (run scripts/setup.sh)")
    return problems


def check_pages() -> list[str]:
    """The rendered HTML, as a browser gets it: each page there, with one <h1>; its code blocks
    exactly the listings its Markdown writes (each include's lines, each command's output), in
    order; every HTML output intact; no element left open to swallow the rest (in each page and
    print.html)."""
    problems = missing_page_problems() + source_archive_problems()
    for md in summary_pages():
        html_file = HTML / md.relative_to(BOOK_SRC).with_suffix(".html")
        if html_file.exists():
            rel, page = md.relative_to(ROOT), parse_page(html_file.read_text())
            problems += heading_problems(rel, page)
            problems += listing_problems(rel, md, page.blocks)
            problems += html_output_problems(rel, md, page)
    return problems + unclosed_problems()


def missing_page_problems() -> list[str]:
    """Every page SUMMARY.md lists was rendered."""
    return [f"{md.relative_to(ROOT)}: mdbook rendered no {md.with_suffix('.html').name}"
            for md in summary_pages()
            if not (HTML / md.relative_to(BOOK_SRC).with_suffix(".html")).exists()]


def source_archive_problems() -> list[str]:
    """The introduction links to the source archive (sources.py), the link resolves in the
    rendered book, and the archive holds what the introduction promises: the Justfile, setup,
    the workspace and every step's crate with its commands.toml."""
    import re
    import tarfile
    from .sources import ARCHIVE, MUST_HOLD, TOP
    from .steps import all_steps
    intro = HTML / "introduction.html"
    if not intro.exists():
        return []  # missing_page_problems says so
    hrefs = re.findall(r'href="([^"#?]*' + re.escape(ARCHIVE) + r')"', intro.read_text())
    if not hrefs:
        return [f"introduction.html links to no {ARCHIVE}: the rendered book would not say where "
                "its sources are"]
    problems = []
    for href in dict.fromkeys(hrefs):
        target = (intro.parent / href).resolve()
        if not target.is_file():
            problems.append(f"introduction.html links to {href}, which the rendered book does not "
                            f"hold: `scripts/book prepare` (the first step of `just build` and `just "
                            f"serve`) writes it into book/, and mdbook copies it from there")
            continue
        try:
            with tarfile.open(target) as tar:
                names = set(tar.getnames())
        except (OSError, tarfile.TarError) as e:
            problems.append(f"{href}: not a readable archive ({e})")
            continue
        want = [*MUST_HOLD, *(f"steps/{s.folder.name}/commands.toml" for s in all_steps())]
        missing = [w for w in want if f"{TOP}/{w}" not in names]
        if missing:
            problems.append(f"{href} lacks {', '.join(missing)} (it holds {len(names)} files): a "
                            "reader could not build the book from it")
    return problems


def heading_problems(rel: Path, page: Page) -> list[str]:
    """One <h1> per page: a `#` line that fell out of a code block renders as a second."""
    if page.h1 == 1:
        return []
    return [f"{rel}: the rendered page has {page.h1} <h1> headings, not one "
            "(a `#` line that fell out of a code block renders as one)"]


def listing_problems(rel: Path, md: Path, rendered: list[str]) -> list[str]:
    """The rendered page's <pre> blocks are exactly the page's listings, in order."""
    import difflib
    want = expected_listings(md)
    texts = [t for _, t in want]
    if texts == rendered:
        return []
    sm = difflib.SequenceMatcher(a=texts, b=rendered, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        if i1 < len(texts):
            first = texts[i1].split("\n")[0][:70]
            got = rendered[j1].split("\n")[0][:70] if j1 < len(rendered) else "nothing"
            return [f"{rel}: listing {i1 + 1} of {len(texts)} (it starts {first!r}) does not render "
                    f"exactly, in its place: the page shows {got!r} there "
                    f"({len(rendered)} blocks rendered, {len(texts)} written)"]
        return [f"{rel}: the page renders {len(rendered) - len(texts)} code block(s) more than it "
                f"writes, the first starting {rendered[j1].split(chr(10))[0][:70]!r}"]
    return []


def html_output_problems(rel: Path, md: Path, page: Page) -> list[str]:
    """Each command's checked output is there, and an HTML output (a chart, a table) is on the
    page line for line."""
    problems = []
    for nn, cid in shown(md.read_text()):
        ready = READY / f"{nn.zfill(2)}-{cid}.md"
        if not ready.exists():
            problems.append(f"{rel}: command {nn} `{cid}` left no checked output")
            continue
        if find_step(nn).command(cid).html:
            out = ready.read_text()
            missing = [l for l in out.splitlines() if l.strip() and l.strip() not in page.raw]
            if missing:
                problems.append(f"{rel}: the HTML output of {nn} `{cid}` is not intact on the "
                                f"page; missing: {missing[0].strip()[:80]!r}")
    return problems


def unclosed_problems() -> list[str]:
    """No element of a page's <main> (nor of print.html's, the whole book on one page) is left
    open: it would swallow the rest of the page, or every chapter after it."""
    problems = []
    for md in summary_pages():
        html_file = HTML / md.relative_to(BOOK_SRC).with_suffix(".html")
        if html_file.exists():
            for swallowed in unclosed_html(html_file.read_text()):
                problems.append(f"{md.relative_to(ROOT)}: {swallowed} is never closed: it "
                                "swallows the rest of the page")
    printed = HTML / "print.html"
    if printed.exists():
        for swallowed in unclosed_html(printed.read_text()):
            problems.append(f"print.html (the whole book on one page): {swallowed} is never "
                            "closed: it swallows every chapter after it")
    return problems


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


# Elements whose end tag HTML lets the browser infer, and those that have none.
OPTIONAL_END = {"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
                "colgroup", "caption", "rt", "rp", "optgroup"}


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "path", "circle", "rect", "line", "polyline", "polygon", "ellipse"}


def unclosed_html(html: str) -> list[str]:
    """The elements of <main> still open at its end (each swallows what follows it), as
    `<tag>` with the first words after it."""
    from html.parser import HTMLParser

    open_: list[tuple[str, str]] = []
    found: list[str] = []

    class Parser(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.main = 0
            self.text_after: list | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "main":
                self.main += 1
                return
            if self.main and tag not in VOID and tag not in OPTIONAL_END:
                open_.append((tag, ""))
                self.text_after = [len(open_) - 1, ""]

        def handle_startendtag(self, tag, attrs):
            pass

        def handle_endtag(self, tag):
            if tag == "main":
                self.main -= 1
                found.extend(f"<{t}> (before {w.strip()[:50]!r})" for t, w in open_)
                open_.clear()
                return
            for i in range(len(open_) - 1, -1, -1):
                if open_[i][0] == tag:
                    del open_[i:]
                    break

        def handle_data(self, data):
            if self.text_after and self.text_after[0] < len(open_):
                k = self.text_after[0]
                t, w = open_[k]
                if len(w) < 50:
                    open_[k] = (t, w + data)

    Parser().feed(html)
    return found
