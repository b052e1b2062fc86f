"""What the introduction tells a reader about the outputs, generated from the steps' definitions
so that it cannot drift from them (`book guide KIND`, which the introduction runs through
mdbook-cmdrun): the rewrites each output went through, the outputs shown but not compared, and
the outputs that have an expectation per CPython version. Each is an HTML table (a regex holds
`|`, which a Markdown table would read as a cell's end)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from .config import BASE_VERSION, BOOK_SRC
from .pages import shown, summary_pages
from .run import own_rewrites
from .steps import Step, all_steps

KINDS = ("rewrites", "uncompared", "versions", "uses")


def guide(kind: str) -> str:
    if kind not in KINDS:
        from .config import Fail
        raise Fail(f"no guide {kind!r} (there are: {', '.join(KINDS)})")
    return {"rewrites": rewrites, "uncompared": uncompared, "versions": versions,
            "uses": uses}[kind]()


def pages_of() -> dict[tuple[str, str], Path]:
    """The rendered page that shows each (NN, ID)."""
    found = {}
    for md in summary_pages():
        for nn, cid in shown(md.read_text()):
            found.setdefault((nn.zfill(2), cid), md)
    return found


def where(step: Step, cids: list[str], pages: dict) -> str:
    """The commands, each linked to the page that shows it."""
    out = []
    for cid in cids:
        md = pages.get((step.nn, cid))
        href = md.relative_to(BOOK_SRC).with_suffix(".html").as_posix() if md else None
        name = f"<code>{escape(cid)}</code>"
        out.append(f'<a href="{href}">{name}</a>' if href else name)
    return ", ".join(out)


def code(text: str) -> str:
    """A replacement or regex as code (a line break written as `\\n`, as most rules write it),
    broken anywhere to fit its column; nothing as (removed)."""
    if not text:
        return "(removed)"
    shown = escape(text).replace(chr(10), "\\n")
    return f'<code style="word-break: break-all">{shown}</code>'


def table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{h}</th>" for h in head)
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>\n<thead><tr>{cells}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n"


def rewrites() -> str:
    """Every command's rewrites: the pipeline's own (each output), then each chapter's."""
    own = [[code(new), escape(meaning)] for _, new, meaning in own_rewrites(Path("/"))]
    pages = pages_of()
    rows = []
    for step in all_steps():
        rules: dict[tuple[str, str], list[str]] = {}
        for cid, cmd in step.commands.items():
            if cmd.shown:
                for pattern, replacement in cmd.normalize:
                    rules.setdefault((pattern, replacement), []).append(cid)
        for (pattern, replacement), cids in rules.items():
            rows.append([step.nn, where(step, cids, pages), code(replacement), code(pattern)])
    return ("<p>In every output:</p>\n" + table(["you see", "in place of"], own)
            + "<p>In the outputs of these commands, besides (a regex, then what replaces each "
            "match; <code>\\1</code> is what the regex's first group matched, <code>\\n</code> a line "
            "break):</p>\n"
            + table(["chapter", "commands", "you see", "in place of what this regex matches"],
                    rows))


def uncompared() -> str:
    """The commands whose output is shown but not compared, and what is checked of it."""
    pages = pages_of()
    rows = []
    for step in all_steps():
        for cid, cmd in step.commands.items():
            if cmd.compare or not cmd.shown:
                continue
            checks = [f"{len(cmd.shape)} pattern{'s' * (len(cmd.shape) != 1)} it must hold"
                      if cmd.shape else ""]
            if cmd.table:
                checks.append(f"a table of {len(cmd.table.columns)} columns, in order, "
                              "its figures above zero and no median below its minimum"
                              if cmd.table.not_below else
                              f"a table of {len(cmd.table.columns)} columns, in order")
            if cmd.ratio:
                checks.append(f"{len(cmd.ratio)} ratio{'s' * (len(cmd.ratio) != 1)} held to the "
                              "figures it is computed from")
            rows.append([step.nn, where(step, [cid], pages),
                         "; ".join(c for c in checks if c) or "that it ran"])
    return table(["chapter", "command", "checked for"], rows)


def versions() -> str:
    """The commands with an expectation per CPython version, and the versions each covers."""
    pages = pages_of()
    rows = []
    for step in all_steps():
        for cid, cmd in step.commands.items():
            coverage = step.coverage(cid)
            if len(coverage) < 2 or not cmd.shown:
                continue
            spans = [span(covered) for covered in coverage.values()]
            rows.append([step.nn, where(step, [cid], pages), "; ".join(spans)])
    return (table(["chapter", "command", "one expectation for each of"], rows))


def span(covered: list[str]) -> str:
    """3.11, or 3.12 to 3.13, or 3.14 and 3.15."""
    if len(covered) == 1:
        return covered[0]
    if len(covered) == 2:
        return f"{covered[0]} and {covered[1]}"
    return f"{covered[0]} to {covered[-1]}" if covered else f"none ({BASE_VERSION}?)"


def chapter_of(path: Path) -> str | None:
    """The chapter (NN) whose step folder holds `path`, if any."""
    from .config import STEPS
    try:
        first = path.resolve().relative_to(STEPS.resolve()).parts[0]
    except (ValueError, IndexError):
        return None
    return first[:2] if first[:2].isdigit() else None


def uses() -> str:
    """What each chapter takes from another chapter's folder: the files its commands run with
    (commands.toml's `stage`) and the crates its crates depend on by path (Cargo.toml)."""
    import tomllib
    from .config import STEPS
    packages = {}
    manifests = {}
    for step in all_steps():
        for manifest in step.folder.rglob("Cargo.toml"):
            if "target" in manifest.relative_to(step.folder).parts:
                continue
            data = tomllib.loads(manifest.read_text())
            manifests[manifest] = (step.nn, data)
            if "package" in data:
                packages[data["package"]["name"]] = step.nn
    rows = []
    for step in all_steps():
        found: dict[str, set[str]] = {}
        for name, source in step.stage_spec.items():
            source = source.lstrip("?")
            kind, _, rest = source.partition(":")
            if kind == "src":
                nn = chapter_of(step.folder / rest)
                what = (step.folder / rest).resolve().relative_to(STEPS.resolve()).as_posix() \
                    if nn else None
            elif "@" in kind:
                package = kind.partition("@")[2]
                nn, what = packages.get(package), f"the crate {package}"
            else:
                nn = None
            if nn and nn != step.nn:
                found.setdefault(nn, set()).add(what)
        for manifest, (nn, data) in manifests.items():
            if nn != step.nn:
                continue
            tables = [data.get("dependencies", {}), data.get("build-dependencies", {}),
                      data.get("dev-dependencies", {})]
            for deps in tables:
                for dep, spec in deps.items():
                    if isinstance(spec, dict) and "path" in spec:
                        other = chapter_of(manifest.parent / spec["path"])
                        if other and other != step.nn:
                            found.setdefault(other, set()).add(f"the crate {dep}")
        for nn in sorted(found):
            later = " (a later chapter)" if nn > step.nn else ""
            crates = sorted(w for w in found[nn] if w.startswith("the crate "))
            files = sorted(w for w in found[nn] if not w.startswith("the crate "))
            what = [f"the crate{'s' * (len(crates) > 1)} "
                    + ", ".join(f"<code>{escape(c[10:])}</code>" for c in crates)] if crates else []
            what += [f"<code>{escape(f)}</code>" for f in files] if len(files) <= 3 else \
                [f"{len(files)} files of <code>{escape(files[0].split('/')[0])}/</code>"]
            rows.append([step.nn, f"{nn}{later}", ", ".join(what)])
    return table(["chapter", "uses from chapter", "what"], rows)
