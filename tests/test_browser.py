"""The book as a reader's browser shows it: headless Chromium, at 1280 x 900, through every page.

`tests/browser/collect.mjs` (playwright-core, pinned in tests/browser/package-lock.json) serves as
the eyes: it loads each page of the built book (target/book, served on 127.0.0.1), walks the
previous/next links, types a word into the search bar, and writes down what it saw. The checks
are here, each a function from that report to a list of problems:

- no page has a JavaScript error, a console error, or a file of the book that failed to load;
- every checked output of every page (console blocks, the CPython version notes, HTML outputs)
  is on the page, visible;
- no listing scrolls sideways;
- the search finds `PyArg_ParseTuple`;
- "next" leads from the first page through every chapter, in SUMMARY.md's order, and "previous"
  all the way back;
- no internal link leads to a missing page, or to an anchor the page does not have.

A screenshot of each page goes to target/screenshots/, for a person to look at.

Each check is also run on a copy of the built book broken on purpose, one fault per check, and
must report that fault: a check that cannot fail proves nothing.

Without Chromium, Node or the npm packages, the tests are skipped with what to install
(scripts/setup.sh installs all three where it can), never passed.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bookpipe import config, pages  # noqa: E402  (the pipeline: pages, markers, checked outputs)

BROWSER_DIR = ROOT / "tests" / "browser"
COLLECT = BROWSER_DIR / "collect.mjs"
BUILT = ROOT / "target" / "book"
SCREENSHOTS = ROOT / "target" / "screenshots"
SEARCH_WORD = "PyArg_ParseTuple"


# ---------------------------------------------------------------------------------------------
# What the test needs, and what to install when it is missing


def chromium() -> str | None:
    for candidate in (os.environ.get("BOOK_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def missing() -> list[str]:
    needs = []
    if not chromium():
        needs.append("Chromium: as root on Debian/Ubuntu, `apt-get install -y chromium` (or run "
                     "scripts/setup.sh as root); elsewhere install Chromium and set BOOK_CHROMIUM "
                     "to its executable")
    if not shutil.which("node"):
        needs.append("Node.js 20 or newer with npm (Debian/Ubuntu: `apt-get install -y nodejs npm`)")
    if not (BROWSER_DIR / "node_modules" / "playwright-core" / "package.json").exists():
        needs.append("the pinned npm packages: `npm ci --prefix tests/browser` (scripts/setup.sh "
                     "does it)")
    return needs


@pytest.fixture(scope="module")
def needs() -> None:
    lacking = missing()
    if lacking:
        pytest.skip("the browser test needs " + "; and ".join(lacking))
    if not (BUILT / "index.html").exists():
        pytest.fail(f"no built book in {BUILT}: run `just build` first")


# ---------------------------------------------------------------------------------------------
# Serving a book and collecting what the browser sees


def page_paths() -> list[str]:
    return [str(md.relative_to(config.BOOK_SRC).with_suffix(".html")) for md in pages.summary_pages()]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def collect(folder: Path, out: Path, screenshots: Path | None) -> dict:
    """Serve `folder` on a free port of 127.0.0.1 and let Chromium read it; returns the report."""
    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = {
            "chromium": chromium(),
            "base": f"http://127.0.0.1:{server.server_address[1]}/",
            "pages": page_paths(),
            "screenshots": str(screenshots) if screenshots else None,
            "search": SEARCH_WORD,
            "out": str(out),
        }
        (out.parent / f"{out.stem}.config.json").write_text(json.dumps(config))
        proc = subprocess.run(["node", str(COLLECT), str(out.parent / f"{out.stem}.config.json")],
                              capture_output=True, text=True, timeout=240)
        if proc.returncode != 0:
            pytest.fail(f"collect.mjs failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return json.loads(out.read_text())
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def report(needs, tmp_path_factory) -> dict:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    return collect(BUILT, tmp_path_factory.mktemp("browser") / "report.json", SCREENSHOTS)


# ---------------------------------------------------------------------------------------------
# The checks


def js_problems(report: dict) -> list[str]:
    problems = [f"{path}: {e}" for path, info in report["pages"].items() for e in info["errors"]]
    problems += [f"search: {e}" for e in report["search"]["errors"]]
    return problems


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(fragment: str) -> str:
    parser = _Text()
    parser.feed(fragment)
    return "".join(parser.parts)


def squash(text: str) -> str:
    return " ".join(text.split())


def expected_outputs(ready: Path = config.READY) -> dict[str, list[tuple[str, str, str]]]:
    """Per page: (command, kind, text) for every output the page shows, from the checked page
    outputs that the build wrote (target/book-work/ready): a console block's text, the CPython
    version note under it, or the text of an HTML output."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for md, path in zip(pages.summary_pages(), page_paths()):
        wanted = found.setdefault(path, [])
        for nn, cid in pages.shown(md.read_text()):
            name = f"{nn.zfill(2)} {cid}"
            out = (ready / f"{nn.zfill(2)}-{cid}.md").read_text()
            body = re.match(r"(`{3,})console\n(.*?)\1\n(.*)", out, flags=re.DOTALL)
            if not body:
                wanted.append((name, "html", squash(text_of(out))))
                continue
            wanted.append((name, "console", body.group(2)))
            note = re.search(r'<p class="python-version">.*?</p>', body.group(3), flags=re.DOTALL)
            if note:
                wanted.append((name, "note", squash(text_of(note.group(0)))))
            # Each other version's output, folded under the note (<details>: on the page, shown
            # when the reader opens it).
            for other in re.finditer(r"(`{3,})console\n(.*?)\1\n", body.group(3), flags=re.DOTALL):
                wanted.append((name, "folded", other.group(2)))
    return found


def output_problems(report: dict, expected: dict) -> list[str]:
    problems = []
    for path, wanted in expected.items():
        info = report["pages"][path]
        consoles = [b for b in info["blocks"] if b["lang"] == "console"]
        for name, kind, text in wanted:
            if kind in ("console", "folded"):
                # A <code> block's text ends with the newline before its closing fence.
                hits = [b for b in consoles if b["text"].rstrip("\n") == text.rstrip("\n")]
                if not hits:
                    what = "another version's output" if kind == "folded" else "the output"
                    problems.append(f"{path}: {what} of {name} is not on the page")
                elif kind == "console" and not any(b["visible"] for b in hits):
                    problems.append(f"{path}: the output of {name} is on the page but not visible")
            elif kind == "note":
                if not any(squash(n) == text for n in info["notes"]):
                    problems.append(f"{path}: the CPython version note under {name} is missing")
            elif text not in squash(info["mainText"]):
                problems.append(f"{path}: the HTML output of {name} is not on the page")
    return problems


def scroll_problems(report: dict) -> list[str]:
    problems = []
    for path, info in report["pages"].items():
        for i, b in enumerate(info["blocks"]):
            if b["overflow"] > 0:
                first = b["text"].split("\n", 1)[0][:60]
                longest = max(len(line) for line in b["text"].split("\n"))
                problems.append(f"{path}: listing {i + 1} ({b['lang']}, {longest} columns, "
                                f"starting {first!r}) scrolls sideways by {b['overflow']} px")
        for i, svg in enumerate(info["svgs"]):
            if svg["overflow"] > 0:
                problems.append(f"{path}: diagram {i + 1} ({svg['text'][:40]!r}) sticks out of "
                                f"the column by {svg['overflow']} px")
    return problems


def scrolling(report: dict) -> tuple[int, int]:
    blocks = [b for info in report["pages"].values() for b in info["blocks"]]
    return sum(b["overflow"] > 0 for b in blocks), len(blocks)


def search_problems(report: dict) -> list[str]:
    found = report["search"]["results"]
    hits = [r["href"].split("?")[0].split("#")[0].rsplit("/", 1)[-1] for r in found]
    if not found:
        return [f"searching for {report['search']['word']!r} finds nothing "
                f"(the search says: {report['search']['header']!r})"]
    if not set(hits) <= set(page_paths()):
        return [f"searching for {report['search']['word']!r} leads out of the book: {hits}"]
    return []


def nav_problems(report: dict, base: str | None = None) -> list[str]:
    pages = page_paths()
    seen = report["nav"]
    base = base or seen[0][: -len(pages[0])]
    forward = [seen[0]] + [u.split(":", 1)[1] for u in seen[1:] if u.startswith("next:")]
    back = [u.split(":", 1)[1] for u in seen[1:] if u.startswith("prev:")]
    want = [base + p for p in pages]
    problems = []
    if forward != want:
        problems.append(f"'next' from {pages[0]} visits {[u[len(base):] for u in forward]}, "
                        f"not every chapter in order: {pages}")
    if back != want[-2::-1]:
        problems.append(f"'previous' from {pages[-1]} visits {[u[len(base):] for u in back]}, "
                        f"not every chapter back to {pages[0]}")
    return problems


def link_problems(report: dict) -> list[str]:
    problems = []
    ids: dict[str, set[str]] = {}
    base = report["nav"][0][: -len(page_paths()[0])]
    for path, info in report["pages"].items():
        ids[base + path] = set(info["ids"]) | set(info["names"])
    for url, target in report["targets"].items():
        if target["ids"] is not None:
            ids[url] = set(target["ids"])
    for path, info in report["pages"].items():
        for link in info["links"]:
            href = link["href"]
            if not href.startswith(base):
                continue
            page, _, fragment = href.partition("#")
            page = page.split("?", 1)[0]
            target = report["targets"].get(page)
            if target is None or target["status"] != 200:
                status = target["status"] if target else "never requested"
                problems.append(f"{path}: link {link['raw']!r} ({link['text']!r}) leads to a page "
                                f"that does not load ({status})")
            elif fragment and page in ids and fragment not in ids[page]:
                problems.append(f"{path}: link {link['raw']!r} ({link['text']!r}) leads to "
                                f"#{fragment}, which {page[len(base):]} does not have")
    return problems


# ---------------------------------------------------------------------------------------------
# The book as built


def test_no_javascript_errors(report):
    assert js_problems(report) == []


def test_every_checked_output_is_on_its_page(report):
    expected = expected_outputs()
    assert sum(len(v) for v in expected.values()) > 0
    assert output_problems(report, expected) == []


def test_no_listing_scrolls_sideways(report):
    n, total = scrolling(report)
    print(f"{n} of {total} listings scroll sideways at 1280 px")
    assert scroll_problems(report) == []


def test_search_finds_a_word(report):
    assert search_problems(report) == []


def test_previous_and_next_reach_every_chapter(report):
    assert nav_problems(report) == []


def test_no_broken_internal_link(report):
    assert link_problems(report) == []


def test_a_screenshot_of_each_page(report):
    shots = sorted(p.name for p in SCREENSHOTS.glob("*.jpeg"))
    assert shots == sorted(p.replace(".html", ".jpeg") for p in page_paths())


# ---------------------------------------------------------------------------------------------
# A copy of the book broken once per check: each check must see its fault


def break_copy(folder: Path) -> dict[str, str]:
    """Copy the built book into `folder` and break it, one fault per check on a page of its own,
    so that no fault hides another. Returns which page got which fault."""
    shutil.copytree(BUILT, folder)
    pages = page_paths()
    faults = {}

    def edit(page: str, old: str, new: str, count: int = 1) -> None:
        p = folder / page
        text = p.read_text()
        assert old in text, f"{page}: {old!r} not found to break"
        p.write_text(text.replace(old, new, count))

    # A script error on the last page (the search runs on the first).
    edit(pages[-1], "</body>", "<script>bookBrokenOnPurpose()</script></body>")
    faults["js"] = pages[-1]
    # Chapter 1: its first output block loses its last line, as drift would leave it.
    ch1 = pages[1]
    first_console = re.search(r'<code class="language-console[^"]*">(.*?)</code>',
                              (folder / ch1).read_text(), flags=re.DOTALL).group(1)
    edit(ch1, first_console, first_console.rstrip("\n").rsplit("\n", 1)[0] + "\n")
    faults["output"] = ch1
    # Chapter 2: a listing with a 130-column line.
    text = (folder / pages[2]).read_text()
    at = text.index('<code class="language-c"')
    at = text.index(">", at) + 1
    text = text[:at] + "/* " + "x" * 124 + " */\n" + text[at:]
    # and a diagram wider than the column.
    wide = '<svg width="2000" height="20"><text x="0" y="15">too wide</text></svg>'
    (folder / pages[2]).write_text(text.replace("<main>", "<main>" + wide, 1))
    faults["scroll"] = pages[2]
    # Chapter 3: a link to a page that does not exist, and one to an anchor that does not.
    edit(pages[3], "<main>", '<main><p><a href="ch99-missing.html">gone</a> '
                             f'<a href="{pages[2]}#no-such-section">nowhere</a></p>')
    faults["link"] = pages[3]
    # Chapter 4's "next" skips chapter 5 (both the wide and the narrow arrow).
    edit(pages[4], f'href="{pages[5]}"', f'href="{pages[6]}"', count=-1)
    faults["nav"] = pages[4]
    # The search index loses the word: mdBook's index (elasticlunr's) keeps its words, stemmed
    # (`pyarg_parsetupl(arg`), in a tree of letters, in a JSON text inside a JavaScript string;
    # cut the branch of every word that starts with `pyarg`.
    index = folder / "searchindex.js"
    js = re.fullmatch(r"(.*?JSON\.parse\(')(.*)('\)\);?\s*)", index.read_text(), flags=re.DOTALL)
    data = json.loads(re.sub(r"\\(.)", r"\1", js.group(2)))
    cut = 0
    for field in data["index"]["index"].values():
        node = field["root"]
        for letter in "pyar":
            node = node.get(letter, {})
        cut += node.pop("g", None) is not None
    assert cut, f"{SEARCH_WORD} is not in the search index to cut"
    text = json.dumps(data).replace("\\", "\\\\").replace("'", "\\'")
    index.write_text(js.group(1) + text + js.group(3))
    faults["search"] = "searchindex.js"
    return faults


@pytest.fixture(scope="module")
def broken(needs, tmp_path_factory) -> tuple[dict, dict[str, str]]:
    work = tmp_path_factory.mktemp("broken-book")
    faults = break_copy(work / "book")
    return collect(work / "book", work / "report.json", None), faults


def test_a_javascript_error_is_seen(broken):
    report, faults = broken
    problems = js_problems(report)
    assert problems and all(p.startswith(faults["js"]) for p in problems), problems
    assert "bookBrokenOnPurpose" in problems[0]


def test_a_missing_output_is_seen(broken):
    report, faults = broken
    problems = output_problems(report, expected_outputs())
    assert problems and all(p.startswith(faults["output"]) for p in problems), problems


def test_a_wide_listing_is_seen(broken):
    report, faults = broken
    problems = scroll_problems(report)
    assert problems and all(p.startswith(faults["scroll"]) for p in problems), problems
    assert len(problems) == 2 and "130 columns" in problems[0] and "too wide" in problems[1]


def test_a_search_that_finds_nothing_is_seen(broken):
    report, _ = broken
    assert search_problems(report)


def test_a_broken_chain_of_chapters_is_seen(broken):
    report, faults = broken
    problems = nav_problems(report)
    assert problems and "ch05" not in problems[0].split("visits", 1)[1].split("]")[0], problems


def test_a_broken_link_and_anchor_are_seen(broken):
    report, faults = broken
    problems = link_problems(report)
    assert len(problems) == 2 and all(p.startswith(faults["link"]) for p in problems), problems
    assert "ch99-missing.html" in problems[0] and "no-such-section" in problems[1]
