"""The format of a chapter's `steps/NN-*/commands.toml`, as typed records: `Chapter` is the file,
`Command` one `[[command]]`, `Line` one line of its `run`. Each field is a key, with its meaning
and default (steps/01-shared-library/commands.toml is an example); a key that is no field is
refused by `book check` (definitions.key_problems)."""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from .config import Fail


@dataclass(frozen=True)
class Line:
    """One line of a command's `run`: a string, or a table with these keys."""

    run: str
    """What `bash -c` runs, in the command's folder; the page shows it after the prompt."""
    status: int | str = 0
    """The exit status it must end with, or "nonzero" for any failure."""
    hidden: bool = False
    """Run, but left out of the transcript (its output is shown only if its status is wrong)."""
    timeout: float | None = None
    """Seconds it may run, if not the command's `timeout`."""


@dataclass(frozen=True)
class Table:
    """A command's `table`: its HTML table checked for sense, not only for figures in places."""

    columns: list[str]
    """The header's cells, exactly and in this order (the page explains them)."""
    positive: list[str] = field(default_factory=list)
    """Columns whose every cell is a number above zero."""
    not_below: list[list] = field(default_factory=list)
    """[A, B] or [A, B, F]: in each row, column A's number is not below F (default 1) times B's
    (a median is never below its minimum)."""


@dataclass(frozen=True)
class Ratio:
    """One of a command's `ratio`: a ratio shown, held to the figures it is computed from."""

    shown: str
    """A regex whose first group is the ratio as shown."""
    num: str
    """A regex whose first group is its numerator."""
    den: str
    """A regex whose first group is its denominator."""


@dataclass(frozen=True)
class Command:
    """One `[[command]]`: a page shows it with `<!-- cmdrun ../scripts/book show NN ID -->`,
    `just step NN` runs it, and its output is compared with `expected/ID.txt` (or the
    expectation of the running CPython, `expected/ID@3.N.txt`). It runs in a fresh copy of the
    step's staged files, in the environment that run.command_env builds."""

    id: str
    """Its name, unique in the chapter: the marker's ID and the expectation's file name."""
    run: list[Line]
    """Its lines, in order (a string or a `Line` table each); the transcript is `$ line` and the
    line's output, for each line that is not hidden."""
    cwd: str | None = None
    """The folder, inside the staged files, it runs in; the page shows it before each prompt
    (so `book check` refuses it with `html`, which shows none)."""
    env: dict[str, str] = field(default_factory=dict)
    """Variables added to its environment. `book check` refuses them (the page would not show
    them): write `NAME=value command` in the line instead."""
    timeout: float = 30
    """Seconds each line may run; then the line and every process it started are killed."""
    normalize: list[list[str]] = field(default_factory=list)
    """[regex, replacement] pairs applied to the output, after the pipeline's own (paths,
    addresses)."""
    compare: bool = True
    """false: the output is shown but not compared (timings); it is checked for its `shape`."""
    shown: bool = True
    """false: no page shows it; it checks a script a page includes or quotes."""
    shape: list[str] = field(default_factory=list)
    """Regexes that an output not compared must each match (multi-line)."""
    table: Table | None = None
    """The sense an uncompared output's HTML table must make."""
    ratio: list[Ratio] = field(default_factory=list)
    """Ratios an uncompared output shows, each held to its figures within the rounding shown."""
    html: bool = False
    """The output is raw HTML for the page (a chart, a table): shown without its command lines."""

    @property
    def prompt(self) -> str:
        """What stands before each line the page shows: `$ `, or the folder it runs in, as in
        `4-parse-tuple$ `, so that the page says where to type it."""
        return f"{self.cwd}$ " if self.cwd else "$ "

    def timeout_of(self, line: Line) -> float:
        return self.timeout if line.timeout is None else line.timeout

    def digest_text(self) -> str:
        """The definition, for a cache key."""
        import json
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Chapter:
    """A chapter's `commands.toml`."""

    chapter: str | None = None
    """The chapter's title, for reports (default: the step's folder name)."""
    stage: dict[str, str] = field(default_factory=dict)
    """What the commands run with, staged into their folder: NAME = SOURCE, SOURCE being
    `cdylib`, `staticlib`, `bin:NAME` (of the step's package, or `KIND@package` for another),
    `out:PATH` (a file the build script wrote in OUT_DIR; `out@package:PATH`), or `src:PATH` (a
    file of the step's folder). `?SOURCE`: staged only if the build made it."""
    profile: str | None = None
    """The cargo profile that builds what it stages (default: the workspace's dev build)."""
    command: list[Command] = field(default_factory=list)
    """Its commands, in the order `just step NN` runs them and its pages show them."""


@dataclass(frozen=True)
class Unknown:
    """A key that no record has: a misspelling (`timout`), or a key the pipeline never read."""

    where: str
    """The table it is in, for a reader: "line 2 of command `x`'s `run`"."""
    key: str
    known: tuple[str, ...]
    """The keys that table may hold."""


def read(path: Path) -> tuple[Chapter, list[Unknown]]:
    """The file as records, and the keys in it that no record has."""
    data = tomllib.loads(path.read_text())
    unknown: list[Unknown] = []
    chapter = known(Chapter, data, path, "the file", unknown)
    commands = []
    for i, raw in enumerate(chapter.pop("command", []), 1):
        cid = raw.get("id") if isinstance(raw.get("id"), str) else None
        what = f"command `{cid}`" if cid else f"command {i}"
        cmd = known(Command, raw, path, what, unknown)
        cmd["run"] = [Line(**known(Line, {"run": line} if isinstance(line, str) else line, path,
                                   f"line {n} of {what}'s `run`", unknown))
                      for n, line in enumerate(cmd["run"], 1)]
        if "table" in cmd:
            cmd["table"] = Table(**known(Table, cmd["table"], path, f"{what}'s `table`", unknown))
        cmd["ratio"] = [Ratio(**known(Ratio, r, path, f"ratio {n} of {what}", unknown))
                        for n, r in enumerate(cmd.get("ratio", []), 1)]
        commands.append(Command(**cmd))
    return Chapter(**chapter, command=commands), unknown


def known(record: type, table: dict, path: Path, where: str, unknown: list[Unknown]) -> dict:
    """The entries of `table` that are fields of `record`, each other key noted in `unknown`; a
    missing key that has no default is an error."""
    names = tuple(f.name for f in fields(record))
    unknown += [Unknown(where, key, names) for key in table if key not in names]
    missing = [f.name for f in fields(record) if f.name not in table and f.default is MISSING
               and f.default_factory is MISSING]
    if missing:
        raise Fail(f"{path}: {where} has no `{missing[0]}`")
    return {k: v for k, v in table.items() if k in names}
