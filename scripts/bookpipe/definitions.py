"""The checks of the steps' definitions: the keys of commands.toml and what they set, the
expectations under expected/, the build scripts' rerun rules, and the ANCHOR comments of the
steps' files."""

from __future__ import annotations

from .config import BASE_VERSION, ROOT, STEPS
from .pages import ANCHOR_END, ANCHOR_START
from .steps import all_steps, version_key


def check_definitions() -> list[str]:
    """The steps' definitions hold to their rules."""
    problems = key_problems() + settings_problems() + expectation_problems()
    return problems + build_script_problems() + anchor_problems()


def key_problems() -> list[str]:
    """Every key of a commands.toml is a field of its record (commands.py): a misspelt one would
    be ignored, and its command run with the default (`timout = 60`: 30 seconds)."""
    return [f"{step.label}: commands.toml: {u.where} has an unknown key `{u.key}`; the keys it "
            f"may hold are {', '.join(u.known)} (scripts/bookpipe/commands.py says what each means)"
            for step in all_steps() for u in step.unknown_keys]


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
