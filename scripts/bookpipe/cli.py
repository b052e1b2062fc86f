"""The book's checked pipeline: build the steps, run their commands, compare with expectations.

Every chapter's commands are defined once, in `steps/NN-*/commands.toml`. The pages run them through
mdbook-cmdrun (`<!-- cmdrun ../scripts/book show NN ID -->`) and `just step NN` runs the very same
definitions. Each shown output is compared with `steps/NN-*/expected/ID.txt`.

Subcommands (see `scripts/book help`):
  prepare          cargo build the workspace once, then stage each step's artifacts
  show NN ID       print one command's checked transcript as Markdown (used by the pages)
  step NN          run all of a chapter's commands, print each with its output, compare
  bless [NN ...]   run commands and rewrite their expectations, then show the diff
  check            after `mdbook build`: fail on any failure report or unexpanded marker
  list             list the steps and their commands
"""

from __future__ import annotations

import json
import sys

from .build import ensure_staged, stage
from .checks import cmd_check
from .config import CACHE, CHECKED, FAILURES, MDBOOK_LOG, PYVER, READY, READY_TOKEN, ROOT, STAGE, Fail
from .run import compared, lines_of, run_command
from .steps import all_steps, find_step
from .verdicts import bless_one, cache_key, failure_box, verdict, write_ready


def cmd_show(nn: str, cid: str) -> int:
    """Used by the pages. Cached only after a passing run, keyed on everything the result depends on:
    the runner, the command definition, the expectation and the contents of the staged artifacts."""
    step = find_step(nn)
    step.command(cid)
    manifest = ensure_staged(step)
    key = cache_key(step, cid, manifest)
    cached = CACHE / f"{step.nn}-{cid}-{key}.txt"
    if cached.exists():
        sys.stdout.write(write_ready(step, cid, cached.read_text()))
        return 0
    transcript, problems = run_command(step, cid)
    report = verdict(step, cid, transcript, problems)
    if report:
        FAILURES.mkdir(parents=True, exist_ok=True)
        (FAILURES / f"{step.nn}-{cid}.txt").write_text(report)
        sys.stderr.write(report)
        # The page shows the failure where the output would be (under `mdbook serve` nothing
        # else would: mdbook-cmdrun drops a failed command's block). `just build` still fails:
        # `check` reads the report written above.
        sys.stdout.write(failure_box(step, cid, report))
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob(f"{step.nn}-{cid}-*.txt"):
        old.unlink()
    cached.write_text(transcript)
    sys.stdout.write(write_ready(step, cid, transcript))
    return 0


def cmd_step(nn: str) -> int:
    step = find_step(nn)
    stage([step])
    reports = []
    print(f"# {step.label}, with python3 = CPython {PYVER}\n")
    for cid, cmd in step.commands.items():
        transcript, problems = run_command(step, cid)
        note = "" if compared(cmd) else "   (shown, not compared: machine-dependent)"
        print(f"## {cid}{note}\n{transcript}")
        report = verdict(step, cid, transcript, problems)
        if report:
            reports.append(report)
    if reports:
        sys.stderr.write("\n".join(reports))
        print(f"chapter {step.nn}: {len(reports)} of {len(step.commands)} commands FAILED")
        return 1
    print(f"chapter {step.nn}: all {len(step.commands)} commands ran and match their expectations")
    return 0


def cmd_bless(nns: list[str]) -> int:
    import subprocess
    steps = [find_step(n) for n in nns] if nns else all_steps()
    stage(steps)
    failed = []
    for step in steps:
        for cid, cmd in step.commands.items():
            transcript, problems = run_command(step, cid)
            if problems:
                failed.append(f"{step.label}, `{cid}`: " + "; ".join(problems))
            if compared(cmd):
                bless_one(step, cid, transcript)
    # New expectation files show up in the diff only once git knows of them (as intent to add).
    expected = [str(s.folder / "expected") for s in steps if (s.folder / "expected").exists()]
    subprocess.run(["git", "add", "--intent-to-add", "--", *expected], cwd=ROOT, check=False)
    subprocess.run(["git", "--no-pager", "diff", "--stat", "--", *expected], cwd=ROOT)
    subprocess.run(["git", "--no-pager", "diff", "--", *expected], cwd=ROOT)
    if failed:
        print("\nThese commands did not run as defined; their expectations were written anyway, "
              "fix them before committing:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0


def cmd_prepare() -> int:
    """Build and stage every step, write the page outputs whose checked result is cached, and
    print the token that lets the shell wrapper use them during the mdbook run that follows."""
    import secrets
    import shutil
    shutil.rmtree(FAILURES, ignore_errors=True)
    shutil.rmtree(READY, ignore_errors=True)
    CHECKED.unlink(missing_ok=True)
    MDBOOK_LOG.unlink(missing_ok=True)
    steps = all_steps()
    stage(steps)
    for step in steps:
        manifest = json.loads((STAGE / step.nn / ".manifest.json").read_text())
        for cid in step.commands:
            cached = CACHE / f"{step.nn}-{cid}-{cache_key(step, cid, manifest)}.txt"
            if cached.exists():
                write_ready(step, cid, cached.read_text())
    token = secrets.token_hex(16)
    READY.mkdir(parents=True, exist_ok=True)
    READY_TOKEN.write_text(token)
    print(token)
    return 0


def cmd_list() -> int:
    for step in all_steps():
        print(f"{step.nn}  {step.chapter}  (steps/{step.folder.name})")
        for cid, cmd in step.commands.items():
            first = lines_of(cmd)[0]["run"]
            print(f"      {cid:<22} $ {first}")
    return 0


def main(argv: list[str]) -> int:
    try:
        match argv:
            case ["prepare"]:
                return cmd_prepare()
            case ["show", nn, cid]:
                return cmd_show(nn, cid)
            case ["step", nn]:
                return cmd_step(nn)
            case ["bless", *nns]:
                return cmd_bless(nns)
            case ["check"]:
                return cmd_check()
            case ["list"]:
                return cmd_list()
            case _:
                print(__doc__)
                return 0 if argv in ([], ["help"]) else 2
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
