"""The checks of the pages' Markdown, before anything renders: their structure (markers,
includes, listings, diagrams), that they show every command in its order, that every include can
be made and every script it shows runs, and the sidebar's chapter numbers."""

from __future__ import annotations

from pathlib import Path

from .config import BOOK_SRC, ROOT, STEPS, Fail
from .diagrams import diagram_problems
from .pages import (ANCHOR_END, ANCHOR_START, CMDRUN, GUIDE, LINK, LINK_KINDS, PLAYGROUND, SHOW,
                    Block, fenced_blocks, includes, link, shown, summary_pages)
from .steps import BY_HAND, all_steps, find_step


def check_markdown() -> list[str]:
    """Every page's Markdown holds to its rules, and agrees with the steps' definitions."""
    problems = marker_problems() + order_problems() + include_problems() + excerpt_problems()
    for md in summary_pages():
        problems += structure_problems(md)
    return problems + numbering_problems() + script_problems() + matrix_problems()


# The introduction's sentence naming the versions the book is built under (see matrix_problems).
MATRIX_SENTENCE = r"builds? the whole book again under CPython ((?:3\.\d+, )*3\.\d+,? and 3\.\d+)"


def matrix_problems() -> list[str]:
    """The versions the introduction says the book is built under are those the version matrix
    (tests/test_python_matrix.py's MATRIX) builds it under, and those the version notes name
    (config.VERIFIED)."""
    import ast
    import re
    from .config import VERIFIED
    test = ROOT / "tests" / "test_python_matrix.py"
    matrix = None
    for node in ast.walk(ast.parse(test.read_text())):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "MATRIX"
                                                for t in node.targets):
            matrix = ast.literal_eval(node.value)
    if matrix is None:
        return [f"{test.relative_to(ROOT)} has no MATRIX: the versions the book is built under "
                "cannot be checked"]
    problems = []
    if list(VERIFIED) != list(matrix):
        problems.append(f"scripts/bookpipe/config.py's VERIFIED ({', '.join(VERIFIED)}) is not the "
                        f"matrix of {test.relative_to(ROOT)} ({', '.join(matrix)}): the notes "
                        "under per-version outputs would name versions no test builds")
    intro = BOOK_SRC / "introduction.md"
    said = re.findall(MATRIX_SENTENCE, " ".join(intro.read_text().split()))
    if not said:
        return problems + [f"{intro.relative_to(ROOT)} does not say which versions the book is "
                           f"built under: write “… builds the whole book again under CPython "
                           f"{', '.join(matrix[:-1])} and {matrix[-1]}”"]
    for names in said:
        versions = re.findall(r"3\.\d+", names)
        if versions != list(matrix):
            problems.append(f"{intro.relative_to(ROOT)} says the book is built under CPython "
                            f"{names}, but {test.relative_to(ROOT)} builds it under "
                            f"{', '.join(matrix)}")
    return problems


def marker_problems() -> list[str]:
    """Every marker names a command its step defines; a page with markers is one mdbook renders
    (SUMMARY.md lists it); every command meant for the reader is shown by a rendered page."""
    problems = []
    on_pages = set()
    rendered = {p.resolve() for p in summary_pages()}
    for md in sorted(BOOK_SRC.rglob("*.md")):
        rel = md.relative_to(ROOT)
        markers = shown(md.read_text())
        if markers and md.resolve() not in rendered and md.name != "SUMMARY.md":
            problems.append(f"{rel} runs commands but is not in book/SUMMARY.md, so mdbook never "
                            "renders it: add it there, or move its commands to a rendered page")
        for nn, cid in markers:
            if md.resolve() in rendered:
                on_pages.add((nn, cid))
            try:
                find_step(nn).command(cid)
            except Fail as e:
                problems.append(f"{rel}: {e}")
    for step in all_steps():
        for cid in step.commands:
            if not step.commands[cid].shown:
                continue  # a check of a script that a page includes or quotes, not for the reader
            if (step.nn, cid) not in on_pages:
                problems.append(f"{step.label}: command `{cid}` is defined but no rendered page "
                                "shows it")
    return problems


def order_problems() -> list[str]:
    """A page shows a chapter's outputs in the order its commands.toml defines them (the order
    `just step NN` prints them in). Each output is checked, but not what the prose beside it
    says of it: two markers swapped leave every output correct and each beside the other's
    prose. A rule that ties the page's order to one written elsewhere makes such a swap red."""
    problems = []
    for md in summary_pages():
        rel = md.relative_to(ROOT)
        by_step: dict[str, list[str]] = {}
        for nn, cid in shown(md.read_text()):
            by_step.setdefault(nn.zfill(2), []).append(cid)
        for nn, cids in by_step.items():
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
        for ln, _src, what, error in includes(md):
            if error:
                problems.append(f"{rel}: `{ln.text}` cannot be included: {error}")
            elif re.search(ANCHOR_START, what) or re.search(ANCHOR_END, what):
                problems.append(f"{rel}: `{ln.text}` would show the reader the file's ANCHOR "
                                "comments (mdbook keeps them in a whole file or a line range): "
                                "include by anchor, or drop the anchors from that file")
    return problems


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
            if not re.fullmatch(SHOW, m.group(1)) and not re.fullmatch(GUIDE, m.group(1)):
                problems.append(f"{rel}:{n}: `{marker}` does not go through the checked pipeline: "
                                "mdbook-cmdrun runs it unchecked. Define the command in the step's "
                                "commands.toml and show it with `<!-- cmdrun ../scripts/book show "
                                "NN ID -->`")
            elif line.strip() != marker or n in in_block:
                where = "inside a listing" if n in in_block else "inside a line of text (inline code?)"
                problems.append(f"{rel}:{n}: the marker `{marker}` is {where}: mdbook-cmdrun "
                                "expands it where it stands; put it on a line of its own, outside "
                                "any listing")
        for ln in (link(m) for m in re.finditer(LINK, line)):
            directive, kind, block = ln.text, ln.kind, in_block.get(n)
            if not kind:  # escaped
                continue
            if kind not in LINK_KINDS:
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
            if ln.selection and re.fullmatch(r"\d*(:\d*)?", ln.selection):
                problems.append(f"{rel}:{n}: `{directive}` includes by line numbers, which stay put "
                                "when the file changes and then show other lines: mark the lines "
                                "with an ANCHOR and include by its name")
            if kind in PLAYGROUND:
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


SCRIPT_KINDS = {".py", ".sh"}


def script_problems() -> list[str]:
    """Every script a rendered page includes from steps/ runs in `just build`: its step stages it
    (a `src:` entry of [stage]) into the folder where the step's commands run, and a command's line
    names it (or a staged script that a line names imports it). A page that includes a script no
    build runs shows code that nothing checks: a bench.py, say, whose last line the page still
    quotes after the script has stopped printing it."""
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
        for ln, src, _what, error in includes(md):
            if error or src.suffix not in SCRIPT_KINDS or STEPS not in src.parents:
                continue
            if src.name == BY_HAND:
                continue
            if not any(runs(step, dest) for step, dest in staged.get(src, [])):
                problems.append(
                    f"{rel}: `{ln.text}` shows {src.relative_to(ROOT)}, which no command of "
                    "`just build` runs, so nothing checks what the page says of it: stage it "
                    "(a `src:` entry of the step's [stage]) and run it in a command (one with "
                    "`shown = false` and a `shape` if the page only quotes what it prints)")
    return problems


# The sentence that says a page's excerpts of a file add up to it: "These four excerpts, in order,
# are the whole of `steps/05-hard-way/src/lib.rs`." (or "one after the other").
WHOLE_CLAIM = r"These (\w+) excerpts, (?:in order|one after the other), are the whole of `([^`]+)`"
NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
           "fifteen sixteen seventeen eighteen nineteen twenty").split()


def shown_span(lines: list[str], selection: str) -> tuple[int, int] | None:
    """The lines an include shows, as (first, last) 0-based indices, anchor lines included (a
    whole file, `N:M`, or an anchor: from its ANCHOR line to its ANCHOR_END line); None if it
    cannot be made (include_problems says why)."""
    import re
    if not selection:
        return (0, len(lines) - 1)
    first, _, rest = selection.partition(":")
    if first.isdigit() or (first == "" and (rest == "" or rest.isdigit())):
        start = int(first) - 1 if first else 0
        end = start if ":" not in selection else (int(rest) - 1 if rest else len(lines) - 1)
        return (start, end)
    opened = [i for i, l in enumerate(lines)
              if (m := re.search(ANCHOR_START, l)) and m.group(1) == first]
    closed = [i for i, l in enumerate(lines)
              if (m := re.search(ANCHOR_END, l)) and m.group(1) == first]
    return (opened[0], closed[0]) if opened and closed and closed[0] > opened[0] else None


def left_over(lines: list[str], spans: list[tuple[int, int]]) -> list[int]:
    """The lines no span shows: not blank, not an ANCHOR line, outside every span."""
    import re
    inside = set()
    for a, b in spans:
        inside.update(range(a, b + 1))
    return [i for i, l in enumerate(lines) if i not in inside and l.strip()
            and not re.search(ANCHOR_START, l) and not re.search(ANCHOR_END, l)]


def excerpt_problems() -> list[str]:
    """A file shown in excerpts tells the reader where the rest is.

    - A page that says "These N excerpts, in order, are the whole of `FILE`." (WHOLE_CLAIM) shows
      N excerpts of FILE, in the file's order, that do not overlap, and that leave out nothing but
      blank lines and ANCHOR lines: a reader who copies them one after the other has the file.
    - A file of steps/ that the pages show in two listings or more, and never whole in one, is
      claimed so by a page, or shown whole: else the reader cannot tell whether the excerpts add
      up, or where the rest is. (Whole: every line but blank ones, ANCHOR lines and the unit
      tests that follow `#[cfg(test)]`.)"""
    import re
    problems = []
    claimed: set[Path] = set()
    listings: dict[Path, list[tuple[Path, list[str]]]] = {}  # file -> (page, its selections)
    for md in summary_pages():
        rel = md.relative_to(ROOT)
        text = md.read_text()
        for b in fenced_blocks(text.split("\n")):
            by_file: dict[Path, list[str]] = {}
            for line in b.body:
                for ln in (link(m) for m in re.finditer(LINK, line)):
                    if ln.kind == "include":
                        by_file.setdefault((md.parent / ln.path).resolve(), []).append(ln.selection)
            for src, sels in by_file.items():
                listings.setdefault(src, []).append((md, sels))
        pasted = [(src, ln.selection) for ln, src, _what, error in includes(md)
                  if ln.kind == "include" and not error]
        for count, name in re.findall(WHOLE_CLAIM, " ".join(text.split())):
            src = (ROOT / name).resolve()
            claimed.add(src)
            claim = f"{rel}: it says the {count} excerpts of `{name}`, in order, are the whole file"
            if not src.is_file():
                problems.append(f"{claim}, but there is no {name} (a path from the repository's "
                                "root)")
                continue
            lines = src.read_text().splitlines()
            sels = [sel for s, sel in pasted if s == src]
            said = int(count) if count.isdigit() else \
                NUMBERS.index(count.lower()) if count.lower() in NUMBERS else None
            if said is not None and said != len(sels):
                problems.append(f"{claim}, but it includes {len(sels)} excerpt(s) of it")
            spans = [shown_span(lines, sel) for sel in sels]
            if not sels or None in spans:
                continue  # none to check, or include_problems says what cannot be included
            for (sel_a, (a0, a1)), (sel_b, (b0, _b1)) in zip(zip(sels, spans),
                                                          zip(sels[1:], spans[1:])):
                if b0 <= a1:
                    how = "overlaps" if b0 >= a0 else "comes before"
                    problems.append(f"{claim}, but `{sel_b or '(whole)'}` (from line {b0 + 1}) "
                                    f"{how} `{sel_a or '(whole)'}` (lines {a0 + 1}-{a1 + 1}) in "
                                    "the file: show the excerpts in the file's order (or move "
                                    "the code to the page's)")
            rest = left_over(lines, spans)
            if rest:
                numbers = ", ".join(str(i + 1) for i in rest[:8]) + (" ..." if len(rest) > 8 else "")
                problems.append(f"{claim}, but no excerpt shows its line(s) {numbers} "
                                f"({lines[rest[0]].strip()[:60]!r}): anchor them, or show the "
                                "file whole")
    for src, shown_in in sorted(listings.items()):
        if STEPS not in src.parents or src in claimed or len(shown_in) < 2:
            continue
        lines = src.read_text().splitlines()
        tests = next((i for i, l in enumerate(lines) if l.startswith("#[cfg(test)]")), len(lines))
        needed = lines[:tests]
        whole = False
        for _md, sels in shown_in:
            spans = [shown_span(lines, sel) for sel in sels]
            if None not in spans and not left_over(needed, [(a, min(b, tests - 1))
                                                            for a, b in spans]):
                whole = True
        if not whole:
            pages = ", ".join(dict.fromkeys(str(md.relative_to(ROOT)) for md, _ in shown_in))
            problems.append(f"{src.relative_to(ROOT)} is shown in {len(shown_in)} excerpts "
                            f"({pages}) and never whole: say where the rest is. If the excerpts "
                            f"add up to the file, say so on the page (\"These {len(shown_in)} "
                            "excerpts, in order, are the whole of `"
                            f"{src.relative_to(ROOT)}`.\"), and the build checks it; else show "
                            "the file whole")
    return problems
