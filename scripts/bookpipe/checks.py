"""The page checks, after `mdbook build`: failure reports, mdbook's log, markers, includes,
and the rendered HTML as a browser gets it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .build import sha256_file, sources_digest
from .config import (BASE_VERSION, BOOK_SRC, CHECKED, HTML, MARKER, MDBOOK_LOG, PYVER, READY,
                     ROOT, STEPS, Fail)
from .steps import all_steps, find_step, version_key
from .verdicts import failure_reports, report_problems


def cmd_check() -> int:
    """After `mdbook build`. mdbook-cmdrun never fails a build: a failing command only leaves
    `**cmdrun error**` in the page, and a missing preprocessor leaves the raw marker; mdbook itself
    only logs a broken include. Catch all of these, print the runner's reports, check that pages
    and definitions agree, then check the rendered pages as a browser gets them.

    Each check is a function named `*_problems` that returns what it finds, one message each
    (tests/test_drift.py holds a fault for every one of them and fails on a check without one);
    this function and the two below only gather them."""
    problems = report_problems() + mdbook_log_problems() + rendered_marker_problems()
    problems += check_sources()
    # A failing output's box is no listing: the rendered pages are checked once every output is.
    if html_pages() and not failure_reports():
        problems += check_pages()
    if problems:
        sys.stderr.write("\n".join(p.rstrip("\n") for p in problems) + "\n\n")
        sys.stderr.write(f"book check FAILED: {len(problems)} problem(s) (python3 is CPython {PYVER})\n")
        return 1
    n = sum(len(s.commands) for s in all_steps())
    CHECKED.write_text(json.dumps({"python": PYVER, "version": sys.version.split()[0],
                                   "sources": sources_digest()}))
    print(f"book check: {len(html_pages())} pages, {n} commands, every output matches its "
          f"expectation under CPython {PYVER}, and every page renders its listings and outputs "
          "intact")
    return 0


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
        if re.search(r"<!--\s*cmdrun", text):
            problems.append(f"{rel}: a cmdrun marker was left unexpanded: is mdbook-cmdrun installed "
                            "and enabled in book.toml? (run scripts/setup.sh)")
    return problems


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
        if kind not in ("include", "rustdoc_include", "playground", "playpen"):
            continue
        spec = target.split()[0]
        path, _, sel = spec.partition(":")
        if kind in ("playground", "playpen"):  # always the whole file, anchors and all
            path, sel = spec, ""
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
    """Pages and step definitions agree, and every page's Markdown holds to its rules."""
    problems = marker_problems() + order_problems() + include_problems()
    for md in summary_pages():
        problems += structure_problems(md)
    problems += numbering_problems()
    problems += expectation_problems()
    problems += build_script_problems()
    problems += script_problems()
    problems += settings_problems()
    problems += by_hand_problems()
    problems += anchor_problems()
    return problems


def marker_problems() -> list[str]:
    """Every marker names a command its step defines; a page with markers is one mdbook renders
    (SUMMARY.md lists it); every command meant for the reader is shown by a rendered page."""
    import re
    problems = []
    shown = set()
    rendered = {p.resolve() for p in summary_pages()}
    for md in sorted(BOOK_SRC.rglob("*.md")):
        rel = md.relative_to(ROOT)
        markers = re.findall(MARKER, md.read_text())
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
    for step in all_steps():
        for cid in step.commands:
            if not step.commands[cid].shown:
                continue  # a check of a script that a page includes or quotes, not for the reader
            if (step.nn, cid) not in shown:
                problems.append(f"{step.label}: command `{cid}` is defined but no rendered page "
                                "shows it")
    return problems


def order_problems() -> list[str]:
    """A page shows a chapter's outputs in the order its commands.toml defines them (the order
    `just step NN` prints them in). Each output is checked, but not what the prose beside it
    says of it: two markers swapped leave every output correct and each beside the other's
    prose. A rule that ties the page's order to one written elsewhere makes such a swap red."""
    import re
    problems = []
    for md in summary_pages():
        rel = md.relative_to(ROOT)
        shown: dict[str, list[str]] = {}
        for nn, cid in re.findall(MARKER, md.read_text()):
            shown.setdefault(nn.zfill(2), []).append(cid)
        for nn, cids in shown.items():
            try:
                step = find_step(nn)
            except Fail:
                continue  # marker_problems reports it
            defined = list(step.commands)
            known = [c for c in cids if c in defined]
            for before, after in zip(known, known[1:]):
                if defined.index(before) > defined.index(after):
                    problems.append(
                        f"{rel}: the output of {nn} `{after}` follows that of `{before}`, while "
                        f"steps/{step.folder.name}/commands.toml defines `{after}` first: a page "
                        "shows a chapter's outputs in the order of their definitions, so that a "
                        "swapped marker cannot leave an output beside another's prose. Move the "
                        "marker back, or (if the page's order is the one you mean) the "
                        "definitions")
                    break
    return problems


def include_problems() -> list[str]:
    """Every include of every page can be made (its file, anchor or lines exist), and none shows
    the reader the file's ANCHOR comments."""
    import re
    problems = []
    for md in sorted(BOOK_SRC.rglob("*.md")):
        rel = md.relative_to(ROOT)
        for directive, _src, what, error in includes(md):
            if error:
                problems.append(f"{rel}: `{directive}` cannot be included: {error}")
            elif re.search(ANCHOR_START, what) or re.search(ANCHOR_END, what):
                problems.append(f"{rel}: `{directive}` would show the reader the file's ANCHOR "
                                "comments (mdbook keeps them in a whole file or a line range): "
                                "include by anchor, or drop the anchors from that file")
    return problems


def anchor_problems() -> list[str]:
    """Every ANCHOR that a step's file opens it closes, and the other way round."""
    import re
    problems = []
    for step in all_steps():
        for f in step.folder.rglob("*"):
            if f.is_file() and f.suffix in {".rs", ".c", ".h", ".py", ".toml", ".go"}:
                text = f.read_text(errors="replace")
                opened = re.findall(ANCHOR_START, text)
                closed = re.findall(ANCHOR_END, text)
                for a in sorted(set(opened) ^ set(closed)):
                    problems.append(f"{f.relative_to(ROOT)}: anchor `{a}` is not both opened and closed")
    return problems


def settings_problems() -> list[str]:
    """What a command runs with is on its page: its folder (`cwd`) in the prompt of every line it
    shows, and no environment of its own that the page does not show. A variable a command
    needs is written in its line (`PYTHONUNBUFFERED=1 python3 x.py`), where the reader sees it
    and types it; the environment every command starts from (README: a defined environment) is
    the same for all. An HTML output shows no command line, so it can show neither."""
    problems = []
    for step in all_steps():
        for cid, cmd in step.commands.items():
            where = f"{step.label}: command `{cid}`"
            if cmd.env:
                names = ", ".join(sorted(cmd.env))
                problems.append(f"{where} sets `env` ({names}), which its page does not show: write "
                                "each variable in the line that needs it (`NAME=value command`)")
            if cmd.html and cmd.cwd:
                problems.append(f"{where} runs in `{cmd.cwd}`, which its HTML output cannot "
                                "show: run it in the chapter's folder")
    return problems


SCRIPT_KINDS = {".py", ".sh"}
# The one kind of included script that no command runs: each chapter's by-hand.sh, the staging a
# reader types in the repository itself, which by_hand_problems() runs.
BY_HAND = "by-hand.sh"


def by_hand_problems() -> list[str]:
    """Each chapter's by-hand.sh, which its page shows as the commands that stage the chapter's
    files, gathers exactly the files (byte for byte) that the book's commands ran with. It runs
    in a folder of its own laid out as the repository is (steps/, and target/'s debug and release
    builds being the pipeline's), with the pipeline's cargo build, which it finds up to date. A
    passing result is remembered for the script's text and the staged files it matched."""
    import hashlib
    import shutil
    import subprocess
    from .config import CACHE, STAGE, WORK, python_env
    problems = []
    env = python_env()
    # The pipeline's cargo runs in steps/, where a relative CARGO_TARGET_DIR starts.
    cargo_target = (STEPS / env["CARGO_TARGET_DIR"]).resolve()
    env["CARGO_TARGET_DIR"] = str(cargo_target)
    for step in all_steps():
        script = step.folder / BY_HAND
        manifest = STAGE / step.nn / ".manifest.json"
        if not script.exists() or not manifest.exists():
            continue
        staged = json.loads(manifest.read_text())
        key = hashlib.sha256(script.read_bytes() + manifest.read_bytes()).hexdigest()[:32]
        passed = CACHE / f"by-hand-{step.nn}-{key}.ok"
        if passed.exists():
            continue
        root = WORK / "by-hand" / step.nn
        shutil.rmtree(root, ignore_errors=True)
        (root / "target").mkdir(parents=True)
        (root / "steps").symlink_to(STEPS)
        for profile in ("debug", "release"):
            (root / "target" / profile).symlink_to(cargo_target / profile)
        proc = subprocess.run(["sh", str(script)], cwd=root, env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=1800)
        rel = script.relative_to(ROOT)
        if proc.returncode != 0:
            problems.append(f"{step.label}: {rel}, which its page shows, exited with status "
                            f"{proc.returncode}:\n{(proc.stdout + proc.stderr).strip()[-2000:]}")
            continue
        difference = gathering_difference(gathered_files(root / "target" / "run" / step.nn),
                                          staged)
        if difference:
            problems.append(f"{step.label}: {rel}, which its page shows, gathers other files "
                            f"than the book's commands ran with: {difference}")
            continue
        CACHE.mkdir(parents=True, exist_ok=True)
        for old in CACHE.glob(f"by-hand-{step.nn}-*.ok"):
            old.unlink()
        passed.write_text("")
        shutil.rmtree(root, ignore_errors=True)
    return problems


def gathered_files(run: Path) -> dict[str, str]:
    """What a by-hand.sh gathered: each file under `run`, by its path there, -> its SHA-256,
    hashed as the staging's .manifest.json is (build.sha256_file)."""
    return {str(f.relative_to(run)): sha256_file(f) for f in sorted(run.rglob("*")) if f.is_file()}


def gathering_difference(gathered: dict[str, str], staged: dict[str, str]) -> str:
    """How the files a by-hand.sh gathered differ from those staged ("" when they do not)."""
    if gathered == staged:
        return ""
    return (f"only by hand {sorted(set(gathered) - set(staged))}, "
            f"only staged {sorted(set(staged) - set(gathered))}, different "
            f"{sorted(k for k in set(gathered) & set(staged) if gathered[k] != staged[k])}")


def script_problems() -> list[str]:
    """Every script a rendered page includes from steps/ runs in `just build`: its step stages it
    (a `src:` entry of [stage]) into the folder where the step's commands run, and a command's line
    names it (or a staged script that a line names imports it). A page that includes a script no
    build runs shows code that nothing checks: the issue's bench.py, whose last line the page
    quoted after the script stopped printing it."""
    import re
    steps = all_steps()
    staged: dict[Path, list[tuple]] = {}
    for step in steps:
        for dest, source in step.stage_spec.items():
            if source.startswith("src:"):
                staged.setdefault((step.folder / source[4:]).resolve(), []).append((step, dest))

    def runs(step, dest: str, seen: frozenset = frozenset()) -> bool:
        name = Path(dest).name
        lines = [line.run for cmd in step.commands.values() for line in cmd.run]
        if any(re.search(rf"(^|[\s/]){re.escape(name)}(?=[\s;|&)<>]|$)", l) for l in lines):
            return True
        if dest.endswith(".py"):  # imported by a staged script that runs
            for other_dest, other in step.stage_spec.items():
                if other_dest in seen or not other.startswith("src:") or other_dest == dest \
                        or not other_dest.endswith(".py"):
                    continue
                text = (step.folder / other[4:]).read_text(errors="replace")
                stem = re.escape(Path(dest).stem)
                # `import name`, `from name import ...`, or the name as a string that a script
                # imports by (`__import__("name")`, importlib.import_module, a table of modules)
                imported = re.search(rf"(?m)^\s*(import|from)\s+{stem}\b", text) or \
                    re.search(rf"""["']{stem}["']""", text)
                if imported and runs(step, other_dest, seen | {dest}):
                    return True
        return False

    problems = []
    for md in summary_pages():
        rel = md.relative_to(ROOT)
        for directive, src, _what, error in includes(md):
            if error or src.suffix not in SCRIPT_KINDS or STEPS not in src.parents:
                continue
            if src.name == BY_HAND:
                continue
            if not any(runs(step, dest) for step, dest in staged.get(src, [])):
                problems.append(
                    f"{rel}: `{directive}` shows {src.relative_to(ROOT)}, which no command of "
                    "`just build` runs, so nothing checks what the page says of it: stage it "
                    "(a `src:` entry of the step's [stage]) and run it in a command (one with "
                    "`shown = false` and a `shape` if the page only quotes what it prints)")
    return problems


def check_pages() -> list[str]:
    """The rendered HTML, as a browser gets it: each page there, with one <h1>; its code blocks
    exactly the listings its Markdown writes (each include's lines, each command's output), in
    order; every HTML output intact; no element left open to swallow the rest (in each page and
    print.html)."""
    problems = missing_page_problems()
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


def heading_problems(rel: Path, page: Page) -> list[str]:
    """One <h1> per page: a `#` line that fell out of a code block renders as a second."""
    if page.h1 == 1:
        return []
    return [f"{rel}: the rendered page has {page.h1} <h1> headings, not one "
            "(a `#` line that fell out of a code block renders as one)"]


def html_output_problems(rel: Path, md: Path, page: Page) -> list[str]:
    """Each command's checked output is there, and an HTML output (a chart, a table) is on the
    page line for line."""
    import re
    problems = []
    for nn, cid in re.findall(MARKER, md.read_text()):
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


# ---------------------------------------------------------------------------------------------
# The page's structure, from its Markdown: where every listing, include and output goes


# mdbook-cmdrun's own pattern (src/cmdrun.rs): any `<!--[ ]*cmdrun ...-->` runs, wherever it is.
CMDRUN = r"<!--[ ]*cmdrun (.*?)-->"
SHOW = r"\.\./scripts/book show (\S+) (\S+) ?"
# The link kinds mdbook 0.4 knows (src/preprocess/links.rs); `playpen` is playground's old name.
INCLUDE_KINDS = ("include", "rustdoc_include", "playground", "playpen", "title")
OPEN_FENCE = r"^( {0,3})(`{3,}|~{3,})(.*)$"


class Block:
    """A fenced listing of the page's Markdown: where it opens, its info string, its body lines."""

    def __init__(self, line: int, indent: int, fence: str, info: str) -> None:
        self.line, self.indent, self.fence, self.info = line, indent, fence, info.strip()
        self.body: list[str] = []
        self.closed = False


def fenced_blocks(lines: list[str]) -> list[Block]:
    """The fenced code blocks of Markdown `lines`, as CommonMark finds them: a fence closes only
    on a line of the same character, at least as long, with nothing after it. A fence in a list
    item counts too (with its indent), so that nothing hides in one."""
    import re
    blocks: list[Block] = []
    current: Block | None = None
    for i, line in enumerate(lines, 1):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if current is None:
            m = re.match(r"^(`{3,}|~{3,})(.*)$", stripped)
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                current = Block(i, indent, m.group(1), m.group(2))
                blocks.append(current)
            continue
        m = re.match(r"^(`{3,}|~{3,})\s*$", stripped)
        if m and m.group(1)[0] == current.fence[0] and len(m.group(1)) >= len(current.fence) \
                and indent <= current.indent + 3:
            current.closed = True
            current = None
            continue
        current.body.append(line[min(indent, current.indent):])
    return blocks


def directive_kind(directive: str) -> str:
    import re
    m = re.match(r"\{\{\s*#([a-zA-Z0-9_]+)", directive)
    return m.group(1) if m else ""


def structure_problems(md: Path) -> list[str]:
    """What the Markdown of one page must hold to, before anything renders:

    - every marker goes through the checked pipeline (`../scripts/book show NN ID`), on a line of
      its own outside any listing (a marker in inline code or a listing is expanded where it
      stands, and garbles it);
    - every include is alone on its line in a top-level fenced listing that holds includes only,
      so that the listing renders exactly the included lines (a missing closing fence, an include
      in a list item or in prose all fail this); `{{#playground}}` on a line of its own outside
      any listing (mdbook writes the listing); no other kind is used unchecked;
    - includes name an anchor, never a line range (numbers that stay put while the file changes);
    - every listing is closed."""
    import re
    rel = md.relative_to(ROOT)
    text = md.read_text()
    lines = text.split("\n")
    problems = []
    blocks = fenced_blocks(lines)
    in_block: dict[int, Block] = {}
    for b in blocks:
        end = b.line + len(b.body) + (1 if b.closed else 0)
        for n in range(b.line + 1, end + 1):
            in_block[n] = b
        if not b.closed:
            problems.append(f"{rel}:{b.line}: the listing opened here (`{b.fence}{b.info}`) is never "
                            "closed: everything after it renders as code")
    for b in blocks:
        if b.info.split(",")[0].strip() == "bob":
            problems += [f"{rel}:{b.line + 1 + row}: the diagram opened at line {b.line}: {p}"
                         for row, p in diagram_problems(b.body)]
    for n, line in enumerate(lines, 1):
        for m in re.finditer(CMDRUN, line):
            marker = m.group(0)
            if not re.fullmatch(SHOW, m.group(1)):
                problems.append(f"{rel}:{n}: `{marker}` does not go through the checked pipeline: "
                                "mdbook-cmdrun runs it unchecked. Define the command in the step's "
                                "commands.toml and show it with `<!-- cmdrun ../scripts/book show "
                                "NN ID -->`")
            elif line.strip() != marker or n in in_block:
                where = "inside a listing" if n in in_block else "inside a line of text (inline code?)"
                problems.append(f"{rel}:{n}: the marker `{marker}` is {where}: mdbook-cmdrun "
                                "expands it where it stands; put it on a line of its own, outside "
                                "any listing")
        for m in re.finditer(LINK, line):
            directive = m.group(0)
            if directive.startswith("\\"):
                continue
            kind = directive_kind(directive)
            block = in_block.get(n)
            if kind not in INCLUDE_KINDS:
                problems.append(f"{rel}:{n}: `{directive}` is no link kind mdbook knows: it is shown "
                                "as written")
                continue
            if kind == "title":
                continue
            if kind == "rustdoc_include":
                problems.append(f"{rel}:{n}: `{directive}`: the book checks `{{{{#include}}}}` "
                                "(exactly what renders); rustdoc_include's hidden lines are not "
                                "checked: use #include")
                continue
            target = m.group(2).split()[0]
            sel = target.partition(":")[2]
            if sel and re.fullmatch(r"\d*(:\d*)?", sel):
                problems.append(f"{rel}:{n}: `{directive}` includes by line numbers, which stay put "
                                "when the file changes and then show other lines: mark the lines "
                                "with an ANCHOR and include by its name")
            if kind in ("playground", "playpen"):
                if block is not None or line.strip() != directive:
                    problems.append(f"{rel}:{n}: `{directive}` must be on a line of its own outside "
                                    "any listing (mdbook writes the listing itself)")
                continue
            if block is None:
                problems.append(f"{rel}:{n}: `{directive}` is not inside a fenced listing: it "
                                "pastes the file into the prose")
            elif line.strip() != directive:
                problems.append(f"{rel}:{n}: `{directive}` shares its line with other text: a "
                                "listing holds included lines only")
            elif block.indent:
                problems.append(f"{rel}:{n}: `{directive}` is in an indented listing (a list item "
                                "or a quote), where mdbook indents only its first line: keep "
                                "includes at the top level")
            else:
                others = [(block.line + 1 + i, l) for i, l in enumerate(block.body)
                          if l.strip() and not re.fullmatch(LINK, l.strip())]
                if others:
                    k, other = others[0]
                    problems.append(f"{rel}:{n}: `{directive}` is not alone in its listing: the "
                                    f"listing opened at line {block.line} also holds line {k}, "
                                    f"{other.strip()[:60]!r}. Is a closing fence missing?")
    return problems


# svgbob's strokes: a horizontal line, a vertical one, a junction, the corners of a rounded box.
HORIZONTAL, VERTICAL, JUNCTION = "-", "|", "+"
LINE_END = set("+*<>v^|.'")


def diagram_problems(body: list[str]) -> list[tuple[int, str]]:
    """A lint of an svgbob diagram's ASCII art, whose lines svgbob draws as they stand: a box
    with a missing corner or a side that does not meet renders as loose lines, silently.

    - every corner (`.` or `'` touching a stroke) joins a horizontal stroke (a `-` or `+` on its
      left or right) and a vertical one (a `|` or `+` below a `.`, above a `'`);
    - a stroke (a run of `-`, or of `|`) that starts at a corner ends at a corner, a junction
      `+`, an arrow head or a `*`: it does not stop in the air.
    Text in double quotes is svgbob's text and is left out; so are lone `-` (dashed lines)."""
    grid = []
    for line in body:
        # Quoted text is text, not strokes.
        cells, quoted = [], False
        for ch in line:
            if ch == '"':
                quoted = not quoted
                cells.append(" ")
            else:
                cells.append(" " if quoted else ch)
        grid.append(cells)

    def at(r: int, c: int) -> str:
        return grid[r][c] if 0 <= r < len(grid) and 0 <= c < len(grid[r]) else " "

    problems: list[tuple[int, str]] = []
    for r, row in enumerate(grid):
        for c, ch in enumerate(row):
            if ch not in ".'":
                continue
            side = at(r, c - 1) in HORIZONTAL + JUNCTION or at(r, c + 1) in HORIZONTAL + JUNCTION
            vr = r + 1 if ch == "." else r - 1
            upright = at(vr, c) in VERTICAL + JUNCTION
            if not (side or upright):
                continue  # a full stop or an apostrophe in the text
            if at(r, c - 1) not in HORIZONTAL and at(r, c + 1) not in HORIZONTAL and not upright:
                continue  # a `.` or `'` beside a junction, e.g. text after a `+`
            if not side:
                problems.append((r, f"the corner `{ch}` in column {c + 1} joins no horizontal "
                                    "stroke: its box's top or bottom does not meet it"))
            elif not upright:
                problems.append((r, f"the corner `{ch}` in column {c + 1} joins no vertical stroke "
                                    f"{'below' if ch == '.' else 'above'} it: its box's side does "
                                    "not meet it"))
    # Strokes that start at a corner and end in the air.
    for r, row in enumerate(grid):
        c = 0
        while c < len(row):
            if row[c] != HORIZONTAL:
                c += 1
                continue
            start = c
            while c < len(row) and row[c] in HORIZONTAL + JUNCTION:
                c += 1
            if c - start < 2:
                continue
            ends = (at(r, start - 1), at(r, c))
            if any(e in ".'" for e in ends) and any(e not in LINE_END for e in ends):
                problems.append((r, f"the line from column {start + 1} to {c} leaves a corner and "
                                    "ends in the air: a corner is missing at its other end"))
    width = max((len(row) for row in grid), default=0)
    for c in range(width):
        r = 0
        while r < len(grid):
            if at(r, c) not in VERTICAL + JUNCTION:
                r += 1
                continue
            start = r  # a vertical stroke, through junctions: at least one `|`
            while r < len(grid) and at(r, c) in VERTICAL + JUNCTION:
                r += 1
            if VERTICAL not in (at(k, c) for k in range(start, r)):
                continue
            # A stroke that starts or stops at a junction ends there, unless a corner is beyond it.
            top, bottom = at(start - 1, c), at(r, c)
            if at(start, c) == JUNCTION and top != ".":
                top = JUNCTION
            if at(r - 1, c) == JUNCTION and bottom != "'":
                bottom = JUNCTION
            ends = (top, bottom)
            corner = ends[0] == "." or ends[1] == "'"
            if corner and any(e not in LINE_END for e in ends):
                problems.append((start, f"the side in column {c + 1} leaves a corner and ends in "
                                        "the air: it does not meet the box's other corner"))
    return sorted(set(problems))


def expanded_markdown(md: Path) -> str:
    """The page's Markdown as mdbook renders it: includes pasted as mdbook pastes them, and each
    marker replaced by the checked output that the run left in READY."""
    import re
    text = md.read_text()

    def include(m: re.Match) -> str:
        if m.group(0).startswith("\\"):
            return m.group(0)[1:]
        kind = directive_kind(m.group(0))
        target = m.group(2).split()[0]
        path, _, sel = target.partition(":")
        src = (md.parent / path).resolve()
        if kind not in ("include", "playground", "playpen") or not src.is_file():
            return m.group(0)
        if kind == "include":
            return select_lines(src.read_text(), sel)[0]
        attrs = " ".join(m.group(2).split()[1:])
        return f"```rust{',' + attrs if attrs else ''}\n{src.read_text().rstrip(chr(10))}\n```\n"

    text = re.sub(LINK, include, text)

    def output(m: re.Match) -> str:
        show = re.fullmatch(SHOW, m.group(1))
        ready = READY / f"{show.group(1).zfill(2)}-{show.group(2)}.md" if show else None
        return ready.read_text() if ready and ready.exists() else m.group(0)

    return re.sub(CMDRUN + r"\r?\n?", output, text)


def expected_listings(md: Path) -> list[tuple[int, str]]:
    """Every listing the page must render, in order, as (line in the expanded Markdown, text):
    not the diagrams (svgbob draws ```bob blocks as SVG)."""
    out = []
    for b in fenced_blocks(expanded_markdown(md).split("\n")):
        if b.info.split(",")[0].strip() == "bob":
            continue
        out.append((b.line, "\n".join(b.body).rstrip("\n")))
    return out


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


def numbering_problems() -> list[str]:
    """The sidebar numbers chapters in SUMMARY.md's order; the prose, the files (chNN-*.md) and
    the steps (steps/NN-*) number them too. They must agree: chNN-*.md is chapter NN in the
    sidebar, and its pages nested under it."""
    import re
    problems = []
    number = 0
    parent = None
    for line in (BOOK_SRC / "SUMMARY.md").read_text().split("\n"):
        m = re.match(r"^(\s*)- \[([^\]]*)\]\(([^)]+)\)", line)
        if not m:
            continue
        nested = len(m.group(1)) > 0
        if not nested:
            number += 1
            parent = number
        name = Path(m.group(3)).name
        f = re.match(r"ch(\d\d)-", name)
        if not f:
            continue
        want = int(f.group(1))
        got = parent if nested else number
        if got != want:
            problems.append(f"book/SUMMARY.md: the sidebar numbers {name} ({m.group(2)!r}) as "
                            f"chapter {got}, while its file, its step (steps/{f.group(1)}-*) and "
                            f"the prose call it chapter {want}: keep SUMMARY.md in chapter order")
    return problems


def expectation_problems() -> list[str]:
    """Every expectation is compared at every build: none belongs to no command, none to a
    command that is not compared (`compare = false` drops it silently otherwise), no version's
    variant shadows the base (`@3.11`) or repeats the one below it (which would make the page say
    that versions differ where they do not)."""
    import re
    problems = []
    for step in all_steps():
        folder = step.folder / "expected"
        if not folder.exists():
            continue
        for f in sorted(folder.iterdir()):
            rel = f.relative_to(ROOT)
            m = re.fullmatch(r"(.+?)(?:@(3\.\d+))?\.txt", f.name)
            if not m:
                problems.append(f"{rel}: not an expectation's name (ID.txt or ID@3.N.txt)")
                continue
            cid, version = m.groups()
            if cid not in step.commands:
                problems.append(f"{rel}: no command `{cid}` in {step.folder.name}/commands.toml, so "
                                "nothing is compared with it: remove it or restore the command")
                continue
            if not step.commands[cid].compare:
                problems.append(f"{rel}: command `{cid}` is not compared (`compare = false`), so "
                                "this expectation is never checked: remove it, or compare again")
                continue
            if version is None:
                continue
            if version_key(version) <= version_key(BASE_VERSION):
                problems.append(f"{rel}: expected/{cid}.txt is CPython {BASE_VERSION}'s; a variant "
                                f"for {version} shadows it or is never used")
                continue
            below = step.expected_path(cid, version, below=True)
            if below.exists() and below.read_bytes() == f.read_bytes():
                problems.append(f"{rel}: identical to {below.name}, the expectation below it: the "
                                f"page would say CPython {version} prints it differently. Remove it")
    return problems


SOURCE_KINDS = {".rs", ".c", ".h", ".go", ".cc", ".cpp", ".py"}


def build_script_problems() -> list[str]:
    """A build script that names the files it reruns for (`cargo::rerun-if-changed=FILE`) hides
    every other file from cargo: change one and the old output stays. The rule that keeps this
    true for every step: a named source file's siblings of the same kind (the files with its
    suffix, in its folder and below) are named too, or their folder is."""
    import re
    problems = []
    for script in sorted(STEPS.rglob("build.rs")):
        if "target" in script.parts:
            continue
        base = script.parent
        text = script.read_text()
        if "rerun-if-changed" not in text:
            continue
        named = {s for s in re.findall(r'"([^"\s{}]+)"', text)
                 if "=" not in s and (base / s).exists()}
        named |= {s for s in re.findall(r"rerun-if-changed=([^\s\"{}]+)", text) if (base / s).exists()}
        covered = [base / s for s in named]
        for s in sorted(named):
            f = base / s
            if not f.is_file() or f.suffix not in SOURCE_KINDS:
                continue
            siblings = f.parent.rglob(f"*{f.suffix}") if f.parent != base else \
                f.parent.glob(f"*{f.suffix}")
            for g in sorted(siblings):
                if "target" in g.relative_to(base).parts:
                    continue
                if not any(g == c or c in g.parents for c in covered):
                    problems.append(
                        f"{script.relative_to(ROOT)}: reruns for {s} but not for "
                        f"{g.relative_to(base)}: cargo would keep what it built before that file "
                        f"changed. Name it too, or the folder ({f.parent.relative_to(base) or '.'})")
    return problems
