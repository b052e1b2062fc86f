"""The steps (steps/NN-*/) and their command definitions (commands.toml), with the expectation
for each CPython version: where it is, how it marks streams, and blessing a new one."""

from __future__ import annotations

import tomllib
from pathlib import Path

from . import commands
from .commands import Command
from .config import BASE_VERSION, PYVER, STEPS, VERIFIED, Fail


# How an expectation records the stream of each output line: a line written to stderr starts with
# `2| `, one that mixes both streams with `&| `, and a line written to stdout as it is (or with
# `1| ` where it starts like a marked line). The page shows the lines without these marks.
STREAM_MARKS = ("1| ", "2| ", "&| ")

# The one kind of included script that no command runs: each chapter's by-hand.sh, the staging a
# reader types in the repository itself, which by_hand.by_hand_problems() runs.
BY_HAND = "by-hand.sh"


# ---------------------------------------------------------------------------------------------
# Steps and their command definitions


class Step:
    def __init__(self, folder: Path):
        self.folder = folder
        self.nn = folder.name[:2]
        spec, self.unknown_keys = commands.read(folder / "commands.toml")
        self.chapter = folder.name if spec.chapter is None else spec.chapter
        self.stage_spec = spec.stage
        self.profile = spec.profile
        self.commands: dict[str, Command] = {}
        for cmd in spec.command:
            if cmd.id in self.commands:
                raise Fail(f"{folder / 'commands.toml'}: command id {cmd.id!r} is defined twice")
            self.commands[cmd.id] = cmd
        # What each command's output is compared with under this interpreter.
        self.expected = {cid: self.expected_path(cid) for cid in self.commands}
        self.package = tomllib.loads((folder / "Cargo.toml").read_text())["package"]["name"] \
            if (folder / "Cargo.toml").exists() else None

    @property
    def label(self) -> str:
        return f"chapter {self.nn} ({self.chapter}, steps/{self.folder.name})"

    def expected_variants(self, cid: str) -> dict[str, Path]:
        """The command's expectations by the CPython version they start at ("3.11" for ID.txt)."""
        folder = self.folder / "expected"
        found = {BASE_VERSION: folder / f"{cid}.txt"}
        for p in folder.glob(f"{cid}@3.*.txt"):
            found[p.name[len(cid) + 1:-4]] = p
        return found

    def expected_path(self, cid: str, version: str = PYVER, below: bool = False) -> Path:
        """The expectation for `version`: the newest one that starts at or before it (strictly
        before it with `below`). ID.txt when there is no other."""
        candidates = [(version_key(v), p) for v, p in self.expected_variants(cid).items()
                      if (version_key(v) < version_key(version) if below
                          else version_key(v) <= version_key(version))]
        return max(candidates)[1] if candidates else self.folder / "expected" / f"{cid}.txt"

    def coverage(self, cid: str) -> dict[Path, list[str]]:
        """Each expectation of the command that exists, oldest first, with the verified CPython
        versions whose output is compared with it (expected_path's rule)."""
        variants = sorted(self.expected_variants(cid).items(), key=lambda vp: version_key(vp[0]))
        found: dict[Path, list[str]] = {p: [] for _, p in variants if p.exists()}
        for v in VERIFIED:
            path = self.expected_path(cid, v)
            if path in found:
                found[path].append(v)
        return found

    def bless_path(self, cid: str) -> Path:
        """Where `bless` under this interpreter writes: ID.txt under 3.11, else ID@3.N.txt."""
        if PYVER == BASE_VERSION:
            return self.folder / "expected" / f"{cid}.txt"
        return self.folder / "expected" / f"{cid}@{PYVER}.txt"

    def bless(self, cid: str, transcript: str) -> None:
        """Record `transcript` as what this interpreter prints. Under CPython 3.11 that is ID.txt.
        Under 3.N it is ID@3.N.txt, written only where 3.N's output differs from what the versions
        before it print (and removed where it no longer does), so each variant is a real
        difference."""
        path = self.bless_path(cid)
        path.parent.mkdir(exist_ok=True)
        if PYVER != BASE_VERSION:
            below = self.expected_path(cid, below=True)
            if below.exists() and below.read_text() == transcript:
                path.unlink(missing_ok=True)
                return
        path.write_text(transcript)

    def command(self, cid: str) -> Command:
        try:
            return self.commands[cid]
        except KeyError:
            raise Fail(f"{self.label}: no command {cid!r} in {self.folder / 'commands.toml'} "
                       f"(it has: {', '.join(self.commands) or 'none'})") from None


def version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def all_steps() -> list[Step]:
    return [Step(d) for d in sorted(STEPS.glob("[0-9][0-9]-*")) if (d / "commands.toml").exists()]


def find_step(nn: str) -> Step:
    nn = nn.zfill(2)
    for folder in sorted(STEPS.glob(f"{nn}-*")):
        if (folder / "commands.toml").exists():
            return Step(folder)
    known = ", ".join(s.nn for s in all_steps())
    raise Fail(f"there is no step {nn} (steps with commands: {known})")
