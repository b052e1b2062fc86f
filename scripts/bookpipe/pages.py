"""What a page's Markdown says, as mdbook and mdbook-cmdrun read it: the pages SUMMARY.md lists,
the markers that show a command's output, the links (includes), the listings, and the page as
mdbook renders it (includes pasted, markers replaced by their outputs)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .config import BOOK_SRC, READY


def summary_pages() -> list[Path]:
    """The pages mdbook renders: those SUMMARY.md links to, in order."""
    text = (BOOK_SRC / "SUMMARY.md").read_text()
    return [BOOK_SRC / m for m in re.findall(r"\]\(([^)\s]+\.md)\)", text)]


# mdbook-cmdrun's own pattern (src/cmdrun.rs): it runs any `<!--[ ]*cmdrun ...-->`, wherever it
# stands. The pages run only the checked pipeline through it, as `show NN ID`.
CMDRUN = r"<!--[ ]*cmdrun (.*?)-->"
SHOW = r"\.\./scripts/book show (\S+) (\S+) ?"
# The introduction's tables generated from the steps' definitions (guide.py): not outputs of a
# command, so no page order or expectation applies to them.
GUIDE = r"\.\./scripts/book guide (\S+) ?"


def shown(text: str) -> list[tuple[str, str]]:
    """The (NN, ID) of each marker of `text` that shows a command's output, in order."""
    return [m.groups() for m in (re.fullmatch(SHOW, body) for body in re.findall(CMDRUN, text))
            if m]


# mdbook 0.4's own syntax for links (src/preprocess/links.rs): optional white space after the
# braces, a kind, white space, then the target up to the closing braces. `\{{#...}}` is escaped.
LINK = r"(?x) \\\{\{\#.*?\}\} | \{\{\s*\#([a-zA-Z0-9_]+)\s+([^}]+)\}\}"
# The kinds mdbook 0.4 knows: those that paste lines of a file, those that write the whole file
# as a listing (`playpen` is playground's old name), and the page's title.
PASTE = ("include", "rustdoc_include")
PLAYGROUND = ("playground", "playpen")
LINK_KINDS = PASTE + PLAYGROUND + ("title",)
ANCHOR_START = r"ANCHOR:\s*([\w_-]+)"
ANCHOR_END = r"ANCHOR_END:\s*([\w_-]+)"


@dataclass(frozen=True)
class Link:
    """One `{{#kind target attributes}}` of a page."""

    text: str
    """As written (an escaped one, `\\{{#...}}`, starts with the backslash)."""
    kind: str
    """`include`, `playground`, ... ("" when escaped)."""
    spec: str
    """The target: a path, with `:selection` for a paste."""
    attrs: str
    """What follows the target (a playground's attributes)."""

    @property
    def path(self) -> str:
        return self.spec if self.kind in PLAYGROUND else self.spec.partition(":")[0]

    @property
    def selection(self) -> str:
        """What a paste takes of the file (see select_lines); a playground takes all of it."""
        return "" if self.kind in PLAYGROUND else self.spec.partition(":")[2]


def link(m: re.Match) -> Link:
    """The link that a match of LINK found."""
    if m.group(1) is None:
        return Link(m.group(0), "", "", "")
    spec, *attrs = m.group(2).split()
    return Link(m.group(0), m.group(1), spec, " ".join(attrs))


def includes(md: Path) -> list[tuple[Link, Path, str, str | None]]:
    """The page's pastes and playgrounds as (link, file, what, error): `what` is the text mdbook
    pastes, computed as mdbook does; `error` says why mdbook could not include it, if it cannot."""
    found = []
    for m in re.finditer(LINK, md.read_text()):
        ln = link(m)
        if ln.kind not in PASTE + PLAYGROUND:
            continue
        src = (md.parent / ln.path).resolve()
        if not src.is_file():
            found.append((ln, src, "", f"{ln.path} does not exist"))
            continue
        what, error = select_lines(src.read_text(), ln.selection)
        found.append((ln, src, what, error and f"{ln.spec}: {error}"))
    return found


def select_lines(text: str, sel: str) -> tuple[str, str | None]:
    """mdbook's selection: a whole file, `N` (one line), `N:M`, `N:`, `:M` (1-based, inclusive),
    or an anchor name. mdbook 0.4 leaves out the lines that mark anchors only inside an anchored
    selection: a whole file or a range shows them as they are."""
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


def expanded_markdown(md: Path) -> str:
    """The page's Markdown as mdbook renders it: includes pasted as mdbook pastes them, and each
    marker replaced by the checked output that the run left in READY."""
    text = md.read_text()

    def include(m: re.Match) -> str:
        ln = link(m)
        if not ln.kind:
            return ln.text[1:]
        src = (md.parent / ln.path).resolve()
        if ln.kind not in ("include", *PLAYGROUND) or not src.is_file():
            return ln.text
        if ln.kind == "include":
            return select_lines(src.read_text(), ln.selection)[0]
        return f"```rust{',' + ln.attrs if ln.attrs else ''}\n{src.read_text().rstrip(chr(10))}\n```\n"

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
